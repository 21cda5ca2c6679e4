/* nczip's context-mixing core (arithmetic "cm/1"): a bitwise model of bytes and its binary
 * arithmetic coder, in one C loop so that a fast level costs a few hundred nanoseconds a bit.
 *
 * Design (nczip's own code; the ideas are the published ones of the PAQ family, lpaq and zpaq):
 *   - every context (orders 0..8 of preceding bytes, the current word, word pairs, sparse byte
 *     pairs, the text column) is hashed at each byte and nibble boundary to a 16-byte slot of one
 *     shared table: a check byte and 15 bit-history states, one per node of the nibble's tree;
 *   - a bit history is a pair of bounded counts (n0, n1) numbered by a table built at start-up
 *     (cm_states below); an adaptive map per context turns a state into a probability;
 *   - a match model predicts the bit of the byte that followed the last occurrence of the
 *     preceding bytes, with a learned probability per (match length bucket, predicted bit);
 *   - a gated linear mixer in the logistic domain with several weight sets selected by small
 *     contexts (partial byte, match state, orders that know the context), a second mixer over
 *     their outputs, then two adaptive probability maps (APM/SSE) on the partial byte and order 1.
 *
 * Determinism: only integer arithmetic after start-up; the squash table is built once with the
 * kernels' own exp (nc_math.h), the same bits on every CPU. Nothing depends on the thread, the
 * machine or the memory address. Tables have fixed sizes set by the level, so memory is bounded by
 * the configuration, never by the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cm.h"
#include "nc_math.h"

/* The parameters (enum cm_param) and the contexts (enum cm_context) are in cm.h. */
#define MAX_CTX CTX_COUNT
#define INPUTS_PER_CTX 2
#define MAX_INPUTS (MAX_CTX * INPUTS_PER_CTX + 5)
#define N_STATES 256
#define APM_CELLS 33

/* ---------------------------------------------------------------- shared tables (start-up) */

static int16_t g_stretch[4096];
static int16_t g_squash_t[4096]; /* squash(x) for x in [-2048, 2047] */
static double g_cost[4096];      /* -log2(p / 4096): statistics only, never on the coding path */
static uint8_t g_next[N_STATES][2];
static uint8_t g_n0[N_STATES], g_n1[N_STATES];
static int g_nstates;
static int g_ready;

NC_INLINE int squash(int x) {
    if (x > 2047) x = 2047;
    if (x < -2047) x = -2047;
    return g_squash_t[x + 2048];
}

NC_INLINE int stretch(int p) { return g_stretch[p]; }

/* The bit-history pairs a state can hold: after one run of 40 equal bits the other count is 0;
 * mixed histories keep fewer, newer counts. (n0, n1) is allowed iff min <= 7 and max <= cap[min]. */
static const int STATE_CAP[8] = {40, 30, 20, 12, 8, 7, 7, 7};

static int state_allowed(int n0, int n1) {
    int lo = n0 < n1 ? n0 : n1, hi = n0 < n1 ? n1 : n0;
    return lo <= 7 && hi <= STATE_CAP[lo];
}

static int state_index[41][41];

static void build_states(void) {
    /* number the allowed pairs by total count, then n1: state 0 is (0, 0) */
    int n = 0;
    for (int i = 0; i <= 40; i++)
        for (int j = 0; j <= 40; j++) state_index[i][j] = -1;
    for (int total = 0; total <= 80; total++)
        for (int n1 = 0; n1 <= total; n1++) {
            int n0 = total - n1;
            if (n0 > 40 || n1 > 40 || !state_allowed(n0, n1)) continue;
            state_index[n0][n1] = n;
            g_n0[n] = (uint8_t)n0;
            g_n1[n] = (uint8_t)n1;
            n++;
        }
    g_nstates = n;
    for (int s = 0; s < n; s++)
        for (int y = 0; y < 2; y++) {
            int a = g_n0[s], b = g_n1[s];
            if (y) { b++; if (a > 2) a = (a + 2) / 2; }
            else { a++; if (b > 2) b = (b + 2) / 2; }
            while (!state_allowed(a, b)) { /* shrink the larger count; on a tie, the older one */
                if (a > b || (a == b && y)) a--; else b--;
            }
            g_next[s][y] = (uint8_t)state_index[a][b];
        }
    for (int s = n; s < N_STATES; s++) g_next[s][0] = g_next[s][1] = 0;
}

static void build_tables(void) {
    for (int x = -2048; x < 2048; x++) {
        double v = 4096.0 / (1.0 + nc_exp(-(double)x / 256.0));
        int p = (int)v;
        if (p > 4095) p = 4095;
        if (p < 1) p = 1;
        g_squash_t[x + 2048] = (int16_t)p;
    }
    /* stretch = the inverse of squash: the smallest x whose squash reaches p */
    int pi = 0;
    for (int x = -2047; x <= 2047; x++) {
        int v = squash(x);
        for (int j = pi; j <= v; j++) g_stretch[j] = (int16_t)x;
        pi = v + 1;
    }
    for (int j = pi; j < 4096; j++) g_stretch[j] = 2047;
    for (int p = 1; p < 4096; p++) g_cost[p] = -nc_log((double)p / 4096.0) / 0.6931471805599453;
    g_cost[0] = g_cost[1];
    build_states();
    g_ready = 1;
}

static void ensure_tables(void) {
    /* idempotent and computes the same values in every thread: a race only writes equal bytes */
    if (!g_ready) build_tables();
}

/* ------------------------------------------------------------------------------- the model */

typedef struct {
    int32_t p; /* probability of a 1, 16.16 fixed point of [0, 1) scaled to 2^28 */
    int32_t n;
} MapCell;

typedef struct {
    uint8_t check;
    uint8_t state[15];
} Slot;

struct Cm {
    int32_t params[P_COUNT];
    /* contexts */
    int nctx;
    int ctx_kind[MAX_CTX];
    uint32_t hash[MAX_CTX];
    uint8_t *node[MAX_CTX]; /* the current nibble slot's states */
    MapCell *map;           /* nctx * N_STATES */
    Slot *table; /* 64-byte aligned inside table_raw */
    void *table_raw;
    uint32_t table_mask;
    /* history */
    const uint8_t *hist;
    int64_t pos;
    uint32_t c4, c8; /* last 8 bytes */
    uint32_t c0;     /* 1 followed by the bits of the byte so far */
    int bit;         /* bits of the current byte coded so far */
    uint32_t word, word1, word2;
    int64_t line_start, prev_line_start;
    /* match model */
    uint32_t *mtab;
    uint32_t mmask;
    int64_t mptr;
    int32_t mlen;
    int mexpect; /* the predicted bit, or -1 */
    MapCell mmap[64 * 2];
    /* mixer */
    int ninputs;
    int32_t x[MAX_INPUTS];
    int32_t *w1; /* selectors x sets x ninputs */
    int nsel;
    int sel_size[3];
    int sel[3];
    int32_t p1[3];
    int32_t w2[256 * 3];
    int32_t xs[3]; /* the first layer's outputs, stretched: the second layer's inputs */
    int32_t pmix;
    /* APM */
    uint16_t *apm1, *apm2;
    int apm_idx1, apm_idx2;
    int32_t pa1, pa2;
    int32_t pfinal;
    int32_t recip[1024];
    /* coder */
    uint32_t x1, x2, xv;
    double ideal_bits; /* the model's -sum log2 p of the coded bits (the coder's overhead is the rest) */
    uint8_t *out;
    int64_t out_len, out_cap;
    const uint8_t *in;
    int64_t in_len, in_pos;
    /* external model: prefix sums of its next-byte weights (set per byte by cm_code_byte) */
    int external;
    int64_t record; /* P_RECORD */
    int64_t ext_cum[257];
    MapCell ext_map[4096 / 64 * 8];
    int ext_idx;
};

static uint32_t mix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x7feb352dU;
    h ^= h >> 15;
    h *= 0x846ca68bU;
    h ^= h >> 16;
    return h;
}

NC_INLINE uint32_t combine(uint32_t a, uint32_t b) { return mix32(a * 0x9E3779B1U + b + 0x632BE5ABU); }

void cm_free(Cm *m) {
    if (!m) return;
    free(m->map);
    free(m->table_raw);
    free(m->mtab);
    free(m->w1);
    free(m->apm1);
    free(m->apm2);
    free(m);
}

/* Bytes of memory a model with these parameters allocates (for the caller's bound and report). */
int64_t cm_memory(const int32_t *params) {
    int64_t total = (int64_t)sizeof(Cm);
    total += ((int64_t)16) << params[P_TABLE_BITS];
    if (params[P_MATCH_BITS]) total += ((int64_t)4) << params[P_MATCH_BITS];
    total += (int64_t)MAX_CTX * N_STATES * (int64_t)sizeof(MapCell);
    total += (int64_t)(256 + 1024 + 2048) * MAX_INPUTS * 4;
    total += (int64_t)(256 + 65536) * APM_CELLS * 2;
    return total;
}

/* A fresh model, or NULL if the parameters are out of range or memory is short. */
Cm *cm_new(const int32_t *params) {
    ensure_tables();
    if (params[P_TABLE_BITS] < 10 || params[P_TABLE_BITS] > 28) return NULL;
    if (params[P_CONTEXTS] <= 0 || params[P_CONTEXTS] > CTX_ALL) return NULL;
    if (params[P_MATCH_BITS] != 0 && (params[P_MATCH_BITS] < 10 || params[P_MATCH_BITS] > 28)) return NULL;
    if (params[P_MATCH_MIN] < 2 || params[P_MATCH_MIN] > 32) return NULL;
    if (params[P_SELECTORS] < 1 || params[P_SELECTORS] > 3) return NULL;
    if (params[P_APM] < 0 || params[P_APM] > 2) return NULL;
    if (params[P_LR] < 1 || params[P_LR] > 64) return NULL;
    if (params[P_LIMIT] < 1 || params[P_LIMIT] > 1023) return NULL;
    if (params[P_EXTERNAL] < 0 || params[P_EXTERNAL] > 1) return NULL;
    if (params[P_RECORD] < 0 || params[P_RECORD] > (1 << 16)) return NULL;
    Cm *m = calloc(1, sizeof(Cm));
    if (!m) return NULL;
    memcpy(m->params, params, sizeof m->params);
    for (int k = 0; k < MAX_CTX; k++)
        if (params[P_CONTEXTS] & CTX_BIT(k)) m->ctx_kind[m->nctx++] = k;
    m->external = params[P_EXTERNAL];
    m->record = params[P_RECORD];
    m->ninputs = m->nctx * INPUTS_PER_CTX + 1 + (params[P_MATCH_BITS] ? 2 : 0) + (m->external ? 2 : 0);
    m->table_mask = (1U << params[P_TABLE_BITS]) - 1;
    /* 64-byte aligned, so a slot's three probe positions (i, i^1, i^2) share one cache line */
    /* (calloc, not aligned_alloc + memset: the kernel's zero pages cost nothing until touched,
     * so a small input does not pay for the whole table) */
    m->table_raw = calloc(((size_t)1 << params[P_TABLE_BITS]) + 4, sizeof(Slot));
    m->table = m->table_raw ? (Slot *)(((uintptr_t)m->table_raw + 63) & ~(uintptr_t)63) : NULL;
    m->map = malloc((size_t)m->nctx * N_STATES * sizeof(MapCell));
    if (params[P_MATCH_BITS]) {
        m->mmask = (1U << params[P_MATCH_BITS]) - 1;
        m->mtab = calloc((size_t)1 << params[P_MATCH_BITS], sizeof(uint32_t));
    }
    m->nsel = params[P_SELECTORS];
    m->sel_size[0] = 256;  /* the partial byte */
    m->sel_size[1] = 1024; /* match length bucket x expected bit x bit position */
    m->sel_size[2] = 2048; /* contexts that know this node x order-1 byte's top bits */
    int wtotal = 0;
    for (int s = 0; s < m->nsel; s++) wtotal += m->sel_size[s];
    m->w1 = malloc((size_t)wtotal * MAX_INPUTS * sizeof(int32_t));
    m->apm1 = malloc(256 * APM_CELLS * sizeof(uint16_t));
    m->apm2 = malloc(65536 * APM_CELLS * sizeof(uint16_t));
    if (!m->table || !m->map || (params[P_MATCH_BITS] && !m->mtab) || !m->w1 || !m->apm1 || !m->apm2) {
        cm_free(m);
        return NULL;
    }
    for (int c = 0; c < m->nctx; c++)
        for (int s = 0; s < N_STATES; s++) {
            int n0 = g_n0[s], n1 = g_n1[s];
            int64_t p = ((int64_t)(2 * n1 + 1) << 28) / (2 * (n0 + n1) + 2);
            m->map[c * N_STATES + s].p = (int32_t)p;
            m->map[c * N_STATES + s].n = 0;
        }
    for (int i = 0; i < 512; i++) {
        m->ext_map[i].p = ((i & 63) * 64 + 32) << 16;
        m->ext_map[i].n = 0;
    }
    for (int i = 0; i < 128; i++) {
        m->mmap[i].p = (i & 1) ? (3 << 26) : (1 << 26);
        m->mmap[i].n = 0;
    }
    for (int i = 0; i < wtotal * MAX_INPUTS; i++) m->w1[i] = 1 << 14;
    if (m->external) {
        /* an external model (method 6: the LLM) starts trusted, at weight 1 on its stretched
         * probability and 0 on its map's, in every weight set: the core's own inputs then earn
         * their share instead of diluting a strong model while the weights are young */
        int ext = m->ninputs - 2;
        for (int set = 0; set < wtotal; set++) {
            for (int k = 0; k < ext; k++) m->w1[(int64_t)set * MAX_INPUTS + k] = 0;
            m->w1[(int64_t)set * MAX_INPUTS + ext] = 1 << 16;
            m->w1[(int64_t)set * MAX_INPUTS + ext + 1] = 0;
        }
    }
    for (int i = 0; i < 256 * 3; i++) m->w2[i] = 65536 / m->nsel;
    for (int j = 0; j < APM_CELLS; j++) {
        uint16_t v = (uint16_t)(squash((j - 16) * 128) * 16);
        for (int c = 0; c < 256; c++) m->apm1[c * APM_CELLS + j] = v;
        for (int c = 0; c < 65536; c++) m->apm2[c * APM_CELLS + j] = v;
    }
    for (int n = 0; n < 1024; n++) m->recip[n] = (int32_t)(65536 * 2 / (2 * n + 3));
    m->c0 = 1;
    m->x1 = 0;
    m->x2 = 0xFFFFFFFFU;
    return m;
}

/* ------------------------------------------------------------------- per-byte bookkeeping */

NC_INLINE int is_word_byte(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 128; }

static uint32_t context_hash(const Cm *m, enum cm_context kind) {
    uint32_t c4 = m->c4, c8 = m->c8;
    uint32_t k = (uint32_t)(kind + 1) * 0x3C6EF372U;
    switch (kind) {
    case CTX_O0: return k;
    case CTX_O1: return combine(k, c4 & 0xFF);
    case CTX_O2: return combine(k, c4 & 0xFFFF);
    case CTX_O3: return combine(k, c4 & 0xFFFFFF);
    case CTX_O4: return combine(k, c4);
    case CTX_O5: return combine(combine(k, c4), c8 & 0xFF);
    case CTX_O6: return combine(combine(k, c4), c8 & 0xFFFF);
    case CTX_O8: return combine(combine(k, c4), c8);
    case CTX_WORD: return combine(k, m->word ? m->word : (c4 & 0xFF) + 0x100);
    case CTX_WORD2: return combine(combine(k, m->word), m->word1);
    case CTX_SPARSE1: return combine(k, c4 & 0xFF00FF00U);
    case CTX_SPARSE2: return combine(k, c4 & 0xFFFF0000U);
    case CTX_COLUMN: {
        int64_t col = m->pos - m->line_start;
        int above = 0;
        if (m->prev_line_start + col < m->line_start) above = m->hist[m->prev_line_start + col];
        return combine(combine(k, (uint32_t)(col < 255 ? col : 255)), (uint32_t)above | ((c4 & 0xFF) << 8));
    }
    case CTX_SPARSE3: return combine(k, c4 & 0x00FFFF00U);
    case CTX_WORD3: return combine(combine(combine(k, m->word), m->word1), m->word2);
    case CTX_RECORD1: {
        int64_t r = m->record, p = m->pos;
        if (r < 2 || p < r) return combine(k, c4 & 0xFF);
        int64_t col = p % r;
        return combine(combine(k, (uint32_t)(col < 0xFFFF ? col : 0xFFFF)), m->hist[p - r]);
    }
    case CTX_RECORD2: {
        int64_t r = m->record, p = m->pos;
        if (r < 2 || p < r + 1) return combine(k, c4 & 0xFFFF);
        uint32_t near = (uint32_t)m->hist[p - r] | (uint32_t)m->hist[p - r - 1] << 8 | (uint32_t)m->hist[p - r + 1] << 16;
        return combine(combine(k, near), c4 & 0xFF);
    }
    default: return k;
    }
}

static uint8_t *find_slot(Cm *m, uint32_t h) {
    uint8_t check = (uint8_t)(h >> 24);
    uint32_t i = h & m->table_mask;
    Slot *best = NULL;
    int best_pri = 1 << 30;
    for (uint32_t j = 0; j < 3; j++) {
        Slot *s = &m->table[(i ^ j) & m->table_mask];
        if (s->check == check) return s->state;
        int pri = g_n0[s->state[0]] + g_n1[s->state[0]];
        if (pri < best_pri) { best_pri = pri; best = s; }
    }
    memset(best, 0, sizeof *best);
    best->check = check;
    return best->state;
}

static void nibble_slots(Cm *m) {
    uint32_t extra = m->bit == 0 ? 0 : (m->c0 & 0xF) + 16; /* the first nibble, once known */
    uint32_t h[MAX_CTX];
    /* all slots' cache lines are requested before the first is read: the misses overlap */
    for (int c = 0; c < m->nctx; c++) {
        h[c] = extra ? combine(m->hash[c], extra) : m->hash[c];
        __builtin_prefetch(&m->table[h[c] & m->table_mask & ~3u]);
    }
    for (int c = 0; c < m->nctx; c++) m->node[c] = find_slot(m, h[c]);
}

static void match_byte(Cm *m) {
    if (!m->mtab) return;
    int64_t pos = m->pos;
    int mmin = m->params[P_MATCH_MIN];
    if (m->mlen > 0) {
        if (m->hist[m->mptr] == m->hist[pos - 1]) {
            m->mptr++;
            if (m->mlen < 65535) m->mlen++;
        } else m->mlen = 0;
    }
    if (pos < mmin) return;
    uint32_t h = 0;
    for (int i = 1; i <= mmin; i++) h = (h + m->hist[pos - i] + 1) * 0x2F0B4C13U;
    h = mix32(h) & m->mmask;
    if (m->mlen == 0) {
        uint32_t cand = m->mtab[h];
        if (cand > 0) {
            int len = 0;
            while (len < 400 && (int64_t)cand - 1 - len >= 0 && m->hist[cand - 1 - len] == m->hist[pos - 1 - len])
                len++;
            if (len >= mmin) { m->mlen = len; m->mptr = cand; }
        }
    }
    m->mtab[h] = (uint32_t)pos;
}

static void byte_update(Cm *m, int c) {
    m->pos++;
    m->c8 = (m->c8 << 8) | (m->c4 >> 24);
    m->c4 = (m->c4 << 8) | (uint32_t)c;
    if (is_word_byte(c)) {
        int lc = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        m->word = (m->word + (uint32_t)lc + 1) * 0x2F0B4C13U;
    } else if (m->word) {
        m->word2 = m->word1;
        m->word1 = m->word;
        m->word = 0;
    }
    if (c == '\n') { m->prev_line_start = m->line_start; m->line_start = m->pos; }
    match_byte(m);
    for (int i = 0; i < m->nctx; i++) m->hash[i] = context_hash(m, m->ctx_kind[i]);
    m->c0 = 1;
    m->bit = 0;
    nibble_slots(m);
}

/* --------------------------------------------------------------------- predict and update */

NC_INLINE int map_p(const MapCell *cell) { return cell->p >> 16; } /* 12 bits */

NC_INLINE void map_update(MapCell *cell, int y, const int32_t *recip, int limit) {
    int32_t target = y << 28;
    int64_t delta = ((int64_t)(target - cell->p) * recip[cell->n]) >> 16;
    cell->p += (int32_t)delta;
    if (cell->n < limit) cell->n++;
}

NC_INLINE int clamp12(int p) { return p < 1 ? 1 : (p > 4095 ? 4095 : p); }

NC_INLINE int dot(const int32_t *x, const int32_t *w, int n) {
    int64_t s = 0;
    for (int i = 0; i < n; i++) s += (int64_t)x[i] * w[i];
    int64_t v = s >> 16;
    return (int)(v > 2047 ? 2047 : (v < -2047 ? -2047 : v));
}

NC_INLINE void train(const int32_t *x, int32_t *w, int n, int err) {
    for (int i = 0; i < n; i++) {
        int64_t v = (int64_t)w[i] + (((int64_t)x[i] * err + 0x2000) >> 14);
        w[i] = (int32_t)(v > 0x3FFFFFFF ? 0x3FFFFFFF : (v < -0x3FFFFFFF ? -0x3FFFFFFF : v));
    }
}

static int length_bucket(int len) {
    if (len < 16) return len;
    if (len < 32) return 16 + ((len - 16) >> 2);
    if (len < 64) return 20 + ((len - 32) >> 3);
    if (len < 128) return 24 + ((len - 64) >> 4);
    return len < 256 ? 28 : (len < 512 ? 29 : (len < 1024 ? 30 : 31));
}

/* The node of the current nibble's tree, 1..15: a leading 1 and the nibble's bits so far. */
NC_INLINE int nibble_node(const Cm *m) {
    if (m->bit < 4) return (int)m->c0;
    int k = m->bit - 4;
    return (int)(m->c0 & ((1u << k) - 1)) | (1 << k);
}

/* The model's parts, each a predict half and an update half (the way lpaq1 keeps its components
 * apart): the predict half adds the part's inputs to the mixer's array or refines a probability,
 * the update half learns from the coded bit y. predict() and update() below run them in order.
 * All are inlined into the coding loop: splitting them changes no instruction's arithmetic. */

/* Contexts: for each context, its slot's bit-history state at this node, mapped to a probability;
 * two inputs, the probability stretched and a confidence that is 0 for a state never seen. The
 * inputs go to x[0..2 nctx); returns how many contexts have seen this node (a mixer selector). */
NC_INLINE int contexts_predict(Cm *m, int node, int32_t *x) {
    int known = 0;
    for (int c = 0; c < m->nctx; c++) {
        int s = m->node[c][node - 1];
        int p = clamp12(map_p(&m->map[c * N_STATES + s]));
        *x++ = stretch(p);
        *x++ = s ? (p - 2048) >> 2 : 0;
        known += s != 0;
    }
    return known;
}

NC_INLINE void contexts_update(Cm *m, int node, int y) {
    int limit = m->params[P_LIMIT];
    for (int c = 0; c < m->nctx; c++) {
        uint8_t *st = &m->node[c][node - 1];
        map_update(&m->map[c * N_STATES + *st], y, m->recip, limit);
        *st = g_next[*st][y];
    }
}

/* Match model: while the bytes after the last occurrence of the preceding bytes agree with the
 * bits of this byte so far, it predicts their next bit, with a probability learned per (length
 * bucket, predicted bit). Two inputs at x[0..2), zero without a prediction; sets m->mexpect and
 * returns the mixer's match selector (0: no prediction). */
NC_INLINE int match_predict(Cm *m, int32_t *x) {
    x[0] = 0;
    x[1] = 0;
    if (m->mlen <= 0) return 0;
    int expect = m->hist[m->mptr];
    if (((uint32_t)(expect + 256) >> (8 - m->bit)) != m->c0) return 0;
    m->mexpect = (expect >> (7 - m->bit)) & 1;
    int b = length_bucket(m->mlen);
    int p = clamp12(map_p(&m->mmap[b * 2 + m->mexpect]));
    x[0] = stretch(p);
    int conf = b * 32;
    x[1] = m->mexpect ? conf : -conf;
    return 1 + (b >> 1) * 2 + m->mexpect;
}

NC_INLINE void match_update(Cm *m, int y) {
    if (m->mexpect < 0) return;
    int b = length_bucket(m->mlen);
    map_update(&m->mmap[b * 2 + m->mexpect], y, m->recip, 255);
    if (m->mexpect != y) m->mlen = 0;
}

/* External model: its probability that this bit is 1 (its weight on the bytes that continue the
 * bits so far with a 1, over its weight on all that continue them), and that probability refined
 * by a map learned per (bit position, quantised probability): two inputs at x[0..2). */
NC_INLINE void external_predict(Cm *m, int32_t *x) {
    int width = 1 << (8 - m->bit);
    int lo = (int)(m->c0 - (1u << m->bit)) * width;
    int64_t all = m->ext_cum[lo + width] - m->ext_cum[lo];
    int64_t one = m->ext_cum[lo + width] - m->ext_cum[lo + width / 2];
    int p = all > 0 ? clamp12((int)((one * 4096) / all)) : 2048;
    m->ext_idx = m->bit * 64 + (p >> 6);
    int q = clamp12(map_p(&m->ext_map[m->ext_idx]));
    x[0] = stretch(p);
    x[1] = stretch(q);
}

NC_INLINE void external_update(Cm *m, int y) { map_update(&m->ext_map[m->ext_idx], y, m->recip, 1023); }

/* Mixer: a first layer of weight sets over all inputs, one set chosen by each selector (the
 * partial byte; the match state and bit position; how many contexts know this node and the last
 * byte's top bits), and, with more than one selector, a second layer over their outputs chosen by
 * the partial byte. Returns the mixed probability (12 bits). */
NC_INLINE int mixer_predict(Cm *m, int known, int mctx) {
    int base = 0;
    m->sel[0] = (int)m->c0;
    if (m->nsel > 1) /* with an external model: its confidence and the bit position pick the set */
        m->sel[1] = m->external ? m->ext_idx : (mctx * 8 + m->bit) & 1023;
    if (m->nsel > 2) {
        int k = known * 16 / (m->nctx + 1);
        m->sel[2] = (k * 128 + (int)((m->c4 & 0xFF) >> 1)) & 2047;
    }
    for (int s = 0; s < m->nsel; s++) {
        const int32_t *w = m->w1 + (int64_t)(base + m->sel[s]) * MAX_INPUTS;
        int st = dot(m->x, w, m->ninputs);
        m->p1[s] = clamp12(squash(st));
        m->xs[s] = st;
        base += m->sel_size[s];
    }
    int pr;
    if (m->nsel == 1) pr = m->p1[0];
    else pr = clamp12(squash(dot(m->xs, m->w2 + (int)m->c0 * 3, m->nsel)));
    m->pmix = pr;
    return pr;
}

NC_INLINE void mixer_update(Cm *m, int y) {
    /* a faster rate while the weights are young: 4x at the start, halved by 256 KiB */
    int lr = m->params[P_LR];
    lr += (int)(((int64_t)lr * 3 * 262144) / (m->pos + 262144));
    int base = 0;
    for (int s = 0; s < m->nsel; s++) {
        int err = ((y << 12) - m->p1[s]) * lr;
        if (m->external) err /= 2; /* beside a strong external model (the LLM), slower: measured in docs/cm.md */
        train(m->x, m->w1 + (int64_t)(base + m->sel[s]) * MAX_INPUTS, m->ninputs, err);
        base += m->sel_size[s];
    }
    if (m->nsel > 1) train(m->xs, m->w2 + (int)m->c0 * 3, m->nsel, ((y << 12) - m->pmix) * 2);
}

/* APMs (SSE): the mixer's probability refined by interpolating between the two nearest of 33
 * cells on its stretched value, in a row chosen by the partial byte (the first stage) and by the
 * partial byte and the last byte (the second); averaged with the mixer's probability. */
NC_INLINE int apm_predict(Cm *m, int pr) {
    if (m->params[P_APM] < 1) return pr;
    int s = stretch(pr) + 2048;
    int lo = s >> 7, w = s & 127;
    const uint16_t *t = m->apm1 + (int)m->c0 * APM_CELLS;
    m->pa1 = clamp12(((int)t[lo] * (128 - w) + (int)t[lo + 1] * w) >> 11);
    m->apm_idx1 = (int)m->c0 * APM_CELLS + lo + (w >> 6);
    if (m->params[P_APM] < 2) return (pr + 3 * m->pa1 + 2) >> 2;
    uint32_t h = (m->c0 | ((m->c4 & 0xFF) << 8)) & 0xFFFF;
    const uint16_t *t2 = m->apm2 + h * APM_CELLS;
    m->pa2 = clamp12(((int)t2[lo] * (128 - w) + (int)t2[lo + 1] * w) >> 11);
    m->apm_idx2 = (int)h * APM_CELLS + lo + (w >> 6);
    return (pr + m->pa1 + 2 * m->pa2 + 2) >> 2;
}

/* One APM cell moves 1/64 of the way to the bit (16-bit probabilities). */
NC_INLINE void apm_cell_update(uint16_t *t, int y) {
    *t = (uint16_t)(*t + ((((y << 16) - (int)*t) + (y << 6)) >> 6) - y);
}

NC_INLINE void apm_update(Cm *m, int y) {
    if (m->params[P_APM] >= 1) apm_cell_update(m->apm1 + m->apm_idx1, y);
    if (m->params[P_APM] >= 2) apm_cell_update(m->apm2 + m->apm_idx2, y);
}

/* The probability (12 bits, of a 1) of the next bit: the inputs of the contexts, a bias, the match
 * model and the external model, in that order (the mixer's weights are per input position), mixed,
 * then refined by the APMs. */
NC_INLINE int predict(Cm *m) {
    int ni = 2 * m->nctx;
    int known = contexts_predict(m, nibble_node(m), m->x);
    m->x[ni++] = 256; /* bias */
    int mctx = 0;
    m->mexpect = -1;
    if (m->mtab) {
        mctx = match_predict(m, m->x + ni);
        ni += 2;
    }
    if (m->external) external_predict(m, m->x + ni);
    if (m->external) /* beside a strong external model (the LLM): the mixer and that model averaged in
                      * the stretched domain, without the APMs (measured in docs/llm-core.md) */
        m->pfinal = clamp12(squash((stretch(mixer_predict(m, known, mctx)) + m->x[ni]) / 2));
    else
        m->pfinal = clamp12(apm_predict(m, mixer_predict(m, known, mctx)));
    return m->pfinal;
}

/* Every part learns the coded bit y; then the partial byte takes it (and at the nibble boundary,
 * the contexts move to the second nibble's slots). */
NC_INLINE void update(Cm *m, int y) {
    contexts_update(m, nibble_node(m), y);
    match_update(m, y);
    if (m->external) external_update(m, y);
    mixer_update(m, y);
    if (!m->external) apm_update(m, y); /* with an external model the APMs are not used */
    m->c0 = (m->c0 << 1) | (uint32_t)y;
    m->bit++;
    if (m->bit == 4) nibble_slots(m);
}

/* ------------------------------------------------------------------------ the binary coder */

NC_INLINE void put_byte(Cm *m, uint8_t b) {
    if (m->out_len < m->out_cap) m->out[m->out_len] = b;
    m->out_len++;
}

NC_INLINE void encode_bit(Cm *m, int y, int p12) {
    m->ideal_bits += g_cost[y ? p12 : 4096 - p12];
    uint32_t range = m->x2 - m->x1;
    uint32_t mid = m->x1 + (uint32_t)(((uint64_t)range * (uint32_t)p12) >> 12);
    if (y) m->x2 = mid; else m->x1 = mid + 1;
    while (((m->x1 ^ m->x2) & 0xFF000000U) == 0) {
        put_byte(m, (uint8_t)(m->x2 >> 24));
        m->x1 <<= 8;
        m->x2 = (m->x2 << 8) | 255;
    }
}

NC_INLINE int next_in(Cm *m) {
    int64_t i = m->in_pos++;
    return i < m->in_len ? m->in[i] : 0;
}

NC_INLINE int decode_bit(Cm *m, int p12) {
    uint32_t range = m->x2 - m->x1;
    uint32_t mid = m->x1 + (uint32_t)(((uint64_t)range * (uint32_t)p12) >> 12);
    int y = m->xv <= mid;
    if (y) m->x2 = mid; else m->x1 = mid + 1;
    while (((m->x1 ^ m->x2) & 0xFF000000U) == 0) {
        m->x1 <<= 8;
        m->x2 = (m->x2 << 8) | 255;
        m->xv = (m->xv << 8) | (uint32_t)next_in(m);
    }
    return y;
}

static void start_history(Cm *m, const uint8_t *hist) {
    m->hist = hist;
    if (m->pos == 0 && m->bit == 0 && m->node[0] == NULL) {
        for (int i = 0; i < m->nctx; i++) m->hash[i] = context_hash(m, m->ctx_kind[i]);
        nibble_slots(m);
    }
}

/* One byte's bits, most significant first, through the model and the coder (both directions
 * of cm_encode/cm_decode and cm_code_byte); the caller then runs byte_update once the byte is in
 * the history. */
NC_INLINE void encode_byte(Cm *m, int c) {
    for (int k = 7; k >= 0; k--) {
        int y = (c >> k) & 1;
        encode_bit(m, y, predict(m));
        update(m, y);
    }
}

NC_INLINE int decode_byte(Cm *m) {
    int c = 0;
    for (int k = 0; k < 8; k++) {
        int y = decode_bit(m, predict(m));
        update(m, y);
        c = (c << 1) | y;
    }
    return c;
}

/* Sets the payload to decode (cm_decode on its first call, or the caller before cm_code_byte). */
void cm_set_input(Cm *m, const uint8_t *payload, int64_t n) {
    m->in = payload;
    m->in_len = n;
    m->in_pos = 0;
    for (int i = 0; i < 4; i++) m->xv = (m->xv << 8) | (uint32_t)next_in(m);
}

/* Code data[start:end) (data is the whole chunk; earlier bytes are history for the match model)
 * into out[0:cap), the same buffer on every call; returns the coder's total output so far (bytes
 * beyond cap are counted, not written: the caller then gives up on this chunk). */
NC_HOT int64_t cm_encode(Cm *m, const uint8_t *data, int64_t start, int64_t end, uint8_t *out, int64_t cap) {
    start_history(m, data);
    m->out = out;
    m->out_cap = cap;
    for (int64_t i = start; i < end; i++) {
        encode_byte(m, data[i]);
        byte_update(m, data[i]);
    }
    return m->out_len;
}

/* The coder's last byte: x1 rounded up to a multiple of 2^24 lies in [x1, x2] (their top bytes
 * differ), and the decoder reads zeros past the end. Returns the total length. */
int64_t cm_finish(Cm *m) {
    uint32_t top = (m->x1 >> 24) + ((m->x1 & 0xFFFFFFU) != 0);
    put_byte(m, (uint8_t)top);
    return m->out_len;
}

/* Decode out[start:end) from payload[0:n) (out[0:start) was decoded by earlier calls). Returns 0,
 * or -1 once the decoder has read more than 8 bytes past the payload's end: corrupt data. */
NC_HOT int cm_decode(Cm *m, const uint8_t *payload, int64_t n, uint8_t *out, int64_t start, int64_t end) {
    if (m->in == NULL) cm_set_input(m, payload, n);
    m->in = payload;
    start_history(m, out);
    for (int64_t i = start; i < end; i++) {
        int c = decode_byte(m);
        out[i] = (uint8_t)c;
        byte_update(m, c);
        if (m->in_pos > m->in_len + 8) return -1;
    }
    return 0;
}

static void set_external(Cm *m, const int32_t *weights) {
    m->ext_cum[0] = 0;
    for (int i = 0; i < 256; i++) m->ext_cum[i + 1] = m->ext_cum[i] + (weights[i] > 0 ? weights[i] : 0);
}

/* One byte with an external model's next-byte weights (256 non-negative integers) as one more
 * input: the encoder passes the byte (data[i], data = the whole chunk), the decoder -1 and gets it
 * back. The caller runs the external model, so its schedule is the caller's, the same both ways.
 * Returns the byte, or -1 past the end of a corrupt payload (decoding; cm_decode set the input). */
NC_HOT int cm_code_byte(Cm *m, uint8_t *data, int64_t i, const int32_t *weights) {
    start_history(m, data);
    set_external(m, weights);
    int c;
    if (m->in == NULL) { /* encoding */
        c = data[i];
        encode_byte(m, c);
    } else {
        c = decode_byte(m);
        data[i] = (uint8_t)c;
        if (m->in_pos > m->in_len + 8) return -1;
    }
    byte_update(m, c);
    return c;
}

int cm_code_event(Cm *m, int bit, int p12) {
    p12 = clamp12(p12);
    if (m->in == NULL) { /* encoding */
        encode_bit(m, bit ? 1 : 0, p12);
        return bit ? 1 : 0;
    }
    int y = decode_bit(m, p12);
    if (m->in_pos > m->in_len + 8) return -1;
    return y;
}

/* Sets the coded output buffer for cm_code_byte (encoding). */
void cm_set_output(Cm *m, uint8_t *out, int64_t cap) { m->out = out; m->out_cap = cap; }

double cm_ideal_bits(const Cm *m) { return m->ideal_bits; }

/* For tests: the bit-history table and the squash/stretch tables the model uses. */
int cm_states(uint8_t *next, uint8_t *n0, uint8_t *n1) {
    ensure_tables();
    memcpy(next, g_next, sizeof g_next);
    memcpy(n0, g_n0, sizeof g_n0);
    memcpy(n1, g_n1, sizeof g_n1);
    return g_nstates;
}

void cm_squash_table(int16_t *squash_out, int16_t *stretch_out) {
    ensure_tables();
    memcpy(squash_out, g_squash_t, sizeof g_squash_t);
    memcpy(stretch_out, g_stretch, sizeof g_stretch);
}

/* For tests: the binary coder alone, coding bits[i] at probability p12[i] (of a 1, in 1/4096);
 * returns the coded length (written to out[0:cap)). */
int64_t cm_code_bits(const uint8_t *bits, const int16_t *p12, int64_t n, uint8_t *out, int64_t cap) {
    Cm m;
    memset(&m, 0, sizeof m);
    m.x2 = 0xFFFFFFFFU;
    m.out = out;
    m.out_cap = cap;
    for (int64_t i = 0; i < n; i++) encode_bit(&m, bits[i], p12[i]);
    return cm_finish(&m);
}
