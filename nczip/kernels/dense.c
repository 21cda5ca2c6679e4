/* The per-token passes over a whole vocabulary: softmax, mixing with the bias head, its update,
 * and probabilities -> integer frequency table.
 *
 * Why C: at the fast levels these passes run over every type seen so far (~19,000 on enwik8's
 * first MB) for every token; in numpy each was a separate sweep with a temporary, and the
 * deterministic sums were np.cumsum, which cannot use more than one adder. Here each step is one
 * or two sweeps, and sums use sixteen interleaved partial sums in a fixed order: as reproducible as
 * a sequential sum (the order is in the source, not the CPU), several times faster.
 */
#include <stdint.h>

#include "dense.h"
#include "nc_math.h"

#define TOTAL (1LL << 24)

NC_HOT double nc_dot(const double *a, const double *b, int64_t n) { return nc_sum16(a, b, n); }

/* The largest of x[0..n), in four lanes so that it vectorises (a max is exact in any order). */
NC_INLINE double nc_max4(const double *x, int64_t n) {
    double m[4] = {-1e308, -1e308, -1e308, -1e308};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int q = 0; q < 4; q++) m[q] = x[i + q] > m[q] ? x[i + q] : m[q];
    for (int q = 0; i < n; i++, q++) m[q] = x[i] > m[q] ? x[i] : m[q];
    double mx = m[0];
    for (int q = 1; q < 4; q++) mx = m[q] > mx ? m[q] : mx;
    return mx;
}

/* out = softmax(tau * L); returns the largest probability. */
NC_HOT double nc_softmax(const double *L, int64_t n, double tau, double *out) {
    int64_t i;
    for (i = 0; i < n; i++) out[i] = tau * L[i];
    double mx = nc_max4(out, n);
    for (i = 0; i < n; i++) out[i] = nc_exp(out[i] - mx);
    double total = nc_sum16(out, NULL, n);
    double inv = 1.0 / total; /* a multiply per element: a divide costs several times more */
    for (i = 0; i < n; i++) out[i] = out[i] * inv;
    return inv; /* the largest term was exp(0) = 1 exactly */
}

/* q <- normalise(q * scale * exp_bias) (exp_bias may be NULL: no bias head). */
NC_HOT void nc_scale_bias(double *q, int64_t n, double scale, const double *exp_bias) {
    if (exp_bias)
        for (int64_t i = 0; i < n; i++) q[i] = q[i] * scale * exp_bias[i];
    else
        for (int64_t i = 0; i < n; i++) q[i] = q[i] * scale;
    double inv = 1.0 / nc_sum16(q, NULL, n);
    for (int64_t i = 0; i < n; i++) q[i] = q[i] * inv;
}

/* The bias head's step towards the token that came, b -= rate * (q - onehot(token)), kept as
 * exp(b) only and applied multiplicatively: exp_bias *= exp(-rate * q), exp_bias[token] *= exp(rate).
 * |rate * q| <= rate, so exp(-rate * q) is a degree-6 Taylor polynomial (relative error below
 * 4e-10 at rate 0.15, 1e-16 for the typical q < 1e-3): a third of a full exp's work. */
NC_HOT void nc_bias_update(double *exp_bias, const double *q, int64_t n, double rate, int64_t token) {
    for (int64_t i = 0; i < n; i++) {
        exp_bias[i] = exp_bias[i] * nc_horner(NC_EXP_TAYLOR + 7, 7, -rate * q[i]);
    }
    exp_bias[token] = exp_bias[token] * nc_exp(rate);
}

/* Probabilities -> int64 frequencies summing to exactly 2^24 (versions 1 and 2) or 2^32 (version
 * 3), every symbol >= 1, and their exclusive prefix sums (starts, n + 1 entries). Non-finite or
 * non-positive entries count as 0; an all-zero vector becomes uniform. The rounding remainder goes
 * to the first most frequent symbol. Returns the total the probabilities were scaled by. Quantizer
 * version 1 sums strictly left to right (what np.cumsum does) and is then exactly
 * nczip.coding.quantize's numpy reference; versions 2 and 3 sum in 16 lanes (nc_sum16). Version 3
 * exists for the LLM levels: with 49,152 tokens each keeping at least 1/2^24, the floors took
 * 0.29 % of the mass (+0.096 % coded size at level 9); at 1/2^32 they take 0.001 %. */
NC_HOT double nc_quantize(const double *p, int64_t n, int version, int64_t *freqs, int64_t *starts) {
    double *clean = (double *)starts; /* scratch: starts is written last */
    for (int64_t i = 0; i < n; i++) {
        double v = p[i];
        clean[i] = (v > 0.0 && v <= 1.7976931348623157e308) ? v : 0.0; /* NaN and inf fail */
    }
    double total = 0.0;
    if (version == 1)
        for (int64_t i = 0; i < n; i++) total += clean[i];
    else
        total = nc_sum16(clean, NULL, n);
    double factor;
    if (!(total > 0.0)) {
        for (int64_t i = 0; i < n; i++) clean[i] = 1.0;
        total = (double)n;
    }
    const int64_t whole = version >= 3 ? (1LL << 32) : TOTAL;
    factor = (double)(whole - n) / total;
    /* Truncation == floor (the product is >= 0); through int32 when it is < 2^24, so that the
     * conversion vectorises; the integer sum and max are exact in any order. */
    if (version >= 3)
        for (int64_t i = 0; i < n; i++) freqs[i] = (int64_t)(clean[i] * factor) + 1;
    else
        for (int64_t i = 0; i < n; i++) freqs[i] = (int64_t)(int32_t)(clean[i] * factor) + 1;
    int64_t sum = 0, top = 0;
    for (int64_t i = 0; i < n; i++) sum += freqs[i];
    for (int64_t i = 0; i < n; i++) top = freqs[i] > top ? freqs[i] : top;
    int64_t best = 0;
    while (freqs[best] != top) best++;
    freqs[best] += whole - sum;
    starts[0] = 0;
    int64_t run = 0;
    for (int64_t i = 0; i < n; i++) {
        run += freqs[i];
        starts[i + 1] = run;
    }
    return total;
}

/* The LLM's log-probabilities from its float32 logits: out[i] = L[i] - log(sum_j exp(L[j])) where
 * codable[i], else -1e30 (control tokens, which never occur: finite, and exp() of it is 0).
 * Why here and not numpy: numpy's exp picks an implementation by CPU (an AVX-512 one, else
 * libm's), so the LLM levels' floats would depend on the machine; returns the log normaliser. */
NC_HOT double nc_log_softmax_f32(const float *L, int64_t n, const uint8_t *codable, double *out) {
    int64_t i;
    for (i = 0; i < n; i++) out[i] = (double)L[i];
    double mx = nc_max4(out, n);
    double *e = out; /* exp(L - max) first, then overwritten with the result */
    for (i = 0; i < n; i++) e[i] = nc_exp(e[i] - mx);
    double norm = mx + nc_log(nc_sum16(e, NULL, n));
    for (i = 0; i < n; i++) out[i] = codable[i] ? (double)L[i] - norm : -1e30;
    return norm;
}

/* Element-wise exp and log of arrays, and scalar ones, for the Python side's few transcendental
 * values on the coding path (model initialisation, priors, mixing weights): libm's and numpy's
 * differ between CPUs, these do not. */
NC_HOT void nc_exp_array(const double *x, int64_t n, double *out) {
    for (int64_t i = 0; i < n; i++) out[i] = nc_exp(x[i]);
}

NC_HOT void nc_log_array(const double *x, int64_t n, double *out) {
    for (int64_t i = 0; i < n; i++) out[i] = nc_log(x[i]);
}

double nc_exp_scalar(double x) { return nc_exp(x); }

double nc_log_scalar(double x) { return nc_log(x); }

/* Standard normal deviates by Marsaglia's polar method from uniforms u in [0, 1): each accepted
 * pair (x1, x2) = 2u - 1 with 0 < r2 = x1^2 + x2^2 < 1 gives x2 f and x1 f, f = sqrt(-2 log(r2) / r2)
 * (the order numpy's legacy generator uses). Fills out[0..n_out) while uniforms last; returns how
 * many uniforms were consumed and sets *filled to how many deviates were written. */
int64_t nc_polar_gauss(const double *u, int64_t n_u, double *out, int64_t n_out, int64_t *filled) {
    int64_t used = 0, k = 0;
    while (k < n_out && used + 2 <= n_u) {
        double x1 = 2.0 * u[used] - 1.0, x2 = 2.0 * u[used + 1] - 1.0;
        used += 2;
        double r2 = x1 * x1 + x2 * x2;
        if (r2 >= 1.0 || r2 == 0.0) continue;
        double f = nc_sqrt(-2.0 * nc_log(r2) / r2);
        out[k++] = f * x2;
        if (k < n_out) out[k++] = f * x1;
    }
    *filled = k;
    return used;
}
