/* test_route.c - lib/route.h: CIDR cover, merge and subtraction against brute force.
 *
 * Every random case lives in a window of W addresses (anywhere in the IPv4 or IPv6 space,
 * including the very top, where stop + 1 overflows) so that a bitmap of the window is the
 * brute-force truth: the cover must paint exactly the range, the merge exactly the union,
 * and the cover's size must equal the minimum found by dynamic programming over every
 * aligned block.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/route.h"

#define W 512
#define ROUNDS 400

static u128 rnd128(unsigned *seed)
{
    u128 v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 16) | (u128)(rand_r(seed) & 0xffff);
    return v;
}

/* A window base aligned to W: random, at the bottom or at the top of the family. */
static u128 window_base(unsigned *seed, int family)
{
    u128 max = netaddr_max(family);
    switch (rand_r(seed) % 4) {
    case 0:
        return 0;
    case 1:
        return max - (W - 1);
    default:
        return (rnd128(seed) & max) & ~(u128)(W - 1);
    }
}

static struct netrange rand_range(unsigned *seed, u128 base, int family)
{
    unsigned a = (unsigned)rand_r(seed) % W, b = (unsigned)rand_r(seed) % W;
    if (rand_r(seed) % 3 == 0)
        b = a + (unsigned)rand_r(seed) % 4 < W ? a + (unsigned)rand_r(seed) % 4 : a;
    if (a > b) {
        unsigned t = a;
        a = b;
        b = t;
    }
    return (struct netrange){base + a, base + b, family};
}

static void paint(bool *bm, u128 base, u128 start, u128 stop)
{
    for (u128 v = start;; v++) {
        cr_assert(v >= base && v - base < W, "painted outside the window");
        bm[v - base] = true;
        if (v == stop)
            break;
    }
}

/* Fewest aligned blocks that cover [s, e] (window offsets) exactly. */
static size_t brute_min_cover(u128 base, unsigned s, unsigned e)
{
    size_t dp[W + 1];
    for (unsigned i = 0; i <= W; i++)
        dp[i] = (size_t)-1;
    dp[s] = 0;
    for (unsigned x = s; x <= e; x++) {
        if (dp[x] == (size_t)-1)
            continue;
        for (unsigned k = 0; k < 10; k++) {
            u128 size = (u128)1 << k;
            if (((base + x) & (size - 1)) != 0 || x + size - 1 > e)
                break;
            if (dp[x] + 1 < dp[x + size])
                dp[x + size] = dp[x] + 1;
        }
    }
    return dp[e + 1];
}

static void check_cover(unsigned *seed, int family)
{
    u128 base = window_base(seed, family);
    struct netrange r = rand_range(seed, base, family);
    struct netprefix *p = NULL;
    size_t n = 0;
    bool want[W] = {0}, got[W] = {0};

    paint(want, base, r.start, r.stop);
    route_cover(&r, 1, &p, &n);
    for (size_t i = 0; i < n; i++) {
        struct netrange pr = netprefix_range(&p[i]);
        cr_assert_eq(p[i].family, family);
        cr_assert(pr.start >= r.start && pr.stop <= r.stop, "a prefix leaves the range");
        for (u128 v = pr.start;; v++) {
            cr_assert(!got[v - base], "prefixes overlap");
            got[v - base] = true;
            if (v == pr.stop)
                break;
        }
        if (i > 0)
            cr_assert(p[i].base > p[i - 1].base, "not sorted");
    }
    cr_assert(memcmp(want, got, sizeof(want)) == 0, "the cover is not exact");
    cr_assert_eq(n, brute_min_cover(base, (unsigned)(r.start - base), (unsigned)(r.stop - base)),
                 "the cover is not minimal");
    free(p);
}

Test(route, cover_is_exact_and_minimal_ipv4)
{
    unsigned seed = 4;
    for (int i = 0; i < ROUNDS; i++)
        check_cover(&seed, NETADDR_V4);
}

Test(route, cover_is_exact_and_minimal_ipv6)
{
    unsigned seed = 6;
    for (int i = 0; i < ROUNDS; i++)
        check_cover(&seed, NETADDR_V6);
}

/* Several ranges of one window, both families mixed: merge paints the union exactly, sorted
 * IPv4 first, disjoint and never adjacent; the cover of the set is exact too. */
static void check_merge(unsigned *seed)
{
    u128 base4 = window_base(seed, NETADDR_V4), base6 = window_base(seed, NETADDR_V6);
    struct netrange in[12], m[12];
    size_t n = 1 + (size_t)rand_r(seed) % 12, nm, np = 0;
    bool want4[W] = {0}, want6[W] = {0}, got4[W] = {0}, got6[W] = {0}, cov4[W] = {0}, cov6[W] = {0};
    struct netprefix *p = NULL;

    for (size_t i = 0; i < n; i++) {
        int fam = rand_r(seed) % 2 ? NETADDR_V4 : NETADDR_V6;
        in[i] = rand_range(seed, fam == NETADDR_V4 ? base4 : base6, fam);
        paint(fam == NETADDR_V4 ? want4 : want6, fam == NETADDR_V4 ? base4 : base6, in[i].start,
              in[i].stop);
    }
    memcpy(m, in, sizeof(in));
    nm = route_ranges_merge(m, n);
    for (size_t i = 0; i < nm; i++) {
        bool v4 = m[i].family == NETADDR_V4;
        paint(v4 ? got4 : got6, v4 ? base4 : base6, m[i].start, m[i].stop);
        if (i > 0 && m[i].family == m[i - 1].family)
            cr_assert(m[i].start > m[i - 1].stop + 1, "merged ranges overlap or touch");
        if (i > 0)
            cr_assert(m[i].family >= m[i - 1].family, "IPv6 before IPv4");
    }
    cr_assert(memcmp(want4, got4, W) == 0 && memcmp(want6, got6, W) == 0, "merge is not exact");
    route_cover(in, n, &p, &np);
    for (size_t i = 0; i < np; i++) {
        struct netrange pr = netprefix_range(&p[i]);
        bool v4 = p[i].family == NETADDR_V4;
        paint(v4 ? cov4 : cov6, v4 ? base4 : base6, pr.start, pr.stop);
    }
    cr_assert(memcmp(want4, cov4, W) == 0 && memcmp(want6, cov6, W) == 0,
              "cover of the set is not exact");
    free(p);
}

Test(route, merge_is_exact)
{
    unsigned seed = 46;
    for (int i = 0; i < ROUNDS; i++)
        check_merge(&seed);
}

/* Blocks minus prefixes, against the bitmap difference. */
Test(route, uncovered_is_exact)
{
    unsigned seed = 7;
    for (int round = 0; round < ROUNDS; round++) {
        int fam = round % 2 ? NETADDR_V4 : NETADDR_V6;
        unsigned bits = netaddr_bits(fam);
        u128 base = window_base(&seed, fam);
        struct netrange in[6];
        struct netprefix pf[6];
        size_t n = 1 + (size_t)rand_r(&seed) % 6, np = (size_t)rand_r(&seed) % 6, nu;
        bool want[W] = {0}, got[W] = {0}, covered[W] = {0};
        struct netrange *u = NULL;

        for (size_t i = 0; i < n; i++) {
            in[i] = rand_range(&seed, base, fam);
            paint(want, base, in[i].start, in[i].stop);
        }
        for (size_t i = 0; i < np; i++) {
            unsigned len = bits - (unsigned)rand_r(&seed) % 10; /* at most W addresses */
            u128 host = len >= bits ? 0 : (((u128)1 << (bits - len)) - 1);
            pf[i] = (struct netprefix){.base = (base + (u128)((unsigned)rand_r(&seed) % W)) & ~host,
                                       .len = len,
                                       .family = fam};
            struct netrange pr = netprefix_range(&pf[i]);
            paint(covered, base, pr.start, pr.stop);
        }
        for (size_t i = 0; i < W; i++)
            want[i] = want[i] && !covered[i];
        route_uncovered(in, n, pf, np, &u, &nu);
        for (size_t i = 0; i < nu; i++)
            paint(got, base, u[i].start, u[i].stop);
        cr_assert(memcmp(want, got, W) == 0, "uncovered is not exact (round %d)", round);
        free(u);
    }
}

Test(route, verdicts)
{
    struct netprefix routable[2], subnets[1];
    struct netaddr ip;
    struct route_result r;
    struct error err;

    cr_assert_eq(netprefix_parse(&routable[0], "10.0.0.0/16", NULL, &err), 0);
    cr_assert_eq(netprefix_parse(&routable[1], "10.0.10.0/24", NULL, &err), 0);
    cr_assert_eq(netprefix_parse(&subnets[0], "192.168.10.0/24", NULL, &err), 0);
    struct route_fabric f = {.cluster = "c1",
                             .mechanism = ROUTE_MECH_BGP,
                             .nroutable = 2,
                             .routable = routable,
                             .nnode_subnets = 1,
                             .node_subnets = subnets};
    netaddr_parse(&ip, "10.0.10.7", NULL, &err);
    route_analyze(&f, &ip, &r);
    cr_assert_eq(r.verdict, ROUTE_ROUTABLE);
    cr_assert_eq(r.prefix.len, 24, "the longest match wins");
    f.mechanism = ROUTE_MECH_L2;
    route_analyze(&f, &ip, &r);
    cr_assert_eq(r.verdict, ROUTE_UNROUTABLE);
    cr_assert(strstr(r.detail, "nodeSubnets") != NULL, "%s", r.detail);
    f.mechanism = ROUTE_MECH_NONE;
    route_analyze(&f, &ip, &r);
    cr_assert_eq(r.verdict, ROUTE_UNKNOWN);
    route_analyze(NULL, &ip, &r);
    cr_assert_eq(r.verdict, ROUTE_UNKNOWN);
}
