/* route.h - route analysis (api.md §6) and range arithmetic for advertisements: pure
 * computation over lib/netaddr.h, no I/O.
 *
 * The verdict says whether the fabric delivers traffic for an IP to the cluster that holds
 * it, from the cluster's announcement, routablePrefixes and nodeSubnets; nothing is sent.
 * Range lists are sorted IPv4 before IPv6, numeric within a family. Functions that build a
 * list return it malloc'ed through **out (the caller frees it; xalloc aborts on OOM).
 */
#ifndef LBIPAM_ROUTE_H
#define LBIPAM_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/netaddr.h"

/* Same order as store.h enum announcement, so the store can cast. */
enum route_mechanism { ROUTE_MECH_NONE, ROUTE_MECH_BGP, ROUTE_MECH_L2, ROUTE_MECH_STATIC };

enum route_verdict { ROUTE_ROUTABLE, ROUTE_UNROUTABLE, ROUTE_UNKNOWN };

/* What one cluster tells the fabric. The arrays are borrowed. */
struct route_fabric {
    const char *cluster; /* for details; NULL when the IP has no holder */
    enum route_mechanism mechanism;
    size_t nroutable;
    const struct netprefix *routable;
    size_t nnode_subnets;
    const struct netprefix *node_subnets;
};

#define ROUTE_DETAIL_MAX 256

struct route_result {
    enum route_verdict verdict;
    enum route_mechanism mechanism;
    bool has_prefix;               /* matched prefix, when routable */
    struct netprefix prefix;       /* the longest matching prefix */
    char detail[ROUTE_DETAIL_MAX]; /* "" when routable; else what is missing */
};

const char *route_verdict_name(enum route_verdict v);     /* "routable" … */
const char *route_mechanism_name(enum route_mechanism m); /* "bgp", "l2", "static", "none" */

/* The verdict for ip. f NULL means no holder: unknown. */
void route_analyze(const struct route_fabric *f, const struct netaddr *ip,
                   struct route_result *out);

/* The prefixes that carry the mechanism's traffic (routablePrefixes for bgp/static,
 * nodeSubnets for l2, none otherwise). */
const struct netprefix *route_fabric_prefixes(const struct route_fabric *f, size_t *n);

/* Sorts ranges (IPv4 first, then by start) and merges overlapping and adjacent ones, in
 * place; returns the new count. */
size_t route_ranges_merge(struct netrange *r, size_t n);

/* The parts of ranges not covered by any of prefixes, merged and sorted. *out may be NULL
 * when *nout is 0. */
void route_uncovered(const struct netrange *ranges, size_t n, const struct netprefix *prefixes,
                     size_t np, struct netrange **out, size_t *nout);

/* Merges ranges (a copy), then the minimal exact CIDR cover of each merged range, in order. */
void route_cover(const struct netrange *ranges, size_t n, struct netprefix **out, size_t *nout);

#endif
