/* clusters.c - registered clusters (api.md §2).
 *
 * status.allocations is a counter kept by the allocation writes, so listing clusters never
 * counts allocations. The version (ETag) changes only when the cluster itself changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

#define CLUSTER_COLUMNS                                                                            \
    "name, description, labels, announcement, routable, node_subnets, allocations,"                \
    " last_sync_at, version, created_at, updated_at, check_interval"

static int cluster_from_row(sqlite3_stmt *s, struct cluster **out, struct error *err)
{
    struct cluster *c = xcalloc(1, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", col_text(s, 0));
    c->description = xstrdup(col_text(s, 1));
    int rc = labels_column(&c->labels, col_text(s, 2), err);
    if (rc < 0)
        goto out;
    c->announcement = (enum announcement)sqlite3_column_int(s, 3);
    rc = prefixes_decode(&c->routable, &c->nroutable, col_text(s, 4), err);
    if (rc == 0)
        rc = prefixes_decode(&c->node_subnets, &c->nnode_subnets, col_text(s, 5), err);
    c->allocations = sqlite3_column_int64(s, 6);
    c->last_sync_at = sqlite3_column_int64(s, 7);
    c->version = sqlite3_column_int64(s, 8);
    c->created_at = sqlite3_column_int64(s, 9);
    c->updated_at = sqlite3_column_int64(s, 10);
    c->check_interval_s = sqlite3_column_int64(s, 11);
out:
    if (rc < 0) {
        cluster_free(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

/* 1 found, 0 missing. */
static int cluster_load(struct conn *c, const char *name, struct cluster **out, struct error *err)
{
    static const char sql[] = "SELECT " CLUSTER_COLUMNS " FROM clusters WHERE name = ?";
    struct q q;
    *out = NULL;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, name);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    rc = cluster_from_row(q.s, out, err);
    if (rc == 0)
        rc = 1;
out:
    q_close(&q);
    return rc;
}

static int not_found(struct error *err, const char *name)
{
    return error_set(err, ERR_NOTFOUND, "not_found", NULL, "cluster %s does not exist", name);
}

static int version_check(int64_t have, int64_t if_match, const char *name, struct error *err)
{
    if (if_match < 0 || if_match == have)
        return 0;
    return error_set(err, ERR_PRECONDITION, "precondition_failed", NULL,
                     "cluster %s is at version %lld, not %lld", name, (long long)have,
                     (long long)if_match);
}

/* The encoded columns of a cluster, shared by insert, update and comparison. */
struct cluster_text {
    char *labels, *routable, *node_subnets;
};

static void cluster_text_init(struct cluster_text *t, const struct cluster *c)
{
    t->labels = labels_encode(&c->labels);
    t->routable = prefixes_encode(c->routable, c->nroutable);
    t->node_subnets = prefixes_encode(c->node_subnets, c->nnode_subnets);
}

static void cluster_text_cleanup(struct cluster_text *t)
{
    free(t->labels);
    free(t->routable);
    free(t->node_subnets);
}

struct cluster_op {
    const char *actor; /* who asks: recorded in the event */
    const struct cluster *in;
    const char *name;
    int64_t if_match;
    struct cluster *out;
    const struct store_page *page;
    struct cluster_list *list;
};

static int cluster_create_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "INSERT INTO clusters (name, description, labels, announcement, routable, node_subnets,"
        " version, created_at, updated_at, check_interval) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)";
    struct cluster_op *op = arg;
    struct cluster *old = NULL;
    struct cluster_text t;
    store_time now = store_now();
    struct q q = {0};
    cluster_text_init(&t, op->in);
    int rc = cluster_load(c, op->in->name, &old, err);
    if (rc < 0)
        goto out;
    if (rc > 0) {
        rc = error_set(err, ERR_CONFLICT, "already_exists", "/name", "cluster %s already exists",
                       op->in->name);
        goto out;
    }
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->in->name);
    q_text(&q, op->in->description ? op->in->description : "");
    q_text(&q, t.labels);
    q_int(&q, op->in->announcement);
    q_text(&q, t.routable);
    q_text(&q, t.node_subnets);
    q_int(&q, now);
    q_int(&q, now);
    q_int(&q, op->in->check_interval_s);
    rc = q_exec(&q, err);
    if (rc == 0)
        rc = cluster_load(c, op->in->name, &op->out, err);
    if (rc > 0)
        rc = 0;
out:
    q_close(&q);
    cluster_text_cleanup(&t);
    cluster_free(old);
    return rc;
}

static int cluster_replace_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "UPDATE clusters SET description = ?, labels = ?, announcement = ?, routable = ?,"
        " node_subnets = ?, version = version + 1, updated_at = ?, check_interval = ?"
        " WHERE name = ?";
    struct cluster_op *op = arg;
    struct cluster *old = NULL;
    struct cluster_text t, told = {0};
    struct q q = {0};
    cluster_text_init(&t, op->in);
    int rc = cluster_load(c, op->in->name, &old, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = not_found(err, op->in->name);
        goto out;
    }
    rc = version_check(old->version, op->if_match, old->name, err);
    if (rc < 0)
        goto out;
    cluster_text_init(&told, old);
    if (str_equal(op->in->description ? op->in->description : "", old->description) &&
        strcmp(t.labels, told.labels) == 0 && op->in->announcement == old->announcement &&
        strcmp(t.routable, told.routable) == 0 && strcmp(t.node_subnets, told.node_subnets) == 0 &&
        op->in->check_interval_s == old->check_interval_s) {
        op->out = old; /* nothing changed: no write, the ETag stays */
        old = NULL;
        goto out;
    }
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->in->description ? op->in->description : "");
    q_text(&q, t.labels);
    q_int(&q, op->in->announcement);
    q_text(&q, t.routable);
    q_text(&q, t.node_subnets);
    q_int(&q, store_now());
    q_int(&q, op->in->check_interval_s);
    q_text(&q, op->in->name);
    rc = q_exec(&q, err);
    if (rc == 0)
        rc = cluster_load(c, op->in->name, &op->out, err);
    if (rc > 0)
        rc = 0;
out:
    q_close(&q);
    cluster_text_cleanup(&t);
    cluster_text_cleanup(&told);
    cluster_free(old);
    return rc;
}

static int cluster_delete_run(struct conn *c, void *arg, struct error *err)
{
    struct cluster_op *op = arg;
    struct cluster *old = NULL;
    struct q q = {0};
    int rc = cluster_load(c, op->name, &old, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = not_found(err, op->name);
        goto out;
    }
    rc = version_check(old->version, op->if_match, old->name, err);
    if (rc < 0)
        goto out;
    if (old->allocations > 0) {
        rc = error_set(err, ERR_CONFLICT, "cluster_in_use", NULL,
                       "cluster %s holds %lld allocation%s", old->name, (long long)old->allocations,
                       old->allocations == 1 ? "" : "s");
        goto out;
    }
    rc = q_prepare(&q, c, "DELETE FROM clusters WHERE name = ?", err);
    if (rc < 0)
        goto out;
    q_text(&q, op->name);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    cluster_free(old);
    return rc;
}

static int cluster_get_run(struct conn *c, void *arg, struct error *err)
{
    struct cluster_op *op = arg;
    int rc = cluster_load(c, op->name, &op->out, err);
    if (rc == 0)
        rc = not_found(err, op->name);
    return rc < 0 ? rc : 0;
}

static int cluster_list_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "SELECT " CLUSTER_COLUMNS " FROM clusters WHERE name > ? ORDER BY name LIMIT ?";
    struct cluster_op *op = arg;
    struct cluster_list *l = op->list;
    int limit = op->page->limit;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->page->after ? op->page->after : "");
    q_int(&q, limit + 1);
    l->items = xcalloc((size_t)limit, sizeof(struct cluster *));
    while ((rc = q_step(&q, err)) > 0) {
        if (l->n == (size_t)limit) {
            snprintf(l->next, sizeof(l->next), "%s", l->items[l->n - 1]->name);
            rc = 0;
            break;
        }
        rc = cluster_from_row(q.s, &l->items[l->n], err);
        if (rc < 0)
            break;
        l->n++;
    }
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

/* The event of a cluster write, appended in its transaction when it changed anything (a
 * replace with the same content writes nothing and records nothing). */
static int cluster_event(struct conn *c, const struct cluster_op *op, const char *action,
                         const char *name, struct error *err)
{
    static const char sql[] = "SELECT json_object('name', ?, 'version', CAST(? AS INTEGER))";
    char resource[STORE_NAME_MAX + 16], version[24];
    const char *args[] = {name, op->out ? version : NULL};
    char *data = NULL;
    snprintf(resource, sizeof(resource), "clusters/%s", name);
    snprintf(version, sizeof(version), "%lld", op->out ? (long long)op->out->version : 0LL);
    int rc = event_json(c, &data, sql, args, 2, err);
    if (rc == 0)
        rc = event_append(c, op->actor, action, resource, data, err);
    free(data);
    return rc;
}

static int cluster_create_logged(struct conn *c, void *arg, struct error *err)
{
    struct cluster_op *op = arg;
    int rc = cluster_create_run(c, arg, err);
    return rc < 0 ? rc : cluster_event(c, op, "cluster.created", op->in->name, err);
}

static int cluster_replace_logged(struct conn *c, void *arg, struct error *err)
{
    struct cluster_op *op = arg;
    int changes = sqlite3_total_changes(c->db);
    int rc = cluster_replace_run(c, arg, err);
    if (rc == 0 && sqlite3_total_changes(c->db) != changes)
        rc = cluster_event(c, op, "cluster.replaced", op->in->name, err);
    return rc;
}

static int cluster_delete_logged(struct conn *c, void *arg, struct error *err)
{
    struct cluster_op *op = arg;
    int rc = cluster_delete_run(c, arg, err);
    return rc < 0 ? rc : cluster_event(c, op, "cluster.deleted", op->name, err);
}

static int cluster_input_check(const struct cluster *in, struct error *err)
{
    char name[STORE_NAME_MAX];
    return name_copy(name, in->name, "cluster", err);
}

int store_cluster_create(struct store *st, const char *actor, const struct cluster *in,
                         struct cluster **out, struct error *err)
{
    struct cluster_op op = {.actor = actor, .in = in};
    int rc = cluster_input_check(in, err);
    if (rc == 0)
        rc = store_write(st, cluster_create_logged, &op, err);
    if (rc < 0) {
        cluster_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

int store_cluster_get(struct store *st, const char *name, struct cluster **out, struct error *err)
{
    struct cluster_op op = {.name = name};
    int rc = store_read(st, cluster_get_run, &op, err);
    if (rc < 0) {
        cluster_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

int store_cluster_replace(struct store *st, const char *actor, const struct cluster *in,
                          int64_t if_match, struct cluster **out, struct error *err)
{
    struct cluster_op op = {.actor = actor, .in = in, .if_match = if_match};
    int rc = cluster_input_check(in, err);
    if (rc == 0)
        rc = store_write(st, cluster_replace_logged, &op, err);
    if (rc < 0) {
        cluster_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

int store_cluster_delete(struct store *st, const char *actor, const char *name, int64_t if_match,
                         struct error *err)
{
    struct cluster_op op = {.actor = actor, .name = name, .if_match = if_match};
    return store_write(st, cluster_delete_logged, &op, err);
}

int store_cluster_list(struct store *st, const struct store_page *page, struct cluster_list *out,
                       struct error *err)
{
    struct cluster_op op = {.page = page, .list = out};
    memset(out, 0, sizeof(*out));
    int rc = page_check(page, err);
    if (rc == 0)
        rc = store_read(st, cluster_list_run, &op, err);
    if (rc < 0)
        cluster_list_cleanup(out);
    return rc;
}

/* ------------------------------------------------------------- what the allocator uses */

int cluster_labels(struct conn *c, const char *name, struct labels *out, bool *found,
                   struct error *err)
{
    struct q q;
    *found = false;
    labels_init(out);
    int rc = q_prepare(&q, c, "SELECT labels FROM clusters WHERE name = ?", err);
    if (rc < 0)
        goto out;
    q_text(&q, name);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    rc = labels_column(out, col_text(q.s, 0), err);
    *found = rc == 0;
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

int cluster_count_allocations(struct conn *c, const char *name, int delta, struct error *err)
{
    static const char sql[] = "UPDATE clusters SET allocations = allocations + ? WHERE name = ?";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, delta);
    q_text(&q, name);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}
