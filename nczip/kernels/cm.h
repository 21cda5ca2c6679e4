/* nczip's context-mixing core (arithmetic "cm/1", cm.c): its C interface.
 *
 * Every function here is bound by ctypes in nczip/kernels/__init__.py (_SIGNATURES); nothing else
 * in cm.c is exported. tests/test_kernel_interface.py checks the prototypes below against those
 * signatures, and the context enum against nczip.config.CM_CONTEXTS.
 *
 * Types the Python side sees: a model is an opaque pointer; parameters are an int32 array in the
 * order of enum cm_param; probabilities are 12-bit integers (of a 1, in 1/4096).
 */
#ifndef NCZIP_CM_H
#define NCZIP_CM_H

#include <stdint.h>

/* The int32 parameter array cm_new and cm_memory take, in this order (nczip/predictors/cm.py,
 * _params). */
enum cm_param {
    P_TABLE_BITS, /* log2 of the shared table's 16-byte slots */
    P_CONTEXTS,   /* bit mask of contexts: bit CTX_BIT(k) for each enum cm_context k used */
    P_MATCH_BITS, /* log2 of the match model's position table; 0: no match model */
    P_MATCH_MIN,  /* bytes hashed to find a match */
    P_SELECTORS,  /* weight-set selectors of the first mixer layer, 1..3 */
    P_APM,        /* APM stages, 0..2 */
    P_LR,         /* mixer learning rate (error multiplier) */
    P_LIMIT,      /* adaptation limit of the state maps (count), 1..1023 */
    P_EXTERNAL,   /* 1: a caller-supplied next-byte distribution is one more input (cm_code_byte) */
    P_RECORD,     /* a fixed record length (rows of a table or an image) for the record contexts; 0: none */
    P_COUNT
};

/* The contexts, in the order of the P_CONTEXTS bit mask. The names are those of
 * nczip.config.CM_CONTEXTS with CTX_ before them, in the same order (checked by a test): a
 * configuration's context "word2" is bit CTX_BIT(CTX_WORD2) of the mask. The order is part of the
 * format (it is the order of the mixer's inputs): append, never reorder. */
enum cm_context {
    CTX_O0,      /* order 0: the partial byte alone */
    CTX_O1,      /* orders 1..6 and 8: the last n bytes */
    CTX_O2,
    CTX_O3,
    CTX_O4,
    CTX_O5,
    CTX_O6,
    CTX_O8,
    CTX_WORD,    /* the current word (letters, case-folded), or the last byte between words */
    CTX_WORD2,   /* the current word and the one before */
    CTX_SPARSE1, /* bytes 2 and 4 back */
    CTX_SPARSE2, /* bytes 3 and 4 back */
    CTX_COLUMN,  /* the text column, the byte above it and the last byte */
    CTX_SPARSE3, /* bytes 2 and 3 back */
    CTX_WORD3,   /* the current word and the two before */
    CTX_RECORD1, /* with P_RECORD: the position in the record and the byte one record above */
    CTX_RECORD2, /* with P_RECORD: the bytes above, above-left and above-right, and the last byte */
    CTX_COUNT
};

#define CTX_BIT(k) (1 << (k))
#define CTX_ALL (CTX_BIT(CTX_COUNT) - 1)

typedef struct Cm Cm;

/* A fresh model, or NULL if the parameters are out of range or memory is short. */
Cm *cm_new(const int32_t *params);
void cm_free(Cm *m);
/* Bytes of memory a model with these parameters allocates (for the caller's bound and report). */
int64_t cm_memory(const int32_t *params);

/* Code data[start:end) (data is the whole chunk; earlier bytes are history) into out[0:cap);
 * returns the coder's total output so far (bytes beyond cap are counted, not written). */
int64_t cm_encode(Cm *m, const uint8_t *data, int64_t start, int64_t end, uint8_t *out, int64_t cap);
/* Flushes the coder's last byte; returns the total coded length. */
int64_t cm_finish(Cm *m);
/* Decode out[start:end) from payload[0:n); 0, or -1 on corrupt data. */
int cm_decode(Cm *m, const uint8_t *payload, int64_t n, uint8_t *out, int64_t start, int64_t end);

/* One byte with an external model's next-byte weights (256 non-negative integers) as one more
 * input (a model made with P_EXTERNAL = 1): the encoder passes the byte's position in data, the
 * decoder gets the byte back there. Returns the byte, or -1 past the end of a corrupt payload. */
int cm_code_byte(Cm *m, uint8_t *data, int64_t i, const int32_t *weights);
/* One binary event beside the bytes, in the same coded stream, at a caller's probability p12 of a 1
 * (1..4095, in 1/4096); the model does not see it. Encoding: bit is 0 or 1; decoding: -1. Returns the
 * bit, or -1 past the end of a corrupt payload (decoding). */
int cm_code_event(Cm *m, int bit, int p12);
/* The coded output buffer for cm_code_byte (encoding). */
void cm_set_output(Cm *m, uint8_t *out, int64_t cap);
/* The payload to decode (before cm_code_byte; cm_decode sets it itself). */
void cm_set_input(Cm *m, const uint8_t *payload, int64_t n);
/* The model's ideal code length of the bits coded so far: -sum log2 p. */
double cm_ideal_bits(const Cm *m);

/* For tests: the bit-history table (returns the number of states), the squash and stretch tables
 * (4096 entries each), and the binary coder alone (bits[i] at probability p12[i]; returns the
 * coded length). */
int cm_states(uint8_t *next, uint8_t *n0, uint8_t *n1);
void cm_squash_table(int16_t *squash_out, int16_t *stretch_out);
int64_t cm_code_bits(const uint8_t *bits, const int16_t *p12, int64_t n, uint8_t *out, int64_t cap);

#endif
