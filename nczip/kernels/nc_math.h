/* exp, log and sqrt with results that depend on IEEE double arithmetic only.
 *
 * Why our own: libm's exp/log pick an implementation by CPU feature at load time (glibc has FMA
 * variants), so two machines could round differently and an encoder and a decoder would disagree.
 * These use +, -, *, / in a fixed order (the build forbids contraction into FMA) and sqrt, which
 * IEEE 754 requires to be correctly rounded. Accuracy: a few ulp, far below what matters here.
 */
#ifndef NC_MATH_H
#define NC_MATH_H

#include <stdint.h>
#include <string.h>

/* Always inlined: a helper compiled out of line would get the baseline instruction set only, not
 * the AVX2 clone of its caller. */
#define NC_INLINE static inline __attribute__((always_inline))

/* Hot functions get an AVX2 clone beside the baseline one, picked at load time. Safe for
 * determinism: the clones differ only in vector width, which changes no result, because nothing
 * is reassociated and contraction into FMA is off for both (tests/test_ssm_kernels.py builds a
 * baseline-only library with -DNC_BASELINE_ONLY and compares). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NC_BASELINE_ONLY)
#define NC_HOT __attribute__((target_clones("avx2", "default")))
#else
#define NC_HOT
#endif

NC_INLINE double nc_sqrt(double x) { return __builtin_sqrt(x); }

/* Taylor coefficients of exp, highest degree first: 1/13!, 1/12!, ..., 1/1!, 1/0!. The last
 * d + 1 of them are the degree-d polynomial. */
static const double NC_EXP_TAYLOR[14] = {
    1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
    1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};

/* c[0] x^(n-1) + ... + c[n-1] by Horner's rule, in that fixed order. */
NC_INLINE double nc_horner(const double *c, int n, double x) {
    double p = c[0];
    for (int i = 1; i < n; i++) p = p * x + c[i];
    return p;
}

/* exp(x) for x >= -708 (below, exp(-708) ~ 3e-308: a probability that small is zero to every
 * caller). No branches and no float->int conversion, so loops over arrays of it vectorise: the
 * rounding of x / ln 2 to an integer k is done by adding and subtracting 1.5 * 2^52, and 2^k is
 * built from the bits of that sum. */
NC_INLINE double nc_exp(double x) {
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    double shifted = x * 1.4426950408889634 + magic;
    double k = shifted - magic;
    double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    /* |r| <= 0.347: Taylor series to r^13 / 13! (truncation < 2e-17 relative) */
    double p = nc_horner(NC_EXP_TAYLOR, 14, r);
    uint64_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + (uint64_t)(1023 - 0x0008000000000000LL)) << 52; /* low bits of shifted hold k + 2^51 */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

NC_INLINE double nc_log(double x) {
    if (!(x > 0.0)) return x == 0.0 ? -1e308 * 10.0 : (x - x) / (x - x);
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int64_t e = (int64_t)((bits >> 52) & 0x7FF);
    if (e == 0) { /* subnormal: scale up by 2^64 first */
        x *= 18446744073709551616.0;
        memcpy(&bits, &x, sizeof bits);
        e = (int64_t)((bits >> 52) & 0x7FF) - 64;
    }
    e -= 1023;
    bits = (bits & 0x000FFFFFFFFFFFFFULL) | 0x3FF0000000000000ULL; /* mantissa in [1, 2) */
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e += 1;
    }
    /* log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716: odd series to f^23 */
    static const double odd[12] = {1.0 / 23.0, 1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0,
                                   1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0};
    double f = (m - 1.0) / (m + 1.0);
    double p = nc_horner(odd, 12, f * f);
    return 2.0 * f * p + (double)e * 0.6931471805599453;
}

/* Long reductions in a fixed order, in GCC vector types so that several vector accumulators run
 * in parallel (a plain array of partial sums was kept in memory: one add per cycle at best).
 * Element i goes to partial sum i mod 16 (doubles) or i mod 32 (floats); the partial sums are
 * folded by halving. A vector type is split into narrower registers on a narrower CPU without
 * changing any lane's arithmetic, so the result is the same everywhere. */
typedef double nc_v4d __attribute__((vector_size(32)));
typedef float nc_v8f __attribute__((vector_size(32)));

NC_INLINE double nc_fold_d(double *acc, int lanes) {
    for (int w = lanes / 2; w >= 1; w /= 2)
        for (int q = 0; q < w; q++) acc[q] += acc[q + w];
    return acc[0];
}

NC_INLINE float nc_fold_f(float *acc, int lanes) {
    for (int w = lanes / 2; w >= 1; w /= 2)
        for (int q = 0; q < w; q++) acc[q] += acc[q + w];
    return acc[0];
}

/* sum of a[i] (b == NULL) or of a[i] * b[i], in 16 lanes */
NC_INLINE double nc_sum16(const double *a, const double *b, int64_t n) {
    nc_v4d s[4] = {{0}, {0}, {0}, {0}};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int v = 0; v < 4; v++) {
            nc_v4d x;
            memcpy(&x, a + i + 4 * v, sizeof x);
            if (b) {
                nc_v4d y;
                memcpy(&y, b + i + 4 * v, sizeof y);
                x = x * y;
            }
            s[v] += x;
        }
    double acc[16];
    memcpy(acc, s, sizeof acc);
    for (int q = 0; i < n; i++, q++) acc[q] += b ? a[i] * b[i] : a[i];
    return nc_fold_d(acc, 16);
}

/* sum of a[i] * b[i] over floats, in 32 lanes */
NC_INLINE float nc_dot32(const float *a, const float *b, int64_t n) {
    nc_v8f s[4] = {{0}, {0}, {0}, {0}};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int v = 0; v < 4; v++) {
            nc_v8f x, y;
            memcpy(&x, a + i + 8 * v, sizeof x);
            memcpy(&y, b + i + 8 * v, sizeof y);
            s[v] += x * y;
        }
    float acc[32];
    memcpy(acc, s, sizeof acc);
    for (int q = 0; i < n; i++, q++) acc[q] += a[i] * b[i];
    return nc_fold_f(acc, 32);
}

#endif
