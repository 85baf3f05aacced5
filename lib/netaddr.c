#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* How much of the caller's text an error detail quotes: enough to recognise it, bounded so
 * that a megabyte of junk does not end up in a reply. */
#define QUOTE_MAX 64

/* ::ffff:0:0/96, the IPv4-mapped block (RFC 4291 §2.5.5.2). */
#define V4MAPPED_PREFIX ((u128)0xffff << 32)

unsigned netaddr_bits(int family)
{
    return family == NETADDR_V4 ? 32 : 128;
}

u128 netaddr_max(int family)
{
    return family == NETADDR_V4 ? (u128)UINT32_MAX : ~(u128)0;
}

const char *netaddr_family_name(int family)
{
    return family == NETADDR_V4 ? "IPv4" : "IPv6";
}

/* 2^k - 1 for k in 0..128, without the undefined shift by 128. */
static u128 low_mask(unsigned k)
{
    return k >= 128 ? ~(u128)0 : ((u128)1 << k) - 1;
}

static u128 host_mask(unsigned len, int family)
{
    unsigned bits = netaddr_bits(family);
    return low_mask(len >= bits ? 0 : bits - len);
}

static bool is_v4mapped(u128 v)
{
    return (v >> 32) == 0xffff;
}

/* Count of trailing zero bits; 128 for zero. */
static unsigned ctz128(u128 v)
{
    uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);
    if (lo)
        return (unsigned)__builtin_ctzll(lo);
    if (hi)
        return 64 + (unsigned)__builtin_ctzll(hi);
    return 128;
}

enum parse_result { PARSE_OK, PARSE_MALFORMED, PARSE_V4MAPPED };

/* inet_pton does the grammar; the character screen before it refuses what inet_pton might
 * tolerate or what is not an address at all (whitespace, zones, prefixes, signs). */
static enum parse_result parse_addr(struct netaddr *out, const char *text, size_t len)
{
    char buf[NETADDR_STRLEN];
    bool colon = false;

    if (len == 0 || len >= sizeof(buf))
        return PARSE_MALFORMED;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == '.' || c == ':';
        if (!ok)
            return PARSE_MALFORMED;
        if (c == ':')
            colon = true;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';

    uint8_t bytes[16];
    if (colon) {
        if (inet_pton(AF_INET6, buf, bytes) != 1)
            return PARSE_MALFORMED;
        out->v = netaddr_from_bytes(bytes, 16);
        out->family = NETADDR_V6;
        if (is_v4mapped(out->v))
            return PARSE_V4MAPPED;
    } else {
        /* glibc's inet_pton(AF_INET) takes only a.b.c.d in decimal without leading zeros. */
        if (inet_pton(AF_INET, buf, bytes) != 1)
            return PARSE_MALFORMED;
        out->v = netaddr_from_bytes(bytes, 4);
        out->family = NETADDR_V4;
    }
    return PARSE_OK;
}

int netaddr_parse(struct netaddr *out, const char *text, const char *field, struct error *err)
{
    if (!text)
        return error_set(err, ERR_INVALID, "invalid_ip", field, "an IP address is required");
    struct netaddr a;
    switch (parse_addr(&a, text, strlen(text))) {
    case PARSE_OK:
        *out = a;
        return 0;
    case PARSE_V4MAPPED:
        return error_set(err, ERR_INVALID, "invalid_ip", field,
                         "%s is an IPv4-mapped IPv6 address; use the IPv4 address itself", text);
    case PARSE_MALFORMED:
        break;
    }
    return error_set(err, ERR_INVALID, "invalid_ip", field,
                     "\"%.*s\" is not an IPv4 or IPv6 address", QUOTE_MAX, text);
}

static void format_v6(char out[NETADDR_STRLEN], u128 v)
{
    unsigned groups[8];
    for (int i = 0; i < 8; i++)
        groups[i] = (unsigned)(v >> (16 * (7 - i))) & 0xffff;

    /* RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a
     * tie. Always hex: §5's dotted tail is a SHOULD for mapped addresses, which are refused
     * as input anyway, and a u128 in the middle of a range is not a "mapped address". */
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (groups[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && groups[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }

    size_t pos = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            out[pos++] = ':';
            if (i == 0)
                out[pos++] = ':';
            i += best_len - 1;
            continue;
        }
        int n = snprintf(out + pos, NETADDR_STRLEN - pos, "%x%s", groups[i], i < 7 ? ":" : "");
        pos += (size_t)n;
    }
    out[pos] = '\0';
}

void netaddr_format(char out[NETADDR_STRLEN], const struct netaddr *a)
{
    if (a->family == NETADDR_V4) {
        uint32_t v = (uint32_t)a->v;
        snprintf(out, NETADDR_STRLEN, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
                 v & 0xff);
        return;
    }
    format_v6(out, a->v);
}

/* Only digits, no sign, no leading zero (so "/024" and "/+24" are refused), at most 3 digits. */
static bool parse_len(unsigned *out, const char *s, unsigned max)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

int netprefix_parse(struct netprefix *out, const char *text, const char *field, struct error *err)
{
    if (!text)
        return error_set(err, ERR_INVALID, "invalid_cidr", field, "a CIDR prefix is required");
    const char *slash = strchr(text, '/');
    struct netaddr a;
    unsigned len;
    enum parse_result pr = PARSE_MALFORMED;
    if (slash)
        pr = parse_addr(&a, text, (size_t)(slash - text));
    if (pr == PARSE_V4MAPPED)
        return error_set(err, ERR_INVALID, "invalid_ip", field,
                         "%.*s is an IPv4-mapped IPv6 address; use the IPv4 address itself",
                         (int)(slash - text), text);
    if (pr != PARSE_OK || !parse_len(&len, slash + 1, netaddr_bits(a.family)))
        return error_set(err, ERR_INVALID, "invalid_cidr", field,
                         "\"%.*s\" is not a CIDR prefix (address/length)", QUOTE_MAX, text);

    struct netprefix p = {.base = a.v & ~host_mask(len, a.family), .len = len, .family = a.family};
    if (p.base != a.v) {
        char canon[NETPREFIX_STRLEN];
        netprefix_format(canon, &p);
        return error_set(err, ERR_INVALID, "invalid_block", field,
                         "%s has host bits set; did you mean %s?", text, canon);
    }
    *out = p;
    return 0;
}

void netprefix_format(char out[NETPREFIX_STRLEN], const struct netprefix *p)
{
    char addr[NETADDR_STRLEN];
    struct netaddr a = {.v = p->base, .family = p->family};
    netaddr_format(addr, &a);
    snprintf(out, NETPREFIX_STRLEN, "%s/%u", addr, p->len);
}

struct netrange netprefix_range(const struct netprefix *p)
{
    struct netrange r = {
        .start = p->base, .stop = p->base | host_mask(p->len, p->family), .family = p->family};
    return r;
}

bool netprefix_contains(const struct netprefix *p, const struct netaddr *a)
{
    return a->family == p->family && (a->v & ~host_mask(p->len, p->family)) == p->base;
}

bool netrange_contains(const struct netrange *r, const struct netaddr *a)
{
    return a->family == r->family && a->v >= r->start && a->v <= r->stop;
}

bool netrange_overlaps(const struct netrange *a, const struct netrange *b)
{
    return a->family == b->family && a->start <= b->stop && b->start <= a->stop;
}

void netrange_format(char out[NETRANGE_STRLEN], const struct netrange *r)
{
    char start[NETADDR_STRLEN], stop[NETADDR_STRLEN];
    struct netaddr a = {.v = r->start, .family = r->family};
    struct netaddr b = {.v = r->stop, .family = r->family};
    netaddr_format(start, &a);
    if (r->start == r->stop) {
        snprintf(out, NETRANGE_STRLEN, "%s", start);
        return;
    }
    netaddr_format(stop, &b);
    snprintf(out, NETRANGE_STRLEN, "%s-%s", start, stop);
}

struct netcount netrange_size(const struct netrange *r)
{
    struct netcount c = {.lo = r->stop - r->start + 1, .hi = 0};
    if (c.lo == 0) /* the whole IPv6 space: 2^128 wrapped to 0 */
        c.hi = 1;
    return c;
}

size_t netrange_cover(const struct netrange *r, struct netprefix *out, size_t cap)
{
    unsigned bits = netaddr_bits(r->family);
    size_t n = 0;
    u128 cur = r->start;

    /* Greedy from the bottom: the largest block aligned at cur that does not pass stop. The
     * last block ends exactly at stop, which is how the loop stops without computing
     * stop + 1 (it overflows at the top of the space). */
    for (;;) {
        unsigned k = ctz128(cur);
        if (k > bits)
            k = bits;
        u128 room = r->stop - cur; /* addresses after cur, fits even for the full space */
        while (low_mask(k) > room)
            k--;
        if (n < cap) {
            out[n].base = cur;
            out[n].len = bits - k;
            out[n].family = r->family;
        }
        n++;
        u128 last = cur + low_mask(k);
        if (last == r->stop)
            break;
        cur = last + 1;
    }
    return n;
}

struct netcount netcount_from(u128 v)
{
    struct netcount c = {.lo = v, .hi = 0};
    return c;
}

struct netcount netcount_add(struct netcount a, struct netcount b)
{
    struct netcount c = {.lo = a.lo + b.lo};
    c.hi = a.hi + b.hi + (c.lo < a.lo);
    return c;
}

struct netcount netcount_sub(struct netcount a, struct netcount b)
{
    struct netcount c = {.lo = a.lo - b.lo};
    c.hi = a.hi - b.hi - (a.lo < b.lo);
    return c;
}

int netcount_cmp(struct netcount a, struct netcount b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

void netcount_format(char out[NETCOUNT_STRLEN], struct netcount c)
{
    /* Little-endian 32-bit limbs of hi * 2^128 + lo, divided by 10^9 until zero. hi is 0 or 1
     * in practice; any hi is handled and the text truncated to the buffer (> 47 digits). */
    uint32_t limb[5] = {(uint32_t)c.lo, (uint32_t)(c.lo >> 32), (uint32_t)(c.lo >> 64),
                        (uint32_t)(c.lo >> 96), c.hi};
    char digits[64];
    size_t pos = sizeof(digits);
    digits[--pos] = '\0';
    bool nonzero;
    do {
        uint64_t rem = 0;
        nonzero = false;
        for (int i = 4; i >= 0; i--) {
            uint64_t cur = (rem << 32) | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
            if (limb[i])
                nonzero = true;
        }
        /* Nine digits a chunk, zero-padded except for the most significant chunk. */
        for (int d = 0; d < 9 && (nonzero || rem || d == 0); d++) {
            digits[--pos] = (char)('0' + rem % 10);
            rem /= 10;
        }
    } while (nonzero);
    snprintf(out, NETCOUNT_STRLEN, "%s", digits + pos);
}

static double netcount_double(struct netcount c)
{
    /* 2^128 as a double: 2^64 squared is exact. */
    const double two64 = 18446744073709551616.0;
    return (double)c.hi * two64 * two64 + (double)c.lo;
}

double netcount_ratio(struct netcount num, struct netcount den)
{
    if (den.hi == 0 && den.lo == 0)
        return 0.0;
    return netcount_double(num) / netcount_double(den);
}

size_t netaddr_to_bytes(uint8_t out[16], u128 v, int family)
{
    size_t len = family == NETADDR_V4 ? 4 : 16;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    return len;
}

u128 netaddr_from_bytes(const uint8_t *bytes, size_t len)
{
    u128 v = 0;
    for (size_t i = 0; i < len; i++)
        v = (v << 8) | bytes[i];
    return v;
}
