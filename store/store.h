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
 */
#ifndef LBIPAM_STORE_H
#define LBIPAM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/labels.h"
#include "lib/netaddr.h"

#define STORE_NAME_MAX 64    /* 63 characters + NUL: pool, cluster, namespace, service */
#define STORE_CURSOR_MAX 256 /* opaque list cursor, NUL-terminated, "" at the end */
#define POOL_BLOCKS_MAX 1024

struct store;

/* Unix time in milliseconds. */
typedef int64_t store_time;

struct store_options {
    const char *path;        /* database file, created when missing */
    bool synchronous_normal; /* false (default): synchronous=FULL, durable on power loss */
    int read_connections;    /* size of the reader pool; 0 means 8 */
    int busy_timeout_ms;     /* 0 means 5000 */
};

int store_open(struct store **out, const struct store_options *opts, struct error *err);
/* Drains the writer queue, stops the writer and closes every connection. */
void store_close(struct store *st);
/* True when the store is open, migrated and accepts writes (GET /readyz). */
bool store_ready(struct store *st);
/* Number of the newest migration compiled into this binary (PRAGMA user_version). */
int store_schema_version(void);

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
    int64_t allocations;     /* status.allocations */
    store_time last_sync_at; /* 0 = never */
    int64_t version;         /* ETag */
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
int store_cluster_create(struct store *st, const struct cluster *in, struct cluster **out,
                         struct error *err);
/* ERR_NOTFOUND "not_found". */
int store_cluster_get(struct store *st, const char *name, struct cluster **out, struct error *err);
/* Replaces everything but the name. if_match < 0: unconditional; otherwise
 * ERR_PRECONDITION "precondition_failed" unless it equals the current version. */
int store_cluster_replace(struct store *st, const struct cluster *in, int64_t if_match,
                          struct cluster **out, struct error *err);
/* ERR_CONFLICT "cluster_in_use" while the cluster holds allocations. */
int store_cluster_delete(struct store *st, const char *name, int64_t if_match, struct error *err);
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
int store_pool_create(struct store *st, const struct pool *in, struct pool **out,
                      struct error *err);
int store_pool_get(struct store *st, const char *name, struct pool **out, struct error *err);
/* Never moves an allocation: ERR_CONFLICT "blocks_in_use" when a removed or shrunk block holds
 * allocated addresses (detail counts them and names the first few). */
int store_pool_replace(struct store *st, const struct pool *in, int64_t if_match, struct pool **out,
                       struct error *err);
/* ERR_CONFLICT "pool_in_use" unless force, which releases every address of the pool in the
 * same transaction and deletes allocations left with no address. */
int store_pool_delete(struct store *st, const char *name, int64_t if_match, bool force,
                      struct error *err);
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
int store_allocation_put(struct store *st, const char *cluster, const char *namespace,
                         const char *service, const struct alloc_request *rq, int64_t if_match,
                         struct allocation **out, bool *created, struct error *err);
int store_allocation_get(struct store *st, const char *cluster, const char *namespace,
                         const char *service, struct allocation **out, struct error *err);
/* Releases every address (an address stays held while another sharer holds it). */
int store_allocation_delete(struct store *st, const char *cluster, const char *namespace,
                            const char *service, int64_t if_match, struct error *err);

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

#endif
