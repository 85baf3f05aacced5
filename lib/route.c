/* route.c - route analysis and range arithmetic (route.h). */
#include "lib/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

const char *route_verdict_name(enum route_verdict v)
{
    switch (v) {
    case ROUTE_ROUTABLE:
        return "routable";
    case ROUTE_UNROUTABLE:
        return "unroutable";
    case ROUTE_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *route_mechanism_name(enum route_mechanism m)
{
    switch (m) {
    case ROUTE_MECH_BGP:
        return "bgp";
    case ROUTE_MECH_L2:
        return "l2";
    case ROUTE_MECH_STATIC:
        return "static";
    case ROUTE_MECH_NONE:
        break;
    }
    return "none";
}

const struct netprefix *route_fabric_prefixes(const struct route_fabric *f, size_t *n)
{
    switch (f->mechanism) {
    case ROUTE_MECH_BGP:
    case ROUTE_MECH_STATIC:
        *n = f->nroutable;
        return f->routable;
    case ROUTE_MECH_L2:
        *n = f->nnode_subnets;
        return f->node_subnets;
    case ROUTE_MECH_NONE:
        break;
    }
    *n = 0;
    return NULL;
}

void route_analyze(const struct route_fabric *f, const struct netaddr *ip, struct route_result *out)
{
    char ipt[NETADDR_STRLEN];
    const struct netprefix *p;
    const char *list;
    size_t n;

    memset(out, 0, sizeof(*out));
    out->verdict = ROUTE_UNKNOWN;
    netaddr_format(ipt, ip);
    if (!f) {
        snprintf(out->detail, sizeof(out->detail), "no cluster holds %s", ipt);
        return;
    }
    out->mechanism = f->mechanism;
    if (f->mechanism == ROUTE_MECH_NONE) {
        snprintf(out->detail, sizeof(out->detail),
                 "cluster %s has announcement none: lbipam cannot tell how %s is reached",
                 f->cluster, ipt);
        return;
    }
    p = route_fabric_prefixes(f, &n);
    /* The longest match, as the fabric's own forwarding would pick it. */
    for (size_t i = 0; i < n; i++) {
        if (p[i].family == ip->family && netprefix_contains(&p[i], ip) &&
            (!out->has_prefix || p[i].len > out->prefix.len)) {
            out->has_prefix = true;
            out->prefix = p[i];
        }
    }
    if (out->has_prefix) {
        out->verdict = ROUTE_ROUTABLE;
        return;
    }
    out->verdict = ROUTE_UNROUTABLE;
    list = f->mechanism == ROUTE_MECH_L2 ? "nodeSubnets" : "routablePrefixes";
    if (f->mechanism == ROUTE_MECH_L2)
        snprintf(out->detail, sizeof(out->detail),
                 "%s is outside every nodeSubnets entry of cluster %s (l2: nodes answer "
                 "ARP/NDP only on their own subnets)",
                 ipt, f->cluster);
    else if (n == 0)
        snprintf(out->detail, sizeof(out->detail), "cluster %s (%s) has no %s", f->cluster,
                 route_mechanism_name(f->mechanism), list);
    else
        snprintf(out->detail, sizeof(out->detail),
                 "%s is in none of the %s of cluster %s (%s): the fabric does not route it "
                 "there",
                 ipt, list, f->cluster, route_mechanism_name(f->mechanism));
}

static int range_cmp(const void *a, const void *b)
{
    const struct netrange *x = a, *y = b;

    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return 0;
}

size_t route_ranges_merge(struct netrange *r, size_t n)
{
    size_t out = 0;

    if (n == 0)
        return 0;
    qsort(r, n, sizeof(*r), range_cmp);
    for (size_t i = 1; i < n; i++) {
        struct netrange *last = &r[out];
        /* Adjacent means stop + 1 == start; written without the overflow at the top. */
        if (r[i].family == last->family &&
            (r[i].start <= last->stop || r[i].start - 1 == last->stop)) {
            if (r[i].stop > last->stop)
                last->stop = r[i].stop;
            continue;
        }
        r[++out] = r[i];
    }
    return out + 1;
}

void route_uncovered(const struct netrange *ranges, size_t n, const struct netprefix *prefixes,
                     size_t np, struct netrange **out, size_t *nout)
{
    struct netrange *have = xcalloc(n ? n : 1, sizeof(*have));
    struct netrange *cov = xcalloc(np ? np : 1, sizeof(*cov));
    size_t nhave, ncov, cap = n + np + 1, k = 0, j = 0;
    struct netrange *res = xcalloc(cap, sizeof(*res));

    if (n > 0)
        memcpy(have, ranges, n * sizeof(*have));
    for (size_t i = 0; i < np; i++)
        cov[i] = netprefix_range(&prefixes[i]);
    nhave = route_ranges_merge(have, n);
    ncov = route_ranges_merge(cov, np);
    /* Both lists are sorted and disjoint: one sweep subtracts cov from have. Each covered
     * range splits at most one piece off, so n + np + 1 pieces are enough. */
    for (size_t i = 0; i < nhave; i++) {
        struct netrange cur = have[i];
        bool left = true;
        while (j < ncov && range_cmp(&cov[j], &cur) < 0 &&
               (cov[j].family < cur.family || cov[j].stop < cur.start))
            j++;
        for (size_t m = j; left && m < ncov && cov[m].family == cur.family; m++) {
            if (cov[m].start > cur.stop)
                break;
            if (cov[m].stop < cur.start)
                continue;
            if (cov[m].start > cur.start)
                res[k++] = (struct netrange){cur.start, cov[m].start - 1, cur.family};
            if (cov[m].stop >= cur.stop)
                left = false;
            else
                cur.start = cov[m].stop + 1;
        }
        if (left)
            res[k++] = cur;
    }
    free(have);
    free(cov);
    if (k == 0) {
        free(res);
        res = NULL;
    }
    *out = res;
    *nout = k;
}

void route_cover(const struct netrange *ranges, size_t n, struct netprefix **out, size_t *nout)
{
    struct netrange *m = xcalloc(n ? n : 1, sizeof(*m));
    struct netprefix *res = NULL;
    size_t nm, total = 0;

    if (n > 0)
        memcpy(m, ranges, n * sizeof(*m));
    nm = route_ranges_merge(m, n);
    for (size_t i = 0; i < nm; i++) {
        size_t c = netrange_cover(&m[i], NULL, 0);
        res = xrealloc(res, (total + c) * sizeof(*res));
        netrange_cover(&m[i], res + total, c);
        total += c;
    }
    free(m);
    *out = res;
    *nout = total;
}
