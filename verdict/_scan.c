/* verdict._scan: the history reader's hot loop in one native pass.
 *
 * A block of history lines is parsed, checked and interned in C: each line is one JSON
 * object; what a row is (its role) follows the row rules stated once below (role_of,
 * missing), the same rules verdict/record_reader.py states for Python. Regions, workloads,
 * keys and vids are numbered in the order the per-record reader meets them, and the block
 * comes back as typed columns (bytes objects that verdict.store_builder views with numpy,
 * named by COLUMNS).
 *
 * Anything this pass would not read exactly as the per-record reader does (an escape in a
 * name, a lone surrogate, a duplicate field, a value of another type, a line that is not
 * one object, a row missing what its role must carry, ...) raises Refused before any table
 * changes: the caller then reads the block line by line and scans the lines the per-record
 * rules keep. A refusal after the tables changed (a write repeating a recorded vid) raises
 * Spoiled: the caller reads the whole history with the per-record reader. So this file only
 * has to be right about what it accepts.
 *
 * Hand-written because no maintained library fuses JSON parsing with interning into columns:
 * see docs/architecture.md ("Libraries and hand-written parts").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static PyObject *Refused, *Spoiled; /* Spoiled: refused after the tables changed */

/* ---------- intern tables: bytes -> dense id, first-seen order ---------- */

typedef struct {
    uint32_t tag, id1; /* id1: id + 1; 0: an empty slot */
    uint32_t start, len; /* the name in the arena: a hit costs one more cache line, not two */
} Slot;

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *start; /* per id: offset in arena (the arena stays < 4 GiB) */
    uint32_t *len;
    uint64_t *hash; /* per id: its hash, so growing the slots rehashes nothing */
    uint32_t count, cap;
    Slot *slots;
    uint64_t mask;
} Table;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xFF51AFD7ED558CCDULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 32;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

static void table_free(Table *t) {
    free(t->arena);
    free(t->start);
    free(t->len);
    free(t->hash);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static int table_rehash(Table *t, uint64_t nslots) {
    Slot *slots = calloc(nslots, sizeof(Slot));
    if (!slots) return -1;
    uint64_t mask = nslots - 1;
    for (uint32_t id = 0; id < t->count; id++) {
        uint64_t h = t->hash[id];
        uint64_t i = h & mask;
        while (slots[i].id1) i = (i + 1) & mask;
        slots[i] = (Slot){(uint32_t)(h >> 32), id + 1, t->start[id], t->len[id]};
    }
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return 0;
}

/* memcmp for the short names of a history, without a call */
static inline int same(const char *a, const char *b, size_t n) {
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
        a += 8, b += 8, n -= 8;
    }
    while (n--)
        if (*a++ != *b++) return 0;
    return 1;
}

/* Hints for a lookup a few rows ahead: its slot, then (once the slot is in cache) its name. */
static inline __attribute__((always_inline)) void prefetch_slot(const Table *t, uint64_t h) {
    if (t->slots) __builtin_prefetch(&t->slots[h & t->mask]);
}

static inline __attribute__((always_inline)) void prefetch_name(const Table *t, uint64_t h) {
    if (!t->slots) return;
    const Slot *e = &t->slots[h & t->mask];
    if (e->id1 && e->tag == (uint32_t)(h >> 32)) __builtin_prefetch(t->arena + e->start);
}

/* The id of s[0:n] (hash h), added when new (*fresh set). -1: out of memory. */
static int64_t table_intern(Table *t, const char *s, size_t n, uint64_t h, int *fresh) {
    if (!t->slots && table_rehash(t, 1024) < 0) return -1;
    uint32_t tag = (uint32_t)(h >> 32);
    uint64_t i = h & t->mask;
    for (;;) {
        Slot *e = &t->slots[i];
        if (!e->id1) break;
        if (e->tag == tag && e->len == n && same(t->arena + e->start, s, n)) {
            *fresh = 0;
            return e->id1 - 1;
        }
        i = (i + 1) & t->mask;
    }
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 1024;
        uint32_t *st = realloc(t->start, cap * sizeof(uint32_t));
        if (!st) return -1;
        t->start = st;
        uint32_t *ln = realloc(t->len, cap * sizeof(uint32_t));
        if (!ln) return -1;
        t->len = ln;
        uint64_t *hs = realloc(t->hash, cap * sizeof(uint64_t));
        if (!hs) return -1;
        t->hash = hs;
        t->cap = cap;
    }
    if (t->arena_len + n > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap * 2 : 65536;
        while (cap < t->arena_len + n) cap *= 2;
        if (cap > UINT32_MAX) return -1;
        char *a = realloc(t->arena, cap);
        if (!a) return -1;
        t->arena = a;
        t->arena_cap = cap;
    }
    uint32_t id = t->count++;
    memcpy(t->arena + t->arena_len, s, n);
    t->start[id] = (uint32_t)t->arena_len;
    t->len[id] = (uint32_t)n;
    t->hash[id] = h;
    t->slots[i] = (Slot){tag, id + 1, (uint32_t)t->arena_len, (uint32_t)n};
    t->arena_len += n;
    *fresh = 1;
    if ((uint64_t)t->count * 2 > t->mask + 1 && table_rehash(t, (t->mask + 1) * 2) < 0) return -1;
    return id;
}

static int64_t table_find(const Table *t, const char *s, size_t n) {
    if (!t->slots) return -1;
    uint64_t h = hash_bytes(s, n);
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const Slot *e = &t->slots[i];
        if (!e->id1) return -1;
        if (e->tag == tag && e->len == n && same(t->arena + e->start, s, n)) return e->id1 - 1;
    }
}

/* ---------- strict JSON pieces ---------- */

typedef struct {
    const char *p, *end;
    const char *why; /* set on refusal */
} Cursor;

#define REFUSE(c, msg) \
    do {               \
        (c)->why = (msg); \
        return -1;     \
    } while (0)

static inline void skip_ws(Cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r')) c->p++;
}

/* One UTF-8 sequence at c->p (first byte >= 0x80), as orjson accepts it. */
static int utf8_seq(Cursor *c) {
    const unsigned char *s = (const unsigned char *)c->p, *e = (const unsigned char *)c->end;
    unsigned char b = s[0];
    int n;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) n = 2, cp = b & 0x1F;
    else if (b >= 0xE0 && b <= 0xEF) n = 3, cp = b & 0x0F;
    else if (b >= 0xF0 && b <= 0xF4) n = 4, cp = b & 0x07;
    else REFUSE(c, "invalid UTF-8");
    if (e - s < n) REFUSE(c, "invalid UTF-8");
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) REFUSE(c, "invalid UTF-8");
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        REFUSE(c, "invalid UTF-8");
    c->p += n;
    return 0;
}

/* Four hex digits at p: their value, or -1. */
static int32_t hex4(const char *p) {
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

/* A \uXXXX escape at c->p (on its backslash), a surrogate pair as one: stepped over when
 * orjson reads it (a lone surrogate is an error to orjson: refused). Names with an escape
 * are refused by their readers; values are only checked, and decoded by orjson if read. */
static int unicode_escape(Cursor *c) {
    if (c->end - c->p < 6) REFUSE(c, "a torn escape");
    int32_t v = hex4(c->p + 2);
    if (v < 0) REFUSE(c, "an invalid escape");
    c->p += 6;
    if (v >= 0xDC00 && v <= 0xDFFF) REFUSE(c, "a lone surrogate");
    if (v < 0xD800 || v > 0xDBFF) return 0;
    if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u') REFUSE(c, "a lone surrogate");
    int32_t low = hex4(c->p + 2);
    if (low < 0xDC00 || low > 0xDFFF) REFUSE(c, "a lone surrogate");
    c->p += 6;
    return 0;
}

/* A string at c->p (on its quote): its body span; *escaped when it holds an escape. */
static int parse_string(Cursor *c, const char **s, size_t *n, int *escaped) {
    c->p++;
    const char *from = c->p;
    *escaped = 0;
    while (c->p < c->end) {
        if (c->end - c->p >= 8) { /* eight plain bytes at a time: none special, none high */
            uint64_t x;
            memcpy(&x, c->p, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
            uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x;
            if (!(special & highs)) {
                c->p += 8;
                continue;
            }
        }
        unsigned char ch = (unsigned char)*c->p;
        if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
            c->p++;
            continue;
        }
        if (ch == '"') {
            *s = from;
            *n = (size_t)(c->p - from);
            c->p++;
            return 0;
        }
        if (ch < 0x20) REFUSE(c, "a control character in a string");
        if (ch == '\\') {
            if (c->p + 1 >= c->end) REFUSE(c, "a torn escape");
            char x = c->p[1];
            if (x == 'u') {
                if (unicode_escape(c) < 0) return -1;
            } else {
                if (!strchr("\"\\/bfnrt", x) || !x) REFUSE(c, "an invalid escape");
                c->p += 2;
            }
            *escaped = 1;
            continue;
        }
        if (ch >= 0x80) {
            if (utf8_seq(c) < 0) return -1;
            continue;
        }
        c->p++;
    }
    REFUSE(c, "an unterminated string");
}

/* A JSON number at c->p: *integral when it has no fraction or exponent. */
static int parse_number(Cursor *c, const char **s, size_t *n, int *integral) {
    const char *p = c->p, *e = c->end, *from = p;
    *integral = 1;
    if (p < e && *p == '-') p++;
    if (p >= e) REFUSE(c, "a torn number");
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        while (p < e && *p >= '0' && *p <= '9') p++;
    else REFUSE(c, "not a number");
    if (p < e && *p == '.') {
        *integral = 0;
        p++;
        if (p >= e || *p < '0' || *p > '9') REFUSE(c, "a number without fraction digits");
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *integral = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || *p < '0' || *p > '9') REFUSE(c, "a number without exponent digits");
        while (p < e && *p >= '0' && *p <= '9') p++;
    }
    *s = from;
    *n = (size_t)(p - from);
    c->p = p;
    return 0;
}

static int literal(Cursor *c, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) REFUSE(c, "not JSON");
    c->p += n;
    return 0;
}

/* After an opening bracket: 1 when `close` follows at once (stepped over: empty). */
static int empty(Cursor *c, char close) {
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 1;
    }
    return 0;
}

/* After a member or element: 1 at ',' (another follows), 0 at `close` (stepped over). */
static int next_member(Cursor *c, char close, const char *why) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ',') {
        c->p++;
        return 1;
    }
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    REFUSE(c, why);
}

static double number_value(const char *s, size_t n);

/* orjson rejects a line holding a number that rounds out of a double's range (1e400), in any
 * field, and reads integers beyond 64 bits as floats (past ~309 digits: an error): refused,
 * being rare. A plain decimal under 300 digits is always in range; a longer one is refused. */
static int number_in_range(const char *s, size_t n, int integral) {
    if (integral) return n - (*s == '-') <= 18;
    if (!memchr(s, 'e', n) && !memchr(s, 'E', n)) return n < 300;
    return n < 40 && isfinite(number_value(s, n));
}

/* Any JSON value, checked and stepped over (depth-limited). */
static int skip_value(Cursor *c, int depth) {
    if (depth > 64) REFUSE(c, "nested too deep");
    if (c->p >= c->end) REFUSE(c, "a missing value");
    const char *s;
    size_t n;
    int flag;
    switch (*c->p) {
    case '"':
        return parse_string(c, &s, &n, &flag);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    case '[':
        if (empty(c, ']')) return 0;
        for (int more = 1; more;) {
            skip_ws(c);
            if (skip_value(c, depth + 1) < 0) return -1;
            if ((more = next_member(c, ']', "a broken array")) < 0) return -1;
        }
        return 0;
    case '{':
        if (empty(c, '}')) return 0;
        for (int more = 1; more;) {
            skip_ws(c);
            if (c->p >= c->end || *c->p != '"') REFUSE(c, "a broken object");
            if (parse_string(c, &s, &n, &flag) < 0) return -1;
            skip_ws(c);
            if (c->p >= c->end || *c->p != ':') REFUSE(c, "a broken object");
            c->p++;
            skip_ws(c);
            if (skip_value(c, depth + 1) < 0) return -1;
            if ((more = next_member(c, '}', "a broken object")) < 0) return -1;
        }
        return 0;
    default:
        if (parse_number(c, &s, &n, &flag) < 0) return -1;
        if (!number_in_range(s, n, flag)) REFUSE(c, "a number out of range");
        return 0;
    }
}

/* ---------- one line into a row ---------- */

enum {
    F_OP, F_REGION, F_OUTCOME, F_WORKLOAD, F_KEY, F_VID, F_PRED, F_T_INVOKE, F_T_COMPLETE,
    F_FINAL, F_ATTRS, F_VALUE, F_TARGET, F_LAG, F_CONSISTENT, F_CAPACITY, F_ITEM_BYTES,
    F_OLD_BYTES, F_ERROR, F_BLOCKED_BY, F_END, F_ID, F_ATTR_PREDS, NFIELDS
};
static const char *FIELD_NAMES[NFIELDS] = {
    "op", "region", "outcome", "workload", "key", "vid", "pred", "t_invoke", "t_complete",
    "final", "attrs", "value", "target", "lag", "consistent", "capacity", "item_bytes",
    "old_bytes", "error", "blocked_by", "end", "id", "attr_preds"};

/* bits of a row's `bits` column (the module exports the ones verdict.store_builder reads) */
enum {
    B_FINAL = 1, B_VID = 2, B_PRED = 4, B_CONSISTENT = 8, B_HARNESS = 16, B_KEY = 32,
    B_LAG = 64, B_TARGET = 128,
    B_ATTRS = 256, /* a non-empty `attrs` object: attribute-level versions */
    B_PRED_NAMED = 512 /* a `pred` member, null or not: the writer knew what it replaced */
};
enum { OP_PUT, OP_UPDATE, OP_DELETE, OP_GET, OP_PROBE };
enum { OUT_OK, OUT_UNKNOWN, OUT_FAIL };

typedef struct {
    const char *s;
    uint32_t n;
    int8_t set; /* 1: a string, 0: absent or null */
    uint64_t h; /* hash of the name (keys and vids: hashed while the line is in cache) */
} Span;

typedef struct {
    int8_t op, outcome;
    uint16_t bits;
    Span region, workload, key, vid, pred, target, id;
    double t_inv, t_comp, lag, capacity;
    int64_t item_bytes, old_bytes;
    /* `attrs` and `attr_preds` members: (name, version) span pairs in the block's Members */
    uint32_t attrs_at, preds_at;
    uint8_t nattrs, npreds;
} Row;

static size_t FIELD_LEN[NFIELDS];

/* The field a name is, or -1: by length and first letter, then one memcmp. */
static int field_of(const char *s, size_t n) {
    if (n < 2 || n > 10) return -1; /* the names' lengths: 2 ("op", "id") to 10 */
    for (int f = 0; f < NFIELDS; f++)
        if (FIELD_LEN[f] == n && FIELD_NAMES[f][0] == s[0] && same(FIELD_NAMES[f], s, n)) return f;
    return -1;
}

static int is_null(Cursor *c) {
    if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
        c->p += 4;
        return 1;
    }
    return 0;
}

/* A name: a string without escapes (null allowed when nullable). */
static int name_value(Cursor *c, Span *out, int nullable) {
    if (is_null(c)) {
        if (!nullable) REFUSE(c, "a null where a string is required");
        out->set = 0;
        return 0;
    }
    if (c->p >= c->end || *c->p != '"') REFUSE(c, "a name that is not a string");
    const char *s;
    size_t n;
    int escaped;
    if (parse_string(c, &s, &n, &escaped) < 0) return -1;
    if (escaped) REFUSE(c, "an escape in a name");
    out->s = s;
    out->n = (uint32_t)n;
    out->set = 1;
    return 0;
}

/* w / 10^k correctly rounded, for the plain decimals a history is made of (timestamps with
 * 17 significant digits defeat the classic exact fast path): a first guess, then checked and
 * nudged with exact 128-bit integer comparisons against the midpoints to its neighbours.
 * -1: outside what 128 bits decide (the caller uses strtod). */
static int decimal_quotient(uint64_t w, int k, double *out) {
    static const uint64_t P10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
        1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
        100000000000ULL, 1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
        1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
        1000000000000000000ULL, 10000000000000000000ULL};
    if (k < 1 || k > 19 || w == 0) return -1;
    int wbits = 64 - __builtin_clzll(w);
    double d = (double)w / (double)P10[k];
    for (int step = 0; step < 4; step++) {
        int ex;
        double f = frexp(d, &ex); /* d = f * 2^ex, f in [0.5, 1) */
        uint64_t m = (uint64_t)ldexp(f, 53);
        int q = ex - 53, shift = 1 - q;
        /* a power of two has a closer neighbour below; tiny or huge: leave it to strtod */
        if (m == (1ULL << 52) || q > -1 || shift + wbits > 126) return -1;
        unsigned __int128 x = (unsigned __int128)w << shift; /* w/10^k * 2^(1-q) * 10^k */
        unsigned __int128 hi = (unsigned __int128)(2 * m + 1) * P10[k];
        unsigned __int128 lo = (unsigned __int128)(2 * m - 1) * P10[k];
        if (x > hi || (x == hi && (m & 1))) {
            d = nextafter(d, INFINITY);
        } else if (x < lo || (x == lo && (m & 1))) {
            d = nextafter(d, 0.0);
        } else {
            *out = d;
            return 0;
        }
    }
    return -1;
}

/* A checked JSON number's value as orjson reads it (correctly rounded). */
static double number_value(const char *s, size_t n) {
    const char *p = s, *e = s + n;
    int negative = *p == '-';
    p += negative;
    uint64_t w = 0;
    int digits = 0, k = 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        if (w || *p != '0') digits++;
        w = w * 10 + (uint64_t)(*p - '0');
        if (digits > 19) goto slow;
    }
    if (p < e && *p == '.')
        for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
            if (w || *p != '0') digits++;
            w = w * 10 + (uint64_t)(*p - '0');
            k++;
            if (digits > 19) goto slow;
        }
    if (p < e) goto slow; /* an exponent */
    double d;
    if (k == 0 && w <= (1ULL << 53)) {
        d = (double)w;
        return negative && w ? -d : d; /* the integer -0 is 0, so the time 0.0 */
    } else if (decimal_quotient(w, k, &d) < 0) goto slow;
    return negative ? -d : d;
slow:;
    char buf[48];
    memcpy(buf, s, n);
    buf[n] = 0;
    return strtod(buf, NULL);
}

static int float_value(Cursor *c, double *out, int nullable, int *present) {
    *present = 0;
    if (is_null(c)) {
        if (!nullable) REFUSE(c, "a null where a number is required");
        *out = NAN;
        return 0;
    }
    const char *s;
    size_t n;
    int integral;
    if (c->p >= c->end || !(*c->p == '-' || (*c->p >= '0' && *c->p <= '9')))
        REFUSE(c, "not a number");
    if (parse_number(c, &s, &n, &integral) < 0) return -1;
    if (n >= 40 || (integral && n > 17)) REFUSE(c, "a long number");
    double x = number_value(s, n);
    if (!isfinite(x)) REFUSE(c, "a number out of range");
    *out = x;
    *present = 1;
    return 0;
}

static int int_value(Cursor *c, int64_t *out) {
    if (is_null(c)) {
        *out = 0;
        return 0;
    }
    const char *s;
    size_t n;
    int integral;
    if (c->p >= c->end || !(*c->p == '-' || (*c->p >= '0' && *c->p <= '9')))
        REFUSE(c, "not an integer");
    if (parse_number(c, &s, &n, &integral) < 0) return -1;
    if (!integral || n > 18) REFUSE(c, "not a small integer");
    char buf[24];
    memcpy(buf, s, n);
    buf[n] = 0;
    *out = strtoll(buf, NULL, 10);
    return 0;
}

static int bool_value(Cursor *c, int *truth) {
    *truth = 0;
    if (is_null(c)) return 0;
    if (c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0) {
        c->p += 4;
        *truth = 1;
        return 0;
    }
    if (c->end - c->p >= 5 && memcmp(c->p, "false", 5) == 0) {
        c->p += 5;
        return 0;
    }
    REFUSE(c, "not a boolean");
}

/* A nullable Any: stepped over; *given when it is not null. */
static int any_value(Cursor *c, int *given) {
    *given = !is_null(c);
    return *given ? skip_value(c, 0) : 0;
}

static int choice(Cursor *c, const char *const *words, int count, int8_t *out) {
    Span sp = {0};
    if (name_value(c, &sp, 0) < 0) return -1;
    for (int i = 0; i < count; i++)
        if (strlen(words[i]) == sp.n && memcmp(words[i], sp.s, sp.n) == 0) {
            *out = (int8_t)i;
            return 0;
        }
    REFUSE(c, "an unknown op or outcome");
}

/* The members of the block's `attrs` and `attr_preds` objects, kept beside the rows. */
typedef struct {
    Span *span;
    size_t len, cap;
} Members;

#define MAX_MEMBERS 32

/* An object of name -> version (string or null), as `attrs` and `attr_preds` hold; names
 * and versions without escapes, no name twice. */
static int members_value(Cursor *c, Members *m, uint32_t *at, uint8_t *count) {
    *count = 0;
    *at = (uint32_t)m->len;
    if (is_null(c)) return 0;
    if (c->p >= c->end || *c->p != '{') REFUSE(c, "attrs that are not an object");
    if (empty(c, '}')) return 0;
    for (int more = 1; more;) {
        if (*count >= MAX_MEMBERS) REFUSE(c, "too many attributes");
        if (m->len + 2 > m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 256;
            Span *sp = realloc(m->span, cap * sizeof(Span));
            if (!sp) REFUSE(c, "out of memory");
            m->span = sp;
            m->cap = cap;
        }
        Span *name = &m->span[m->len], *version = &m->span[m->len + 1];
        memset(name, 0, 2 * sizeof(Span));
        skip_ws(c);
        if (name_value(c, name, 0) < 0) return -1;
        for (uint8_t j = 0; j < *count; j++) {
            const Span *other = &m->span[*at + 2 * j];
            if (other->n == name->n && memcmp(other->s, name->s, name->n) == 0)
                REFUSE(c, "an attribute given twice");
        }
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':') REFUSE(c, "a broken object");
        c->p++;
        skip_ws(c);
        if (name_value(c, version, 1) < 0) return -1;
        if (version->set) version->h = hash_bytes(version->s, version->n);
        m->len += 2;
        (*count)++;
        if ((more = next_member(c, '}', "a broken object")) < 0) return -1;
    }
    return 0;
}


static const char *const OPS[] = {"put", "update", "delete", "get", "probe"};
static const char *const OUTCOMES[] = {"ok", "unknown", "fail"};

/* A write without vid is named by its id, when the id is a name; an id spelt with escapes
 * is only checked (it names nothing the tables could hold exactly). */
static int id_value(Cursor *c, Span *id) {
    if (c->p >= c->end || *c->p != '"') return skip_value(c, 0);
    const char *from = c->p;
    if (name_value(c, id, 0) == 0) return 0;
    if (!c->why || strcmp(c->why, "an escape in a name") != 0) return -1;
    c->p = from;
    c->why = NULL;
    id->set = 0;
    return skip_value(c, 0);
}

/* The field at c->p (after its name and colon) into the row; `seen` already marks it. */
static inline __attribute__((always_inline)) int parse_field(Cursor *c, int f, Row *r, Members *m) {
    int flag, present;
    switch (f) {
    case F_OP: return choice(c, OPS, 5, &r->op);
    case F_OUTCOME: return choice(c, OUTCOMES, 3, &r->outcome);
    case F_REGION: return name_value(c, &r->region, 0);
    case F_WORKLOAD: return name_value(c, &r->workload, 1);
    case F_KEY: return name_value(c, &r->key, 0);
    case F_VID: return name_value(c, &r->vid, 1);
    case F_PRED: return name_value(c, &r->pred, 1);
    case F_TARGET: return name_value(c, &r->target, 1);
    case F_T_INVOKE: return float_value(c, &r->t_inv, 1, &present);
    case F_T_COMPLETE: return float_value(c, &r->t_comp, 0, &present);
    case F_LAG:
        if (float_value(c, &r->lag, 1, &present) < 0) return -1;
        if (present) r->bits |= B_LAG;
        return 0;
    case F_CAPACITY:
        if (float_value(c, &r->capacity, 1, &present) < 0) return -1;
        if (r->capacity == 0.0) r->capacity = NAN; /* `x or nan`: 0 is no figure */
        return 0;
    case F_ITEM_BYTES: return int_value(c, &r->item_bytes);
    case F_OLD_BYTES: return int_value(c, &r->old_bytes);
    case F_FINAL:
    case F_CONSISTENT:
        if (bool_value(c, &flag) < 0) return -1;
        if (flag) r->bits |= f == F_FINAL ? B_FINAL : B_CONSISTENT;
        return 0;
    case F_ATTRS:
        if (members_value(c, m, &r->attrs_at, &r->nattrs) < 0) return -1;
        if (r->nattrs) r->bits |= B_ATTRS;
        return 0;
    case F_ATTR_PREDS: return members_value(c, m, &r->preds_at, &r->npreds);
    case F_END:
        if (!is_null(c)) REFUSE(c, "an end mark in mid-shard");
        return 0;
    case F_ERROR:
    case F_BLOCKED_BY: return any_value(c, &flag); /* read from the line when needed */
    case F_ID: return id_value(c, &r->id);
    default: return skip_value(c, 0); /* `value` (null included) and fields not read */
    }
}

/* What a parsed row's fields make of it: a write's vid from its id, the bits, the hashes. */
static inline void finish_row(Row *r, uint32_t seen) {
    if (!(r->vid.set && r->vid.n) && r->op < OP_GET && r->outcome != OUT_FAIL && r->id.set)
        r->vid = r->id;
    if (r->vid.set && r->vid.n) {
        r->bits |= B_VID;
        r->vid.h = hash_bytes(r->vid.s, r->vid.n);
    }
    if (r->pred.set && r->pred.n) {
        r->bits |= B_PRED;
        r->pred.h = hash_bytes(r->pred.s, r->pred.n);
    }
    if (r->target.set && r->target.n) r->bits |= B_TARGET;
    if (seen & 1u << F_PRED) r->bits |= B_PRED_NAMED;
    if (seen & 1u << F_KEY) {
        r->bits |= B_KEY;
        r->key.h = hash_bytes(r->key.s, r->key.n);
        if (r->key.n >= 3 && memcmp(r->key.s, "hh#", 3) == 0) r->bits |= B_HARNESS;
    }
    if (!(seen & 1u << F_T_COMPLETE)) r->t_comp = NAN;
}

/* One line: exactly one object whose fields are read as the per-record reader reads them. */
static int parse_row(Cursor *c, Row *r, Members *m) {
    uint32_t seen = 0;
    memset(r, 0, sizeof(*r));
    r->t_inv = r->t_comp = r->lag = r->capacity = NAN;
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{') REFUSE(c, "a line that is not an object");
    if (empty(c, '}')) REFUSE(c, "an empty object");
    for (int more = 1; more;) {
        skip_ws(c);
        if (c->p >= c->end || *c->p != '"') REFUSE(c, "a broken object");
        const char *s;
        size_t n;
        int escaped;
        if (parse_string(c, &s, &n, &escaped) < 0) return -1;
        if (escaped) REFUSE(c, "an escape in a field name");
        skip_ws(c);
        if (c->p >= c->end || *c->p != ':') REFUSE(c, "a broken object");
        c->p++;
        skip_ws(c);
        int f = field_of(s, n);
        if (f >= 0) {
            if (seen & (1u << f)) REFUSE(c, "a field given twice");
            seen |= 1u << f;
        }
        if (parse_field(c, f, r, m) < 0) return -1;
        if ((more = next_member(c, '}', "a broken object")) < 0) return -1;
    }
    skip_ws(c); /* a CRLF line's '\r' */
    if (c->p != c->end) REFUSE(c, "more after the object");
    const uint32_t required = 1u << F_OP | 1u << F_REGION | 1u << F_OUTCOME;
    if ((seen & required) != required) REFUSE(c, "a required field missing");
    finish_row(r, seen);
    return 0;
}

/* ---------- the row rules, stated once for C (verdict/record_reader.py: for Python) ---------- */

/* What a row is: its role column (verdict.store_builder reads it). */
enum { ROLE_NONE, ROLE_WRITE, ROLE_FAILED, ROLE_READ, ROLE_FINAL, ROLE_PROBE };

static int role_of(const Row *r) {
    if (r->op == OP_PROBE)
        return r->outcome == OUT_OK && (r->bits & B_LAG) && (r->bits & B_TARGET) ? ROLE_PROBE
                                                                                : ROLE_NONE;
    if (r->op == OP_GET) {
        if (r->outcome != OUT_OK) return ROLE_NONE;
        return (r->bits & B_FINAL) ? ROLE_FINAL : ROLE_READ;
    }
    return r->outcome == OUT_FAIL ? ROLE_FAILED : ROLE_WRITE;
}

/* A read is kept (for stale reads) when it names a version. */
static int kept_read(const Row *r, int role) { return role == ROLE_READ && (r->bits & B_VID); }

/* Why a row lacks what its role must carry, or NULL: the per-record reader would skip it
 * (or read it otherwise), so the block goes to the per-line rules. */
static const char *missing(const Row *r, int role, const Members *m) {
    int write = role == ROLE_WRITE || role == ROLE_FAILED;
    if ((role == ROLE_FINAL || role == ROLE_WRITE || kept_read(r, role)) && !(r->bits & B_KEY))
        return "a keyed record without key";
    if ((write || kept_read(r, role) || role == ROLE_PROBE) && isnan(r->t_inv))
        return "no t_invoke";
    if (write && isnan(r->t_comp)) return "a write without t_complete";
    if (role == ROLE_WRITE && !(r->bits & B_VID)) return "a write without vid";
    for (uint8_t j = 0; write && (r->bits & B_ATTRS) && j < r->nattrs; j++)
        if (!m->span[r->attrs_at + 2 * j + 1].set) return "a write's attribute without a version";
    return NULL;
}

/* ---------- the scanner ---------- */

enum { T_REGION, T_WORKLOAD, T_KEY, T_VID, NTABLES };

typedef struct {
    PyObject_HEAD
    Table tables[NTABLES];
    int32_t *vid_write; /* per vid: its write's number or -1 */
    uint8_t *seen;      /* per vid: observed in a read, a pred or a final read */
    uint32_t vid_cap;
    int64_t writes;
} Scanner;

static void Scanner_dealloc(Scanner *self) {
    for (int i = 0; i < NTABLES; i++) table_free(&self->tables[i]);
    free(self->vid_write);
    free(self->seen);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A small table's name (regions, workloads: hashed here). */
static int64_t intern(Scanner *self, int table, const Span *s, int *fresh) {
    const char *name = s->set ? s->s : "";
    size_t n = s->set ? s->n : 0;
    return table_intern(&self->tables[table], name, n, hash_bytes(name, n), fresh);
}

/* A vid's number; a new vid gets vid_write -1 and seen 0. */
static int64_t vid_of(Scanner *self, const Span *s) {
    int fresh;
    int64_t v = table_intern(&self->tables[T_VID], s->s, s->n, s->h, &fresh);
    if (v < 0) return -1;
    if (fresh) {
        if ((uint32_t)v >= self->vid_cap) {
            uint32_t cap = self->vid_cap ? self->vid_cap * 2 : 4096;
            int32_t *w = realloc(self->vid_write, cap * sizeof(int32_t));
            if (!w) return -1;
            self->vid_write = w;
            uint8_t *sn = realloc(self->seen, cap);
            if (!sn) return -1;
            self->seen = sn;
            self->vid_cap = cap;
        }
        self->vid_write[v] = -1;
        self->seen[v] = 0;
    }
    return v;
}

/* A vid seen (read, replaced or finally read): its number, or -1 (out of room). */
static int64_t seen_vid(Scanner *self, const Span *s) {
    int64_t x = vid_of(self, s);
    if (x >= 0) self->seen[x] = 1;
    return x;
}

/* An attribute-level write's versions, in the per-record reader's order: each attribute's
 * own version, then each attribute's pred (attr_preds) when it names one, marked seen. */
static int write_attrs(Scanner *self, const Row *r, const Span *m) {
    for (uint8_t j = 0; j < r->nattrs; j++)
        if (vid_of(self, &m[r->attrs_at + 2 * j + 1]) < 0) return -1;
    for (uint8_t j = 0; j < r->nattrs; j++) {
        const Span *name = &m[r->attrs_at + 2 * j];
        for (uint8_t k = 0; k < r->npreds; k++) {
            const Span *other = &m[r->preds_at + 2 * k], *pred = other + 1;
            if (other->n != name->n || memcmp(other->s, name->s, name->n) != 0) continue;
            if (pred->set && pred->n && seen_vid(self, pred) < 0) return -1;
            break;
        }
    }
    return 0;
}

/* The versions a read saw, attribute by attribute, marked seen. */
static int read_attrs(Scanner *self, const Row *r, const Span *m) {
    for (uint8_t j = 0; j < r->nattrs; j++) {
        const Span *v = &m[r->attrs_at + 2 * j + 1];
        if (v->set && v->n && seen_vid(self, v) < 0) return -1;
    }
    return 0;
}

/* ---------- a block: parsed, checked, then interned into columns ---------- */

/* the columns, in order, with their struct/array typecodes (verdict.store_builder views
 * them with numpy under these names) */
#define COLUMN_LIST(X)                                                                        \
    X(op, int8_t, "b") X(outcome, int8_t, "b") X(role, int8_t, "b") X(bits, uint16_t, "H")      \
    X(region, uint16_t, "H") X(target, uint16_t, "H") X(workload, uint16_t, "H")             \
    X(key, int32_t, "i") X(vid, int32_t, "i") X(pred, int32_t, "i") X(bucket, int32_t, "i")   \
    X(t_inv, double, "d")                                                                     \
    X(t_comp, double, "d") X(lag, double, "d") X(capacity, double, "d")                       \
    X(item_bytes, int64_t, "q") X(old_bytes, int64_t, "q") X(line, int64_t, "q")
#define AS_ENUM(name, type, code) name##_AT,
enum { COLUMN_LIST(AS_ENUM) NCOLUMNS };
#define AS_WIDTH(name, type, code) sizeof(type),
static const size_t WIDTH[NCOLUMNS] = {COLUMN_LIST(AS_WIDTH)};
#define AS_SPEC(name, type, code) {#name, code},
static const char *const SPEC[NCOLUMNS][2] = {COLUMN_LIST(AS_SPEC)};
#define AS_POINTER(name, type, code) type *name;
typedef struct { COLUMN_LIST(AS_POINTER) } Columns; /* each column's data, typed */
#define NO_TARGET 0xFFFF

typedef struct {
    Py_ssize_t n; /* rows */
    Row *rows;
    Members members;
    PyObject *cols[NCOLUMNS];
    Columns c; /* the columns' data */
    const char *why; /* a refusal's reason */
} Block;

static void block_free(Block *b) {
    for (int i = 0; i < NCOLUMNS; i++) Py_XDECREF(b->cols[i]);
    PyMem_Free(b->rows);
    free(b->members.span);
}

/* Room for the block's rows and columns; 0, or -1 with a Python error set. */
static int block_alloc(Block *b, const char *body, const char *end) {
    for (const char *p = body; p < end; b->n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    b->rows = PyMem_Malloc((size_t)(b->n ? b->n : 1) * sizeof(Row));
    if (!b->rows) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < NCOLUMNS; i++) {
        Py_ssize_t rows = b->n + (i == line_AT); /* line: every row's offset, then the end */
        b->cols[i] = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)WIDTH[i] * rows);
        if (!b->cols[i]) return -1;
    }
#define AS_DATA(name, type, code) b->c.name = (type *)PyBytes_AS_STRING(b->cols[name##_AT]);
    COLUMN_LIST(AS_DATA)
    return 0;
}

/* Every line parsed and checked against the row rules, before any table changes (the GIL
 * released). Returns the index of the row refused, or -1 when all were accepted. */
static Py_ssize_t parse_lines(Block *b, const char *body, const char *end) {
    int64_t *line = b->c.line;
    int8_t *role = b->c.role;
    Py_ssize_t refused = -1;
    Py_BEGIN_ALLOW_THREADS
    const char *p = body;
    for (Py_ssize_t i = 0; i < b->n; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        Cursor c = {p, nl ? nl : end, NULL};
        line[i] = p - body;
        if (parse_row(&c, &b->rows[i], &b->members) < 0) {
            b->why = c.why;
            refused = i;
            break;
        }
        p = nl ? nl + 1 : end;
    }
    line[b->n] = end - body;
    for (Py_ssize_t i = 0; refused < 0 && i < b->n; i++) {
        role[i] = (int8_t)role_of(&b->rows[i]);
        if ((b->why = missing(&b->rows[i], role[i], &b->members))) refused = i;
    }
    Py_END_ALLOW_THREADS
    return refused;
}

/* the interning of one row: done, out of room (names or memory), or a write's vid repeated */
enum { INTERNED, FULL, REPEATED };

/* Row i's names into the tables, in the per-record reader's order, and its codes into the
 * columns: region (then a probe's target), workload, a write's attributes, key, vid, pred,
 * the versions a read saw. */
/* Row i's region (then a probe's target) and workload into the small tables; 0, or -1 when
 * a table is full. */
static inline int intern_names(Scanner *self, Block *b, Py_ssize_t i) {
    Columns *c = &b->c;
    const Row *r = &b->rows[i];
    int fresh;
    int64_t x = intern(self, T_REGION, &r->region, &fresh);
    if (x < 0 || x >= NO_TARGET) return -1;
    c->region[i] = (uint16_t)x;
    c->target[i] = NO_TARGET;
    if (c->role[i] == ROLE_PROBE) {
        if ((x = intern(self, T_REGION, &r->target, &fresh)) < 0 || x >= NO_TARGET) return -1;
        c->target[i] = (uint16_t)x;
    }
    c->workload[i] = 0; /* a probe has none: it counts for no workload */
    if (r->op != OP_PROBE) {
        if ((x = intern(self, T_WORKLOAD, &r->workload, &fresh)) < 0 || x >= NO_TARGET) return -1;
        c->workload[i] = (uint16_t)x;
    }
    c->key[i] = c->vid[i] = c->pred[i] = -1;
    return 0;
}

static inline int intern_row(Scanner *self, Block *b, Py_ssize_t i) {
    Columns *c = &b->c;
    const Row *r = &b->rows[i];
    int role = c->role[i], fresh;
    int64_t x;
    c->bucket[i] = -1;
    if (intern_names(self, b, i) < 0) return FULL;
    int write = role == ROLE_WRITE, named = write || role == ROLE_FINAL || kept_read(r, role);
    if ((write || role == ROLE_FAILED) && (r->bits & B_ATTRS)) /* before its vid, as per record */
        if (write_attrs(self, r, b->members.span) < 0) return FULL;
    if (named) {
        x = table_intern(&self->tables[T_KEY], r->key.s, r->key.n, r->key.h, &fresh);
        if (x < 0 || x >= INT32_MAX) return FULL;
        c->key[i] = (int32_t)x;
    }
    if (named && (r->bits & B_VID)) { /* a final read of a missing item names none */
        if ((x = vid_of(self, &r->vid)) < 0 || x >= INT32_MAX) return FULL;
        c->vid[i] = (int32_t)x;
        if (write && self->vid_write[x] >= 0) return REPEATED;
        if (write) self->vid_write[x] = (int32_t)self->writes++;
        else self->seen[x] = 1;
    }
    if (write && (r->bits & B_PRED)) {
        if ((x = seen_vid(self, &r->pred)) < 0 || x >= INT32_MAX) return FULL;
        c->pred[i] = (int32_t)x;
    }
    if ((role == ROLE_READ || role == ROLE_FINAL) && (r->bits & B_ATTRS))
        if (read_attrs(self, r, b->members.span) < 0) return FULL;
    return INTERNED;
}

/* Row i routed instead of interned: its names into the small tables, as intern_row does; no
 * key or vid; `bucket` is the key's hash modulo `buckets` (every record of a key goes to one
 * bucket), -1 for a row without key. */
static int route_row(Scanner *self, Block *b, Py_ssize_t i, uint32_t buckets) {
    const Row *r = &b->rows[i];
    if (intern_names(self, b, i) < 0) return FULL;
    b->c.bucket[i] = (r->bits & B_KEY) ? (int32_t)(r->key.h % buckets) : -1;
    return INTERNED;
}

/* rows between a slot's prefetch and its lookup */
#define AHEAD 16

/* The big tables miss the cache: ask for the slots of row i + AHEAD early, and for the
 * names of row i + AHEAD / 2, whose slots have arrived by then. */
/* always inlined: a function that only prefetches looks pure to GCC, whose calls it drops */
static inline __attribute__((always_inline)) void prefetch_ahead(const Scanner *self, const Block *b, Py_ssize_t i) {
    const Table *keys = &self->tables[T_KEY], *vids = &self->tables[T_VID];
    if (i + AHEAD < b->n) {
        const Row *a = &b->rows[i + AHEAD];
        prefetch_slot(keys, a->key.h);
        prefetch_slot(vids, a->vid.h);
        prefetch_slot(vids, a->pred.h);
    }
    if (i + AHEAD / 2 < b->n) {
        const Row *a = &b->rows[i + AHEAD / 2];
        prefetch_name(keys, a->key.h);
        prefetch_name(vids, a->vid.h);
        prefetch_name(vids, a->pred.h);
    }
}

/* The row's own figures into the columns. */
static inline void copy_row(Block *b, Py_ssize_t i) {
    const Row *r = &b->rows[i];
    Columns *c = &b->c;
    c->op[i] = r->op;
    c->outcome[i] = r->outcome;
    c->bits[i] = r->bits;
    c->t_inv[i] = r->t_inv;
    c->t_comp[i] = r->t_comp;
    c->lag[i] = r->lag;
    c->capacity[i] = r->capacity;
    c->item_bytes[i] = r->item_bytes;
    c->old_bytes[i] = r->old_bytes;
}

/* Refused (or Spoiled) with args (why, the index of the record refused) */
static PyObject *raise_at(PyObject *kind, Py_ssize_t line, const char *why) {
    PyObject *args = Py_BuildValue("(sn)", why, line);
    if (args) {
        PyErr_SetObject(kind, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* The block's columns: interned (buckets 0) or routed to `buckets` buckets. Refused:
 * nothing changed; Spoiled: the tables did. */
static PyObject *scan_block(Scanner *self, PyObject *arg, uint32_t buckets) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes bytes");
        return NULL;
    }
    const char *body = PyBytes_AS_STRING(arg), *end = body + PyBytes_GET_SIZE(arg);
    if (PyBytes_GET_SIZE(arg) >= (Py_ssize_t)UINT32_MAX) return raise_at(Refused, 0, "a block too large");
    Block b = {0};
    PyObject *out = NULL;
    if (block_alloc(&b, body, end) < 0) goto done;
    Py_ssize_t refused = parse_lines(&b, body, end);
    if (refused >= 0) {
        raise_at(Refused, refused, b.why);
        goto done;
    }
    for (Py_ssize_t i = 0; i < b.n; i++) {
        if (!buckets) prefetch_ahead(self, &b, i);
        int rc = buckets ? route_row(self, &b, i, buckets) : intern_row(self, &b, i);
        if (rc != INTERNED) {
            raise_at(Spoiled, i, rc == REPEATED ? "a write repeats a recorded vid"
                                                : "more names than the columns hold, or out of memory");
            goto done;
        }
        copy_row(&b, i);
    }
    if (!(out = PyTuple_New(NCOLUMNS))) goto done;
    for (int i = 0; i < NCOLUMNS; i++) {
        PyTuple_SET_ITEM(out, i, b.cols[i]);
        b.cols[i] = NULL;
    }
done:
    block_free(&b);
    return out;
}

/* scan(block) -> the columns of its rows, names interned */
static PyObject *Scanner_scan(Scanner *self, PyObject *arg) { return scan_block(self, arg, 0); }

/* route(block, buckets) -> the columns of its rows, each keyed row's bucket instead of its
 * key and vids (only regions and workloads interned) */
static PyObject *Scanner_route(Scanner *self, PyObject *args) {
    PyObject *block;
    unsigned int buckets;
    if (!PyArg_ParseTuple(args, "OI", &block, &buckets)) return NULL;
    if (!buckets) {
        PyErr_SetString(PyExc_ValueError, "route() needs at least one bucket");
        return NULL;
    }
    return scan_block(self, block, buckets);
}

/* learn(table, names): names into a table in this order (a bucket's scanner numbers regions
 * and workloads as the whole history does) */
static PyObject *Scanner_learn(Scanner *self, PyObject *args) {
    int table, fresh;
    PyObject *names;
    if (!PyArg_ParseTuple(args, "iO", &table, &names)) return NULL;
    if (table < 0 || table >= NTABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(names, "learn() takes a sequence of names");
    if (!seq) return NULL;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(seq, i), &n);
        if (!s || table_intern(&self->tables[table], s, (size_t)n, hash_bytes(s, (size_t)n), &fresh) < 0) {
            Py_DECREF(seq);
            return s ? PyErr_NoMemory() : NULL;
        }
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

/* hashes(table) -> every name's 64-bit hash (uint64 bytes, in id order) */
static PyObject *Scanner_hashes(Scanner *self, PyObject *arg) {
    long table = PyLong_AsLong(arg);
    if (table == -1 && PyErr_Occurred()) return NULL;
    if (table < 0 || table >= NTABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    const Table *t = &self->tables[table];
    return PyBytes_FromStringAndSize(t->count ? (const char *)t->hash : "", (Py_ssize_t)t->count * 8);
}

/* hash(name) -> the 64-bit hash the tables (and route's buckets) use */
static PyObject *module_hash(PyObject *m, PyObject *arg) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    return s ? PyLong_FromUnsignedLongLong(hash_bytes(s, (size_t)n)) : NULL;
}

/* split(body, line, dest, buckets) -> one bytes per bucket: the lines of `body` (offsets
 * `line`, int64, one more than rows) whose `dest` (int32 per row) is that bucket, in order */
static PyObject *module_split(PyObject *m, PyObject *args) {
    Py_buffer body, line, dest;
    unsigned int buckets;
    if (!PyArg_ParseTuple(args, "y*y*y*I", &body, &line, &dest, &buckets)) return NULL;
    PyObject *out = NULL;
    Py_ssize_t rows = dest.len / 4;
    const int64_t *at = line.buf;
    const int32_t *to = dest.buf;
    size_t *size = calloc(buckets ? buckets : 1, sizeof(size_t));
    if (!size || line.len != (rows + 1) * 8) {
        PyErr_SetString(PyExc_ValueError, "split(): line offsets and destinations disagree");
        goto done;
    }
    for (Py_ssize_t i = 0; i < rows; i++)
        if (to[i] >= 0 && (unsigned)to[i] < buckets) size[to[i]] += (size_t)(at[i + 1] - at[i]);
    if (!(out = PyList_New(buckets))) goto done;
    for (unsigned int k = 0; k < buckets; k++) {
        PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size[k]);
        if (!bytes) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, k, bytes);
        size[k] = 0;
    }
    for (Py_ssize_t i = 0; i < rows; i++) {
        if (to[i] < 0 || (unsigned)to[i] >= buckets) continue;
        char *dst = PyBytes_AS_STRING(PyList_GET_ITEM(out, to[i])) + size[to[i]];
        memcpy(dst, (const char *)body.buf + at[i], (size_t)(at[i + 1] - at[i]));
        size[to[i]] += (size_t)(at[i + 1] - at[i]);
    }
done:
    free(size);
    PyBuffer_Release(&body);
    PyBuffer_Release(&line);
    PyBuffer_Release(&dest);
    return out;
}

static PyObject *name_at(const Table *t, uint32_t id) {
    return PyUnicode_DecodeUTF8(t->arena + t->start[id], t->len[id], "strict");
}

/* names(table, start=0): the names of one table from `start` on, in id order */
static PyObject *Scanner_names(Scanner *self, PyObject *args) {
    int table;
    Py_ssize_t start = 0;
    if (!PyArg_ParseTuple(args, "i|n", &table, &start)) return NULL;
    if (table < 0 || table >= NTABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    const Table *t = &self->tables[table];
    if (start < 0) start = 0;
    Py_ssize_t count = (Py_ssize_t)t->count - start;
    PyObject *out = PyList_New(count > 0 ? count : 0);
    for (Py_ssize_t i = 0; out && i < count; i++) {
        PyObject *s = name_at(t, (uint32_t)(start + i));
        if (!s) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, s);
    }
    return out;
}

static PyObject *Scanner_name(Scanner *self, PyObject *args) {
    int table;
    Py_ssize_t id;
    if (!PyArg_ParseTuple(args, "in", &table, &id)) return NULL;
    if (table < 0 || table >= NTABLES || id < 0 || id >= (Py_ssize_t)self->tables[table].count) {
        PyErr_SetString(PyExc_IndexError, "no such name");
        return NULL;
    }
    return name_at(&self->tables[table], (uint32_t)id);
}

/* find(table, name) -> its id, or -1 */
static PyObject *Scanner_find(Scanner *self, PyObject *args) {
    int table;
    const char *s;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "is#", &table, &s, &n)) return NULL;
    if (table < 0 || table >= NTABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    return PyLong_FromLongLong(table_find(&self->tables[table], s, (size_t)n));
}

static PyObject *Scanner_count(Scanner *self, PyObject *arg) {
    long table = PyLong_AsLong(arg);
    if (table == -1 && PyErr_Occurred()) return NULL;
    if (table < 0 || table >= NTABLES) {
        PyErr_SetString(PyExc_ValueError, "no such table");
        return NULL;
    }
    return PyLong_FromUnsignedLong(self->tables[table].count);
}

/* vids(): (vid_write int32 bytes, seen bytes) for every vid, in number order */
static PyObject *Scanner_vids(Scanner *self, PyObject *Py_UNUSED(ignored)) {
    uint32_t n = self->tables[T_VID].count;
    /* no vid yet: empty bytes, not None (y# makes None of a NULL buffer) */
    return Py_BuildValue("(y#y#)", n ? (const char *)self->vid_write : "", (Py_ssize_t)n * 4,
                         n ? (const char *)self->seen : "", (Py_ssize_t)n);
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_O,
     "scan(block) -> columns; raises Refused for anything not read exactly"},
    {"names", (PyCFunction)Scanner_names, METH_VARARGS, "names(table, start=0) -> list[str]"},
    {"name", (PyCFunction)Scanner_name, METH_VARARGS, "name(table, id) -> str"},
    {"find", (PyCFunction)Scanner_find, METH_VARARGS, "find(table, name) -> id or -1"},
    {"count", (PyCFunction)Scanner_count, METH_O, "count(table) -> names interned"},
    {"vids", (PyCFunction)Scanner_vids, METH_NOARGS, "vids() -> (vid_write, seen)"},
    {"route", (PyCFunction)Scanner_route, METH_VARARGS,
     "route(block, buckets) -> columns with each keyed row's bucket; keys and vids not interned"},
    {"learn", (PyCFunction)Scanner_learn, METH_VARARGS, "learn(table, names): intern in order"},
    {"hashes", (PyCFunction)Scanner_hashes, METH_O, "hashes(table) -> uint64 bytes"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "verdict._scan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Interning state shared by the blocks of one history.",
    .tp_methods = Scanner_methods,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef module_methods[] = {
    {"hash", (PyCFunction)module_hash, METH_O, "hash(name) -> the tables' 64-bit hash"},
    {"split", (PyCFunction)module_split, METH_VARARGS,
     "split(body, line, dest, buckets) -> the lines of each bucket, as bytes"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "verdict._scan",
                                    "The history reader's native pass.", -1, module_methods,
                                    NULL, NULL, NULL, NULL};

/* COLUMNS: ((name, typecode), ...) in the order scan() returns them */
static PyObject *column_specs(void) {
    PyObject *out = PyTuple_New(NCOLUMNS);
    for (int i = 0; out && i < NCOLUMNS; i++) {
        PyObject *spec = Py_BuildValue("(ss)", SPEC[i][0], SPEC[i][1]);
        if (!spec) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, i, spec);
    }
    return out;
}

/* the constants verdict.store_builder and verdict.native_reader read, by name */
static int add_constants(PyObject *m) {
    static const struct {
        const char *name;
        long value;
    } CONSTANTS[] = {
        {"ROLE_NONE", ROLE_NONE}, {"ROLE_WRITE", ROLE_WRITE}, {"ROLE_FAILED", ROLE_FAILED},
        {"ROLE_READ", ROLE_READ}, {"ROLE_FINAL", ROLE_FINAL}, {"ROLE_PROBE", ROLE_PROBE},
        {"B_FINAL", B_FINAL}, {"B_VID", B_VID}, {"B_CONSISTENT", B_CONSISTENT}, {"B_HARNESS", B_HARNESS},
        {"B_ATTRS", B_ATTRS}, {"B_PRED_NAMED", B_PRED_NAMED}, {"T_REGION", T_REGION}, {"T_WORKLOAD", T_WORKLOAD},
        {"T_KEY", T_KEY}, {"T_VID", T_VID}, {"NO_TARGET", NO_TARGET},
    };
    for (size_t i = 0; i < sizeof(CONSTANTS) / sizeof(CONSTANTS[0]); i++)
        if (PyModule_AddIntConstant(m, CONSTANTS[i].name, CONSTANTS[i].value) < 0) return -1;
    return PyModule_AddObject(m, "COLUMNS", column_specs());
}

PyMODINIT_FUNC PyInit__scan(void) {
    for (int f = 0; f < NFIELDS; f++) FIELD_LEN[f] = strlen(FIELD_NAMES[f]);
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Refused = PyErr_NewException("verdict._scan.Refused", PyExc_ValueError, NULL);
    if (!Refused || PyModule_AddObject(m, "Refused", Refused) < 0) return NULL;
    Py_INCREF(Refused);
    Spoiled = PyErr_NewException("verdict._scan.Spoiled", Refused, NULL);
    if (!Spoiled || PyModule_AddObject(m, "Spoiled", Spoiled) < 0) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) return NULL;
    if (add_constants(m) < 0) return NULL;
    return m;
}
