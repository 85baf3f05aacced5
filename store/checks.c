/* checks.c - reachability checks and their history (api.md §6).
 *
 * A check is written whole at creation (target, routes, one pending result per address and
 * probe), moved to running when the scheduler starts it and finished in one transaction with
 * its results and its "check.finished" event. The probes themselves run outside the store
 * (clients/probe, server/probes.c); the store never waits on the network.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

const char *check_state_name(enum check_state s)
{
    switch (s) {
    case CHECK_PENDING:
        return "pending";
    case CHECK_RUNNING:
        return "running";
    case CHECK_PASSED:
        return "passed";
    case CHECK_FAILED:
        break;
    }
    return "failed";
}

void check_free(struct check *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nresults; i++) {
        free(c->results[i].probe.path);
        free(c->results[i].error);
    }
    free(c->results);
    free(c->routes);
    free(c->actor);
    free(c);
}

void check_list_cleanup(struct check_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        check_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* ------------------------------------------------------------------------------ load */

static int routes_load(struct conn *c, struct check *ck, struct error *err)
{
    static const char sql[] = "SELECT family, ip, verdict, mechanism, prefix, detail"
                              " FROM check_routes WHERE check_id = ? ORDER BY position";
    size_t cap = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, ck->id);
    while ((rc = q_step(&q, err)) > 0) {
        if (ck->nroutes == cap) {
            cap = cap ? 2 * cap : 4;
            ck->routes = xrealloc(ck->routes, cap * sizeof(*ck->routes));
        }
        struct check_route *r = &ck->routes[ck->nroutes++];
        memset(r, 0, sizeof(*r));
        r->ip.family = sqlite3_column_int(q.s, 0);
        r->ip.v = col_addr(q.s, 1);
        r->r.verdict = (enum route_verdict)sqlite3_column_int(q.s, 2);
        r->r.mechanism = (enum route_mechanism)sqlite3_column_int(q.s, 3);
        if (sqlite3_column_type(q.s, 4) != SQLITE_NULL) {
            rc = netprefix_parse(&r->r.prefix, col_text(q.s, 4), NULL, err);
            if (rc < 0) {
                rc = corrupt(err, "check route prefix");
                break;
            }
            r->r.has_prefix = true;
        }
        snprintf(r->r.detail, sizeof(r->r.detail), "%s", col_text(q.s, 5));
    }
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

static int results_load(struct conn *c, struct check *ck, struct error *err)
{
    static const char sql[] =
        "SELECT family, ip, type, port, path, expect_status, ok, latency_us, error"
        " FROM check_results WHERE check_id = ? ORDER BY position";
    size_t cap = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, ck->id);
    while ((rc = q_step(&q, err)) > 0) {
        if (ck->nresults == cap) {
            cap = cap ? 2 * cap : 4;
            ck->results = xrealloc(ck->results, cap * sizeof(*ck->results));
        }
        struct check_result *r = &ck->results[ck->nresults++];
        memset(r, 0, sizeof(*r));
        r->ip.family = sqlite3_column_int(q.s, 0);
        r->ip.v = col_addr(q.s, 1);
        snprintf(r->probe.type, sizeof(r->probe.type), "%s", col_text(q.s, 2));
        r->probe.port = (uint16_t)sqlite3_column_int(q.s, 3);
        r->probe.path = col_strdup(q.s, 4);
        r->probe.expect_status = sqlite3_column_int(q.s, 5);
        r->done = sqlite3_column_type(q.s, 6) != SQLITE_NULL;
        r->ok = sqlite3_column_int(q.s, 6) != 0;
        r->latency_us = sqlite3_column_int64(q.s, 7);
        r->error = col_strdup(q.s, 8);
    }
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

#define CHECK_COLUMNS                                                                              \
    "id, target_family, target_ip, cluster, namespace, service, state, timeout_ms, periodic,"      \
    " actor, created_at, finished_at"

static void check_from_row(sqlite3_stmt *s, struct check *ck)
{
    ck->id = sqlite3_column_int64(s, 0);
    ck->target_allocation = sqlite3_column_type(s, 2) == SQLITE_NULL;
    ck->target_ip.family = sqlite3_column_int(s, 1);
    ck->target_ip.v = col_addr(s, 2);
    snprintf(ck->cluster, sizeof(ck->cluster), "%s", col_text(s, 3));
    snprintf(ck->namespace, sizeof(ck->namespace), "%s", col_text(s, 4));
    snprintf(ck->service, sizeof(ck->service), "%s", col_text(s, 5));
    ck->state = (enum check_state)sqlite3_column_int(s, 6);
    ck->timeout_ms = sqlite3_column_int(s, 7);
    ck->periodic = sqlite3_column_int(s, 8) != 0;
    ck->actor = xstrdup(col_text(s, 9));
    ck->created_at = sqlite3_column_int64(s, 10);
    ck->finished_at = sqlite3_column_int64(s, 11);
}

int check_load(struct conn *c, int64_t id, struct check **out, struct error *err)
{
    static const char sql[] = "SELECT " CHECK_COLUMNS " FROM checks WHERE id = ?";
    struct check *ck = NULL;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    ck = xcalloc(1, sizeof(*ck));
    check_from_row(q.s, ck);
    q_close(&q);
    rc = routes_load(c, ck, err);
    if (rc == 0)
        rc = results_load(c, ck, err);
    if (rc == 0)
        rc = 1;
out:
    q_close(&q);
    if (rc < 0) {
        check_free(ck);
        ck = NULL;
    }
    *out = ck;
    return rc;
}

/* ---------------------------------------------------------------------------- create */

struct check_op {
    const char *actor;
    const struct check_request *in;
    int64_t id;
    struct check *out;
    const struct check *done;
    int64_t count;
    const struct check_filter *filter;
    const struct store_page *page;
    struct check_list *list;
};

/* The addresses a check probes, and the TCP ports of their holders (the default probes). */
struct target {
    size_t nips;
    struct netaddr *ips;
    size_t nports;
    uint16_t ports[CHECK_PROBES_MAX];
};

static void add_port(struct target *t, const struct service_port *p)
{
    if (strcmp(p->protocol, "TCP") != 0 || t->nports == CHECK_PROBES_MAX)
        return;
    for (size_t i = 0; i < t->nports; i++) {
        if (t->ports[i] == p->port)
            return;
    }
    t->ports[t->nports++] = p->port;
}

static int target_allocation(struct conn *c, const struct check_request *in, struct target *t,
                             struct error *err)
{
    struct allocation *a = NULL;
    int64_t id;
    int rc = alloc_load(c, in->cluster, in->namespace, in->service, &a, &id, err);
    if (rc < 0)
        goto out;
    if (rc == 0 || a->naddrs == 0) {
        rc = error_set(err, ERR_INVALID, "unknown_target", "/target/allocation",
                       rc == 0 ? "no allocation %s/%s/%s" : "allocation %s/%s/%s has no address",
                       in->cluster, in->namespace, in->service);
        goto out;
    }
    t->ips = xcalloc(a->naddrs, sizeof(*t->ips));
    for (size_t i = 0; i < a->naddrs; i++)
        t->ips[t->nips++] = a->addrs[i].ip;
    for (size_t i = 0; i < a->rq.nports; i++)
        add_port(t, &a->rq.ports[i]);
    rc = 0;
out:
    allocation_free(a);
    return rc;
}

static int target_ip(struct conn *c, const struct check_request *in, struct target *t,
                     struct error *err)
{
    struct block_row b;
    struct holder_set hs = {0};
    char text[NETADDR_STRLEN];
    int rc = blocks_find(c, &in->ip, &b, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        /* api.md §6: the server is not an open prober. */
        netaddr_format(text, &in->ip);
        rc = error_set(err, ERR_INVALID, "target_outside_pools", "/target/ip",
                       "%s is outside every pool; lbipamd probes only addresses it manages", text);
        goto out;
    }
    t->ips = xcalloc(1, sizeof(*t->ips));
    t->ips[t->nips++] = in->ip;
    rc = holders_load(c, &in->ip, 0, &hs, err);
    for (size_t i = 0; rc == 0 && i < hs.n; i++) {
        for (size_t j = 0; j < hs.items[i].nports; j++)
            add_port(t, &hs.items[i].ports[j]);
    }
out:
    holder_set_cleanup(&hs);
    return rc;
}

static int insert_check(struct conn *c, const char *actor, const struct check_request *in,
                        int64_t *id, struct error *err)
{
    static const char sql[] =
        "INSERT INTO checks (target_family, target_ip, cluster, namespace, service, state,"
        " timeout_ms, periodic, actor, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    if (in->target_allocation) {
        q_int(&q, 0);
        q_text(&q, NULL);
        q_text(&q, in->cluster);
        q_text(&q, in->namespace);
        q_text(&q, in->service);
    } else {
        q_int(&q, in->ip.family);
        q_addr(&q, in->ip.v, in->ip.family);
        q_text(&q, NULL);
        q_text(&q, NULL);
        q_text(&q, NULL);
    }
    q_int(&q, in->timeout_ms);
    q_int(&q, in->periodic);
    q_text(&q, actor ? actor : "");
    q_int(&q, store_now());
    rc = q_exec(&q, err);
    *id = sqlite3_last_insert_rowid(c->db);
out:
    q_close(&q);
    return rc;
}

static int insert_route(struct conn *c, int64_t id, int pos, const struct check_route *r,
                        struct error *err)
{
    static const char sql[] = "INSERT INTO check_routes (check_id, position, ip, family, verdict,"
                              " mechanism, prefix, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    char prefix[NETPREFIX_STRLEN];
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    if (r->r.has_prefix)
        netprefix_format(prefix, &r->r.prefix);
    q_int(&q, id);
    q_int(&q, pos);
    q_addr(&q, r->ip.v, r->ip.family);
    q_int(&q, r->ip.family);
    q_int(&q, r->r.verdict);
    q_int(&q, r->r.mechanism);
    q_text(&q, r->r.has_prefix ? prefix : NULL);
    q_text(&q, r->r.detail);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

static int insert_result(struct conn *c, int64_t id, int pos, const struct netaddr *ip,
                         const struct check_probe *p, struct error *err)
{
    static const char sql[] = "INSERT INTO check_results (check_id, position, ip, family, type,"
                              " port, path, expect_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    q_int(&q, pos);
    q_addr(&q, ip->v, ip->family);
    q_int(&q, ip->family);
    q_text(&q, p->type);
    q_int(&q, p->port);
    q_text(&q, p->path);
    q_int(&q, p->expect_status);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

/* api.md §6: with no probes, one tcp probe per TCP port of the allocation, else icmp. */
static struct check_probe *default_probes(const struct target *t, size_t *n)
{
    struct check_probe *p = xcalloc(t->nports ? t->nports : 1, sizeof(*p));
    *n = t->nports ? t->nports : 1;
    if (t->nports == 0)
        snprintf(p[0].type, sizeof(p[0].type), "icmp");
    for (size_t i = 0; i < t->nports; i++) {
        snprintf(p[i].type, sizeof(p[i].type), "tcp");
        p[i].port = t->ports[i];
    }
    return p;
}

static int check_create_run(struct conn *c, void *arg, struct error *err)
{
    struct check_op *op = arg;
    const struct check_request *in = op->in;
    struct target t = {0};
    struct check_probe *defaults = NULL;
    const struct check_probe *probes = in->probes;
    size_t nprobes = in->nprobes;
    int pos = 0;
    int rc = in->target_allocation ? target_allocation(c, in, &t, err) : target_ip(c, in, &t, err);
    if (rc < 0)
        goto out;
    if (nprobes == 0)
        probes = defaults = default_probes(&t, &nprobes);
    if (t.nips * nprobes > CHECK_RESULTS_MAX) {
        rc = error_set(err, ERR_INVALID, "too_many_probes", "/probes",
                       "%zu addresses x %zu probes is more than %d probes in one check", t.nips,
                       nprobes, CHECK_RESULTS_MAX);
        goto out;
    }
    rc = insert_check(c, op->actor, in, &op->id, err);
    for (size_t i = 0; rc == 0 && i < t.nips; i++) {
        struct check_route r;
        rc = route_of_ip(c, &t.ips[i], &r, err);
        if (rc == 0)
            rc = insert_route(c, op->id, (int)i, &r, err);
    }
    for (size_t i = 0; rc == 0 && i < t.nips; i++) {
        for (size_t j = 0; rc == 0 && j < nprobes; j++)
            rc = insert_result(c, op->id, pos++, &t.ips[i], &probes[j], err);
    }
    if (rc == 0)
        rc = check_load(c, op->id, &op->out, err);
    if (rc > 0)
        rc = 0;
out:
    free(t.ips);
    free(defaults);
    return rc;
}

int store_check_create(struct store *st, const char *actor, const struct check_request *in,
                       struct check **out, struct error *err)
{
    struct check_op op = {.actor = actor, .in = in};
    int rc = store_write(st, check_create_run, &op, err);
    if (rc < 0) {
        check_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

/* ------------------------------------------------------------------------ state changes */

static int check_start_run(struct conn *c, void *arg, struct error *err)
{
    struct check_op *op = arg;
    struct q q;
    int rc = q_prepare(&q, c, "UPDATE checks SET state = 1 WHERE id = ? AND state = 0", err);
    if (rc < 0)
        goto out;
    q_int(&q, op->id);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

int store_check_start(struct store *st, const char *actor, int64_t id, struct error *err)
{
    struct check_op op = {.actor = actor, .id = id};
    return store_write(st, check_start_run, &op, err);
}

/* The "check.finished" event of api.md §7, in the transaction of the result. */
static int check_event(struct conn *c, const char *actor, const struct check *ck,
                       enum check_state state, struct error *err)
{
    static const char sql[] =
        "SELECT json_object('id', ?, 'state', ?, 'ip', ?, 'allocation', ?, 'periodic', ? = '1')";
    char id[24], resource[64], ip[NETADDR_STRLEN] = "", alloc[3 * STORE_NAME_MAX] = "";
    const char *args[5];
    char *data = NULL;

    snprintf(id, sizeof(id), "%" PRId64, ck->id);
    snprintf(resource, sizeof(resource), "reachability-checks/%" PRId64, ck->id);
    if (ck->target_allocation)
        snprintf(alloc, sizeof(alloc), "%s/%s/%s", ck->cluster, ck->namespace, ck->service);
    else
        netaddr_format(ip, &ck->target_ip);
    args[0] = id;
    args[1] = check_state_name(state);
    args[2] = ck->target_allocation ? NULL : ip;
    args[3] = ck->target_allocation ? alloc : NULL;
    args[4] = ck->periodic ? "1" : "0";
    int rc = event_json(c, &data, sql, args, 5, err);
    if (rc == 0)
        rc = event_append(c, actor, "check.finished", resource, data, err);
    free(data);
    return rc;
}

static int result_update(struct conn *c, int64_t id, int pos, const struct check_result *r,
                         struct error *err)
{
    static const char sql[] = "UPDATE check_results SET ok = ?, latency_us = ?, error = ?"
                              " WHERE check_id = ? AND position = ?";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, r->ok);
    if (r->ok)
        q_int(&q, r->latency_us);
    else
        q_text(&q, NULL);
    q_text(&q, r->ok ? NULL : (r->error ? r->error : "probe did not run"));
    q_int(&q, id);
    q_int(&q, pos);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

static int check_finish_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] = "UPDATE checks SET state = ?, finished_at = ? WHERE id = ?";
    struct check_op *op = arg;
    const struct check *ck = op->done;
    enum check_state state = CHECK_PASSED;
    struct q q = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ck->nresults; i++) {
        if (!ck->results[i].ok)
            state = CHECK_FAILED;
        rc = result_update(c, ck->id, (int)i, &ck->results[i], err);
    }
    if (rc == 0)
        rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, state);
    q_int(&q, store_now());
    q_int(&q, ck->id);
    rc = q_exec(&q, err);
    if (rc == 0)
        rc = check_event(c, op->actor, ck, state, err);
out:
    q_close(&q);
    return rc;
}

int store_check_finish(struct store *st, const char *actor, const struct check *c,
                       struct error *err)
{
    struct check_op op = {.actor = actor, .done = c};
    return store_write(st, check_finish_run, &op, err);
}

static int check_abandon_run(struct conn *c, void *arg, struct error *err)
{
    static const char results[] =
        "UPDATE check_results SET ok = 0, error = 'interrupted: lbipamd stopped before the probe"
        " ran' WHERE ok IS NULL AND check_id IN (SELECT id FROM checks WHERE state IN (0, 1))";
    static const char checks[] =
        "UPDATE checks SET state = 3, finished_at = ? WHERE state IN (0, 1)";
    struct check_op *op = arg;
    struct q q = {0};
    int rc = db_exec(c, results, err);
    if (rc == 0)
        rc = q_prepare(&q, c, checks, err);
    if (rc < 0)
        goto out;
    q_int(&q, store_now());
    rc = q_exec(&q, err);
    op->count = sqlite3_changes(c->db);
out:
    q_close(&q);
    return rc;
}

int store_check_abandon(struct store *st, const char *actor, int64_t *n, struct error *err)
{
    struct check_op op = {.actor = actor};
    int rc = store_write(st, check_abandon_run, &op, err);
    *n = op.count;
    return rc;
}

/* ------------------------------------------------------------------------------- reads */

static int check_get_run(struct conn *c, void *arg, struct error *err)
{
    struct check_op *op = arg;
    int rc = check_load(c, op->id, &op->out, err);
    if (rc == 0)
        rc = error_set(err, ERR_NOTFOUND, "not_found", NULL, "no reachability check %" PRId64,
                       op->id);
    return rc < 0 ? rc : 0;
}

int store_check_get(struct store *st, int64_t id, struct check **out, struct error *err)
{
    struct check_op op = {.id = id};
    int rc = store_read(st, check_get_run, &op, err);
    if (rc < 0) {
        check_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

static int check_list_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "SELECT id FROM checks WHERE id > ? AND (? < 0 OR state = ?)"
        " AND (? = 0 OR (cluster = ? AND namespace = ? AND service = ?))"
        " AND (? = 0 OR id IN (SELECT check_id FROM check_results WHERE ip = ?))"
        " ORDER BY id LIMIT ?";
    struct check_op *op = arg;
    const struct check_filter *f = op->filter;
    struct check_list *l = op->list;
    int limit = op->page->limit;
    int64_t *ids = xcalloc((size_t)limit + 1, sizeof(*ids));
    size_t n = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, op->page->after && op->page->after[0] ? strtoll(op->page->after, NULL, 10) : 0);
    q_int(&q, f->state);
    q_int(&q, f->state);
    q_int(&q, f->has_allocation);
    q_text(&q, f->cluster);
    q_text(&q, f->namespace);
    q_text(&q, f->service);
    q_int(&q, f->has_ip);
    if (f->has_ip)
        q_addr(&q, f->ip.v, f->ip.family);
    else
        q_text(&q, NULL);
    q_int(&q, limit + 1);
    while ((rc = q_step(&q, err)) > 0)
        ids[n++] = sqlite3_column_int64(q.s, 0);
    q_close(&q);
    if (rc < 0)
        goto out;
    l->items = xcalloc((size_t)limit, sizeof(struct check *));
    for (size_t i = 0; rc >= 0 && i < n && i < (size_t)limit; i++) {
        rc = check_load(c, ids[i], &l->items[l->n], err);
        if (rc > 0)
            l->n++;
    }
    if (rc >= 0 && n > (size_t)limit)
        snprintf(l->next, sizeof(l->next), "%" PRId64, ids[limit - 1]);
out:
    q_close(&q);
    free(ids);
    return rc < 0 ? rc : 0;
}

int store_check_list(struct store *st, const struct check_filter *filter,
                     const struct store_page *page, struct check_list *out, struct error *err)
{
    struct check_op op = {.filter = filter, .page = page, .list = out};
    memset(out, 0, sizeof(*out));
    int rc = page_check(page, err);
    if (rc == 0)
        rc = store_read(st, check_list_run, &op, err);
    if (rc < 0)
        check_list_cleanup(out);
    return rc;
}
