/* x86 call/jump addresses made absolute (the E8/E9 transform of BCJ filters and of paq's and
 * zpaq's executable models).
 *
 * In x86 code, CALL (E8) and JMP (E9) take a 32-bit offset relative to the next instruction, so
 * the same target called from many places is written as many different offsets. Adding the
 * position turns each into the target's address, which repeats and is then predictable. Only
 * offsets whose top byte is 00 or FF (near targets, the common case) are touched, and only their
 * low three bytes change, so the byte that marks a candidate (the opcode at i, the top byte at
 * i + 4) is never changed by the transform at i itself.
 *
 * Why it is reversible: the forward pass runs from the end towards the start, the inverse from
 * the start towards the end. At position i the forward pass sees the original byte at i (only
 * transforms at j < i can change it, and they come later) and byte i + 4 as the transforms at
 * i + 1 .. i + 3 left it; the inverse pass sees byte i restored (every j < i is undone) and byte
 * i + 4 still as those transforms left it (j > i are undone later). Same bytes, same decision,
 * and the three bytes it changes are exactly undone. Integer arithmetic only: the same bits on
 * every machine. */
#include "transforms.h"

static int candidate(const uint8_t *buf, int64_t i) {
    return (buf[i] & 0xFE) == 0xE8 && ((buf[i + 4] + 1) & 0xFE) == 0;
}

static void add_position(uint8_t *buf, int64_t i, int64_t sign) {
    uint32_t a = (uint32_t)buf[i + 1] | (uint32_t)buf[i + 2] << 8 | (uint32_t)buf[i + 3] << 16;
    a += (uint32_t)(sign * i);
    buf[i + 1] = (uint8_t)a;
    buf[i + 2] = (uint8_t)(a >> 8);
    buf[i + 3] = (uint8_t)(a >> 16);
}

/* How many positions the transform would touch: a test for x86 code (a few per hundred bytes in
 * executables; text has almost none). */
int64_t nc_x86_count(const uint8_t *buf, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i + 4 < n; i++)
        count += candidate(buf, i);
    return count;
}

void nc_x86_forward(uint8_t *buf, int64_t n) {
    for (int64_t i = n - 5; i >= 0; i--)
        if (candidate(buf, i))
            add_position(buf, i, 1);
}

void nc_x86_inverse(uint8_t *buf, int64_t n) {
    for (int64_t i = 0; i + 4 < n; i++)
        if (candidate(buf, i))
            add_position(buf, i, -1);
}
