/* pools.c - pools and their blocks (api.md §3).
 *
 * A pool edit never moves an allocation: removing or shrinking a block that holds addresses
 * is refused; anything else rebuilds the pool's free space from blocks, flags and held
 * addresses. Status is O(1): totals and reserved counts are arithmetic over at most 1024
 * blocks, and the allocated count is a counter kept in the pool row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

#define IN_USE_NAMED 5 /* how many addresses a blocks_in_use detail names */

/* ------------------------------------------------------------------------- validation */

static void block_text(char out[NETRANGE_STRLEN], const struct pool_block *b)
{
    if (b->form == BLOCK_CIDR) {
        struct netprefix p = {
            .base = b->range.start, .len = b->prefix_len, .family = b->range.family};
        netprefix_format(out, &p);
        return;
    }
    netrange_format(out, &b->range);
}

static int block_check(const struct pool_block *b, size_t i, struct error *err)
{
    char field[32];
    int fam = b->range.family;
    int rc = 0;
    snprintf(field, sizeof(field), "/blocks/%zu", i);
    if (fam != NETADDR_V4 && fam != NETADDR_V6) {
        rc = error_set(err, ERR_INVALID, "invalid_block", field, "block %zu has no family", i);
        goto out;
    }
    u128 max = netaddr_max(fam);
    if (b->range.start > b->range.stop || b->range.stop > max) {
        rc = error_set(err, ERR_INVALID, "invalid_block", field,
                       "block %zu: start must not be after stop", i);
        goto out;
    }
    if (b->form == BLOCK_SINGLE && b->range.start != b->range.stop) {
        rc = error_set(err, ERR_INVALID, "invalid_block", field,
                       "block %zu: a single address has start == stop", i);
        goto out;
    }
    if (b->form == BLOCK_CIDR) {
        unsigned bits = netaddr_bits(fam);
        u128 host = b->prefix_len >= bits ? 0 : max >> b->prefix_len;
        if (b->prefix_len > bits || (b->range.start & host) != 0 ||
            b->range.stop != (b->range.start | host)) {
            rc = error_set(err, ERR_INVALID, "invalid_block", field,
                           "block %zu: the range does not match its prefix", i);
            goto out;
        }
    }
out:
    return rc;
}

struct indexed_block {
    const struct pool_block *b;
    size_t i; /* position in the request, for the error's field */
};

static int by_family_start(const void *a, const void *b)
{
    const struct pool_block *x = ((const struct indexed_block *)a)->b;
    const struct pool_block *y = ((const struct indexed_block *)b)->b;
    if (x->range.family != y->range.family)
        return x->range.family < y->range.family ? -1 : 1;
    if (x->range.start != y->range.start)
        return x->range.start < y->range.start ? -1 : 1;
    return 0;
}

/* Sorted by (family, start), a block overlaps an earlier one exactly when it starts before
 * the furthest stop seen so far in its family; `reach` is the block that has it. */
static int overlap_check(const struct pool *p, struct error *err)
{
    struct indexed_block *v = xcalloc(p->nblocks, sizeof(*v));
    int rc = 0;
    for (size_t i = 0; i < p->nblocks; i++)
        v[i] = (struct indexed_block){.b = &p->blocks[i], .i = i};
    qsort(v, p->nblocks, sizeof(*v), by_family_start);
    const struct indexed_block *reach = &v[0];
    for (size_t k = 1; k < p->nblocks; k++) {
        const struct indexed_block *cur = &v[k];
        if (reach->b->range.family == cur->b->range.family &&
            cur->b->range.start <= reach->b->range.stop) {
            const struct indexed_block *a = reach->i < cur->i ? reach : cur;
            const struct indexed_block *b = reach->i < cur->i ? cur : reach;
            char ta[NETRANGE_STRLEN], tb[NETRANGE_STRLEN], field[32];
            block_text(ta, a->b);
            block_text(tb, b->b);
            snprintf(field, sizeof(field), "/blocks/%zu", b->i);
            rc = error_set(err, ERR_INVALID, "overlapping_blocks", field,
                           "block %s (/blocks/%zu) overlaps block %s (/blocks/%zu)", tb, b->i, ta,
                           a->i);
            goto out;
        }
        if (reach->b->range.family != cur->b->range.family ||
            cur->b->range.stop > reach->b->range.stop)
            reach = cur;
    }
out:
    free(v);
    return rc;
}

int store_pool_validate(const struct pool *p, struct error *err)
{
    int rc = 0;
    if (p->nblocks < 1 || p->nblocks > POOL_BLOCKS_MAX) {
        rc = error_set(err, ERR_INVALID, "invalid_blocks", "/blocks",
                       "a pool has 1 to %d blocks, not %zu", POOL_BLOCKS_MAX, p->nblocks);
        goto out;
    }
    for (size_t i = 0; i < p->nblocks && rc == 0; i++)
        rc = block_check(&p->blocks[i], i, err);
    if (rc == 0)
        rc = overlap_check(p, err);
out:
    return rc;
}

/* ------------------------------------------------------------------------------ rows */

#define POOL_COLUMNS                                                                               \
    "id, name, description, labels, service_selector, cluster_selector, priority,"                 \
    " auto_assign, disabled, allow_first_last, avoid_buggy, has_v4, has_v6, used_v4, used_v6,"     \
    " held_reserved_v4, held_reserved_v6, version, created_at, updated_at"

struct pool_counts {
    int64_t used[2], held_reserved[2]; /* [0] IPv4, [1] IPv6 */
};

static int fam_index(int family)
{
    return family == NETADDR_V4 ? 0 : 1;
}

static int pool_from_row(sqlite3_stmt *s, struct pool **out, int64_t *id,
                         struct pool_counts *counts, struct error *err)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    int rc = 0;
    *id = sqlite3_column_int64(s, 0);
    snprintf(p->name, sizeof(p->name), "%s", col_text(s, 1));
    p->description = xstrdup(col_text(s, 2));
    rc = labels_column(&p->labels, col_text(s, 3), err);
    if (rc == 0)
        rc = selector_column(&p->service_selector, col_text(s, 4), err);
    if (rc == 0)
        rc = selector_column(&p->cluster_selector, col_text(s, 5), err);
    if (rc < 0)
        goto out;
    p->priority = sqlite3_column_int64(s, 6);
    p->auto_assign = sqlite3_column_int(s, 7);
    p->disabled = sqlite3_column_int(s, 8);
    p->allow_first_last_ips = sqlite3_column_int(s, 9);
    p->avoid_buggy_ips = sqlite3_column_int(s, 10);
    p->has_v4 = sqlite3_column_int(s, 11);
    p->has_v6 = sqlite3_column_int(s, 12);
    counts->used[0] = sqlite3_column_int64(s, 13);
    counts->used[1] = sqlite3_column_int64(s, 14);
    counts->held_reserved[0] = sqlite3_column_int64(s, 15);
    counts->held_reserved[1] = sqlite3_column_int64(s, 16);
    p->version = sqlite3_column_int64(s, 17);
    p->created_at = sqlite3_column_int64(s, 18);
    p->updated_at = sqlite3_column_int64(s, 19);
out:
    if (rc < 0) {
        pool_free(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

static int blocks_load(struct conn *c, int64_t id, struct pool *p, struct error *err)
{
    static const char sql[] = "SELECT family, start, stop, form, prefix_len FROM pool_blocks"
                              " WHERE pool_id = ? ORDER BY position";
    struct q q;
    size_t cap = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    while ((rc = q_step(&q, err)) > 0) {
        if (p->nblocks == cap) {
            cap = cap ? 2 * cap : 8;
            p->blocks = xrealloc(p->blocks, cap * sizeof(*p->blocks));
        }
        struct pool_block *b = &p->blocks[p->nblocks++];
        b->range.family = sqlite3_column_int(q.s, 0);
        b->range.start = col_addr(q.s, 1);
        b->range.stop = col_addr(q.s, 2);
        b->form = (enum block_form)sqlite3_column_int(q.s, 3);
        b->prefix_len = (unsigned)sqlite3_column_int(q.s, 4);
    }
out:
    q_close(&q);
    return rc;
}

/* total = every address of the family's blocks; used = allocated + reserved, where an
 * allocated address that the current flags reserve counts once. */
static void pool_status(struct pool *p, const struct pool_counts *counts)
{
    struct netcount total[2] = {{0}}, reserved[2] = {{0}};
    for (size_t i = 0; i < p->nblocks; i++) {
        const struct pool_block *b = &p->blocks[i];
        int f = fam_index(b->range.family);
        total[f] = netcount_add(total[f], netrange_size(&b->range));
        reserved[f] = netcount_add(
            reserved[f],
            netcount_from(block_reserved_count(b, p->allow_first_last_ips, p->avoid_buggy_ips)));
    }
    struct pool_family_status *st[2] = {&p->v4, &p->v6};
    for (int f = 0; f < 2; f++) {
        struct netcount used = netcount_add(reserved[f], netcount_from((u128)counts->used[f]));
        used = netcount_sub(used, netcount_from((u128)counts->held_reserved[f]));
        st[f]->total = total[f];
        st[f]->used = used;
        st[f]->available = netcount_sub(total[f], used);
    }
}

/* The whole pool by name: 1 found, 0 missing. */
static int pool_load(struct conn *c, const char *name, struct pool **out, int64_t *id,
                     struct error *err)
{
    static const char sql[] = "SELECT " POOL_COLUMNS " FROM pools WHERE name = ?";
    struct pool_counts counts;
    struct q q;
    *out = NULL;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, name);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    rc = pool_from_row(q.s, out, id, &counts, err);
    q_close(&q);
    if (rc == 0)
        rc = blocks_load(c, *id, *out, err);
    if (rc < 0)
        goto out;
    pool_status(*out, &counts);
    rc = 1;
out:
    q_close(&q);
    if (rc < 0) {
        pool_free(*out);
        *out = NULL;
    }
    return rc;
}

static int not_found(struct error *err, const char *name)
{
    return error_set(err, ERR_NOTFOUND, "not_found", NULL, "pool %s does not exist", name);
}

static int version_check(int64_t have, int64_t if_match, const char *name, struct error *err)
{
    if (if_match < 0 || if_match == have)
        return 0;
    return error_set(err, ERR_PRECONDITION, "precondition_failed", NULL,
                     "pool %s is at version %lld, not %lld", name, (long long)have,
                     (long long)if_match);
}

/* ----------------------------------------------------------------------- pool writing */

static bool has_family(const struct pool *p, int family)
{
    for (size_t i = 0; i < p->nblocks; i++) {
        if (p->blocks[i].range.family == family)
            return true;
    }
    return false;
}

/* Refuses a block that overlaps another pool's: there is never a conflicting pool stored. */
static int conflict_check(struct conn *c, const struct pool *p, int64_t self, struct error *err)
{
    struct block_row other;
    int rc = 0;
    for (size_t i = 0; i < p->nblocks; i++) {
        rc = blocks_overlap(c, &p->blocks[i].range, self, &other, err);
        if (rc < 0)
            goto out;
        if (rc == 0)
            continue;
        char mine[NETRANGE_STRLEN], theirs[NETRANGE_STRLEN], owner[STORE_NAME_MAX];
        char field[32];
        rc = pool_name_of(c, other.pool_id, owner, err);
        if (rc < 0)
            goto out;
        block_text(mine, &p->blocks[i]);
        netrange_format(theirs, &other.block.range);
        snprintf(field, sizeof(field), "/blocks/%zu", i);
        rc = error_set(err, ERR_CONFLICT, "pool_conflict", field, "block %s overlaps %s of pool %s",
                       mine, theirs, owner);
        goto out;
    }
out:
    return rc;
}

static int blocks_write(struct conn *c, int64_t id, const struct pool *p, struct error *err)
{
    static const char sql_clear[] = "DELETE FROM pool_blocks WHERE pool_id = ?";
    static const char sql_insert[] =
        "INSERT INTO pool_blocks (pool_id, position, family, start, stop, form, prefix_len)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)";
    struct q q;
    int rc = q_prepare(&q, c, sql_clear, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    rc = q_exec(&q, err);
    q_close(&q);
    for (size_t i = 0; i < p->nblocks && rc == 0; i++) {
        const struct pool_block *b = &p->blocks[i];
        rc = q_prepare(&q, c, sql_insert, err);
        if (rc < 0)
            goto out;
        q_int(&q, id);
        q_int(&q, (int64_t)i);
        q_int(&q, b->range.family);
        q_addr(&q, b->range.start, b->range.family);
        q_addr(&q, b->range.stop, b->range.family);
        q_int(&q, b->form);
        q_int(&q, b->form == BLOCK_CIDR ? b->prefix_len : 0);
        rc = q_exec(&q, err);
        q_close(&q);
    }
out:
    q_close(&q);
    return rc;
}

/* Free space of both families from scratch, and the held_reserved counters. */
static int space_rebuild(struct conn *c, int64_t id, const struct pool *p, struct error *err)
{
    static const char sql[] =
        "UPDATE pools SET held_reserved_v4 = ?, held_reserved_v6 = ? WHERE id = ?";
    int64_t held_reserved[2] = {0, 0};
    int fams[2] = {NETADDR_V4, NETADDR_V6};
    int rc = 0;
    struct q q = {0};
    for (int f = 0; f < 2 && rc == 0; f++)
        rc = ranges_rebuild(c, id, fams[f], p->blocks, p->nblocks, p->allow_first_last_ips,
                            p->avoid_buggy_ips, &held_reserved[f], err);
    if (rc == 0)
        rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, held_reserved[0]);
    q_int(&q, held_reserved[1]);
    q_int(&q, id);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

/* The text columns of a pool, encoded once for insert, update and comparison. */
struct pool_text {
    char *labels, *service_selector, *cluster_selector;
};

static void pool_text_init(struct pool_text *t, const struct pool *p)
{
    t->labels = labels_encode(&p->labels);
    t->service_selector = selector_encode(&p->service_selector);
    t->cluster_selector = selector_encode(&p->cluster_selector);
}

static void pool_text_cleanup(struct pool_text *t)
{
    free(t->labels);
    free(t->service_selector);
    free(t->cluster_selector);
}

static void bind_pool_columns(struct q *q, const struct pool *p, const struct pool_text *t)
{
    q_text(q, p->description ? p->description : "");
    q_text(q, t->labels);
    q_text(q, t->service_selector);
    q_text(q, t->cluster_selector);
    q_int(q, !selector_is_empty(&p->service_selector));
    q_int(q, p->priority);
    q_int(q, p->auto_assign);
    q_int(q, p->disabled);
    q_int(q, p->allow_first_last_ips);
    q_int(q, p->avoid_buggy_ips);
    q_int(q, has_family(p, NETADDR_V4));
    q_int(q, has_family(p, NETADDR_V6));
}

struct pool_op {
    const char *actor; /* who asks: recorded in the event */
    const struct pool *in;
    const char *name;
    int64_t if_match;
    bool force;
    struct pool *out;
};

static int pool_create_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "INSERT INTO pools (name, description, labels, service_selector, cluster_selector,"
        " specific, priority, auto_assign, disabled, allow_first_last, avoid_buggy, has_v4,"
        " has_v6, version, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
    struct pool_op *op = arg;
    struct pool *old = NULL;
    struct pool_text t;
    int64_t id = 0;
    store_time now = store_now();
    struct q q = {0};
    pool_text_init(&t, op->in);
    int rc = pool_load(c, op->in->name, &old, &id, err);
    if (rc < 0)
        goto out;
    if (rc > 0) {
        rc = error_set(err, ERR_CONFLICT, "already_exists", "/name", "pool %s already exists",
                       op->in->name);
        goto out;
    }
    rc = conflict_check(c, op->in, 0, err);
    if (rc < 0)
        goto out;
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->in->name);
    bind_pool_columns(&q, op->in, &t);
    q_int(&q, now);
    q_int(&q, now);
    rc = q_exec(&q, err);
    if (rc < 0)
        goto out;
    id = sqlite3_last_insert_rowid(c->db);
    rc = blocks_write(c, id, op->in, err);
    if (rc == 0)
        rc = space_rebuild(c, id, op->in, err);
    if (rc == 0)
        rc = pool_load(c, op->in->name, &op->out, &id, err);
    if (rc > 0)
        rc = pool_warnings_fill(c, &op->out, 1, err); /* status.warnings (reach.c) */
out:
    q_close(&q);
    pool_text_cleanup(&t);
    pool_free(old);
    return rc;
}

static bool blocks_equal(const struct pool *a, const struct pool *b)
{
    if (a->nblocks != b->nblocks)
        return false;
    for (size_t i = 0; i < a->nblocks; i++) {
        const struct pool_block *x = &a->blocks[i], *y = &b->blocks[i];
        if (x->form != y->form || x->range.family != y->range.family ||
            x->range.start != y->range.start || x->range.stop != y->range.stop ||
            (x->form == BLOCK_CIDR && x->prefix_len != y->prefix_len))
            return false;
    }
    return true;
}

/* Space changes when blocks or the flags that reserve addresses change. */
static bool space_equal(const struct pool *a, const struct pool *b)
{
    return blocks_equal(a, b) && a->allow_first_last_ips == b->allow_first_last_ips &&
           a->avoid_buggy_ips == b->avoid_buggy_ips;
}

static bool pool_equal(const struct pool *a, const struct pool *b, const struct pool_text *ta,
                       const struct pool_text *tb)
{
    return space_equal(a, b) && str_equal(a->description ? a->description : "", b->description) &&
           strcmp(ta->labels, tb->labels) == 0 &&
           strcmp(ta->service_selector, tb->service_selector) == 0 &&
           strcmp(ta->cluster_selector, tb->cluster_selector) == 0 && a->priority == b->priority &&
           a->auto_assign == b->auto_assign && a->disabled == b->disabled;
}

/* The complement of the new blocks of one family, as gaps, is where a held address would be
 * stranded: one range query per gap (at most 1025), not a scan of the allocations. */
struct stranded {
    int64_t count;
    char names[IN_USE_NAMED][NETADDR_STRLEN];
};

static int stranded_in(struct conn *c, int64_t id, int family, u128 lo, u128 hi, struct stranded *s,
                       struct error *err)
{
    static const char sql[] = "SELECT ip FROM held WHERE pool_id = ? AND family = ? AND"
                              " ip >= ? AND ip <= ? ORDER BY ip";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    q_int(&q, family);
    q_addr(&q, lo, family);
    q_addr(&q, hi, family);
    while ((rc = q_step(&q, err)) > 0) {
        if (s->count < IN_USE_NAMED) {
            struct netaddr a = {.v = col_addr(q.s, 0), .family = family};
            netaddr_format(s->names[s->count], &a);
        }
        s->count++;
    }
out:
    q_close(&q);
    return rc;
}

static int blocks_in_use_check(struct conn *c, int64_t id, const struct pool *in, struct error *err)
{
    struct stranded s = {0};
    int fams[2] = {NETADDR_V4, NETADDR_V6};
    struct pool_block *sorted = xcalloc(in->nblocks, sizeof(*sorted));
    int rc = 0;
    for (int f = 0; f < 2 && rc == 0; f++) {
        size_t n = 0;
        for (size_t i = 0; i < in->nblocks; i++) {
            if (in->blocks[i].range.family == fams[f])
                sorted[n++] = in->blocks[i];
        }
        /* insertion sort: validated blocks, at most 1024 */
        for (size_t i = 1; i < n; i++) {
            struct pool_block b = sorted[i];
            size_t j = i;
            for (; j > 0 && sorted[j - 1].range.start > b.range.start; j--)
                sorted[j] = sorted[j - 1];
            sorted[j] = b;
        }
        u128 lo = 0;
        bool open = true; /* [lo, …] still to check */
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (sorted[i].range.start > lo)
                rc = stranded_in(c, id, fams[f], lo, sorted[i].range.start - 1, &s, err);
            if (sorted[i].range.stop == netaddr_max(fams[f]))
                open = false;
            else
                lo = sorted[i].range.stop + 1;
        }
        if (rc == 0 && open)
            rc = stranded_in(c, id, fams[f], lo, netaddr_max(fams[f]), &s, err);
    }
    if (rc == 0 && s.count > 0) {
        char list[IN_USE_NAMED * (NETADDR_STRLEN + 2)] = "";
        size_t len = 0;
        for (int64_t i = 0; i < s.count && i < IN_USE_NAMED; i++)
            len +=
                (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", s.names[i]);
        rc = error_set(err, ERR_CONFLICT, "blocks_in_use", "/blocks",
                       "%lld allocated address%s would be outside the pool's blocks: %s%s",
                       (long long)s.count, s.count == 1 ? "" : "es", list,
                       s.count > IN_USE_NAMED ? ", …" : "");
    }
    free(sorted);
    return rc;
}

static int pool_replace_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "UPDATE pools SET description = ?, labels = ?, service_selector = ?,"
        " cluster_selector = ?, specific = ?, priority = ?, auto_assign = ?, disabled = ?,"
        " allow_first_last = ?, avoid_buggy = ?, has_v4 = ?, has_v6 = ?,"
        " version = version + 1, updated_at = ? WHERE id = ?";
    struct pool_op *op = arg;
    struct pool *old = NULL;
    struct pool_text t, told = {0};
    int64_t id = 0;
    struct q q = {0};
    pool_text_init(&t, op->in);
    int rc = pool_load(c, op->in->name, &old, &id, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = not_found(err, op->in->name);
        goto out;
    }
    rc = version_check(old->version, op->if_match, old->name, err);
    if (rc < 0)
        goto out;
    pool_text_init(&told, old);
    if (pool_equal(op->in, old, &t, &told)) { /* nothing to write: the ETag stays */
        op->out = old;
        old = NULL;
        rc = pool_warnings_fill(c, &op->out, 1, err); /* status.warnings (reach.c) */
        goto out;
    }
    rc = conflict_check(c, op->in, id, err);
    if (rc == 0 && !blocks_equal(op->in, old))
        rc = blocks_in_use_check(c, id, op->in, err);
    if (rc < 0)
        goto out;
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    bind_pool_columns(&q, op->in, &t);
    q_int(&q, store_now());
    q_int(&q, id);
    rc = q_exec(&q, err);
    if (rc == 0 && !blocks_equal(op->in, old))
        rc = blocks_write(c, id, op->in, err);
    if (rc == 0 && !space_equal(op->in, old))
        rc = space_rebuild(c, id, op->in, err);
    if (rc == 0)
        rc = pool_load(c, op->in->name, &op->out, &id, err);
    if (rc > 0)
        rc = pool_warnings_fill(c, &op->out, 1, err); /* status.warnings (reach.c) */
out:
    q_close(&q);
    pool_text_cleanup(&t);
    pool_text_cleanup(&told);
    pool_free(old);
    return rc;
}

static int pool_delete_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] = "DELETE FROM pools WHERE id = ?";
    struct pool_op *op = arg;
    struct pool *old = NULL;
    int64_t id = 0;
    struct q q = {0};
    int rc = pool_load(c, op->name, &old, &id, err);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = not_found(err, op->name);
        goto out;
    }
    rc = version_check(old->version, op->if_match, old->name, err);
    if (rc < 0)
        goto out;
    int64_t used = 0;
    rc = q_prepare(&q, c, "SELECT used_v4 + used_v6 FROM pools WHERE id = ?", err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    rc = q_step(&q, err);
    if (rc > 0)
        used = sqlite3_column_int64(q.s, 0);
    q_close(&q);
    if (rc < 0)
        goto out;
    if (used > 0 && !op->force) {
        rc = error_set(err, ERR_CONFLICT, "pool_in_use", NULL,
                       "pool %s holds %lld allocated address%s; delete with force=true to "
                       "release them",
                       old->name, (long long)used, used == 1 ? "" : "es");
        goto out;
    }
    if (used > 0) {
        rc = alloc_release_pool(c, op->actor, id, old->name, err);
        if (rc < 0)
            goto out;
    }
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, id);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    pool_free(old);
    return rc;
}

struct pool_read {
    const char *name;
    const struct store_page *page;
    struct pool *out;
    struct pool_list *list;
};

static int pool_get_run(struct conn *c, void *arg, struct error *err)
{
    struct pool_read *r = arg;
    int64_t id;
    int rc = pool_load(c, r->name, &r->out, &id, err);
    if (rc == 0)
        rc = not_found(err, r->name);
    if (rc > 0)
        rc = pool_warnings_fill(c, &r->out, 1, err); /* status.warnings (reach.c) */
    return rc < 0 ? rc : 0;
}

static int pool_list_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "SELECT " POOL_COLUMNS " FROM pools WHERE name > ? ORDER BY name LIMIT ?";
    struct pool_read *r = arg;
    struct pool_list *l = r->list;
    int limit = r->page->limit;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, r->page->after ? r->page->after : "");
    q_int(&q, limit + 1);
    l->items = xcalloc((size_t)limit, sizeof(struct pool *));
    int64_t *ids = xcalloc((size_t)limit, sizeof(*ids));
    struct pool_counts *counts = xcalloc((size_t)limit, sizeof(*counts));
    bool more = false;
    while ((rc = q_step(&q, err)) > 0) {
        if (l->n == (size_t)limit) {
            more = true;
            break;
        }
        rc = pool_from_row(q.s, &l->items[l->n], &ids[l->n], &counts[l->n], err);
        if (rc < 0)
            break;
        l->n++;
    }
    q_close(&q);
    for (size_t i = 0; i < l->n && rc >= 0; i++) {
        rc = blocks_load(c, ids[i], l->items[i], err);
        if (rc >= 0)
            pool_status(l->items[i], &counts[i]);
    }
    if (rc >= 0)
        rc = pool_warnings_fill(c, l->items, l->n, err); /* status.warnings (reach.c) */
    if (rc >= 0 && more && l->n > 0)
        snprintf(l->next, sizeof(l->next), "%s", l->items[l->n - 1]->name);
    free(ids);
    free(counts);
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------------- public API */

/* The event of a pool write, appended in its transaction when it changed anything (a
 * replace with the same content writes nothing and records nothing). */
static int pool_event(struct conn *c, const struct pool_op *op, const char *action,
                      const char *name, struct error *err)
{
    static const char sql[] = "SELECT json_object('name', ?, 'version', CAST(? AS INTEGER),"
                              " 'force', json(?))";
    char resource[STORE_NAME_MAX + 16], version[24];
    const char *args[] = {name, op->out ? version : NULL, op->force ? "true" : "false"};
    char *data = NULL;
    snprintf(resource, sizeof(resource), "pools/%s", name);
    snprintf(version, sizeof(version), "%lld", op->out ? (long long)op->out->version : 0LL);
    int rc = event_json(c, &data, sql, args, 3, err);
    if (rc == 0)
        rc = event_append(c, op->actor, action, resource, data, err);
    free(data);
    return rc;
}

static int pool_create_logged(struct conn *c, void *arg, struct error *err)
{
    struct pool_op *op = arg;
    int rc = pool_create_run(c, arg, err);
    return rc < 0 ? rc : pool_event(c, op, "pool.created", op->in->name, err);
}

static int pool_replace_logged(struct conn *c, void *arg, struct error *err)
{
    struct pool_op *op = arg;
    int changes = sqlite3_total_changes(c->db);
    int rc = pool_replace_run(c, arg, err);
    if (rc == 0 && sqlite3_total_changes(c->db) != changes)
        rc = pool_event(c, op, "pool.replaced", op->in->name, err);
    return rc;
}

static int pool_delete_logged(struct conn *c, void *arg, struct error *err)
{
    struct pool_op *op = arg;
    int rc = pool_delete_run(c, arg, err);
    return rc < 0 ? rc : pool_event(c, op, "pool.deleted", op->name, err);
}

static int pool_input_check(const struct pool *in, struct error *err)
{
    char name[STORE_NAME_MAX];
    int rc = name_copy(name, in->name, "pool", err);
    if (rc == 0)
        rc = store_pool_validate(in, err);
    return rc;
}

int store_pool_create(struct store *st, const char *actor, const struct pool *in, struct pool **out,
                      struct error *err)
{
    struct pool_op op = {.actor = actor, .in = in};
    int rc = pool_input_check(in, err);
    if (rc == 0)
        rc = store_write(st, pool_create_logged, &op, err);
    if (rc < 0) {
        pool_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

int store_pool_get(struct store *st, const char *name, struct pool **out, struct error *err)
{
    struct pool_read r = {.name = name};
    int rc = store_read(st, pool_get_run, &r, err);
    if (rc < 0) {
        pool_free(r.out);
        r.out = NULL;
    }
    *out = r.out;
    return rc;
}

int store_pool_replace(struct store *st, const char *actor, const struct pool *in, int64_t if_match,
                       struct pool **out, struct error *err)
{
    struct pool_op op = {.actor = actor, .in = in, .if_match = if_match};
    int rc = pool_input_check(in, err);
    if (rc == 0)
        rc = store_write(st, pool_replace_logged, &op, err);
    if (rc < 0) {
        pool_free(op.out);
        op.out = NULL;
    }
    *out = op.out;
    return rc;
}

int store_pool_delete(struct store *st, const char *actor, const char *name, int64_t if_match,
                      bool force, struct error *err)
{
    struct pool_op op = {.actor = actor, .name = name, .if_match = if_match, .force = force};
    return store_write(st, pool_delete_logged, &op, err);
}

int store_pool_list(struct store *st, const struct store_page *page, struct pool_list *out,
                    struct error *err)
{
    struct pool_read r = {.page = page, .list = out};
    memset(out, 0, sizeof(*out));
    int rc = page_check(page, err);
    if (rc == 0)
        rc = store_read(st, pool_list_run, &r, err);
    if (rc < 0)
        pool_list_cleanup(out);
    return rc;
}

/* ------------------------------------------------------------- what the allocator uses */

#define META_COLUMNS                                                                               \
    "id, name, auto_assign, disabled, allow_first_last, avoid_buggy, has_v4, has_v6,"              \
    " service_selector, cluster_selector"

void pool_meta_cleanup(struct pool_meta *m)
{
    selector_cleanup(&m->service_selector);
    selector_cleanup(&m->cluster_selector);
}

static int meta_from_row(sqlite3_stmt *s, struct pool_meta *m, struct error *err)
{
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(s, 0);
    snprintf(m->name, sizeof(m->name), "%s", col_text(s, 1));
    m->auto_assign = sqlite3_column_int(s, 2);
    m->disabled = sqlite3_column_int(s, 3);
    m->allow_first_last = sqlite3_column_int(s, 4);
    m->avoid_buggy = sqlite3_column_int(s, 5);
    m->has_v4 = sqlite3_column_int(s, 6);
    m->has_v6 = sqlite3_column_int(s, 7);
    int rc = selector_column(&m->service_selector, col_text(s, 8), err);
    if (rc == 0)
        rc = selector_column(&m->cluster_selector, col_text(s, 9), err);
    if (rc < 0)
        pool_meta_cleanup(m);
    return rc;
}

static int meta_query(struct conn *c, const char *sql, int64_t id, const char *name,
                      struct pool_meta *out, bool *found, struct error *err)
{
    struct q q;
    *found = false;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    if (name)
        q_text(&q, name);
    else
        q_int(&q, id);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    rc = meta_from_row(q.s, out, err);
    *found = rc == 0;
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

int pool_meta_by_id(struct conn *c, int64_t id, struct pool_meta *out, struct error *err)
{
    static const char sql[] = "SELECT " META_COLUMNS " FROM pools WHERE id = ?";
    bool found;
    int rc = meta_query(c, sql, id, NULL, out, &found, err);
    if (rc == 0 && !found)
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error (no pool)");
    return rc;
}

int pool_meta_by_name(struct conn *c, const char *name, struct pool_meta *out, bool *found,
                      struct error *err)
{
    static const char sql[] = "SELECT " META_COLUMNS " FROM pools WHERE name = ?";
    return meta_query(c, sql, 0, name, out, found, err);
}

int pool_candidates(struct conn *c, int family, struct pool_meta **out, size_t *n,
                    struct error *err)
{
    static const char sql_v4[] = "SELECT " META_COLUMNS " FROM pools WHERE disabled = 0 AND"
                                 " auto_assign = 1 AND has_v4 = 1"
                                 " ORDER BY priority DESC, specific DESC, name";
    static const char sql_v6[] = "SELECT " META_COLUMNS " FROM pools WHERE disabled = 0 AND"
                                 " auto_assign = 1 AND has_v6 = 1"
                                 " ORDER BY priority DESC, specific DESC, name";
    struct q q;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc = q_prepare(&q, c, family == NETADDR_V4 ? sql_v4 : sql_v6, err);
    if (rc < 0)
        goto out;
    while ((rc = q_step(&q, err)) > 0) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        rc = meta_from_row(q.s, &(*out)[*n], err);
        if (rc < 0)
            break;
        (*n)++;
    }
out:
    q_close(&q);
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            pool_meta_cleanup(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc < 0 ? rc : 0;
}

int pool_count_used(struct conn *c, int64_t pool_id, int family, int delta, bool reserved,
                    struct error *err)
{
    static const char sql_v4[] = "UPDATE pools SET used_v4 = used_v4 + ?,"
                                 " held_reserved_v4 = held_reserved_v4 + ? WHERE id = ?";
    static const char sql_v6[] = "UPDATE pools SET used_v6 = used_v6 + ?,"
                                 " held_reserved_v6 = held_reserved_v6 + ? WHERE id = ?";
    struct q q;
    int rc = q_prepare(&q, c, family == NETADDR_V4 ? sql_v4 : sql_v6, err);
    if (rc < 0)
        goto out;
    q_int(&q, delta);
    q_int(&q, reserved ? delta : 0);
    q_int(&q, pool_id);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

int pool_name_of(struct conn *c, int64_t pool_id, char out[STORE_NAME_MAX], struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, "SELECT name FROM pools WHERE id = ?", err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    rc = q_step(&q, err);
    if (rc == 0)
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error (no pool)");
    if (rc > 0) {
        snprintf(out, STORE_NAME_MAX, "%s", col_text(q.s, 0));
        rc = 0;
    }
out:
    q_close(&q);
    return rc;
}

int pool_reserves(struct conn *c, int64_t pool_id, const struct netaddr *ip, bool *reserved,
                  struct error *err)
{
    static const char sql[] = "SELECT allow_first_last, avoid_buggy FROM pools WHERE id = ?";
    struct block_row b;
    struct q q = {0};
    *reserved = false;
    int rc = blocks_find(c, ip, &b, err);
    if (rc <= 0 || b.pool_id != pool_id) {
        rc = rc < 0 ? rc : 0;
        goto out;
    }
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    rc = q_step(&q, err);
    if (rc > 0)
        *reserved =
            block_reserves(&b.block, sqlite3_column_int(q.s, 0), sqlite3_column_int(q.s, 1), ip->v);
out:
    q_close(&q);
    return rc;
}
