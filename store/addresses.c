/* addresses.c - who holds an address (api.md §5), and idempotency records (api.md §1).
 *
 * The state of an address follows from three O(log n) lookups: the block containing it
 * (outside when none), the held row (allocated), and the pool's current flags (reserved);
 * anything else inside a block is free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

#define IDEMPOTENCY_TTL_MS ((int64_t)24 * 3600 * 1000)

struct address_op {
    const struct netaddr *ip;
    struct address_info *out;
};

static int holders_list(struct conn *c, struct address_info *a, struct error *err)
{
    static const char sql[] =
        "SELECT a.cluster, a.namespace, a.service FROM allocation_addresses aa"
        " JOIN allocations a ON a.id = aa.allocation_id WHERE aa.ip = ?"
        " ORDER BY a.cluster, a.namespace, a.service";
    struct q q;
    size_t cap = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_addr(&q, a->ip.v, a->ip.family);
    while ((rc = q_step(&q, err)) > 0) {
        if (a->nholders == cap) {
            cap = cap ? 2 * cap : 4;
            a->holders = xrealloc(a->holders, cap * sizeof(*a->holders));
        }
        struct address_holder *h = &a->holders[a->nholders++];
        snprintf(h->cluster, sizeof(h->cluster), "%s", col_text(q.s, 0));
        snprintf(h->namespace, sizeof(h->namespace), "%s", col_text(q.s, 1));
        snprintf(h->service, sizeof(h->service), "%s", col_text(q.s, 2));
    }
out:
    q_close(&q);
    return rc;
}

static int address_run(struct conn *c, void *arg, struct error *err)
{
    struct address_op *op = arg;
    struct address_info *a = xcalloc(1, sizeof(*a));
    struct held_row h = {0};
    struct block_row b;
    bool held = false, reserved = false;
    a->ip = *op->ip;
    a->state = ADDRESS_OUTSIDE;
    op->out = a;
    int rc = blocks_find(c, op->ip, &b, err);
    if (rc <= 0)
        goto out;
    rc = pool_name_of(c, b.pool_id, a->pool, err);
    if (rc == 0)
        rc = held_get(c, op->ip, &h, &held, err);
    if (rc < 0)
        goto out;
    if (held) {
        a->state = ADDRESS_ALLOCATED;
        rc = holders_list(c, a, err);
        goto out;
    }
    rc = pool_reserves(c, b.pool_id, op->ip, &reserved, err);
    if (rc >= 0)
        a->state = reserved ? ADDRESS_RESERVED : ADDRESS_FREE;
out:
    held_row_cleanup(&h);
    return rc < 0 ? rc : 0;
}

int store_address_get(struct store *st, const struct netaddr *ip, struct address_info **out,
                      struct error *err)
{
    struct address_op op = {.ip = ip};
    int rc = store_read(st, address_run, &op, err);
    if (rc < 0) {
        address_info_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

/* -------------------------------------------------------------------- idempotency keys */

struct idem_op {
    const char *scope, *key;
    const struct idempotency_record *in;
    struct idempotency_record *out;
};

static int idem_get_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "SELECT request_hash, status, content_type, location, body FROM idempotency"
        " WHERE scope = ? AND idem_key = ? AND created_at >= ?";
    struct idem_op *op = arg;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->scope);
    q_text(&q, op->key);
    q_int(&q, store_now() - IDEMPOTENCY_TTL_MS);
    rc = q_step(&q, err);
    if (rc == 0)
        rc = error_set(err, ERR_NOTFOUND, "not_found", NULL, "no idempotency record");
    if (rc <= 0)
        goto out;
    struct idempotency_record *r = xcalloc(1, sizeof(*r));
    snprintf(r->request_hash, sizeof(r->request_hash), "%s", col_text(q.s, 0));
    r->status = sqlite3_column_int(q.s, 1);
    r->content_type = xstrdup(col_text(q.s, 2));
    r->location = col_strdup(q.s, 3);
    r->body = xstrdup(col_text(q.s, 4));
    op->out = r;
    rc = 0;
out:
    q_close(&q);
    return rc;
}

/* Purges expired records on the way: each put costs the records that expired since the
 * previous one, found through the created_at index. */
static int idem_put_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql_purge[] = "DELETE FROM idempotency WHERE created_at < ?";
    static const char sql_insert[] =
        "INSERT INTO idempotency (scope, idem_key, request_hash, status, content_type,"
        " location, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (scope, idem_key) DO NOTHING";
    struct idem_op *op = arg;
    store_time now = store_now();
    struct q q;
    int rc = q_prepare(&q, c, sql_purge, err);
    if (rc < 0)
        goto out;
    q_int(&q, now - IDEMPOTENCY_TTL_MS);
    rc = q_exec(&q, err);
    q_close(&q);
    if (rc < 0)
        goto out;
    rc = q_prepare(&q, c, sql_insert, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->scope);
    q_text(&q, op->key);
    q_text(&q, op->in->request_hash);
    q_int(&q, op->in->status);
    q_text(&q, op->in->content_type ? op->in->content_type : "");
    q_text(&q, op->in->location);
    q_text(&q, op->in->body ? op->in->body : "");
    q_int(&q, now);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

int store_idempotency_get(struct store *st, const char *scope, const char *key,
                          struct idempotency_record **out, struct error *err)
{
    struct idem_op op = {.scope = scope, .key = key};
    int rc = store_read(st, idem_get_run, &op, err);
    if (rc < 0) {
        idempotency_record_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

int store_idempotency_put(struct store *st, const char *scope, const char *key,
                          const struct idempotency_record *rec, struct error *err)
{
    struct idem_op op = {.scope = scope, .key = key, .in = rec};
    return store_write(st, idem_put_run, &op, err);
}
