/* ranges.c - the allocator: blocks of all pools, and free space kept as ranges.
 *
 * free_ranges holds disjoint [start, stop] ranges per (pool, family), keyed by start in a
 * WITHOUT ROWID B-tree. Lowest free address = first row; taking a given address = the row
 * with the greatest start <= ip, split; releasing = merge with the range ending at ip-1 and
 * the one starting at ip+1. Each is a constant number of B-tree descents, so the cost does
 * not depend on the pool's size nor on how many addresses are allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

/* ------------------------------------------------------------------------------ blocks */

static void block_from_row(sqlite3_stmt *s, int col, struct block_row *out)
{
    out->pool_id = sqlite3_column_int64(s, col);
    out->block.range.family = sqlite3_column_int(s, col + 1);
    out->block.range.start = col_addr(s, col + 2);
    out->block.range.stop = col_addr(s, col + 3);
    out->block.form = (enum block_form)sqlite3_column_int(s, col + 4);
    out->block.prefix_len = (unsigned)sqlite3_column_int(s, col + 5);
}

/* Blocks never overlap, so the block with the greatest start <= ip is the only candidate. */
int blocks_find(struct conn *c, const struct netaddr *ip, struct block_row *out, struct error *err)
{
    static const char sql[] =
        "SELECT pool_id, family, start, stop, form, prefix_len FROM pool_blocks"
        " WHERE family = ? AND start <= ? ORDER BY start DESC LIMIT 1";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, ip->family);
    q_addr(&q, ip->v, ip->family);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    block_from_row(q.s, 0, out);
    rc = out->block.range.stop >= ip->v ? 1 : 0;
out:
    q_close(&q);
    return rc;
}

/* Other pools' blocks are disjoint among themselves: of those starting at or before r's stop,
 * only the last one can reach r. */
int blocks_overlap(struct conn *c, const struct netrange *r, int64_t exclude_pool_id,
                   struct block_row *out, struct error *err)
{
    static const char sql[] =
        "SELECT pool_id, family, start, stop, form, prefix_len FROM pool_blocks"
        " WHERE family = ? AND start <= ? AND pool_id <> ? ORDER BY start DESC LIMIT 1";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, r->family);
    q_addr(&q, r->stop, r->family);
    q_int(&q, exclude_pool_id);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    block_from_row(q.s, 0, out);
    rc = out->block.range.stop >= r->start ? 1 : 0;
out:
    q_close(&q);
    return rc;
}

/* ---------------------------------------------------------------------------- reserved */

static bool first_last_reserved(const struct pool_block *b, bool allow_first_last)
{
    unsigned smallest = b->range.family == NETADDR_V4 ? 31 : 127;
    return !allow_first_last && b->form == BLOCK_CIDR && b->prefix_len < smallest;
}

static bool is_buggy(u128 ip, int family)
{
    unsigned last = (unsigned)(ip & 0xff);
    return family == NETADDR_V4 && (last == 0 || last == 255);
}

bool block_reserves(const struct pool_block *b, bool allow_first_last, bool avoid_buggy, u128 ip)
{
    if (first_last_reserved(b, allow_first_last) && (ip == b->range.start || ip == b->range.stop))
        return true;
    return avoid_buggy && is_buggy(ip, b->range.family);
}

/* Addresses x in [0, n] with x % 256 == r. */
static u128 count_residue_upto(u128 n, unsigned r)
{
    return n >= r ? (n - r) / 256 + 1 : 0;
}

static u128 count_residue(u128 start, u128 stop, unsigned r)
{
    u128 below = start > 0 ? count_residue_upto(start - 1, r) : 0;
    return count_residue_upto(stop, r) - below;
}

u128 block_reserved_count(const struct pool_block *b, bool allow_first_last, bool avoid_buggy)
{
    const struct netrange *r = &b->range;
    bool buggy = avoid_buggy && r->family == NETADDR_V4;
    u128 n =
        buggy ? count_residue(r->start, r->stop, 0) + count_residue(r->start, r->stop, 255) : 0;
    if (first_last_reserved(b, allow_first_last)) {
        /* first != last here (the block has at least 4 addresses); count each once */
        if (!buggy || !is_buggy(r->start, r->family))
            n++;
        if (!buggy || !is_buggy(r->stop, r->family))
            n++;
    }
    return n;
}

/* ------------------------------------------------------------------------- free ranges */

static const char sql_range_at_or_below[] =
    "SELECT start, stop FROM free_ranges WHERE pool_id = ? AND family = ? AND start <= ?"
    " ORDER BY start DESC LIMIT 1";
static const char sql_range_delete[] =
    "DELETE FROM free_ranges WHERE pool_id = ? AND family = ? AND start = ?";
static const char sql_range_insert[] =
    "INSERT INTO free_ranges (pool_id, family, start, stop) VALUES (?, ?, ?, ?)";
static const char sql_range_set_stop[] =
    "UPDATE free_ranges SET stop = ? WHERE pool_id = ? AND family = ? AND start = ?";

static int range_insert(struct conn *c, int64_t pool_id, int family, u128 start, u128 stop,
                        struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, sql_range_insert, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    q_int(&q, family);
    q_addr(&q, start, family);
    q_addr(&q, stop, family);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

static int range_delete(struct conn *c, int64_t pool_id, int family, u128 start, struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, sql_range_delete, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    q_int(&q, family);
    q_addr(&q, start, family);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

static int range_set_stop(struct conn *c, int64_t pool_id, int family, u128 start, u128 stop,
                          struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, sql_range_set_stop, err);
    if (rc < 0)
        goto out;
    q_addr(&q, stop, family);
    q_int(&q, pool_id);
    q_int(&q, family);
    q_addr(&q, start, family);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

/* The free range with the greatest start <= ip: 1 found (whether or not it reaches ip). */
static int range_at_or_below(struct conn *c, int64_t pool_id, int family, u128 ip, u128 *start,
                             u128 *stop, struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, sql_range_at_or_below, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    q_int(&q, family);
    q_addr(&q, ip, family);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    *start = col_addr(q.s, 0);
    *stop = col_addr(q.s, 1);
out:
    q_close(&q);
    return rc;
}

/* Removes ip from the range [start, stop] that holds it. */
static int range_split(struct conn *c, int64_t pool_id, int family, u128 start, u128 stop, u128 ip,
                       struct error *err)
{
    int rc = 0;
    if (ip == start) {
        rc = range_delete(c, pool_id, family, start, err);
        if (rc == 0 && ip < stop)
            rc = range_insert(c, pool_id, family, ip + 1, stop, err);
    } else {
        rc = range_set_stop(c, pool_id, family, start, ip - 1, err);
        if (rc == 0 && ip < stop)
            rc = range_insert(c, pool_id, family, ip + 1, stop, err);
    }
    return rc;
}

int ranges_take_lowest(struct conn *c, int64_t pool_id, int family, u128 *out, struct error *err)
{
    static const char sql[] = "SELECT start, stop FROM free_ranges WHERE pool_id = ? AND"
                              " family = ? ORDER BY start LIMIT 1";
    struct q q;
    u128 start = 0, stop = 0;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    q_int(&q, family);
    rc = q_step(&q, err);
    if (rc <= 0)
        goto out;
    start = col_addr(q.s, 0);
    stop = col_addr(q.s, 1);
    q_close(&q);
    rc = range_split(c, pool_id, family, start, stop, start, err);
    if (rc < 0)
        goto out;
    *out = start;
    rc = 1;
out:
    q_close(&q);
    return rc;
}

int ranges_take(struct conn *c, int64_t pool_id, int family, u128 ip, struct error *err)
{
    u128 start = 0, stop = 0;
    int rc = range_at_or_below(c, pool_id, family, ip, &start, &stop, err);
    if (rc <= 0)
        goto out;
    if (stop < ip) {
        rc = 0;
        goto out;
    }
    rc = range_split(c, pool_id, family, start, stop, ip, err);
    if (rc == 0)
        rc = 1;
out:
    return rc;
}

int ranges_is_free(struct conn *c, int64_t pool_id, int family, u128 ip, struct error *err)
{
    u128 start = 0, stop = 0;
    int rc = range_at_or_below(c, pool_id, family, ip, &start, &stop, err);
    if (rc > 0)
        rc = stop >= ip ? 1 : 0;
    return rc;
}

int ranges_release(struct conn *c, int64_t pool_id, int family, u128 ip, struct error *err)
{
    u128 start = ip, stop = ip;
    u128 lstart = 0, lstop = 0, rstart = 0, rstop = 0;
    int rc = 0;
    /* the left neighbour ends at ip-1 */
    if (ip > 0) {
        rc = range_at_or_below(c, pool_id, family, ip - 1, &lstart, &lstop, err);
        if (rc < 0)
            goto out;
        if (rc > 0 && lstop >= ip) {
            rc = 0; /* already free: releasing twice must not duplicate it */
            goto out;
        }
        if (rc > 0 && lstop == ip - 1)
            start = lstart;
    }
    /* the right neighbour starts at ip+1 */
    if (ip < netaddr_max(family)) {
        rc = range_at_or_below(c, pool_id, family, ip + 1, &rstart, &rstop, err);
        if (rc < 0)
            goto out;
        if (rc > 0 && rstart == ip + 1) {
            stop = rstop;
            rc = range_delete(c, pool_id, family, rstart, err);
            if (rc < 0)
                goto out;
        }
    }
    if (start != ip)
        rc = range_set_stop(c, pool_id, family, start, stop, err);
    else
        rc = range_insert(c, pool_id, family, start, stop, err);
out:
    return rc < 0 ? rc : 0;
}

/* ----------------------------------------------------------------------------- rebuild */

/* Builds free space in address order, merging what touches: pending is the range not yet
 * written. */
struct builder {
    struct conn *c;
    int64_t pool_id;
    int family;
    bool pending;
    u128 start, stop;
};

static int builder_add(struct builder *b, u128 start, u128 stop, struct error *err)
{
    int rc = 0;
    if (b->pending && b->stop + 1 == start) {
        b->stop = stop;
        goto out;
    }
    if (b->pending)
        rc = range_insert(b->c, b->pool_id, b->family, b->start, b->stop, err);
    b->pending = true;
    b->start = start;
    b->stop = stop;
out:
    return rc;
}

static int builder_flush(struct builder *b, struct error *err)
{
    int rc = 0;
    if (b->pending)
        rc = range_insert(b->c, b->pool_id, b->family, b->start, b->stop, err);
    b->pending = false;
    return rc;
}

/* The held addresses of the pool, in order, one at a time. */
struct held_cursor {
    struct q q;
    bool valid;
    u128 ip;
};

static int held_next(struct held_cursor *h, struct error *err)
{
    int rc = q_step(&h->q, err);
    h->valid = rc > 0;
    if (h->valid)
        h->ip = col_addr(h->q.s, 0);
    return rc < 0 ? rc : 0;
}

/* Adds [start, stop] minus held addresses. Held addresses below start are skipped (they sit
 * on reserved spots) and *outside counts them. */
static int add_minus_held(struct builder *b, struct held_cursor *h, u128 start, u128 stop,
                          int64_t *outside, struct error *err)
{
    int rc = 0;
    u128 cur = start;
    bool more = true; /* cur <= stop still to cover */
    while (h->valid && h->ip < start) {
        (*outside)++;
        rc = held_next(h, err);
        if (rc < 0)
            goto out;
    }
    while (more && h->valid && h->ip <= stop) {
        if (h->ip > cur)
            rc = builder_add(b, cur, h->ip - 1, err);
        if (rc < 0)
            goto out;
        if (h->ip == stop)
            more = false;
        else
            cur = h->ip + 1;
        rc = held_next(h, err);
        if (rc < 0)
            goto out;
    }
    if (more)
        rc = builder_add(b, cur, stop, err);
out:
    return rc;
}

/* The block's addresses minus reserved ones, as ranges in order. */
static int add_block(struct builder *b, struct held_cursor *h, const struct pool_block *blk,
                     bool allow_first_last, bool avoid_buggy, int64_t *outside, struct error *err)
{
    u128 start = blk->range.start, stop = blk->range.stop;
    int rc = 0;
    if (first_last_reserved(blk, allow_first_last)) {
        start++;
        stop--;
    }
    if (!(avoid_buggy && blk->range.family == NETADDR_V4)) {
        rc = add_minus_held(b, h, start, stop, outside, err);
        goto out;
    }
    /* x.x.x.1 - x.x.x.254 of every /24 the block touches */
    for (u128 base = start & ~(u128)0xff; base <= stop && rc == 0; base += 256) {
        u128 lo = base + 1 > start ? base + 1 : start;
        u128 hi = base + 254 < stop ? base + 254 : stop;
        if (lo <= hi)
            rc = add_minus_held(b, h, lo, hi, outside, err);
    }
out:
    return rc;
}

static int block_cmp(const void *a, const void *b)
{
    const struct pool_block *x = a, *y = b;
    if (x->range.start != y->range.start)
        return x->range.start < y->range.start ? -1 : 1;
    return 0;
}

int ranges_rebuild(struct conn *c, int64_t pool_id, int family, const struct pool_block *blocks,
                   size_t nblocks, bool allow_first_last, bool avoid_buggy, int64_t *held_reserved,
                   struct error *err)
{
    static const char sql_clear[] = "DELETE FROM free_ranges WHERE pool_id = ? AND family = ?";
    static const char sql_held[] =
        "SELECT ip FROM held WHERE pool_id = ? AND family = ? ORDER BY ip";
    struct builder b = {.c = c, .pool_id = pool_id, .family = family};
    struct held_cursor h = {.valid = false};
    struct pool_block *sorted = NULL;
    size_t n = 0;
    int64_t outside = 0;
    struct q q;
    int rc = q_prepare(&q, c, sql_clear, err);
    if (rc < 0)
        goto out;
    q_int(&q, pool_id);
    q_int(&q, family);
    rc = q_exec(&q, err);
    if (rc < 0)
        goto out;

    sorted = xcalloc(nblocks, sizeof(*sorted));
    for (size_t i = 0; i < nblocks; i++) {
        if (blocks[i].range.family == family)
            sorted[n++] = blocks[i];
    }
    qsort(sorted, n, sizeof(*sorted), block_cmp);

    rc = q_prepare(&h.q, c, sql_held, err);
    if (rc < 0)
        goto out;
    q_int(&h.q, pool_id);
    q_int(&h.q, family);
    rc = held_next(&h, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = add_block(&b, &h, &sorted[i], allow_first_last, avoid_buggy, &outside, err);
    /* held addresses after the last usable range are reserved ones too */
    while (rc == 0 && h.valid) {
        outside++;
        rc = held_next(&h, err);
    }
    if (rc == 0)
        rc = builder_flush(&b, err);
    if (rc == 0)
        *held_reserved = outside;
out:
    q_close(&h.q);
    q_close(&q);
    free(sorted);
    return rc;
}
