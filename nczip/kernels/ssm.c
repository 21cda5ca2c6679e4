/* The online SSM's recurrent step, its block backward pass and Adam, in plain C.
 *
 * Why C: the profile of level 3 (README) spent 36 % of the time in torch's autograd on 16-token
 * blocks of a 32-wide model, where per-operation overhead dwarfs the arithmetic, and 13 % in
 * numpy's per-call overhead of the recurrent step. Here a step is one call and a block's
 * gradient another.
 *
 * Why the backward pass needs no forward pass: weights change only at block ends, so the
 * activations the recurrent steps of a block recorded (``ssm_step``'s record slot) are exactly the
 * forward pass of that block under the current weights; ``ssm_backward`` differentiates them in
 * reverse time.
 *
 * Determinism: every reduction is written out in a fixed order, exp/log are our own
 * (nc_math.h), and the build disables floating-point contraction (no FMA), so the results depend
 * on the source and IEEE arithmetic only, not on the CPU's vector width.
 */
#include <stdint.h>
#include <string.h>

#include "ssm.h"
#include "nc_math.h"

#define EPS 1e-6f


typedef struct {
    int dm, di, ds, layers, conv, r, shortlist;
    int p;       /* dt_rank + 2 ds: width of the x projection */
    int64_t layer_size, record_layer, record;
} Dims;

static Dims dims_of(const int32_t *d) {
    Dims s;
    s.dm = d[0]; s.di = d[1]; s.ds = d[2]; s.layers = d[3]; s.conv = d[4]; s.r = d[5]; s.shortlist = d[6];
    s.p = s.r + 2 * s.ds;
    /* norm, w_in, conv_w, w_x, w_dt, then conv_b b_dt a_log d (4 di), w_out */
    s.layer_size = (int64_t)s.dm + 2 * s.di * s.dm + s.di * s.conv + s.p * s.di + s.di * s.r
                   + 4 * s.di + s.dm * s.di;
    /* per layer: x_in dm, rs 1, xn dm, u z pre uc dpre dt decay y sz sp sdp (11 di), proj p,
     * h di*ds */
    s.record_layer = 2 * s.dm + 1 + 11 * s.di + s.p + (int64_t)s.di * s.ds;
    /* plus the final state: x dm, rs 1, xf dm */
    s.record = s.layers * s.record_layer + 2 * s.dm + 1;
    return s;
}

/* Parameters of one layer: pointers into the flat buffer (same order as ssm.py's _shapes). */
typedef struct {
    float *norm, *w_in, *conv_w, *conv_b, *w_x, *w_dt, *b_dt, *a_log, *d, *w_out;
} Layer;

static Layer layer_at(const Dims *s, float *flat, int k) {
    Layer p;
    float *q = flat + s->dm + (int64_t)s->shortlist * s->dm + s->shortlist + k * s->layer_size;
    p.norm = q; q += s->dm;
    p.w_in = q; q += 2 * s->di * s->dm;
    p.conv_w = q; q += s->di * s->conv;
    p.conv_b = q; q += s->di;
    p.w_x = q; q += s->p * s->di;
    p.w_dt = q; q += s->di * s->r;
    p.b_dt = q; q += s->di;
    p.a_log = q; q += s->di;
    p.d = q; q += s->di;
    p.w_out = q;
    return p;
}

/* A layer's slice of a step record. */
typedef struct {
    float *x_in, *rs, *xn, *u, *z, *pre, *uc, *dpre, *dt, *decay, *y, *proj, *h;
    float *sz, *sp, *sdp; /* sigmoid of z, pre and dpre: the backward pass's derivatives need them */
} Record;

static Record record_at(const Dims *s, float *rec, int k) {
    Record R;
    float *q = rec + k * s->record_layer;
    R.x_in = q; q += s->dm;
    R.rs = q; q += 1;
    R.xn = q; q += s->dm;
    R.u = q; q += s->di;
    R.z = q; q += s->di;
    R.pre = q; q += s->di;
    R.uc = q; q += s->di;
    R.dpre = q; q += s->di;
    R.dt = q; q += s->di;
    R.decay = q; q += s->di;
    R.y = q; q += s->di;
    R.sz = q; q += s->di;
    R.sp = q; q += s->di;
    R.sdp = q; q += s->di;
    R.proj = q; q += s->p;
    R.h = q;
    return R;
}

/* Sum in a fixed order: four interleaved partial sums, then a fixed tree. */
NC_INLINE double sum_fixed(const double *a, int n) {
    double acc[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int q = 0; q < 4; q++) acc[q] += a[i + q];
    for (int q = 0; i < n; i++, q++) acc[q] += a[i];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]);
}

/* Dot product in a fixed order: eight interleaved partial sums, then a fixed tree. */
NC_INLINE float dot(const float *a, const float *b, int n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= n; j += 8)
        for (int q = 0; q < 8; q++) acc[q] += a[j + q] * b[j + q];
    for (int q = 0; j < n; j++, q++) acc[q] += a[j] * b[j];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

NC_INLINE float sigmoidf_(float x) { return (float)(1.0 / (1.0 + nc_exp(-(double)x))); }

NC_INLINE float softplusf_(float x) {
    double v = x;
    double m = v > 0.0 ? v : 0.0;
    return (float)(m + nc_log(1.0 + nc_exp(-(v > 0.0 ? v : -v))));
}

int64_t ssm_record_floats(const int32_t *dims) { return dims_of(dims).record; }

int64_t ssm_layer_floats(const int32_t *dims) { return dims_of(dims).layer_size; }

/* rms-normalise x with gain g: out = x * rs * g; returns rs. */
static float rmsnorm(const float *x, const float *g, float *out, int n) {
    float rs = (float)(1.0 / nc_sqrt((double)(dot(x, x, n) / (float)n + EPS)));
    for (int j = 0; j < n; j++) out[j] = x[j] * rs * g[j];
    return rs;
}

/* Feed one embedding row through every layer, updating the recurrent state and writing the
 * step's activations into ``rec`` (one record); returns nothing, the normalised final state is
 * the record's last dm floats. */
NC_HOT void ssm_step(const int32_t *dims, float *flat, const float *row, float *conv_state, float *scan_state,
              float *rec) {
    Dims s = dims_of(dims);
    const int dm = s.dm, di = s.di, ds = s.ds, r = s.r, cw = s.conv;
    float x[dm], g[di];
    memcpy(x, row, sizeof(float) * dm);
    for (int k = 0; k < s.layers; k++) {
        Layer p = layer_at(&s, flat, k);
        Record R = record_at(&s, rec, k);
        float *cs = conv_state + (int64_t)k * (cw - 1) * di;
        float *h = scan_state + (int64_t)k * di * ds;
        memcpy(R.x_in, x, sizeof(float) * dm);
        R.rs[0] = rmsnorm(x, p.norm, R.xn, dm);
        for (int i = 0; i < di; i++) R.u[i] = dot(p.w_in + (int64_t)i * dm, R.xn, dm);
        for (int i = 0; i < di; i++) R.z[i] = dot(p.w_in + (int64_t)(di + i) * dm, R.xn, dm);
        for (int d = 0; d < di; d++) {
            float acc = 0.0f;
            for (int q = 0; q < cw - 1; q++) acc += cs[q * di + d] * p.conv_w[d * cw + q];
            acc += R.u[d] * p.conv_w[d * cw + cw - 1];
            R.pre[d] = acc + p.conv_b[d];
            R.sp[d] = sigmoidf_(R.pre[d]);
            R.uc[d] = R.pre[d] * R.sp[d];
        }
        if (cw > 1) {
            memmove(cs, cs + di, sizeof(float) * (cw - 2) * di);
            memcpy(cs + (cw - 2) * di, R.u, sizeof(float) * di);
        }
        for (int i = 0; i < s.p; i++) R.proj[i] = dot(p.w_x + (int64_t)i * di, R.uc, di);
        const float *B = R.proj + r, *C = R.proj + r + ds;
        for (int d = 0; d < di; d++) {
            R.dpre[d] = dot(p.w_dt + d * r, R.proj, r) + p.b_dt[d];
            R.dt[d] = softplusf_(R.dpre[d]);
            R.sdp[d] = sigmoidf_(R.dpre[d]);
            R.decay[d] = (float)nc_exp(-nc_exp((double)p.a_log[d]) * (double)R.dt[d]);
            float in = R.dt[d] * R.uc[d];
            float *hd = h + d * ds;
            for (int q = 0; q < ds; q++) hd[q] = R.decay[d] * hd[q] + in * B[q];
            R.y[d] = dot(hd, C, ds) + p.d[d] * R.uc[d];
            R.sz[d] = sigmoidf_(R.z[d]);
            g[d] = R.y[d] * (R.z[d] * R.sz[d]);
        }
        memcpy(R.h, h, sizeof(float) * di * ds);
        for (int j = 0; j < dm; j++) x[j] += dot(p.w_out + (int64_t)j * di, g, di);
    }
    float *fin = rec + s.layers * s.record_layer;
    memcpy(fin, x, sizeof(float) * dm);
    fin[dm] = rmsnorm(x, flat, fin + dm + 1, dm); /* norm_f is the flat buffer's first dm floats */
}

/* log-softmax of the first k output classes for the normalised state xf, in double; ``probs``
 * receives the probabilities (the block gradient reuses them). The output weights are stored
 * transposed (dm x shortlist), so the logits are dm axpy sweeps over contiguous memory. */
NC_HOT void ssm_log_softmax(const int32_t *dims, const float *flat, const float *xf, int k, double *out,
                            double *probs) {
    Dims s = dims_of(dims);
    const float *out_w = flat + s.dm, *out_b = flat + s.dm + (int64_t)s.shortlist * s.dm;
    float acc[k];
    for (int i = 0; i < k; i++) acc[i] = 0.0f;
    for (int j = 0; j < s.dm; j++) {
        const float *row = out_w + (int64_t)j * s.shortlist, xj = xf[j];
        for (int i = 0; i < k; i++) acc[i] += row[i] * xj;
    }
    double mx = -1e300;
    for (int i = 0; i < k; i++) {
        out[i] = (double)(acc[i] + out_b[i]);
        mx = out[i] > mx ? out[i] : mx;
    }
    for (int i = 0; i < k; i++) probs[i] = nc_exp(out[i] - mx);
    double total = sum_fixed(probs, k), shift = mx + nc_log(total);
    for (int i = 0; i < k; i++) {
        probs[i] = probs[i] / total;
        out[i] -= shift;
    }
}

/* Rows of one layer's input for the block backward: dX[t] is d loss / d (layer output at t) on
 * entry and d loss / d (layer input at t) on return. work: (2 + ...) scratch; see sizes below. */
NC_HOT static void layer_backward(const Dims *s, float *flat, float *grad, int k, int T, float *records,
                           const float *conv0, const float *h0, float *dX, float *work) {
    const int dm = s->dm, di = s->di, ds = s->ds, r = s->r, cw = s->conv, P = s->p;
    Layer p = layer_at(s, flat, k), gp = layer_at(s, grad, k);
    float *dy = work, *dz = dy + T * di, *duc = dz + T * di, *du = duc + T * di, *dproj = du + T * di;
    float *dh = dproj + P; /* di * ds */
    float dg[di];
    const float *c0 = conv0 + (int64_t)k * (cw - 1) * di, *hk0 = h0 + (int64_t)k * di * ds;
    float A[di]; /* the decay rates exp(a_log) */
    for (int d = 0; d < di; d++) A[d] = (float)nc_exp((double)p.a_log[d]);
    /* output projection and gate */
    for (int t = 0; t < T; t++) {
        Record R = record_at(s, records + (int64_t)t * s->record, k);
        float *dx = dX + t * dm;
        float gv[di];
        for (int d = 0; d < di; d++) {
            gv[d] = R.y[d] * (R.z[d] * R.sz[d]);
        }
        for (int j = 0; j < dm; j++) {
            float *gw = gp.w_out + (int64_t)j * di;
            for (int d = 0; d < di; d++) gw[d] += dx[j] * gv[d];
        }
        for (int d = 0; d < di; d++) dg[d] = 0.0f;
        for (int j = 0; j < dm; j++) {
            const float *w = p.w_out + (int64_t)j * di;
            for (int d = 0; d < di; d++) dg[d] += w[d] * dx[j];
        }
        for (int d = 0; d < di; d++) {
            float z = R.z[d], sz = R.sz[d];
            dy[t * di + d] = dg[d] * (z * sz);
            dz[t * di + d] = dg[d] * R.y[d] * (sz * (1.0f + z * (1.0f - sz)));
            gp.d[d] += dy[t * di + d] * R.uc[d];
            duc[t * di + d] = p.d[d] * dy[t * di + d];
            du[t * di + d] = 0.0f;
        }
    }
    /* the selective scan, in reverse time */
    memset(dh, 0, sizeof(float) * di * ds);
    for (int t = T - 1; t >= 0; t--) {
        Record R = record_at(s, records + (int64_t)t * s->record, k);
        const float *hprev = t > 0 ? record_at(s, records + (int64_t)(t - 1) * s->record, k).h : hk0;
        const float *B = R.proj + r, *C = R.proj + r + ds;
        float *dB = dproj + r, *dC = dproj + r + ds;
        for (int q = 0; q < P; q++) dproj[q] = 0.0f;
        for (int d = 0; d < di; d++) {
            const float *hd = R.h + d * ds, *hp = hprev + d * ds;
            float *dhd = dh + d * ds;
            float dyd = dy[t * di + d], in = R.dt[d] * R.uc[d];
            float ddecay = 0.0f, din = 0.0f;
            for (int q = 0; q < ds; q++) {
                dC[q] += hd[q] * dyd;
                dhd[q] += dyd * C[q];
                ddecay += dhd[q] * hp[q];
                din += dhd[q] * B[q];
                dB[q] += dhd[q] * in;
                dhd[q] *= R.decay[d];
            }
            float a = A[d];
            float dda = ddecay * R.decay[d];           /* d loss / d (-a dt) */
            float ddt = -a * dda + din * R.uc[d];
            gp.a_log[d] += -a * R.dt[d] * dda;
            duc[t * di + d] += din * R.dt[d];
            float ddpre = ddt * R.sdp[d];
            gp.b_dt[d] += ddpre;
            for (int j = 0; j < r; j++) {
                gp.w_dt[d * r + j] += ddpre * R.proj[j];
                dproj[j] += p.w_dt[d * r + j] * ddpre;
            }
        }
        for (int i = 0; i < P; i++) {
            float *gw = gp.w_x + (int64_t)i * di;
            for (int d = 0; d < di; d++) gw[d] += dproj[i] * R.uc[d];
        }
        for (int i = 0; i < P; i++) {
            const float *w = p.w_x + (int64_t)i * di;
            for (int d = 0; d < di; d++) duc[t * di + d] += w[d] * dproj[i];
        }
    }
    /* silu and the causal depthwise convolution */
    for (int t = 0; t < T; t++) {
        Record R = record_at(s, records + (int64_t)t * s->record, k);
        float dpc[di];
        for (int d = 0; d < di; d++) {
            float pre = R.pre[d], sp = R.sp[d];
            dpc[d] = duc[t * di + d] * (sp * (1.0f + pre * (1.0f - sp)));
            gp.conv_b[d] += dpc[d];
        }
        for (int q = 0; q < cw; q++) {
            int idx = t - (cw - 1) + q; /* the input this tap saw: u of position idx, or the saved state */
            const float *v = idx >= 0 ? record_at(s, records + (int64_t)idx * s->record, k).u : c0 + (t + q) * di;
            for (int d = 0; d < di; d++) {
                gp.conv_w[d * cw + q] += dpc[d] * v[d];
                if (idx >= 0) du[idx * di + d] += dpc[d] * p.conv_w[d * cw + q];
            }
        }
    }
    /* input projection and the pre-norm */
    for (int t = 0; t < T; t++) {
        Record R = record_at(s, records + (int64_t)t * s->record, k);
        float dxn[dm], dxh[dm];
        for (int j = 0; j < dm; j++) dxn[j] = 0.0f;
        for (int i = 0; i < 2 * di; i++) {
            float g = i < di ? du[t * di + i] : dz[t * di + i - di];
            float *gw = gp.w_in + (int64_t)i * dm;
            const float *w = p.w_in + (int64_t)i * dm;
            for (int j = 0; j < dm; j++) {
                gw[j] += g * R.xn[j];
                dxn[j] += w[j] * g;
            }
        }
        float rs = R.rs[0];
        for (int j = 0; j < dm; j++) {
            gp.norm[j] += dxn[j] * R.x_in[j] * rs;
            dxh[j] = dxn[j] * p.norm[j];
        }
        float c = dot(dxh, R.x_in, dm) * rs * rs * rs / (float)dm;
        float *dx = dX + t * dm;
        for (int j = 0; j < dm; j++) dx[j] += rs * dxh[j] - R.x_in[j] * c;
    }
}

/* Scratch of layer_backward, rounded up to an even count so that the doubles after it align. */
static int64_t layer_work_floats(const Dims *s, int T) {
    int64_t n = 4 * (int64_t)T * s->di + s->p + (int64_t)s->di * s->ds;
    return n + (n & 1);
}

int64_t ssm_work_floats(const int32_t *dims, int T) {
    Dims s = dims_of(dims);
    /* + the probabilities recomputed for one position (2 shortlist doubles) + dl (T x shortlist) */
    return layer_work_floats(&s, T) + 4 * (int64_t)s.shortlist + (int64_t)T * s.shortlist;
}

/* Gradient of the block's mean cross-entropy over the first ``classes`` output rows.
 * grad (flat-sized) is overwritten; dX (T x dm) receives d loss / d input row at each position.
 * probs (T x shortlist) holds the output probabilities prediction computed at each position over
 * probs_k[t] rows: reused where that is ``classes``, recomputed where not. Returns the mean loss
 * in nats. */
NC_HOT double ssm_backward(const int32_t *dims, int T, int classes, const int32_t *targets, float *flat,
                           float *records, const float *conv0, const float *h0, float *grad, int64_t n_flat,
                           float *dX, float *work, double *probs, const int32_t *probs_k) {
    Dims s = dims_of(dims);
    const int dm = s.dm;
    const float *out_w = flat + dm;
    float *g_out_w = grad + dm, *g_out_b = grad + dm + (int64_t)s.shortlist * dm;
    double *lp = (double *)(work + layer_work_floats(&s, T));
    float *dl = work + layer_work_floats(&s, T) + 4 * (int64_t)s.shortlist; /* T x shortlist */
    const int S = s.shortlist;
    double loss = 0.0;
    memset(grad, 0, sizeof(float) * n_flat);
    /* d loss / d logits at every position */
    for (int t = 0; t < T; t++) {
        const float *xf = records + (int64_t)t * s.record + s.layers * s.record_layer + dm + 1;
        double *P = probs + (int64_t)t * S;
        if (probs_k[t] != classes) {
            P = lp + S;
            ssm_log_softmax(dims, flat, xf, classes, lp, P);
        }
        loss -= nc_log(P[targets[t]]);
        float *d = dl + (int64_t)t * S;
        for (int i = 0; i < classes; i++) d[i] = (float)((P[i] - (i == targets[t] ? 1.0 : 0.0)) / T);
    }
    /* output weights and bias: each gradient element is the sum over t in order, accumulated in
     * tiles of 256 classes that stay in L1 (one sweep over the weights per block, not per t) */
    for (int i0 = 0; i0 < classes; i0 += 256) {
        const int w = classes - i0 < 256 ? classes - i0 : 256;
        float acc[256];
        for (int j = -1; j < dm; j++) { /* j = -1: the bias */
            for (int i = 0; i < w; i++) acc[i] = 0.0f;
            for (int t = 0; t < T; t++) {
                const float *d = dl + (int64_t)t * S + i0;
                const float x = j < 0 ? 1.0f : records[(int64_t)t * s.record + s.layers * s.record_layer + dm + 1 + j];
                for (int i = 0; i < w; i++) acc[i] += d[i] * x;
            }
            memcpy((j < 0 ? g_out_b : g_out_w + (int64_t)j * S) + i0, acc, sizeof(float) * w);
        }
    }
    /* back through the final norm to the last layer's output */
    for (int t = 0; t < T; t++) {
        float *fin = records + (int64_t)t * s.record + s.layers * s.record_layer;
        float *xL = fin, rsf = fin[dm];
        float dxf[dm], dxh[dm];
        for (int j = 0; j < dm; j++) dxf[j] = nc_dot32(out_w + (int64_t)j * S, dl + (int64_t)t * S, classes);
        for (int j = 0; j < dm; j++) {
            grad[j] += dxf[j] * xL[j] * rsf;
            dxh[j] = dxf[j] * flat[j];
        }
        float c = dot(dxh, xL, dm) * rsf * rsf * rsf / (float)dm;
        for (int j = 0; j < dm; j++) dX[t * dm + j] = rsf * dxh[j] - xL[j] * c;
    }
    for (int k = s.layers - 1; k >= 0; k--)
        layer_backward(&s, flat, grad, k, T, records, conv0, h0, dX, work);
    return loss / T;
}

/* One Adam step (betas 0.9/0.999, eps 1e-8) on n floats; c1, c2 are the bias corrections. */
NC_HOT static void adam(float *data, const float *g, float *m, float *v, int64_t n, double lr, double c1, double c2) {
    const float b1 = 0.9f, b2 = 0.999f, step = (float)(lr / c1), ic2 = (float)(1.0 / c2);
    for (int64_t i = 0; i < n; i++) {
        m[i] = m[i] * b1 + g[i] * (1.0f - b1);
        v[i] = v[i] * b2 + g[i] * g[i] * (1.0f - b2);
        data[i] -= step * m[i] / (__builtin_sqrtf(v[i] * ic2) + 1e-8f); /* IEEE: correctly rounded */
    }
}

void ssm_adam(float *data, const float *g, float *m, float *v, int64_t n, double lr, double c1, double c2) {
    adam(data, g, m, v, n, lr, c1, c2);
}

/* Lazy Adam on the embedding rows a block used: each distinct row (first occurrence order) gets
 * the sum of its positions' gradients. */
void ssm_adam_rows(float *embed, float *m, float *v, int dm, const int32_t *rows, const float *dX, int T,
                   double lr, double c1, double c2) {
    float g[dm];
    for (int t = 0; t < T; t++) {
        int seen = 0;
        for (int q = 0; q < t; q++) seen |= rows[q] == rows[t];
        if (seen) continue;
        for (int j = 0; j < dm; j++) g[j] = 0.0f;
        for (int q = t; q < T; q++)
            if (rows[q] == rows[t])
                for (int j = 0; j < dm; j++) g[j] += dX[q * dm + j];
        int64_t o = (int64_t)rows[t] * dm;
        adam(embed + o, g, m + o, v + o, dm, lr, c1, c2);
    }
}
