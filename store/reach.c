/* reach.c - what the store knows about reachability without sending a packet: the fabric of
 * each cluster (announcement, routablePrefixes, nodeSubnets), the route verdict of a held
 * address, the unroutable_block warnings of a pool and the advertisement plan of a cluster
 * (api.md §3, §6). The arithmetic itself is lib/route.h; this file feeds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

void fabric_cleanup(struct fabric *f)
{
    labels_cleanup(&f->labels);
    free(f->routable);
    free(f->subnets);
    memset(f, 0, sizeof(*f));
}

static int fabric_from_row(sqlite3_stmt *s, struct fabric *f, struct error *err)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", col_text(s, 0));
    int rc = labels_column(&f->labels, col_text(s, 1), err);
    f->announcement = (enum announcement)sqlite3_column_int(s, 2);
    if (rc == 0)
        rc = prefixes_decode(&f->routable, &f->nroutable, col_text(s, 3), err);
    if (rc == 0)
        rc = prefixes_decode(&f->subnets, &f->nsubnets, col_text(s, 4), err);
    return rc;
}

/* The route_fabric view of f; valid while f is. */
void fabric_route(const struct fabric *f, struct route_fabric *out)
{
    /* enum announcement and enum route_mechanism share their order (route.h). */
    *out = (struct route_fabric){.cluster = f->name,
                                 .mechanism = (enum route_mechanism)f->announcement,
                                 .nroutable = f->nroutable,
                                 .routable = f->routable,
                                 .nnode_subnets = f->nsubnets,
                                 .node_subnets = f->subnets};
}

#define FABRIC_COLUMNS "name, labels, announcement, routable, node_subnets"

int fabric_load(struct conn *c, const char *cluster, struct fabric *out, bool *found,
                struct error *err)
{
    static const char sql[] = "SELECT " FABRIC_COLUMNS " FROM clusters WHERE name = ?";
    struct q q;
    *found = false;
    memset(out, 0, sizeof(*out));
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, cluster);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    rc = fabric_from_row(q.s, out, err);
    *found = rc == 0;
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

/* Every cluster: there are few, and a pool's warnings need all of them. */
static int fabric_load_all(struct conn *c, struct fabric **out, size_t *n, struct error *err)
{
    static const char sql[] = "SELECT " FABRIC_COLUMNS " FROM clusters ORDER BY name";
    struct fabric *all = NULL;
    size_t cap = 0;
    struct q q;
    *n = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    while ((rc = q_step(&q, err)) > 0) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            all = xrealloc(all, cap * sizeof(*all));
        }
        rc = fabric_from_row(q.s, &all[*n], err);
        (*n)++;
        if (rc < 0)
            break;
    }
out:
    q_close(&q);
    *out = all;
    return rc < 0 ? rc : 0;
}

static void fabrics_free(struct fabric *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fabric_cleanup(&f[i]);
    free(f);
}

static bool pool_selects_cluster(const struct selector *sel, const struct fabric *f)
{
    struct labels over;
    labels_init(&over);
    labels_set(&over, "lbipam.io/cluster", f->name); /* api.md §3 synthetic label */
    bool yes = selector_matches(sel, &f->labels, &over);
    labels_cleanup(&over);
    return yes;
}

int route_of_ip(struct conn *c, const struct netaddr *ip, struct check_route *out,
                struct error *err)
{
    struct held_row h;
    struct fabric f = {0};
    struct route_fabric rf;
    bool held = false, found = false;
    out->ip = *ip;
    int rc = held_get(c, ip, &h, &held, err);
    if (rc < 0 || !held)
        goto out;
    rc = fabric_load(c, h.cluster, &f, &found, err);
out:
    if (rc == 0) {
        if (found)
            fabric_route(&f, &rf);
        route_analyze(found ? &rf : NULL, ip, &out->r);
    }
    if (held)
        held_row_cleanup(&h);
    fabric_cleanup(&f);
    return rc;
}

/* ------------------------------------------------------------------ pool warnings */

void pool_warnings_cleanup(struct pool *p)
{
    for (size_t i = 0; i < p->nwarnings; i++)
        free(p->warnings[i].uncovered);
    free(p->warnings);
    p->warnings = NULL;
    p->nwarnings = 0;
}

static void warnings_compute(struct pool *p, const struct fabric *all, size_t nall)
{
    struct netrange *blocks = xcalloc(p->nblocks ? p->nblocks : 1, sizeof(*blocks));
    for (size_t i = 0; i < p->nblocks; i++)
        blocks[i] = p->blocks[i].range;
    for (size_t i = 0; i < nall; i++) {
        struct route_fabric rf;
        const struct netprefix *pf;
        struct netrange *u = NULL;
        size_t npf, nu = 0;
        if (all[i].announcement == ANNOUNCE_NONE ||
            !pool_selects_cluster(&p->cluster_selector, &all[i]))
            continue;
        fabric_route(&all[i], &rf);
        pf = route_fabric_prefixes(&rf, &npf);
        route_uncovered(blocks, p->nblocks, pf, npf, &u, &nu);
        if (nu == 0)
            continue;
        p->warnings = xrealloc(p->warnings, (p->nwarnings + 1) * sizeof(*p->warnings));
        struct pool_warning *w = &p->warnings[p->nwarnings++];
        snprintf(w->cluster, sizeof(w->cluster), "%s", all[i].name);
        w->nuncovered = nu;
        w->uncovered = u;
    }
    free(blocks);
}

int pool_warnings_fill(struct conn *c, struct pool *const *pools, size_t n, struct error *err)
{
    struct fabric *all = NULL;
    size_t nall = 0;
    int rc = fabric_load_all(c, &all, &nall, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        pool_warnings_cleanup(pools[i]);
        warnings_compute(pools[i], all, nall);
    }
    fabrics_free(all, nall);
    return rc;
}

/* -------------------------------------------------------------------- advertisements */

void advertisement_free(struct advertisement *a)
{
    if (!a)
        return;
    free(a->prefixes);
    free(a->addrs);
    free(a);
}

struct adv_op {
    const char *name;
    struct advertisement *out;
};

/* Blocks of every pool whose clusterSelector selects f. */
static int selected_blocks(struct conn *c, const struct fabric *f, struct netrange **out, size_t *n,
                           struct error *err)
{
    static const char sql[] = "SELECT p.cluster_selector, b.family, b.start, b.stop FROM pools p"
                              " JOIN pool_blocks b ON b.pool_id = p.id ORDER BY p.id, b.position";
    struct netrange *r = NULL;
    size_t cap = 0;
    struct q q;
    *n = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    while ((rc = q_step(&q, err)) > 0) {
        struct selector sel;
        rc = selector_column(&sel, col_text(q.s, 0), err);
        bool yes = rc == 0 && pool_selects_cluster(&sel, f);
        selector_cleanup(&sel);
        if (rc < 0)
            break;
        if (!yes)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            r = xrealloc(r, cap * sizeof(*r));
        }
        r[*n].family = sqlite3_column_int(q.s, 1);
        r[*n].start = col_addr(q.s, 2);
        r[*n].stop = col_addr(q.s, 3);
        (*n)++;
    }
out:
    q_close(&q);
    *out = r;
    return rc < 0 ? rc : 0;
}

/* The held table keys addresses as big-endian BLOBs: ORDER BY family, ip is IPv4 first, then
 * numeric order. */
static int cluster_addresses(struct conn *c, const char *name, struct advertisement *a,
                             struct error *err)
{
    static const char sql[] = "SELECT family, ip FROM held WHERE cluster = ? ORDER BY family, ip";
    size_t cap = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, name);
    while ((rc = q_step(&q, err)) > 0) {
        if (a->naddrs == cap) {
            cap = cap ? 2 * cap : 16;
            a->addrs = xrealloc(a->addrs, cap * sizeof(*a->addrs));
        }
        a->addrs[a->naddrs].family = sqlite3_column_int(q.s, 0);
        a->addrs[a->naddrs].v = col_addr(q.s, 1);
        a->naddrs++;
    }
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

static int adv_run(struct conn *c, void *arg, struct error *err)
{
    struct adv_op *op = arg;
    struct fabric f;
    struct netrange *blocks = NULL;
    size_t nblocks = 0;
    bool found = false;
    int rc = fabric_load(c, op->name, &f, &found, err);
    if (rc < 0)
        goto out;
    if (!found) {
        rc = error_set(err, ERR_NOTFOUND, "not_found", NULL, "cluster %s does not exist", op->name);
        goto out;
    }
    op->out = xcalloc(1, sizeof(*op->out));
    snprintf(op->out->cluster, sizeof(op->out->cluster), "%s", f.name);
    op->out->announcement = f.announcement;
    rc = selected_blocks(c, &f, &blocks, &nblocks, err);
    if (rc == 0)
        route_cover(blocks, nblocks, &op->out->prefixes, &op->out->nprefixes);
    if (rc == 0)
        rc = cluster_addresses(c, f.name, op->out, err);
out:
    free(blocks);
    fabric_cleanup(&f);
    return rc;
}

int store_cluster_advertisements(struct store *st, const char *name, struct advertisement **out,
                                 struct error *err)
{
    struct adv_op op = {.name = name};
    int rc = store_read(st, adv_run, &op, err);
    if (rc < 0) {
        advertisement_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

/* ------------------------------------------------------------------ the address views */

void reach_view_cleanup(struct reach_view *v)
{
    free(v->routes);
    check_free(v->last);
    memset(v, 0, sizeof(*v));
}

struct view_op {
    const struct netaddr *ips;
    size_t n;
    struct reach_view *out;
};

static int view_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] = "SELECT max(check_id) FROM check_results WHERE ip = ?";
    struct view_op *op = arg;
    int64_t last = 0;
    int rc = 0;
    op->out->routes = xcalloc(op->n ? op->n : 1, sizeof(*op->out->routes));
    for (size_t i = 0; rc == 0 && i < op->n; i++) {
        struct q q;
        rc = route_of_ip(c, &op->ips[i], &op->out->routes[i], err);
        if (rc == 0)
            rc = q_prepare(&q, c, sql, err);
        if (rc < 0)
            break;
        op->out->nroutes++;
        q_addr(&q, op->ips[i].v, op->ips[i].family);
        rc = q_step(&q, err);
        if (rc > 0 && sqlite3_column_int64(q.s, 0) > last)
            last = sqlite3_column_int64(q.s, 0);
        q_close(&q);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0 && last > 0)
        rc = check_load(c, last, &op->out->last, err);
    return rc < 0 ? rc : 0;
}

int store_reach_view(struct store *st, const struct netaddr *ips, size_t n, struct reach_view *out,
                     struct error *err)
{
    struct view_op op = {.ips = ips, .n = n, .out = out};
    memset(out, 0, sizeof(*out));
    int rc = store_read(st, view_run, &op, err);
    if (rc < 0)
        reach_view_cleanup(out);
    return rc;
}
