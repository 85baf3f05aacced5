/* held.c - allocated addresses and the rules for sharing them (api.md §4 rule 3).
 *
 * An address is held once, whatever the number of services sharing it: the held row counts
 * the holders and the last release frees it. All holders of an address carry the same
 * sharing key in the same cluster, which is what makes "the lowest IP held under key K" one
 * index range (held_by_key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

void held_row_cleanup(struct held_row *h)
{
    free(h->sharing_key);
    h->sharing_key = NULL;
}

int held_get(struct conn *c, const struct netaddr *ip, struct held_row *out, bool *found,
             struct error *err)
{
    static const char sql[] =
        "SELECT family, pool_id, cluster, sharing_key, holders FROM held WHERE ip = ?";
    struct q q;
    *found = false;
    memset(out, 0, sizeof(*out));
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_addr(&q, ip->v, ip->family);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    out->ip = ip->v;
    out->family = sqlite3_column_int(q.s, 0);
    out->pool_id = sqlite3_column_int64(q.s, 1);
    snprintf(out->cluster, sizeof(out->cluster), "%s", col_text(q.s, 2));
    out->sharing_key = col_strdup(q.s, 3);
    out->holders = sqlite3_column_int64(q.s, 4);
    *found = true;
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

int held_insert(struct conn *c, const struct netaddr *ip, int64_t pool_id, const char *cluster,
                const char *sharing_key, struct error *err)
{
    static const char sql[] = "INSERT INTO held (ip, family, pool_id, cluster, sharing_key,"
                              " holders) VALUES (?, ?, ?, ?, ?, 1)";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_addr(&q, ip->v, ip->family);
    q_int(&q, ip->family);
    q_int(&q, pool_id);
    q_text(&q, cluster);
    q_text(&q, sharing_key);
    rc = q_exec(&q, err);
    if (rc == 0)
        rc = pool_count_used(c, pool_id, ip->family, 1, false, err);
out:
    q_close(&q);
    return rc;
}

int held_join(struct conn *c, const struct netaddr *ip, struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, "UPDATE held SET holders = holders + 1 WHERE ip = ?", err);
    if (rc < 0)
        goto out;
    q_addr(&q, ip->v, ip->family);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

int held_set_key(struct conn *c, const struct netaddr *ip, const char *sharing_key,
                 struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, "UPDATE held SET sharing_key = ? WHERE ip = ?", err);
    if (rc < 0)
        goto out;
    q_text(&q, sharing_key);
    q_addr(&q, ip->v, ip->family);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

/* The last holder frees the address. One that the pool's current flags reserve (it was taken
 * before a flag change) leaves the pool's free space for good. */
int held_release(struct conn *c, const struct netaddr *ip, int64_t pool_id, struct error *err)
{
    static const char sql_dec[] =
        "UPDATE held SET holders = holders - 1 WHERE ip = ? AND holders > 1";
    static const char sql_del[] = "DELETE FROM held WHERE ip = ?";
    struct q q;
    bool reserved = false;
    int rc = q_prepare(&q, c, sql_dec, err);
    if (rc < 0)
        goto out;
    q_addr(&q, ip->v, ip->family);
    rc = q_exec(&q, err);
    q_close(&q);
    if (rc < 0 || sqlite3_changes(c->db) > 0)
        goto out;
    rc = q_prepare(&q, c, sql_del, err);
    if (rc < 0)
        goto out;
    q_addr(&q, ip->v, ip->family);
    rc = q_exec(&q, err);
    q_close(&q);
    if (rc == 0)
        rc = pool_reserves(c, pool_id, ip, &reserved, err);
    if (rc >= 0)
        rc = pool_count_used(c, pool_id, ip->family, -1, reserved, err);
    if (rc == 0 && !reserved)
        rc = ranges_release(c, pool_id, ip->family, ip->v, err);
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------------- holders */

void holder_set_cleanup(struct holder_set *h)
{
    for (size_t i = 0; i < h->n; i++)
        alloc_request_cleanup(&h->rqs[i]);
    free(h->rqs);
    free(h->items);
    memset(h, 0, sizeof(*h));
}

static int holder_from_row(sqlite3_stmt *s, struct sharer *sh, struct alloc_request *rq,
                           struct error *err)
{
    sh->alloc_id = sqlite3_column_int64(s, 0);
    snprintf(sh->cluster, sizeof(sh->cluster), "%s", col_text(s, 1));
    snprintf(sh->namespace, sizeof(sh->namespace), "%s", col_text(s, 2));
    snprintf(sh->service, sizeof(sh->service), "%s", col_text(s, 3));
    rq->sharing_key = col_strdup(s, 4);
    rq->external_traffic_policy = col_strdup(s, 7);
    int rc = strings_decode(&rq->cross_namespaces, &rq->ncross_namespaces, col_text(s, 5), err);
    if (rc == 0)
        rc = ports_decode(&rq->ports, &rq->nports, col_text(s, 6), err);
    if (rc == 0)
        rc = labels_column(&rq->pod_selector, col_text(s, 8), err);
    return rc;
}

int holders_load(struct conn *c, const struct netaddr *ip, int64_t exclude_alloc_id,
                 struct holder_set *out, struct error *err)
{
    static const char sql[] =
        "SELECT a.id, a.cluster, a.namespace, a.service, a.sharing_key, a.cross_namespaces,"
        " a.ports, a.external_traffic_policy, a.pod_selector"
        " FROM allocation_addresses aa JOIN allocations a ON a.id = aa.allocation_id"
        " WHERE aa.ip = ? AND aa.allocation_id <> ?"
        " ORDER BY a.cluster, a.namespace, a.service";
    struct q q;
    size_t cap = 0;
    memset(out, 0, sizeof(*out));
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_addr(&q, ip->v, ip->family);
    q_int(&q, exclude_alloc_id);
    while ((rc = q_step(&q, err)) > 0) {
        if (out->n == cap) {
            cap = cap ? 2 * cap : 4;
            out->items = xrealloc(out->items, cap * sizeof(*out->items));
            out->rqs = xrealloc(out->rqs, cap * sizeof(*out->rqs));
        }
        memset(&out->items[out->n], 0, sizeof(out->items[0]));
        memset(&out->rqs[out->n], 0, sizeof(out->rqs[0]));
        out->n++;
        rc = holder_from_row(q.s, &out->items[out->n - 1], &out->rqs[out->n - 1], err);
        if (rc < 0)
            break;
    }
    /* the requests are complete (and no longer move): point the sharers at them */
    for (size_t i = 0; i < out->n; i++) {
        struct alloc_request *rq = &out->rqs[i];
        struct sharer *sh = &out->items[i];
        sh->sharing_key = rq->sharing_key;
        sh->ncross = rq->ncross_namespaces;
        sh->cross = rq->cross_namespaces;
        sh->nports = rq->nports;
        sh->ports = rq->ports;
        sh->etp = rq->external_traffic_policy;
        sh->pod_selector = &rq->pod_selector;
    }
out:
    q_close(&q);
    if (rc < 0)
        holder_set_cleanup(out);
    return rc < 0 ? rc : 0;
}

static bool lists_namespace(const struct sharer *s, const char *ns)
{
    for (size_t i = 0; i < s->ncross; i++) {
        if (strcmp(s->cross[i], "*") == 0 || strcmp(s->cross[i], ns) == 0)
            return true;
    }
    return false;
}

static const char *etp_of(const struct sharer *s)
{
    return s->etp ? s->etp : "Cluster";
}

/* The first rule that fails names itself in `why`. */
bool sharers_compatible(const struct sharer *a, const struct sharer *b, char *why, size_t n)
{
    bool ok = strcmp(a->cluster, b->cluster) == 0;
    if (!ok) {
        snprintf(why, n, "it is held by %s/%s of cluster %s", b->namespace, b->service, b->cluster);
        goto out;
    }
    ok = a->sharing_key && b->sharing_key && strcmp(a->sharing_key, b->sharing_key) == 0;
    if (!ok) {
        snprintf(why, n, "sharing key %s differs from %s of %s/%s",
                 a->sharing_key ? a->sharing_key : "(none)",
                 b->sharing_key ? b->sharing_key : "(none)", b->namespace, b->service);
        goto out;
    }
    ok = strcmp(a->namespace, b->namespace) == 0 ||
         (lists_namespace(a, b->namespace) && lists_namespace(b, a->namespace));
    if (!ok) {
        snprintf(why, n,
                 "namespaces %s and %s do not list each other in sharingCrossNamespace "
                 "(held by %s/%s)",
                 a->namespace, b->namespace, b->namespace, b->service);
        goto out;
    }
    for (size_t i = 0; i < a->nports && ok; i++) {
        for (size_t j = 0; j < b->nports && ok; j++) {
            ok = a->ports[i].port != b->ports[j].port ||
                 strcmp(a->ports[i].protocol, b->ports[j].protocol) != 0;
            if (!ok)
                snprintf(why, n, "port %u/%s is used by %s/%s", (unsigned)a->ports[i].port,
                         a->ports[i].protocol, b->namespace, b->service);
        }
    }
    if (!ok)
        goto out;
    ok = strcmp(etp_of(a), etp_of(b)) == 0;
    if (!ok) {
        snprintf(why, n, "externalTrafficPolicy %s differs from %s of %s/%s", etp_of(a), etp_of(b),
                 b->namespace, b->service);
        goto out;
    }
    ok = strcmp(etp_of(a), "Local") != 0 ||
         (a->pod_selector->n > 0 && labels_equal(a->pod_selector, b->pod_selector));
    if (!ok)
        snprintf(why, n,
                 "externalTrafficPolicy Local needs the same non-empty podSelector as %s/%s",
                 b->namespace, b->service);
out:
    return ok;
}
