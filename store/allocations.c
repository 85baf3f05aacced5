/* allocations.c - declarative allocation of addresses to services (api.md §4).
 *
 * A PUT runs entirely inside the writer's transaction: the existing allocation is reconciled
 * with the new request (addresses that still fit are kept, the others released, missing ones
 * allocated by rules 1-3), and any refusal returns before the commit, so the savepoint rolls
 * back every release and take of the attempt. The same request again is answered from a
 * read connection without entering the writer queue at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

#define WHY_MAX 512

/* ----------------------------------------------------------------------------- rows */

#define ALLOC_COLUMNS                                                                              \
    "a.id, a.cluster, a.namespace, a.service, a.labels, a.families, a.policy, a.requested,"        \
    " a.preferred, a.pool, a.sharing_key, a.cross_namespaces, a.ports,"                            \
    " a.external_traffic_policy, a.pod_selector, a.external_ref, a.managed_by,"                    \
    " a.description, a.cond_satisfied, a.cond_reason, a.cond_message, a.version,"                  \
    " a.created_at, a.updated_at"

static char *families_encode(const struct alloc_request *rq)
{
    char text[3] = "";
    for (size_t i = 0; i < rq->nfamilies && i < 2; i++)
        text[i] = rq->families[i] == NETADDR_V6 ? '6' : '4';
    return xstrdup(text);
}

static int families_decode(struct alloc_request *rq, const char *text, struct error *err)
{
    rq->nfamilies = 0;
    for (; *text; text++) {
        if (rq->nfamilies == 2 || (*text != '4' && *text != '6'))
            return corrupt(err, "family list");
        rq->families[rq->nfamilies++] = *text == '6' ? NETADDR_V6 : NETADDR_V4;
    }
    return 0;
}

static int request_from_row(sqlite3_stmt *s, struct alloc_request *rq, struct error *err)
{
    int rc = labels_column(&rq->labels, col_text(s, 4), err);
    if (rc == 0)
        rc = families_decode(rq, col_text(s, 5), err);
    rq->policy = (enum ip_family_policy)sqlite3_column_int(s, 6);
    if (rc == 0)
        rc = addrs_decode(&rq->requested, &rq->nrequested, col_text(s, 7), err);
    if (rc == 0)
        rc = addrs_decode(&rq->preferred, &rq->npreferred, col_text(s, 8), err);
    rq->pool = col_strdup(s, 9);
    rq->sharing_key = col_strdup(s, 10);
    if (rc == 0)
        rc = strings_decode(&rq->cross_namespaces, &rq->ncross_namespaces, col_text(s, 11), err);
    if (rc == 0)
        rc = ports_decode(&rq->ports, &rq->nports, col_text(s, 12), err);
    rq->external_traffic_policy = col_strdup(s, 13);
    if (rc == 0)
        rc = labels_column(&rq->pod_selector, col_text(s, 14), err);
    rq->external_ref = col_strdup(s, 15);
    rq->managed_by = col_strdup(s, 16);
    rq->description = col_strdup(s, 17);
    return rc;
}

static int alloc_from_row(sqlite3_stmt *s, struct allocation **out, int64_t *id, struct error *err)
{
    struct allocation *a = xcalloc(1, sizeof(*a));
    *id = sqlite3_column_int64(s, 0);
    snprintf(a->cluster, sizeof(a->cluster), "%s", col_text(s, 1));
    snprintf(a->namespace, sizeof(a->namespace), "%s", col_text(s, 2));
    snprintf(a->service, sizeof(a->service), "%s", col_text(s, 3));
    int rc = request_from_row(s, &a->rq, err);
    a->condition.satisfied = sqlite3_column_int(s, 18);
    snprintf(a->condition.reason, sizeof(a->condition.reason), "%s", col_text(s, 19));
    a->condition.message = xstrdup(col_text(s, 20));
    a->version = sqlite3_column_int64(s, 21);
    a->created_at = sqlite3_column_int64(s, 22);
    a->updated_at = sqlite3_column_int64(s, 23);
    if (rc < 0) {
        allocation_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

/* IPv4 before IPv6, numeric order within a family (family 4 < 6, BLOBs compare as numbers). */
static int addrs_load(struct conn *c, int64_t id, struct allocation *a, struct error *err)
{
    static const char sql[] =
        "SELECT aa.ip, aa.family, p.name FROM allocation_addresses aa"
        " JOIN pools p ON p.id = aa.pool_id WHERE aa.allocation_id = ? ORDER BY aa.family, aa.ip";
    struct q q;
    size_t cap = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    while ((rc = q_step(&q, err)) > 0) {
        if (a->naddrs == cap) {
            cap = cap ? 2 * cap : 2;
            a->addrs = xrealloc(a->addrs, cap * sizeof(*a->addrs));
        }
        struct alloc_address *ad = &a->addrs[a->naddrs++];
        ad->ip.v = col_addr(q.s, 0);
        ad->ip.family = sqlite3_column_int(q.s, 1);
        snprintf(ad->pool, sizeof(ad->pool), "%s", col_text(q.s, 2));
    }
out:
    q_close(&q);
    return rc;
}

int alloc_load(struct conn *c, const char *cluster, const char *namespace, const char *service,
               struct allocation **out, int64_t *id, struct error *err)
{
    static const char sql[] = "SELECT " ALLOC_COLUMNS " FROM allocations a"
                              " WHERE a.cluster = ? AND a.namespace = ? AND a.service = ?";
    struct q q;
    *out = NULL;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, cluster);
    q_text(&q, namespace);
    q_text(&q, service);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    rc = alloc_from_row(q.s, out, id, err);
    q_close(&q);
    if (rc == 0)
        rc = addrs_load(c, *id, *out, err);
    if (rc == 0)
        rc = 1;
out:
    q_close(&q);
    if (rc < 0) {
        allocation_free(*out);
        *out = NULL;
    }
    return rc;
}

/* -------------------------------------------------------------------------- placement */

/* One address of the allocation being built. */
struct slot {
    struct netaddr ip;
    int64_t pool_id;
    bool keep; /* old slots: still fits the new request */
};

struct slots {
    size_t n, cap;
    struct slot *v;
};

static void slots_add(struct slots *s, const struct netaddr *ip, int64_t pool_id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = (struct slot){.ip = *ip, .pool_id = pool_id};
}

static bool slots_have_family(const struct slots *s, int family, bool kept_only)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].ip.family == family && (!kept_only || s->v[i].keep))
            return true;
    }
    return false;
}

static bool slots_kept_any(const struct slots *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].keep)
            return true;
    }
    return false;
}

/* Everything one PUT needs while it places addresses. */
struct placement {
    struct conn *c;
    const struct alloc_request *rq;
    struct sharer self;
    int64_t alloc_id; /* 0 while the allocation is new */
    struct labels cluster_labels, cluster_over, service_over;
    bool named;
    struct pool_meta named_pool;
    struct slots old, got; /* the allocation's addresses before; addresses taken now */
    bool released;
};

static void placement_cleanup(struct placement *pl)
{
    labels_cleanup(&pl->cluster_labels);
    labels_cleanup(&pl->cluster_over);
    labels_cleanup(&pl->service_over);
    if (pl->named)
        pool_meta_cleanup(&pl->named_pool);
    free(pl->old.v);
    free(pl->got.v);
}

static void placement_init(struct placement *pl, struct conn *c, const char *cluster,
                           const char *namespace, const char *service,
                           const struct alloc_request *rq)
{
    memset(pl, 0, sizeof(*pl));
    pl->c = c;
    pl->rq = rq;
    snprintf(pl->self.cluster, sizeof(pl->self.cluster), "%s", cluster);
    snprintf(pl->self.namespace, sizeof(pl->self.namespace), "%s", namespace);
    snprintf(pl->self.service, sizeof(pl->self.service), "%s", service);
    pl->self.sharing_key = rq->sharing_key;
    pl->self.ncross = rq->ncross_namespaces;
    pl->self.cross = rq->cross_namespaces;
    pl->self.nports = rq->nports;
    pl->self.ports = rq->ports;
    pl->self.etp = rq->external_traffic_policy;
    pl->self.pod_selector = &rq->pod_selector;
    /* the synthetic labels of api.md §3, which hide real labels of the same key */
    labels_init(&pl->cluster_over);
    labels_set(&pl->cluster_over, "lbipam.io/cluster", cluster);
    labels_init(&pl->service_over);
    labels_set(&pl->service_over, "io.kubernetes.service.namespace", namespace);
    labels_set(&pl->service_over, "io.kubernetes.service.name", service);
}

static bool pool_selects(const struct placement *pl, const struct pool_meta *m)
{
    return selector_matches(&m->cluster_selector, &pl->cluster_labels, &pl->cluster_over) &&
           selector_matches(&m->service_selector, &pl->rq->labels, &pl->service_over);
}

static int old_slots_load(struct placement *pl, struct error *err)
{
    static const char sql[] = "SELECT ip, family, pool_id FROM allocation_addresses"
                              " WHERE allocation_id = ? ORDER BY family, ip";
    struct q q;
    int rc = q_prepare(&q, pl->c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, pl->alloc_id);
    while ((rc = q_step(&q, err)) > 0) {
        struct netaddr ip = {.v = col_addr(q.s, 0), .family = sqlite3_column_int(q.s, 1)};
        slots_add(&pl->old, &ip, sqlite3_column_int64(q.s, 2));
    }
out:
    q_close(&q);
    return rc;
}

/* How the request would get an address that passed rule 1. */
enum take_kind { TAKE_FREE, TAKE_JOIN };

struct take {
    enum take_kind kind;
    int64_t pool_id;
};

/* Whether ip can be shared with its current holders (other than this allocation): 0 when
 * it can, else the rule 1 refusal. */
static int sharing_check(struct placement *pl, const struct netaddr *ip, const char *holder_key,
                         const char *field, struct error *err)
{
    struct holder_set hs;
    char text[NETADDR_STRLEN], why[WHY_MAX];
    int rc = holders_load(pl->c, ip, pl->alloc_id, &hs, err);
    if (rc < 0 || hs.n == 0)
        goto out;
    netaddr_format(text, ip);
    if (!pl->rq->sharing_key || !holder_key) {
        rc = error_set(err, ERR_CONFLICT, "already_allocated", field,
                       "%s is already allocated to %s/%s", text, hs.items[0].namespace,
                       hs.items[0].service);
        goto out;
    }
    for (size_t i = 0; i < hs.n; i++) {
        if (!sharers_compatible(&pl->self, &hs.items[i], why, sizeof(why))) {
            rc = error_set(err, ERR_CONFLICT, "already_allocated_incompatible_service", field,
                           "%s cannot be shared: %s", text, why);
            goto out;
        }
    }
out:
    holder_set_cleanup(&hs);
    return rc;
}

/* api.md §4 rule 1 for one address. `field` names it in the request. */
static int rule1_check(struct placement *pl, const struct netaddr *ip, const char *field,
                       struct take *take, struct error *err)
{
    struct block_row b;
    struct pool_meta m;
    struct held_row h = {0};
    bool have_meta = false, held = false;
    char text[NETADDR_STRLEN];
    netaddr_format(text, ip);
    int rc = blocks_find(pl->c, ip, &b, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = error_set(err, ERR_CONFLICT, "no_pool", field, "%s is not inside any pool", text);
        goto out;
    }
    rc = pool_meta_by_id(pl->c, b.pool_id, &m, err);
    if (rc < 0)
        goto out;
    have_meta = true;
    if (m.disabled) {
        rc = error_set(err, ERR_CONFLICT, "no_pool", field,
                       "%s is inside pool %s, which is disabled", text, m.name);
        goto out;
    }
    if (pl->named && m.id != pl->named_pool.id) {
        rc = error_set(err, ERR_CONFLICT, "requested_ip_not_in_pool", field,
                       "%s is inside pool %s, not %s", text, m.name, pl->named_pool.name);
        goto out;
    }
    if (!pool_selects(pl, &m)) {
        rc = error_set(err, ERR_CONFLICT, "pool_selector_mismatch", field,
                       "pool %s, which holds %s, does not select %s/%s of cluster %s", m.name, text,
                       pl->self.namespace, pl->self.service, pl->self.cluster);
        goto out;
    }
    if (block_reserves(&b.block, m.allow_first_last, m.avoid_buggy, ip->v)) {
        rc = error_set(err, ERR_CONFLICT, "already_allocated", field,
                       "%s is reserved in pool %s (%s)", text, m.name,
                       m.avoid_buggy && ip->family == NETADDR_V4 &&
                               ((ip->v & 0xff) == 0 || (ip->v & 0xff) == 255)
                           ? "avoidBuggyIPs"
                           : "allowFirstLastIPs is false");
        goto out;
    }
    rc = held_get(pl->c, ip, &h, &held, err);
    if (rc < 0)
        goto out;
    take->pool_id = m.id;
    take->kind = held ? TAKE_JOIN : TAKE_FREE;
    if (held)
        rc = sharing_check(pl, ip, h.sharing_key, field, err);
out:
    held_row_cleanup(&h);
    if (have_meta)
        pool_meta_cleanup(&m);
    return rc;
}

/* Takes an address that passed rule 1. */
static int take_apply(struct placement *pl, const struct netaddr *ip, const struct take *t,
                      struct error *err)
{
    int rc = 0;
    if (t->kind == TAKE_JOIN) {
        rc = held_join(pl->c, ip, err);
    } else {
        rc = ranges_take(pl->c, t->pool_id, ip->family, ip->v, err);
        if (rc == 0) /* not held, not reserved, yet not free: the invariant is broken */
            rc =
                error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error (free space)");
        if (rc > 0)
            rc = held_insert(pl->c, ip, t->pool_id, pl->self.cluster, pl->rq->sharing_key, err);
    }
    if (rc == 0)
        slots_add(&pl->got, ip, t->pool_id);
    return rc;
}

/* Rule 2, first step: the lowest address of the family held under the same key whose
 * holders all accept this request. 1 joined, 0 none. */
static int join_shared(struct placement *pl, int family, struct error *err)
{
    static const char sql[] = "SELECT ip, pool_id FROM held WHERE cluster = ? AND"
                              " sharing_key = ? AND family = ? ORDER BY ip";
    struct q q;
    struct netaddr found = {0};
    int64_t pool_id = 0;
    bool any = false;
    int rc = q_prepare(&q, pl->c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, pl->self.cluster);
    q_text(&q, pl->rq->sharing_key);
    q_int(&q, family);
    while (!any && (rc = q_step(&q, err)) > 0) {
        struct netaddr ip = {.v = col_addr(q.s, 0), .family = family};
        int64_t pid = sqlite3_column_int64(q.s, 1);
        if (pl->named && pid != pl->named_pool.id)
            continue;
        struct error scratch;
        int src = sharing_check(pl, &ip, pl->rq->sharing_key, NULL, &scratch);
        if (src < 0 && src != ERR_CONFLICT) {
            rc = src;
            if (err)
                *err = scratch;
            goto out;
        }
        if (src == 0) {
            any = true;
            found = ip;
            pool_id = pid;
        }
    }
    if (rc < 0)
        goto out;
    q_close(&q);
    rc = 0;
    if (any) {
        struct take t = {.kind = TAKE_JOIN, .pool_id = pool_id};
        rc = take_apply(pl, &found, &t, err);
        if (rc == 0)
            rc = 1;
    }
out:
    q_close(&q);
    return rc;
}

/* Rule 2, second step: the first preferred address of the family that passes rule 1.
 * 1 taken, 0 none. */
static int take_preferred(struct placement *pl, int family, struct error *err)
{
    int rc = 0;
    for (size_t i = 0; i < pl->rq->npreferred; i++) {
        const struct netaddr *ip = &pl->rq->preferred[i];
        struct take t = {0};
        struct error scratch;
        if (ip->family != family)
            continue;
        rc = rule1_check(pl, ip, NULL, &t, &scratch);
        if (rc == ERR_CONFLICT) { /* silently skipped, as api.md says */
            rc = 0;
            continue;
        }
        if (rc < 0) {
            if (err)
                *err = scratch;
            goto out;
        }
        rc = take_apply(pl, ip, &t, err);
        if (rc == 0)
            rc = 1;
        goto out;
    }
out:
    return rc;
}

static void pool_list_append(char *buf, size_t cap, const char *name)
{
    size_t len = strlen(buf);
    if (len + 2 < cap)
        snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", name);
}

/* Rule 2, last step: the lowest free address of the first candidate pool that has one. */
static int take_from_pools(struct placement *pl, int family, struct error *err)
{
    struct pool_meta *cands = NULL;
    size_t ncands = 0, matched = 0;
    char names[256] = "";
    const char *fname = netaddr_family_name(family);
    int rc = 0;
    if (pl->named) {
        const struct pool_meta *m = &pl->named_pool;
        bool has = family == NETADDR_V4 ? m->has_v4 : m->has_v6;
        if (m->disabled || !has || !pool_selects(pl, m)) {
            rc = error_set(err, ERR_CONFLICT, "no_pool", NULL, "pool %s %s", m->name,
                           m->disabled ? "is disabled"
                           : !has
                               ? (family == NETADDR_V4 ? "has no IPv4 block" : "has no IPv6 block")
                               : "does not select this service");
            goto out;
        }
        u128 v;
        rc = ranges_take_lowest(pl->c, m->id, family, &v, err);
        if (rc < 0)
            goto out;
        if (rc == 0) {
            rc = error_set(err, ERR_CONFLICT, "out_of_ips", NULL, "pool %s has no free %s address",
                           m->name, fname);
            goto out;
        }
        struct netaddr ip = {.v = v, .family = family};
        rc = held_insert(pl->c, &ip, m->id, pl->self.cluster, pl->rq->sharing_key, err);
        if (rc == 0)
            slots_add(&pl->got, &ip, m->id);
        goto out;
    }
    rc = pool_candidates(pl->c, family, &cands, &ncands, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < ncands; i++) {
        if (!pool_selects(pl, &cands[i]))
            continue;
        matched++;
        pool_list_append(names, sizeof(names), cands[i].name);
        u128 v;
        rc = ranges_take_lowest(pl->c, cands[i].id, family, &v, err);
        if (rc < 0)
            goto out;
        if (rc == 0)
            continue;
        struct netaddr ip = {.v = v, .family = family};
        rc = held_insert(pl->c, &ip, cands[i].id, pl->self.cluster, pl->rq->sharing_key, err);
        if (rc == 0)
            slots_add(&pl->got, &ip, cands[i].id);
        goto out;
    }
    if (matched == 0)
        rc = error_set(err, ERR_CONFLICT, "no_pool", NULL,
                       "no enabled pool with an %s block selects %s/%s of cluster %s", fname,
                       pl->self.namespace, pl->self.service, pl->self.cluster);
    else
        rc = error_set(err, ERR_CONFLICT, "out_of_ips", NULL,
                       "every pool that selects %s/%s is out of %s addresses (%s)",
                       pl->self.namespace, pl->self.service, fname, names);
out:
    for (size_t i = 0; i < ncands; i++)
        pool_meta_cleanup(&cands[i]);
    free(cands);
    return rc;
}

/* Rule 2 for one family. */
static int place_family(struct placement *pl, int family, struct error *err)
{
    int rc = 0;
    if (pl->rq->sharing_key) {
        rc = join_shared(pl, family, err);
        if (rc != 0)
            goto out;
    }
    rc = take_preferred(pl, family, err);
    if (rc != 0)
        goto out;
    rc = take_from_pools(pl, family, err);
out:
    return rc < 0 ? rc : 0;
}

/* An address the allocation already holds still fits when it is in the named pool (if any)
 * and its other holders accept the new request. Selectors, flags and `disabled` are not
 * re-checked: a pool edit never moves an allocation. 0 fits, else why not (rule 1 reason). */
static int keep_check(struct placement *pl, const struct slot *s, const char *field,
                      struct error *err)
{
    struct held_row h = {0};
    bool found = false;
    char text[NETADDR_STRLEN];
    int rc = 0;
    if (pl->named && s->pool_id != pl->named_pool.id) {
        netaddr_format(text, &s->ip);
        rc = error_set(err, ERR_CONFLICT, "requested_ip_not_in_pool", field,
                       "%s is not inside pool %s", text, pl->named_pool.name);
        goto out;
    }
    rc = held_get(pl->c, &s->ip, &h, &found, err);
    if (rc < 0)
        goto out;
    if (!found) {
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error (held)");
        goto out;
    }
    if (h.holders > 1) {
        rc = sharing_check(pl, &s->ip, h.sharing_key, field, err);
        goto out;
    }
    /* sole holder: the address follows this request's key */
    if (!str_equal(h.sharing_key, pl->rq->sharing_key))
        rc = held_set_key(pl->c, &s->ip, pl->rq->sharing_key, err);
out:
    held_row_cleanup(&h);
    return rc;
}

/* Keeps the requested addresses the allocation holds; one that no longer fits refuses the
 * whole request (all or nothing). */
static int keep_requested(struct placement *pl, struct error *err)
{
    int rc = 0;
    for (size_t i = 0; i < pl->old.n && rc == 0; i++) {
        struct slot *s = &pl->old.v[i];
        for (size_t j = 0; j < pl->rq->nrequested; j++) {
            const struct netaddr *r = &pl->rq->requested[j];
            if (r->family != s->ip.family || r->v != s->ip.v)
                continue;
            char field[48];
            snprintf(field, sizeof(field), "/requestedIPs/%zu", j);
            rc = keep_check(pl, s, field, err);
            s->keep = rc == 0;
            break;
        }
    }
    return rc;
}

/* Keeps, per wanted family, the lowest held address that still fits. */
static int keep_families(struct placement *pl, const int *fams, size_t nfams, struct error *err)
{
    int rc = 0;
    for (size_t f = 0; f < nfams && rc == 0; f++) {
        for (size_t i = 0; i < pl->old.n; i++) {
            struct slot *s = &pl->old.v[i];
            if (s->ip.family != fams[f])
                continue;
            struct error scratch;
            rc = keep_check(pl, s, NULL, &scratch);
            if (rc == ERR_CONFLICT) {
                rc = 0;
                continue;
            }
            if (rc < 0) {
                if (err)
                    *err = scratch;
                break;
            }
            s->keep = true;
            break;
        }
    }
    return rc;
}

static int address_unlink(struct conn *c, int64_t alloc_id, const struct slot *s, struct error *err)
{
    static const char sql[] = "DELETE FROM allocation_addresses WHERE allocation_id = ? AND ip = ?";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, alloc_id);
    q_addr(&q, s->ip.v, s->ip.family);
    rc = q_exec(&q, err);
    q_close(&q);
    if (rc == 0)
        rc = held_release(c, &s->ip, s->pool_id, err);
out:
    q_close(&q);
    return rc;
}

static int release_unkept(struct placement *pl, struct error *err)
{
    int rc = 0;
    for (size_t i = 0; i < pl->old.n && rc == 0; i++) {
        if (pl->old.v[i].keep)
            continue;
        rc = address_unlink(pl->c, pl->alloc_id, &pl->old.v[i], err);
        pl->released = true;
    }
    return rc;
}

/* Rule 1 for every requested address not already held: all or nothing. */
static int place_requested(struct placement *pl, struct error *err)
{
    int rc = 0;
    for (size_t j = 0; j < pl->rq->nrequested && rc == 0; j++) {
        const struct netaddr *ip = &pl->rq->requested[j];
        bool have = false;
        for (size_t i = 0; i < pl->old.n; i++)
            have |= pl->old.v[i].keep && pl->old.v[i].ip.v == ip->v &&
                    pl->old.v[i].ip.family == ip->family;
        for (size_t i = 0; i < pl->got.n; i++) /* listed twice */
            have |= pl->got.v[i].ip.v == ip->v && pl->got.v[i].ip.family == ip->family;
        if (have)
            continue;
        char field[48];
        struct take t = {0};
        snprintf(field, sizeof(field), "/requestedIPs/%zu", j);
        rc = rule1_check(pl, ip, field, &t, err);
        if (rc == 0)
            rc = take_apply(pl, ip, &t, err);
    }
    return rc;
}

/* The families a request without requestedIPs wants, in order. */
static size_t wanted_families(const struct alloc_request *rq, int fams[2])
{
    size_t n = 0;
    switch (rq->policy) {
    case POLICY_REQUIRE_DUAL_STACK:
        fams[n++] = NETADDR_V4;
        fams[n++] = NETADDR_V6;
        break;
    case POLICY_PREFER_DUAL_STACK:
        for (size_t i = 0; i < rq->nfamilies && i < 2; i++) {
            if (n == 0 || fams[0] != rq->families[i])
                fams[n++] = rq->families[i];
        }
        if (n == 0) {
            fams[n++] = NETADDR_V4;
            fams[n++] = NETADDR_V6;
        }
        break;
    default:
        fams[n++] = rq->nfamilies > 0 ? rq->families[0] : NETADDR_V4;
        break;
    }
    return n;
}

/* What the condition says after placing. */
struct outcome {
    bool satisfied;
    char reason[ERROR_REASON_MAX];
    char message[ERROR_DETAIL_MAX + 16];
};

/* Rule 2 for every wanted family missing. SingleStack and RequireDualStack refuse on the
 * first failure; PreferDualStack settles for at least one address. */
static int place_families(struct placement *pl, struct outcome *oc, struct error *err)
{
    int fams[2];
    size_t n = wanted_families(pl->rq, fams);
    bool prefer = pl->rq->policy == POLICY_PREFER_DUAL_STACK;
    struct error first = {0};
    int rc = keep_families(pl, fams, n, err);
    if (rc == 0)
        rc = release_unkept(pl, err);
    for (size_t f = 0; f < n && rc == 0; f++) {
        if (slots_have_family(&pl->old, fams[f], true))
            continue;
        struct error why;
        rc = place_family(pl, fams[f], &why);
        if (rc == ERR_CONFLICT && prefer) {
            if (oc->satisfied) {
                first = why;
                oc->satisfied = false;
                snprintf(oc->reason, sizeof(oc->reason), "%s", why.reason);
                snprintf(oc->message, sizeof(oc->message), "%s: %s", netaddr_family_name(fams[f]),
                         why.detail);
            }
            rc = 0;
        } else if (rc < 0 && err) {
            *err = why;
        }
    }
    if (rc == 0 && prefer && !oc->satisfied && pl->got.n == 0 && !slots_kept_any(&pl->old)) {
        rc = first.code;
        if (err)
            *err = first;
    }
    return rc;
}

/* -------------------------------------------------------------------------- the write */

struct request_text {
    char *labels, *families, *requested, *preferred, *cross, *ports, *pod_selector;
};

static void request_text_init(struct request_text *t, const struct alloc_request *rq)
{
    t->labels = labels_encode(&rq->labels);
    t->families = families_encode(rq);
    t->requested = addrs_encode(rq->requested, rq->nrequested);
    t->preferred = addrs_encode(rq->preferred, rq->npreferred);
    t->cross = strings_encode(rq->cross_namespaces, rq->ncross_namespaces);
    t->ports = ports_encode(rq->ports, rq->nports);
    t->pod_selector = labels_encode(&rq->pod_selector);
}

static void request_text_cleanup(struct request_text *t)
{
    free(t->labels);
    free(t->families);
    free(t->requested);
    free(t->preferred);
    free(t->cross);
    free(t->ports);
    free(t->pod_selector);
}

static void bind_request(struct q *q, const struct alloc_request *rq, const struct request_text *t,
                         const struct outcome *oc)
{
    q_text(q, t->labels);
    q_text(q, t->families);
    q_int(q, rq->policy);
    q_text(q, t->requested);
    q_text(q, t->preferred);
    q_text(q, rq->pool);
    q_text(q, rq->sharing_key);
    q_text(q, t->cross);
    q_text(q, t->ports);
    q_text(q, rq->external_traffic_policy);
    q_text(q, t->pod_selector);
    q_text(q, rq->external_ref);
    q_text(q, rq->managed_by);
    q_text(q, rq->description);
    q_int(q, oc->satisfied);
    q_text(q, oc->reason);
    q_text(q, oc->message);
}

static int alloc_row_write(struct placement *pl, bool is_new, const struct outcome *oc,
                           struct error *err)
{
    static const char sql_insert[] =
        "INSERT INTO allocations (labels, families, policy, requested, preferred, pool,"
        " sharing_key, cross_namespaces, ports, external_traffic_policy, pod_selector,"
        " external_ref, managed_by, description, cond_satisfied, cond_reason, cond_message,"
        " cluster, namespace, service, version, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
    static const char sql_update[] =
        "UPDATE allocations SET labels = ?, families = ?, policy = ?, requested = ?,"
        " preferred = ?, pool = ?, sharing_key = ?, cross_namespaces = ?, ports = ?,"
        " external_traffic_policy = ?, pod_selector = ?, external_ref = ?, managed_by = ?,"
        " description = ?, cond_satisfied = ?, cond_reason = ?, cond_message = ?,"
        " version = version + 1, updated_at = ? WHERE id = ?";
    struct request_text t;
    store_time now = store_now();
    struct q q;
    request_text_init(&t, pl->rq);
    int rc = q_prepare(&q, pl->c, is_new ? sql_insert : sql_update, err);
    if (rc < 0)
        goto out;
    bind_request(&q, pl->rq, &t, oc);
    if (is_new) {
        q_text(&q, pl->self.cluster);
        q_text(&q, pl->self.namespace);
        q_text(&q, pl->self.service);
        q_int(&q, now);
        q_int(&q, now);
    } else {
        q_int(&q, now);
        q_int(&q, pl->alloc_id);
    }
    rc = q_exec(&q, err);
    if (rc == 0 && is_new) {
        pl->alloc_id = sqlite3_last_insert_rowid(pl->c->db);
        rc = cluster_count_allocations(pl->c, pl->self.cluster, 1, err);
    }
out:
    q_close(&q);
    request_text_cleanup(&t);
    return rc;
}

static int addresses_link(struct placement *pl, struct error *err)
{
    static const char sql[] = "INSERT INTO allocation_addresses (allocation_id, ip, family,"
                              " pool_id) VALUES (?, ?, ?, ?)";
    int rc = 0;
    for (size_t i = 0; i < pl->got.n && rc == 0; i++) {
        const struct slot *s = &pl->got.v[i];
        struct q q;
        rc = q_prepare(&q, pl->c, sql, err);
        if (rc == 0) {
            q_int(&q, pl->alloc_id);
            q_addr(&q, s->ip.v, s->ip.family);
            q_int(&q, s->ip.family);
            q_int(&q, s->pool_id);
            rc = q_exec(&q, err);
        }
        q_close(&q);
    }
    return rc;
}

struct put_op {
    const char *actor; /* who asks: recorded in the event */
    const char *cluster, *namespace, *service;
    const struct alloc_request *rq;
    int64_t if_match;
    bool no_out; /* the caller does not want the allocation back (bulk fill) */
    struct allocation *out;
    bool created;
};

static int precondition(const struct allocation *old, int64_t if_match, struct error *err)
{
    if (if_match < 0 || (old && old->version == if_match))
        return 0;
    if (!old)
        return error_set(err, ERR_PRECONDITION, "precondition_failed", NULL,
                         "the allocation does not exist (If-Match %lld)", (long long)if_match);
    return error_set(err, ERR_PRECONDITION, "precondition_failed", NULL,
                     "the allocation is at version %lld, not %lld", (long long)old->version,
                     (long long)if_match);
}

/* The same request on a satisfied allocation: nothing to do, nothing to write. */
static bool unchanged(const struct allocation *old, const struct alloc_request *rq)
{
    return old && old->condition.satisfied && alloc_request_equal(&old->rq, rq);
}

static int put_prepare(struct placement *pl, struct put_op *op, struct error *err)
{
    bool found = false;
    int rc = cluster_labels(pl->c, op->cluster, &pl->cluster_labels, &found, err);
    if (rc < 0)
        goto out;
    if (!found) {
        rc = error_set(err, ERR_NOTFOUND, "unknown_cluster", NULL, "cluster %s is not registered",
                       op->cluster);
        goto out;
    }
    if (op->rq->pool) {
        rc = pool_meta_by_name(pl->c, op->rq->pool, &pl->named_pool, &pl->named, err);
        if (rc == 0 && !pl->named)
            rc = error_set(err, ERR_INVALID, "unknown_pool", "/pool", "pool %s does not exist",
                           op->rq->pool);
    }
out:
    return rc;
}

static int put_run(struct conn *c, void *arg, struct error *err)
{
    struct put_op *op = arg;
    struct placement pl;
    struct allocation *old = NULL;
    struct outcome oc = {.satisfied = true, .reason = "satisfied"};
    placement_init(&pl, c, op->cluster, op->namespace, op->service, op->rq);
    int rc = put_prepare(&pl, op, err);
    if (rc < 0)
        goto out;
    rc = alloc_load(c, op->cluster, op->namespace, op->service, &old, &pl.alloc_id, err);
    if (rc < 0)
        goto out;
    rc = precondition(old, op->if_match, err);
    if (rc < 0)
        goto out;
    if (unchanged(old, op->rq)) {
        op->out = old;
        old = NULL;
        goto out;
    }
    if (old)
        rc = old_slots_load(&pl, err);
    if (rc < 0)
        goto out;
    if (op->rq->nrequested > 0) {
        rc = keep_requested(&pl, err);
        if (rc == 0)
            rc = release_unkept(&pl, err);
        if (rc == 0)
            rc = place_requested(&pl, err);
    } else {
        rc = place_families(&pl, &oc, err);
    }
    if (rc < 0)
        goto out;
    if (old && !pl.released && pl.got.n == 0 && alloc_request_equal(&old->rq, op->rq)) {
        /* an unsatisfied allocation retried in vain: still nothing to write */
        op->out = old;
        old = NULL;
        goto out;
    }
    rc = alloc_row_write(&pl, old == NULL, &oc, err);
    if (rc == 0)
        rc = addresses_link(&pl, err);
    if (rc == 0 && !op->no_out)
        rc = alloc_load(c, op->cluster, op->namespace, op->service, &op->out, &pl.alloc_id, err);
    if (rc > 0)
        rc = 0;
    op->created = old == NULL;
out:
    placement_cleanup(&pl);
    allocation_free(old);
    return rc;
}

/* ------------------------------------------------------------------------- events */

/* ["10.0.10.7","2001:db8::7"]: canonical address text needs no JSON escaping, and SQLite's
 * json() checks the result where it is used. */
static void ips_json_add(char **json, size_t *len, const struct netaddr *ip)
{
    char text[NETADDR_STRLEN];
    netaddr_format(text, ip);
    *json = xrealloc(*json, *len + sizeof(text) + 4);
    *len += (size_t)snprintf(*json + *len, sizeof(text) + 4, "%s\"%s\"", *len > 1 ? "," : "", text);
}

/* The addresses an allocation holds now, as a JSON array text (malloc'ed). */
static int alloc_ips_json(struct conn *c, const char *cluster, const char *namespace,
                          const char *service, char **out, struct error *err)
{
    static const char sql[] = "SELECT x.ip FROM allocation_addresses x"
                              " JOIN allocations a ON a.id = x.allocation_id"
                              " WHERE a.cluster = ? AND a.namespace = ? AND a.service = ?"
                              " ORDER BY x.family, x.ip";
    size_t len = 1;
    struct q q;
    *out = xstrdup("[");
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, cluster);
    q_text(&q, namespace);
    q_text(&q, service);
    while ((rc = q_step(&q, err)) > 0) {
        int bytes = sqlite3_column_bytes(q.s, 0);
        struct netaddr ip = {.v = col_addr(q.s, 0), .family = bytes == 4 ? NETADDR_V4 : NETADDR_V6};
        ips_json_add(out, &len, &ip);
    }
    *out = xrealloc(*out, len + 2);
    memcpy(*out + len, "]", 2);
out:
    q_close(&q);
    return rc;
}

static int alloc_event(struct conn *c, const char *actor, const char *action, const char *cluster,
                       const char *namespace, const char *service, const char *ips_json,
                       struct error *err)
{
    static const char sql[] = "SELECT json_object('addresses', json(?))";
    const char *args[] = {ips_json};
    char *resource = xasprintf("allocations/%s/%s/%s", cluster, namespace, service);
    char *data = NULL;
    int rc = event_json(c, &data, sql, args, 1, err);
    if (rc == 0)
        rc = event_append(c, actor, action, resource, data, err);
    free(data);
    free(resource);
    return rc;
}

/* put_run and its event, in one transaction. A PUT that wrote nothing (the same request
 * again) records nothing either. */
static int put_run_logged(struct conn *c, void *arg, struct error *err)
{
    struct put_op *op = arg;
    int changes = sqlite3_total_changes(c->db);
    char *ips = NULL;
    int rc = put_run(c, arg, err);
    if (rc < 0 || sqlite3_total_changes(c->db) == changes)
        goto out;
    rc = alloc_ips_json(c, op->cluster, op->namespace, op->service, &ips, err);
    if (rc == 0)
        rc = alloc_event(c, op->actor, op->created ? "allocation.created" : "allocation.changed",
                         op->cluster, op->namespace, op->service, ips, err);
out:
    free(ips);
    return rc;
}

/* Read-side fast path: a repeated PUT of a satisfied allocation never queues for the writer.
 * 1 answered, 0 the writer must decide. */
static int put_peek(struct conn *c, void *arg, struct error *err)
{
    struct put_op *op = arg;
    struct allocation *old = NULL;
    int64_t id;
    int rc = alloc_load(c, op->cluster, op->namespace, op->service, &old, &id, err);
    if (rc <= 0)
        goto out;
    rc = 0;
    if (unchanged(old, op->rq) && precondition(old, op->if_match, NULL) == 0) {
        op->out = old;
        old = NULL;
        rc = 1;
    }
out:
    allocation_free(old);
    return rc;
}

static int identity_check(const char *cluster, const char *namespace, const char *service,
                          struct error *err)
{
    char buf[STORE_NAME_MAX];
    int rc = name_copy(buf, cluster, "cluster", err);
    if (rc == 0)
        rc = name_copy(buf, namespace, "namespace", err);
    if (rc == 0)
        rc = name_copy(buf, service, "service", err);
    return rc;
}

static int request_check(const struct alloc_request *rq, struct error *err)
{
    int rc = 0;
    if (rq->nfamilies > 2) {
        rc = error_set(err, ERR_INVALID, "invalid_ip_families", "/ipFamilies",
                       "ipFamilies lists at most two families");
        goto out;
    }
    for (size_t i = 0; i < rq->nfamilies; i++) {
        if (rq->families[i] != NETADDR_V4 && rq->families[i] != NETADDR_V6) {
            rc = error_set(err, ERR_INVALID, "invalid_ip_families", "/ipFamilies",
                           "ipFamilies are IPv4 or IPv6");
            goto out;
        }
    }
    for (size_t i = 0; i < rq->nports; i++) {
        if (strnlen(rq->ports[i].protocol, sizeof(rq->ports[i].protocol)) ==
            sizeof(rq->ports[i].protocol)) {
            rc = error_set(err, ERR_INVALID, "invalid_port", "/ports", "bad protocol");
            goto out;
        }
    }
out:
    return rc;
}

int store_allocation_put(struct store *st, const char *actor, const char *cluster,
                         const char *namespace, const char *service, const struct alloc_request *rq,
                         int64_t if_match, struct allocation **out, bool *created,
                         struct error *err)
{
    struct put_op op = {.actor = actor,
                        .cluster = cluster,
                        .namespace = namespace,
                        .service = service,
                        .rq = rq,
                        .if_match = if_match};
    *created = false;
    int rc = identity_check(cluster, namespace, service, err);
    if (rc == 0)
        rc = request_check(rq, err);
    if (rc == 0)
        rc = store_read(st, put_peek, &op, err);
    if (rc == 0)
        rc = store_write(st, put_run_logged, &op, err);
    if (rc > 0)
        rc = 0;
    if (rc < 0) {
        allocation_free(op.out);
        op.out = NULL;
        op.created = false;
    }
    *out = op.out;
    *created = op.created;
    return rc;
}

/* Many plain PUTs per writer operation, for benchmarks that need a big store fast: every
 * allocation still goes through put_run, only the per-request queue hop and commit are
 * shared. */
struct fill_op {
    const char *actor;
    const char *cluster, *namespace, *prefix;
    long from, to;
};

static int fill_run(struct conn *c, void *arg, struct error *err)
{
    struct fill_op *f = arg;
    struct alloc_request rq = {0};
    int rc = 0;
    for (long i = f->from; i < f->to && rc == 0; i++) {
        char svc[STORE_NAME_MAX];
        snprintf(svc, sizeof(svc), "%s%07ld", f->prefix, i);
        struct put_op op = {.actor = f->actor,
                            .cluster = f->cluster,
                            .namespace = f->namespace,
                            .service = svc,
                            .rq = &rq,
                            .if_match = -1,
                            .no_out = true};
        rc = put_run_logged(c, &op, err);
        allocation_free(op.out);
    }
    return rc;
}

int store_allocation_fill(struct store *st, const char *actor, const char *cluster,
                          const char *namespace, const char *prefix, long from, long to, long batch,
                          struct error *err)
{
    int rc = 0;
    for (long i = from; i < to && rc == 0; i += batch) {
        struct fill_op f = {.actor = actor,
                            .cluster = cluster,
                            .namespace = namespace,
                            .prefix = prefix,
                            .from = i,
                            .to = i + batch < to ? i + batch : to};
        rc = store_write(st, fill_run, &f, err);
    }
    return rc;
}

/* ----------------------------------------------------------------- get, delete, list */

struct alloc_read {
    const char *actor;
    const char *cluster, *namespace, *service;
    int64_t if_match;
    struct allocation *out;
    const struct allocation_filter *filter;
    const struct store_page *page;
    struct allocation_list *list;
};

static int not_found(struct error *err, const char *cluster, const char *namespace,
                     const char *service)
{
    return error_set(err, ERR_NOTFOUND, "not_found", NULL, "no allocation for %s/%s/%s", cluster,
                     namespace, service);
}

static int get_run(struct conn *c, void *arg, struct error *err)
{
    struct alloc_read *r = arg;
    int64_t id;
    int rc = alloc_load(c, r->cluster, r->namespace, r->service, &r->out, &id, err);
    if (rc == 0)
        rc = not_found(err, r->cluster, r->namespace, r->service);
    return rc < 0 ? rc : 0;
}

int store_allocation_get(struct store *st, const char *cluster, const char *namespace,
                         const char *service, struct allocation **out, struct error *err)
{
    struct alloc_read r = {.cluster = cluster, .namespace = namespace, .service = service};
    int rc = store_read(st, get_run, &r, err);
    if (rc < 0) {
        allocation_free(r.out);
        r.out = NULL;
    }
    *out = r.out;
    return rc;
}

static int alloc_delete_row(struct conn *c, int64_t id, const char *cluster, struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, "DELETE FROM allocations WHERE id = ?", err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    rc = q_exec(&q, err);
    if (rc == 0)
        rc = cluster_count_allocations(c, cluster, -1, err);
out:
    q_close(&q);
    return rc;
}

static int delete_run(struct conn *c, void *arg, struct error *err)
{
    struct alloc_read *r = arg;
    struct allocation *old = NULL;
    struct placement pl;
    struct alloc_request none = {0};
    char *ips = NULL;
    placement_init(&pl, c, r->cluster, r->namespace, r->service, &none);
    int rc = alloc_load(c, r->cluster, r->namespace, r->service, &old, &pl.alloc_id, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = not_found(err, r->cluster, r->namespace, r->service);
        goto out;
    }
    rc = precondition(old, r->if_match, err);
    if (rc == 0)
        rc = alloc_ips_json(c, r->cluster, r->namespace, r->service, &ips, err);
    if (rc == 0)
        rc = alloc_event(c, r->actor, "allocation.released", r->cluster, r->namespace, r->service,
                         ips, err);
    if (rc == 0)
        rc = old_slots_load(&pl, err);
    if (rc == 0)
        rc = release_unkept(&pl, err);
    if (rc == 0)
        rc = alloc_delete_row(c, pl.alloc_id, r->cluster, err);
out:
    free(ips);
    placement_cleanup(&pl);
    allocation_free(old);
    return rc;
}

int store_allocation_delete(struct store *st, const char *actor, const char *cluster,
                            const char *namespace, const char *service, int64_t if_match,
                            struct error *err)
{
    struct alloc_read r = {.actor = actor,
                           .cluster = cluster,
                           .namespace = namespace,
                           .service = service,
                           .if_match = if_match};
    return store_write(st, delete_run, &r, err);
}

/* "cluster/namespace/service": names never contain '/'. */
static int cursor_parse(const char *cursor, char parts[3][STORE_NAME_MAX], struct error *err)
{
    const char *p = cursor;
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(p, "/");
        if (n >= STORE_NAME_MAX || (i < 2 && p[n] != '/') || (i == 2 && p[n] != '\0')) {
            rc = error_set(err, ERR_BAD_REQUEST, "invalid_cursor", NULL,
                           "the cursor is not one this server returned");
            goto out;
        }
        snprintf(parts[i], STORE_NAME_MAX, "%.*s", (int)n, p);
        p += n + 1;
    }
out:
    return rc;
}

/* The filters become WHERE terms; all of them can use an index. */
static char *list_sql(const struct allocation_filter *f, bool after)
{
    char *sql =
        xasprintf("SELECT " ALLOC_COLUMNS " FROM allocations a WHERE 1 = 1%s%s%s%s%s%s%s%s%s"
                  " ORDER BY a.cluster, a.namespace, a.service LIMIT ?",
                  f && f->cluster ? " AND a.cluster = ?" : "",
                  f && f->namespace ? " AND a.namespace = ?" : "",
                  f && f->sharing_key ? " AND a.sharing_key = ?" : "",
                  f && f->external_ref ? " AND a.external_ref = ?" : "",
                  f && f->managed_by ? " AND a.managed_by = ?" : "",
                  f && f->has_ip ? " AND a.id IN (SELECT allocation_id FROM allocation_addresses"
                                   " WHERE ip = ?)"
                                 : "",
                  f && f->family ? " AND EXISTS (SELECT 1 FROM allocation_addresses x"
                                   " WHERE x.allocation_id = a.id AND x.family = ?)"
                                 : "",
                  f && f->pool ? " AND a.id IN (SELECT x.allocation_id FROM held h"
                                 " JOIN allocation_addresses x ON x.ip = h.ip"
                                 " WHERE h.pool_id = (SELECT id FROM pools WHERE name = ?))"
                               : "",
                  after ? " AND (a.cluster, a.namespace, a.service) > (?, ?, ?)" : "");
    return sql;
}

static void list_bind(struct q *q, const struct allocation_filter *f)
{
    if (!f)
        return;
    if (f->cluster)
        q_text(q, f->cluster);
    if (f->namespace)
        q_text(q, f->namespace);
    if (f->sharing_key)
        q_text(q, f->sharing_key);
    if (f->external_ref)
        q_text(q, f->external_ref);
    if (f->managed_by)
        q_text(q, f->managed_by);
    if (f->has_ip)
        q_addr(q, f->ip.v, f->ip.family);
    if (f->family)
        q_int(q, f->family);
    if (f->pool)
        q_text(q, f->pool);
}

static int list_run(struct conn *c, void *arg, struct error *err)
{
    struct alloc_read *r = arg;
    struct allocation_list *l = r->list;
    bool after = r->page->after && r->page->after[0];
    char parts[3][STORE_NAME_MAX];
    int limit = r->page->limit;
    int64_t *ids = NULL;
    char *sql = NULL;
    struct q q = {0};
    bool more = false;
    int rc = after ? cursor_parse(r->page->after, parts, err) : 0;
    if (rc < 0)
        goto out;
    sql = list_sql(r->filter, after);
    rc = q_prepare_dynamic(&q, c, sql, err);
    if (rc < 0)
        goto out;
    list_bind(&q, r->filter);
    for (int i = 0; after && i < 3; i++)
        q_text(&q, parts[i]);
    q_int(&q, limit + 1);
    l->items = xcalloc((size_t)limit, sizeof(struct allocation *));
    ids = xcalloc((size_t)limit, sizeof(*ids));
    while ((rc = q_step(&q, err)) > 0) {
        if (l->n == (size_t)limit) {
            more = true;
            rc = 0;
            break;
        }
        rc = alloc_from_row(q.s, &l->items[l->n], &ids[l->n], err);
        if (rc < 0)
            break;
        l->n++;
    }
    q_close(&q);
    for (size_t i = 0; i < l->n && rc >= 0; i++)
        rc = addrs_load(c, ids[i], l->items[i], err);
    if (rc >= 0 && more) {
        const struct allocation *last = l->items[l->n - 1];
        snprintf(l->next, sizeof(l->next), "%s/%s/%s", last->cluster, last->namespace,
                 last->service);
    }
out:
    q_close(&q);
    free(sql);
    free(ids);
    return rc < 0 ? rc : 0;
}

int store_allocation_list(struct store *st, const struct allocation_filter *filter,
                          const struct store_page *page, struct allocation_list *out,
                          struct error *err)
{
    struct alloc_read r = {.filter = filter, .page = page, .list = out};
    memset(out, 0, sizeof(*out));
    int rc = page_check(page, err);
    if (rc == 0)
        rc = store_read(st, list_run, &r, err);
    if (rc < 0)
        allocation_list_cleanup(out);
    return rc;
}

/* ------------------------------------------------------------- force delete of a pool */

static int affected_allocations(struct conn *c, int64_t pool_id, int64_t **ids, size_t *n,
                                struct error *err)
{
    static const char sql[] = "SELECT DISTINCT x.allocation_id FROM held h"
                              " JOIN allocation_addresses x ON x.ip = h.ip WHERE h.pool_id = ?";
    struct q q;
    size_t cap = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    while ((rc = q_step(&q, err)) > 0) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *ids = xrealloc(*ids, cap * sizeof(**ids));
        }
        (*ids)[(*n)++] = sqlite3_column_int64(q.s, 0);
    }
out:
    q_close(&q);
    return rc;
}

/* An allocation that lost addresses: deleted when none is left, else its condition says
 * which pool went away (a later PUT of the same request tries to fill the gap). */
static int alloc_after_pool_loss(struct conn *c, int64_t id, const char *pool_name,
                                 struct error *err)
{
    static const char sql_left[] =
        "SELECT a.cluster, (SELECT COUNT(*) FROM allocation_addresses x"
        " WHERE x.allocation_id = a.id) FROM allocations a WHERE a.id = ?";
    static const char sql_cond[] =
        "UPDATE allocations SET cond_satisfied = 0, cond_reason = 'no_pool', cond_message = ?,"
        " version = version + 1, updated_at = ? WHERE id = ?";
    char cluster[STORE_NAME_MAX] = "";
    int64_t left = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql_left, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    snprintf(cluster, sizeof(cluster), "%s", col_text(q.s, 0));
    left = sqlite3_column_int64(q.s, 1);
    q_close(&q);
    if (left == 0) {
        rc = alloc_delete_row(c, id, cluster, err);
        goto out;
    }
    char *message = xasprintf("pool %s was deleted and its address released", pool_name);
    rc = q_prepare(&q, c, sql_cond, err);
    if (rc == 0) {
        q_text(&q, message);
        q_int(&q, store_now());
        q_int(&q, id);
        rc = q_exec(&q, err);
    }
    free(message);
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

/* One event per address a force delete of a pool takes from a holder (api.md §3). */
static int pool_release_events(struct conn *c, const char *actor, int64_t pool_id,
                               const char *pool_name, struct error *err)
{
    static const char sql[] =
        "SELECT a.cluster, a.namespace, a.service, x.ip FROM held h"
        " JOIN allocation_addresses x ON x.ip = h.ip JOIN allocations a ON a.id = x.allocation_id"
        " WHERE h.pool_id = ? ORDER BY a.cluster, a.namespace, a.service, x.ip";
    static const char sql_data[] = "SELECT json_object('ip', ?, 'pool', ?)";
    struct rel {
        char *resource;
        char ip[NETADDR_STRLEN];
    } *rels = NULL;
    size_t n = 0, cap = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    while ((rc = q_step(&q, err)) > 0) {
        struct netaddr ip = {.v = col_addr(q.s, 3),
                             .family = sqlite3_column_bytes(q.s, 3) == 4 ? NETADDR_V4 : NETADDR_V6};
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            rels = xrealloc(rels, cap * sizeof(*rels));
        }
        rels[n].resource =
            xasprintf("allocations/%s/%s/%s", col_text(q.s, 0), col_text(q.s, 1), col_text(q.s, 2));
        netaddr_format(rels[n].ip, &ip);
        n++;
    }
    q_close(&q);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *args[] = {rels[i].ip, pool_name};
        char *data = NULL;
        rc = event_json(c, &data, sql_data, args, 2, err);
        if (rc == 0)
            rc = event_append(c, actor, "allocation.address_released", rels[i].resource, data, err);
        free(data);
    }
out:
    q_close(&q);
    for (size_t i = 0; i < n; i++)
        free(rels[i].resource);
    free(rels);
    return rc;
}

int alloc_release_pool(struct conn *c, const char *actor, int64_t pool_id, const char *pool_name,
                       struct error *err)
{
    static const char sql_unlink[] =
        "DELETE FROM allocation_addresses WHERE ip IN (SELECT ip FROM held WHERE pool_id = ?)";
    static const char sql_unhold[] = "DELETE FROM held WHERE pool_id = ?";
    int64_t *ids = NULL;
    size_t n = 0;
    struct q q = {0};
    int rc = affected_allocations(c, pool_id, &ids, &n, err);
    if (rc == 0)
        rc = pool_release_events(c, actor, pool_id, pool_name, err);
    if (rc < 0)
        goto out;
    /* the pool row goes away next, so its counters and free space need no care */
    rc = q_prepare(&q, c, sql_unlink, err);
    if (rc == 0) {
        q_int(&q, pool_id);
        rc = q_exec(&q, err);
    }
    q_close(&q);
    if (rc == 0)
        rc = q_prepare(&q, c, sql_unhold, err);
    if (rc == 0) {
        q_int(&q, pool_id);
        rc = q_exec(&q, err);
    }
    q_close(&q);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = alloc_after_pool_loss(c, ids[i], pool_name, err);
out:
    q_close(&q);
    free(ids);
    return rc;
}
