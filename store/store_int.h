/* store_int.h - what the files of store/ share: connections, the query helper, the writer
 * queue and the internal operations of each table group. Nothing outside store/ includes it.
 *
 * Invariants the schema (migrations/0001_init.sql) relies on, kept by the code here:
 * - blocks of all pools are disjoint, so "which block holds ip" is one descent of
 *   pool_blocks_by_start (greatest start <= ip, then stop >= ip);
 * - every address of a block is in exactly one of: free_ranges, held, or reserved by the
 *   pool's current flags (the reserved ones are computed, never stored) — except addresses
 *   held before a flag change made them reserved, which stay held (counted in
 *   pools.held_reserved_*) and do not return to free_ranges when released;
 * - pools.used_v4/used_v6 = number of held rows of the pool and family;
 * - clusters.allocations = number of allocations rows of the cluster.
 */
#ifndef LBIPAM_STORE_INT_H
#define LBIPAM_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "store/store.h"

/* ------------------------------------------------------------------ connections (db.c) */

/* Prepared statements are cached per connection, keyed by the address of the SQL text (every
 * cached statement is a string literal or a static array). */
#define STMT_CACHE_SLOTS 256

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
    bool busy; /* handed out: a nested user of the same SQL gets a private statement */
};

struct conn {
    sqlite3 *db;
    struct stmt_slot slots[STMT_CACHE_SLOTS];
    bool events_pending; /* the writer's open transaction appended events (events.c) */
};

int conn_open(struct conn *c, const char *path, bool readonly, int busy_timeout_ms,
              struct error *err);
void conn_close(struct conn *c);

/* One statement in use. q_prepare never leaves q in a state q_close cannot handle, so the
 * usual shape is: rc = q_prepare(&q, …); if (rc < 0) goto out; … out: q_close(&q).
 * Binds go to the next `?` in order; a failed bind is reported by the following q_step. */
struct q {
    struct conn *c;
    sqlite3_stmt *s;
    struct stmt_slot *slot; /* NULL: private statement, finalized by q_close */
    int idx;
    int bind_rc;
};

int q_prepare(struct q *q, struct conn *c, const char *sql, struct error *err);
/* For SQL built at run time: never cached. */
int q_prepare_dynamic(struct q *q, struct conn *c, const char *sql, struct error *err);
void q_int(struct q *q, int64_t v);
void q_text(struct q *q, const char *t); /* NULL binds NULL */
void q_addr(struct q *q, u128 v, int family);
/* 1 for a row, 0 when done, < 0 on error (err set). */
int q_step(struct q *q, struct error *err);
/* Steps a statement that returns no row. */
int q_exec(struct q *q, struct error *err);
void q_close(struct q *q);

/* Runs SQL without parameters (cached statement). */
int db_exec(struct conn *c, const char *sql, struct error *err);
/* Maps a failed SQLite call to an error: logs SQLite's message (never returned to the
 * caller), ERR_UNAVAILABLE "store_unavailable" for a full, read-only or failing disk, else
 * ERR_INTERNAL with a generic detail. */
int db_fail(struct conn *c, int sqlite_rc, struct error *err);

u128 col_addr(sqlite3_stmt *s, int i);
const char *col_text(sqlite3_stmt *s, int i); /* "" for NULL; valid until the next step */
char *col_strdup(sqlite3_stmt *s, int i);     /* NULL for NULL */

store_time store_now(void);
/* limit 1–1000: ERR_BAD_REQUEST "invalid_limit". */
int page_check(const struct store_page *page, struct error *err);
/* Copies a name into a fixed array; ERR_INVALID "invalid_name" when it does not fit. */
int name_copy(char out[STORE_NAME_MAX], const char *name, const char *what, struct error *err);

/* --------------------------------------------------------------- the store (store.c) */

/* An operation of the writer, or of a reader transaction: runs inside a transaction of c. */
typedef int (*store_fn)(struct conn *c, void *arg, struct error *err);

struct store_op {
    store_fn fn;
    void *arg;
    struct error *err;
    int rc;
    bool done;
    pthread_cond_t cv;
    struct store_op *next;
};

struct store {
    char *path;
    struct conn writer;
    pthread_t writer_thread;
    bool writer_started;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct store_op *qhead, *qtail;
    bool stopping;
    int max_batch;            /* writes per transaction (store_options.max_batch) */
    uint64_t qlen;            /* queued writes; with the counters below, under qmu */
    struct store_stats stats; /* store_stats(); queue_depth is qlen */
    store_time probe_at;      /* last write probe of store_ready, under qmu */

    int nreaders;
    struct conn *readers;
    bool *reader_busy;
    pthread_mutex_t rmu;
    pthread_cond_t rcv;

    struct conn ckpt; /* the checkpointer's own connection */
    pthread_t ckpt_thread;
    bool ckpt_started, ckpt_wanted, ckpt_stopping;
    pthread_mutex_t ckmu;
    pthread_cond_t ckcv;

    atomic_bool writable;

    /* The event feed (events.c): the newest committed seq, and the long-polls waiting on it. */
    pthread_mutex_t evmu;
    pthread_cond_t evcv; /* CLOCK_MONOTONIC */
    int64_t ev_last;
    bool ev_interrupted, ev_ready;
    store_time event_retention_ms;
    store_time next_purge; /* writer thread only */
};

/* Queues fn for the writer and waits: fn runs in its own SAVEPOINT inside a BEGIN IMMEDIATE
 * transaction that may hold other operations (group commit); it returns when that
 * transaction is committed (or fn refused, which rolled back exactly fn's changes). A
 * refusal must therefore leave no trace outside SQLite; out-objects that fn built are the
 * caller's to free when this returns < 0. */
int store_write(struct store *st, store_fn fn, void *arg, struct error *err);
/* Runs fn in a read transaction on a pooled read-only connection. */
int store_read(struct store *st, store_fn fn, void *arg, struct error *err);

/* ------------------------------------------------------------------ codecs (codec.c) */

/* Space-separated canonical text of prefixes / addresses; decode refuses anything that encode
 * did not write (ERR_INTERNAL). */
char *prefixes_encode(const struct netprefix *p, size_t n);
int prefixes_decode(struct netprefix **out, size_t *n, const char *text, struct error *err);
char *addrs_encode(const struct netaddr *a, size_t n);
int addrs_decode(struct netaddr **out, size_t *n, const char *text, struct error *err);
/* Length-prefixed strings ("3:abc1:*"): any bytes but NUL round-trip. */
char *strings_encode(char *const *s, size_t n);
int strings_decode(char ***out, size_t *n, const char *text, struct error *err);
char *ports_encode(const struct service_port *p, size_t n);
int ports_decode(struct service_port **out, size_t *n, const char *text, struct error *err);
int labels_column(struct labels *out, const char *text, struct error *err);
int selector_column(struct selector *out, const char *text, struct error *err);
/* Reports text that the codecs refused: a corrupt row, never the caller's fault. */
int corrupt(struct error *err, const char *what);

bool str_equal(const char *a, const char *b); /* NULL equals NULL only */
bool alloc_request_equal(const struct alloc_request *a, const struct alloc_request *b);

/* --------------------------------------------------------------- clusters (clusters.c) */

/* The cluster's labels; *found false when it is not registered. */
int cluster_labels(struct conn *c, const char *name, struct labels *out, bool *found,
                   struct error *err);
int cluster_count_allocations(struct conn *c, const char *name, int delta, struct error *err);

/* ------------------------------------------------------- blocks and free space (ranges.c) */

struct block_row {
    int64_t pool_id;
    struct pool_block block;
};

/* The block containing ip: 1 found, 0 none. */
int blocks_find(struct conn *c, const struct netaddr *ip, struct block_row *out, struct error *err);
/* A block of another pool (not exclude_pool_id) overlapping r: 1 found, 0 none. */
int blocks_overlap(struct conn *c, const struct netrange *r, int64_t exclude_pool_id,
                   struct block_row *out, struct error *err);

/* True when the flags reserve ip inside block b (allowFirstLastIPs false: first and last of a
 * cidr block larger than /31 or /127; avoidBuggyIPs: IPv4 x.x.x.0 and x.x.x.255). */
bool block_reserves(const struct pool_block *b, bool allow_first_last, bool avoid_buggy, u128 ip);
/* How many addresses of b the flags reserve, computed arithmetically. */
u128 block_reserved_count(const struct pool_block *b, bool allow_first_last, bool avoid_buggy);

/* Lowest free address of a pool and family, removed from free space: 1 taken, 0 full. */
int ranges_take_lowest(struct conn *c, int64_t pool_id, int family, u128 *out, struct error *err);
/* Removes one address from free space: 1 taken, 0 it was not free. */
int ranges_take(struct conn *c, int64_t pool_id, int family, u128 ip, struct error *err);
/* 1 when ip is in the pool's free space, else 0. */
int ranges_is_free(struct conn *c, int64_t pool_id, int family, u128 ip, struct error *err);
/* Puts ip back, merged with its free neighbours. */
int ranges_release(struct conn *c, int64_t pool_id, int family, u128 ip, struct error *err);
/* Rebuilds a pool's free space of one family from its blocks, flags and held addresses (a
 * linear merge: pool edits are rare). *held_reserved gets the number of held addresses that
 * the flags reserve. */
int ranges_rebuild(struct conn *c, int64_t pool_id, int family, const struct pool_block *blocks,
                   size_t nblocks, bool allow_first_last, bool avoid_buggy, int64_t *held_reserved,
                   struct error *err);

/* ------------------------------------------------------------------- pools (pools.c) */

/* What the allocator needs of a pool. */
struct pool_meta {
    int64_t id;
    char name[STORE_NAME_MAX];
    bool auto_assign, disabled, allow_first_last, avoid_buggy, has_v4, has_v6;
    struct selector service_selector, cluster_selector;
};

void pool_meta_cleanup(struct pool_meta *m);
/* ERR_NOTFOUND (reason "not_found") when missing; no error text is kept by callers that
 * expect absence, see pool_meta_by_name's `found`. */
int pool_meta_by_id(struct conn *c, int64_t id, struct pool_meta *out, struct error *err);
int pool_meta_by_name(struct conn *c, const char *name, struct pool_meta *out, bool *found,
                      struct error *err);
/* Enabled pools with a block of the family and autoAssign, in the order of api.md §4 rule 2
 * (priority desc, non-empty serviceSelector first, name). */
int pool_candidates(struct conn *c, int family, struct pool_meta **out, size_t *n,
                    struct error *err);
/* Adds delta to the pool's used counter of the family (and held_reserved when `reserved`). */
int pool_count_used(struct conn *c, int64_t pool_id, int family, int delta, bool reserved,
                    struct error *err);
int pool_name_of(struct conn *c, int64_t pool_id, char out[STORE_NAME_MAX], struct error *err);
/* Block of the pool containing ip, with the pool's current flags: 1 found, 0 none. */
int pool_reserves(struct conn *c, int64_t pool_id, const struct netaddr *ip, bool *reserved,
                  struct error *err);

/* --------------------------------------------------- held addresses and sharing (held.c) */

struct held_row {
    u128 ip;
    int family;
    int64_t pool_id;
    char cluster[STORE_NAME_MAX];
    char *sharing_key; /* NULL: the holder did not ask to share */
    int64_t holders;
};

void held_row_cleanup(struct held_row *h);
int held_get(struct conn *c, const struct netaddr *ip, struct held_row *out, bool *found,
             struct error *err);
/* A new held address with one holder, counted in the pool. The caller has already taken it
 * out of free space (ranges_take / ranges_take_lowest). */
int held_insert(struct conn *c, const struct netaddr *ip, int64_t pool_id, const char *cluster,
                const char *sharing_key, struct error *err);
/* One more holder of a held address. */
int held_join(struct conn *c, const struct netaddr *ip, struct error *err);
/* One holder less; the last one frees the address (back to free space unless the pool's
 * current flags reserve it). */
int held_release(struct conn *c, const struct netaddr *ip, int64_t pool_id, struct error *err);
int held_set_key(struct conn *c, const struct netaddr *ip, const char *sharing_key,
                 struct error *err);

/* The sharing-relevant part of one holder or of the request being placed. */
struct sharer {
    int64_t alloc_id; /* 0 for the request itself when it is new */
    char cluster[STORE_NAME_MAX];
    char namespace[STORE_NAME_MAX];
    char service[STORE_NAME_MAX];
    const char *sharing_key;
    size_t ncross;
    char *const *cross;
    size_t nports;
    const struct service_port *ports;
    const char *etp;
    const struct labels *pod_selector;
};

struct holder_set {
    size_t n;
    struct sharer *items;
    struct alloc_request *rqs; /* storage behind items[i]'s pointers */
};

void holder_set_cleanup(struct holder_set *h);
/* Every allocation holding ip, except exclude_alloc_id. */
int holders_load(struct conn *c, const struct netaddr *ip, int64_t exclude_alloc_id,
                 struct holder_set *out, struct error *err);
/* api.md §4 rule 3. When incompatible, `why` names the reason ("port 53/UDP is used by
 * kube-system/dns"). */
bool sharers_compatible(const struct sharer *a, const struct sharer *b, char *why, size_t n);

/* ------------------------------------------------------ allocations (allocations.c) */

/* Loads an allocation with its addresses: 1 found, 0 missing. */
int alloc_load(struct conn *c, const char *cluster, const char *namespace, const char *service,
               struct allocation **out, int64_t *id, struct error *err);
/* Benchmarks only: SingleStack IPv4 PUTs of services "<prefix><7-digit i>" for i in
 * [from, to), `batch` of them per writer operation (one transaction). */
int store_allocation_fill(struct store *st, const char *actor, const char *cluster,
                          const char *namespace, const char *prefix, long from, long to, long batch,
                          struct error *err);
/* Releases every address of the pool from its holders (force delete of a pool): allocations
 * left with nothing are deleted, the others lose that address and their condition says so. */
int alloc_release_pool(struct conn *c, const char *actor, int64_t pool_id, const char *pool_name,
                       struct error *err);

/* ------------------------------------------------- reachability (reach.c, checks.c) */

/* The routing-relevant part of a cluster row. */
struct fabric {
    char name[STORE_NAME_MAX];
    struct labels labels;
    enum announcement announcement;
    size_t nroutable;
    struct netprefix *routable;
    size_t nsubnets;
    struct netprefix *subnets;
};

void fabric_cleanup(struct fabric *f);
/* The lib/route.h view of f, borrowing its arrays. */
void fabric_route(const struct fabric *f, struct route_fabric *out);
int fabric_load(struct conn *c, const char *cluster, struct fabric *out, bool *found,
                struct error *err);
/* The verdict of ip from the cluster that holds it (unknown when nobody does). */
int route_of_ip(struct conn *c, const struct netaddr *ip, struct check_route *out,
                struct error *err);
/* (Re)computes status.warnings of each pool (blocks and clusterSelector loaded). */
int pool_warnings_fill(struct conn *c, struct pool *const *pools, size_t n, struct error *err);
void pool_warnings_cleanup(struct pool *p);
/* 1 found, 0 missing. */
int check_load(struct conn *c, int64_t id, struct check **out, struct error *err);

/* ------------------------------------------------------------------- events (events.c) */

/* Appends one event on c, inside the caller's write transaction (it commits or rolls back with
 * the change). data_json is a JSON object text (NULL: {}); build it with event_json so that it
 * comes from SQLite's json_object(). An empty or NULL actor is recorded as "system". */
int event_append(struct conn *c, const char *actor, const char *action, const char *resource,
                 const char *data_json, struct error *err);
/* Runs `sql`, a static "SELECT json_object(…)" whose parameters are all text, with args[0..n)
 * bound in order (NULL binds null); *out is the malloc'ed JSON text. */
int event_json(struct conn *c, char **out, const char *sql, const char *const *args, size_t n,
               struct error *err);
/* store.c's side of the feed: set up at open, published by the writer after each COMMIT. */
int events_init(struct store *st, struct error *err);
void events_destroy(struct store *st);
void events_publish(struct store *st);
/* Retention, run by the writer thread between groups (qmu held for _due and _wait). */
bool events_purge_due(struct store *st);
void events_purge_wait(struct store *st);
void events_purge_tick(struct store *st);

#endif
