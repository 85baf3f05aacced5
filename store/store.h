/* store.h - the durable state of lbipam: clusters, pools, allocations, idempotency records.
 *
 * The store speaks plain C structs, never JSON or HTTP; api/ turns them into JSON. SQLite
 * lives entirely behind this header so that another backend (PostgreSQL, for clustered
 * deployments) can replace it without touching api/. Every write goes through one writer
 * thread that owns the only write connection and runs each operation inside one
 * BEGIN IMMEDIATE … COMMIT (the allocator runs inside that transaction, so candidates are
 * never computed outside it); reads use a pool of read-only connections and never wait for
 * the writer. Every function is thread-safe. Objects returned through **out belong to the
 * caller and are freed with their …_free function (NULL is a no-op).
 * Errors: the return code is an enum err_code; *err carries reason/field/detail (api.md).
 * Every write function takes the `actor` (the caller's token name) right after `st`: each
 * change appends an event naming it, in the same transaction as the change (api.md §7).
 */
#ifndef LBIPAM_STORE_H
#define LBIPAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/labels.h"
#include "lib/netaddr.h"
#include "lib/route.h"

#define STORE_NAME_MAX 64    /* 63 characters + NUL: pool, cluster, namespace, service */
#define STORE_CURSOR_MAX 256 /* opaque list cursor, NUL-terminated, "" at the end */
#define POOL_BLOCKS_MAX 1024

struct store;

/* Unix time in milliseconds. */
typedef int64_t store_time;

struct store_options {
    const char *path;           /* database file, created when missing */
    bool synchronous_normal;    /* false (default): synchronous=FULL, durable on power loss */
    int read_connections;       /* size of the reader pool; 0 means 8 */
    int busy_timeout_ms;        /* 0 means 5000 */
    int max_batch;              /* writes per commit, 1–STORE_BATCH_MAX; 0 means the maximum.
                                 * 1 turns group commit off (one commit per write: benchmarks) */
    int64_t event_retention_ms; /* events older than this are purged; 0 means 90 days */
};

#define STORE_EVENT_RETENTION_DEFAULT_MS ((int64_t)90 * 24 * 3600 * 1000)

int store_open(struct store **out, const struct store_options *opts, struct error *err);
/* Drains the writer queue, stops the writer and closes every connection. */
void store_close(struct store *st);
/* True when the store is open, migrated and accepts writes (GET /readyz). */
bool store_ready(struct store *st);
/* Number of the newest migration compiled into this binary (PRAGMA user_version). */
int store_schema_version(void);

/* The writer's group commit, for /metrics. batch_hist[i] counts the commits of a batch of
 * at most store_batch_bounds[i] writes (and more than the previous bound): not cumulative. */
#define STORE_BATCH_MAX 64
#define STORE_BATCH_BUCKETS 7
extern const unsigned store_batch_bounds[STORE_BATCH_BUCKETS]; /* 1 2 4 8 16 32 64 */

struct store_stats {
    uint64_t queue_depth; /* writes waiting for the writer right now */
    uint64_t commits;     /* write transactions (batches) run */
    uint64_t writes;      /* writes run by the writer, all batches */
    uint64_t last_batch;  /* writes in the most recent batch */
    uint64_t batch_hist[STORE_BATCH_BUCKETS];
};

/* A consistent snapshot; cheap (one mutex), safe from any thread. */
void store_stats(struct store *st, struct store_stats *out);
/* Copies the database into `path` with SQLite's online backup API while writes go on: the copy
 * is one consistent snapshot (every write committed before the call started is in it). The
 * file must not exist. ERR_UNAVAILABLE "store_unavailable" when it cannot be written. */
int store_backup(struct store *st, const char *path, struct error *err);

/* A page request: `after` is the cursor of the previous page (NULL or "" for the first),
 * limit 1–1000. Pages come back with `next` set to the cursor of the following page, or ""
 * when this was the last one. */
struct store_page {
    const char *after;
    int limit;
};

/* ---------------------------------------------------------------- clusters (api.md §2) */

enum announcement { ANNOUNCE_NONE, ANNOUNCE_BGP, ANNOUNCE_L2, ANNOUNCE_STATIC };

struct cluster {
    char name[STORE_NAME_MAX];
    char *description; /* never NULL on output ("" when unset) */
    struct labels labels;
    enum announcement announcement;
    size_t nroutable;
    struct netprefix *routable; /* routablePrefixes */
    size_t nnode_subnets;
    struct netprefix *node_subnets;
    /* Read-only, filled by the store, ignored on input. */
    int64_t allocations;      /* status.allocations */
    store_time last_sync_at;  /* 0 = never */
    int64_t check_interval_s; /* checkIntervalSeconds: 0 = no periodic checks, else >= 10 */
    int64_t version;          /* ETag */
    store_time created_at, updated_at;
};

struct cluster_list {
    size_t n;
    struct cluster **items;
    char next[STORE_CURSOR_MAX];
};

void cluster_free(struct cluster *c);
void cluster_list_cleanup(struct cluster_list *l);

/* ERR_CONFLICT "already_exists" when the name is taken. */
int store_cluster_create(struct store *st, const char *actor, const struct cluster *in,
                         struct cluster **out, struct error *err);
/* ERR_NOTFOUND "not_found". */
int store_cluster_get(struct store *st, const char *name, struct cluster **out, struct error *err);
/* Replaces everything but the name. if_match < 0: unconditional; otherwise
 * ERR_PRECONDITION "precondition_failed" unless it equals the current version. */
int store_cluster_replace(struct store *st, const char *actor, const struct cluster *in,
                          int64_t if_match, struct cluster **out, struct error *err);
/* ERR_CONFLICT "cluster_in_use" while the cluster holds allocations. */
int store_cluster_delete(struct store *st, const char *actor, const char *name, int64_t if_match,
                         struct error *err);
int store_cluster_list(struct store *st, const struct store_page *page, struct cluster_list *out,
                       struct error *err);

/* ------------------------------------------------------------------- pools (api.md §3) */

enum block_form {
    BLOCK_CIDR,  /* {"cidr": …}; prefix_len is set */
    BLOCK_RANGE, /* {"start": …, "stop": …} */
    BLOCK_SINGLE /* {"start": …} alone */
};

struct pool_block {
    enum block_form form;
    struct netrange range;
    unsigned prefix_len;
};

struct pool_family_status {
    struct netcount total, used, available; /* reserved addresses count as used */
};

/* status.warnings (api.md §3): a cluster selected by the pool that cannot reach all of it. */
struct pool_warning {
    char cluster[STORE_NAME_MAX];
    size_t nuncovered;
    struct netrange *uncovered; /* merged, sorted */
};

struct pool {
    char name[STORE_NAME_MAX];
    char *description;
    struct labels labels;
    size_t nblocks;
    struct pool_block *blocks; /* in the order given */
    struct selector service_selector;
    struct selector cluster_selector;
    int64_t priority;
    bool auto_assign;          /* default true */
    bool disabled;             /* default false */
    bool allow_first_last_ips; /* default true */
    bool avoid_buggy_ips;      /* default false */
    /* Read-only, filled by the store. A family's status is meaningful when has_vN. */
    bool has_v4, has_v6;
    struct pool_family_status v4, v6;
    size_t nwarnings; /* filled by store_pool_get / store_pool_list (reason unroutable_block) */
    struct pool_warning *warnings;
    int64_t version;
    store_time created_at, updated_at;
};

struct pool_list {
    size_t n;
    struct pool **items;
    char next[STORE_CURSOR_MAX];
};

void pool_free(struct pool *p);
void pool_list_cleanup(struct pool_list *l);

/* Checks what no single field shows: 1–1024 blocks, blocks of one pool disjoint
 * (ERR_INVALID "overlapping_blocks", field "/blocks/N"). Called by create/replace too. */
int store_pool_validate(const struct pool *p, struct error *err);

/* ERR_CONFLICT "already_exists"; ERR_CONFLICT "pool_conflict" when a block overlaps another
 * pool's (detail names both ranges and the other pool; field "/blocks/N"). */
int store_pool_create(struct store *st, const char *actor, const struct pool *in, struct pool **out,
                      struct error *err);
int store_pool_get(struct store *st, const char *name, struct pool **out, struct error *err);
/* Never moves an allocation: ERR_CONFLICT "blocks_in_use" when a removed or shrunk block holds
 * allocated addresses (detail counts them and names the first few). */
int store_pool_replace(struct store *st, const char *actor, const struct pool *in, int64_t if_match,
                       struct pool **out, struct error *err);
/* ERR_CONFLICT "pool_in_use" unless force, which releases every address of the pool in the
 * same transaction and deletes allocations left with no address. */
int store_pool_delete(struct store *st, const char *actor, const char *name, int64_t if_match,
                      bool force, struct error *err);
int store_pool_list(struct store *st, const struct store_page *page, struct pool_list *out,
                    struct error *err);

/* ------------------------------------------------------------- allocations (api.md §4) */

enum ip_family_policy { POLICY_SINGLE_STACK, POLICY_PREFER_DUAL_STACK, POLICY_REQUIRE_DUAL_STACK };

struct service_port {
    uint16_t port;
    char protocol[8]; /* "TCP" | "UDP" | "SCTP" */
};

/* The body of PUT /v1/allocations/…, validated for syntax by api/. Optional strings are
 * NULL when absent. */
struct alloc_request {
    struct labels labels;
    size_t nfamilies;
    int families[2]; /* NETADDR_V4 / NETADDR_V6 in the order given */
    enum ip_family_policy policy;
    size_t nrequested;
    struct netaddr *requested;
    size_t npreferred;
    struct netaddr *preferred;
    char *pool;
    char *sharing_key;
    size_t ncross_namespaces;
    char **cross_namespaces; /* sharingCrossNamespace; "*" allowed */
    size_t nports;
    struct service_port *ports;
    char *external_traffic_policy; /* "Cluster" (NULL means Cluster) | "Local" */
    struct labels pod_selector;
    char *external_ref;
    char *managed_by;
    char *description;
};

struct alloc_address {
    struct netaddr ip;
    char pool[STORE_NAME_MAX];
};

struct alloc_condition {
    bool satisfied;                /* status "True" / "False" */
    char reason[ERROR_REASON_MAX]; /* "satisfied" or the reason a wanted family is missing */
    char *message;                 /* never NULL on output */
};

struct allocation {
    char cluster[STORE_NAME_MAX];
    char namespace[STORE_NAME_MAX];
    char service[STORE_NAME_MAX];
    struct alloc_request rq;
    size_t naddrs;
    struct alloc_address *addrs; /* IPv4 before IPv6, numeric order within a family */
    struct alloc_condition condition;
    int64_t version;
    store_time created_at, updated_at;
};

struct allocation_list {
    size_t n;
    struct allocation **items;
    char next[STORE_CURSOR_MAX];
};

void alloc_request_cleanup(struct alloc_request *rq);
void allocation_free(struct allocation *a);
void allocation_list_cleanup(struct allocation_list *l);

/* Declarative, idempotent allocate/reconcile (api.md §4), one transaction. *created tells
 * 201 from 200. The same request again writes nothing (version and updated_at unchanged).
 * Refusals (ERR_CONFLICT no_pool, out_of_ips, already_allocated, …; ERR_INVALID
 * unknown_pool; ERR_NOTFOUND unknown_cluster) change nothing. */
int store_allocation_put(struct store *st, const char *actor, const char *cluster,
                         const char *namespace, const char *service, const struct alloc_request *rq,
                         int64_t if_match, struct allocation **out, bool *created,
                         struct error *err);
int store_allocation_get(struct store *st, const char *cluster, const char *namespace,
                         const char *service, struct allocation **out, struct error *err);
/* Releases every address (an address stays held while another sharer holds it). */
int store_allocation_delete(struct store *st, const char *actor, const char *cluster,
                            const char *namespace, const char *service, int64_t if_match,
                            struct error *err);

/* Filters of GET /v1/allocations; NULL / 0 / false fields do not filter. */
struct allocation_filter {
    const char *cluster, *namespace, *pool, *sharing_key, *external_ref, *managed_by;
    bool has_ip;
    struct netaddr ip;
    int family; /* 0, NETADDR_V4 or NETADDR_V6: has an address of that family */
};

int store_allocation_list(struct store *st, const struct allocation_filter *filter,
                          const struct store_page *page, struct allocation_list *out,
                          struct error *err);

/* --------------------------------------------------------------- addresses (api.md §5) */

enum address_state { ADDRESS_ALLOCATED, ADDRESS_FREE, ADDRESS_RESERVED, ADDRESS_OUTSIDE };

struct address_holder {
    char cluster[STORE_NAME_MAX];
    char namespace[STORE_NAME_MAX];
    char service[STORE_NAME_MAX];
};

struct address_info {
    struct netaddr ip;
    char pool[STORE_NAME_MAX]; /* "" when outside every pool */
    enum address_state state;
    size_t nholders;
    struct address_holder *holders;
};

void address_info_free(struct address_info *a);
int store_address_get(struct store *st, const struct netaddr *ip, struct address_info **out,
                      struct error *err);

/* ---------------------------------------------------- idempotency keys (api.md §1 POST) */

struct idempotency_record {
    char request_hash[65]; /* hex SHA-256 of the request body, computed by the caller */
    int status;
    char *content_type;
    char *location; /* NULL when the reply had none */
    char *body;
};

void idempotency_record_free(struct idempotency_record *r);
/* `scope` is caller identity + method + path. ERR_NOTFOUND when no live record exists. */
int store_idempotency_get(struct store *st, const char *scope, const char *key,
                          struct idempotency_record **out, struct error *err);
/* Keeps the first record for (scope, key) for at least 24 hours; a second put is a no-op. */
int store_idempotency_put(struct store *st, const char *scope, const char *key,
                          const struct idempotency_record *rec, struct error *err);

/* ------------------------------------------------------------ reachability (api.md §6) */

#define CHECK_TIMEOUT_DEFAULT_MS 2000
#define CHECK_TIMEOUT_MAX_MS 30000
#define CHECK_PROBES_MAX 16   /* probes of one request */
#define CHECK_RESULTS_MAX 256 /* probes x addresses of one check */
#define CHECK_PATH_MAX 1024   /* http(s) path */

enum check_state { CHECK_PENDING, CHECK_RUNNING, CHECK_PASSED, CHECK_FAILED };

struct check_probe {
    char type[8];      /* "tcp" | "http" | "https" | "icmp" */
    uint16_t port;     /* 0 for icmp */
    char *path;        /* http(s): "/…"; NULL otherwise */
    int expect_status; /* http(s); 0 otherwise */
};

struct check_route {
    struct netaddr ip;
    struct route_result r;
};

struct check_result {
    struct netaddr ip;
    struct check_probe probe;
    bool done; /* the probe ran (ok and error are meaningful) */
    bool ok;
    int64_t latency_us; /* when ok */
    char *error;        /* when done and not ok */
};

struct check {
    int64_t id;
    bool target_allocation; /* {"allocation": …}, else {"ip": …} */
    struct netaddr target_ip;
    char cluster[STORE_NAME_MAX], namespace[STORE_NAME_MAX], service[STORE_NAME_MAX];
    enum check_state state;
    int timeout_ms;
    bool periodic; /* made by the scheduler of checkIntervalSeconds */
    char *actor;
    size_t nroutes;
    struct check_route *routes;
    size_t nresults;
    struct check_result *results;
    store_time created_at, finished_at;
};

/* POST /v1/reachability-checks, syntax checked by api/. nprobes 0: the defaults of §6. */
struct check_request {
    bool target_allocation;
    struct netaddr ip;
    char cluster[STORE_NAME_MAX], namespace[STORE_NAME_MAX], service[STORE_NAME_MAX];
    size_t nprobes;
    struct check_probe *probes;
    int timeout_ms;
    bool periodic;
};

struct check_list {
    size_t n;
    struct check **items;
    char next[STORE_CURSOR_MAX];
};

/* Filters of GET /v1/reachability-checks; state < 0 does not filter. */
struct check_filter {
    bool has_ip;
    struct netaddr ip;
    bool has_allocation;
    char cluster[STORE_NAME_MAX], namespace[STORE_NAME_MAX], service[STORE_NAME_MAX];
    int state;
};

const char *check_state_name(enum check_state s);
void check_free(struct check *c);
void check_list_cleanup(struct check_list *l);

/* Creates a pending check: resolves the target (ERR_INVALID "target_outside_pools" for an ip
 * in no pool, "unknown_target" for an allocation that does not exist or has no address),
 * picks the default probes, analyses the routes and stores one pending result per (address,
 * probe). The caller hands *out to the probe scheduler. */
int store_check_create(struct store *st, const char *actor, const struct check_request *in,
                       struct check **out, struct error *err);
int store_check_get(struct store *st, int64_t id, struct check **out, struct error *err);
int store_check_list(struct store *st, const struct check_filter *filter,
                     const struct store_page *page, struct check_list *out, struct error *err);
/* pending → running. */
int store_check_start(struct store *st, const char *actor, int64_t id, struct error *err);
/* Records every result of c and its final state (passed when every probe is ok), with the
 * "check.finished" event, in one transaction. */
int store_check_finish(struct store *st, const char *actor, const struct check *c,
                       struct error *err);
/* Fails every check left pending or running (by a previous process); *n gets how many. */
int store_check_abandon(struct store *st, const char *actor, int64_t *n, struct error *err);

/* The reachability part of the allocation and address views: the route of each ip (from
 * the cluster that holds it) and the latest check that probed any of them (NULL if none). */
struct reach_view {
    size_t nroutes;
    struct check_route *routes;
    struct check *last;
};

void reach_view_cleanup(struct reach_view *v);
int store_reach_view(struct store *st, const struct netaddr *ips, size_t n, struct reach_view *out,
                     struct error *err);

/* GET /v1/clusters/{name}/advertisements: the minimal exact CIDR cover of every block of
 * every pool whose clusterSelector selects the cluster (merged first), and the addresses
 * allocated to it; both IPv4 first, numeric order. ERR_NOTFOUND "not_found". */
struct advertisement {
    char cluster[STORE_NAME_MAX];
    enum announcement announcement;
    size_t nprefixes;
    struct netprefix *prefixes;
    size_t naddrs;
    struct netaddr *addrs;
};

void advertisement_free(struct advertisement *a);
int store_cluster_advertisements(struct store *st, const char *name, struct advertisement **out,
                                 struct error *err);

/* ------------------------------------------------------------------ tokens (api.md §9) */

/* The same numbers as server/router.h's enum route_role. */
enum token_role { TOKEN_READER = 1, TOKEN_OPERATOR = 2, TOKEN_ADMIN = 3 };

#define TOKEN_HASH_HEX 65 /* 64 hex digits of SHA-256 + NUL */

/* A token as stored: never the secret, only its hash (the caller hashes; the store never sees
 * a secret). */
struct token_info {
    char name[STORE_NAME_MAX];
    char hash[TOKEN_HASH_HEX];
    int role;                     /* enum token_role */
    char cluster[STORE_NAME_MAX]; /* "" when not bound to a cluster */
    store_time expires_at;        /* 0: never */
    store_time created_at;
    store_time last_used_at; /* 0: never */
};

struct token_list {
    size_t n;
    struct token_info *items;
    char next[STORE_CURSOR_MAX];
};

void token_list_cleanup(struct token_list *l);
/* ERR_CONFLICT "already_exists" when the name is taken. Appends "token.created". */
int store_token_create(struct store *st, const char *actor, const struct token_info *in,
                       struct error *err);
/* Creates `in` only when no token exists at all (first start): *created says whether it did. */
int store_token_create_first(struct store *st, const char *actor, const struct token_info *in,
                             bool *created, struct error *err);
/* Revokes at once (the row goes). ERR_NOTFOUND "not_found". Appends "token.revoked". */
int store_token_delete(struct store *st, const char *actor, const char *name, struct error *err);
/* The token with this hash: 1 found, 0 none. Callers compare the hash again in constant time. */
int store_token_lookup(struct store *st, const char *hash, struct token_info *out,
                       struct error *err);
int store_token_list(struct store *st, const struct store_page *page, struct token_list *out,
                     struct error *err);
/* Sets lastUsedAt; no event (a read must not become an audit record). */
int store_token_touch(struct store *st, const char *name, store_time now, struct error *err);

/* ------------------------------------------------------------------ events (api.md §7) */

struct event {
    int64_t seq;
    store_time time;
    char *actor, *action, *resource;
    char *data; /* JSON object text */
};

struct event_list {
    size_t n;
    struct event *items;
};

void event_list_cleanup(struct event_list *l);
/* Events with seq > after, oldest first, at most limit (1–1000). */
int store_events_list(struct store *st, int64_t after, int limit, struct event_list *out,
                      struct error *err);
/* The newest committed seq (0 before the first event). */
int64_t store_events_last(struct store *st);
/* Blocks until an event after `after` is committed (1), timeout_ms passed or
 * store_events_interrupt was called (0 unless one exists). */
int store_events_wait(struct store *st, int64_t after, int timeout_ms);
/* Wakes every waiter, now and later (server shutdown: no long-poll keeps it waiting). */
void store_events_interrupt(struct store *st);

#endif
