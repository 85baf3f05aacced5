/* api.h - the HTTP API as plain data: one struct api_call per request.
 *
 * server/ turns a libmicrohttpd request into an api_call (method, decoded path parameters,
 * query arguments, the few headers the API reads, the parsed JSON body) and the filled reply
 * back into a response, so api/ never includes an HTTP library. A handler is parse → one
 * store call → render, and replies exactly once through the reply_* functions. Everything
 * the request part points to belongs to server/'s request context and lives as long as the
 * call; the reply owns its own strings and is freed by api_reply_cleanup.
 */
#ifndef LBIPAM_API_H
#define LBIPAM_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct store;
struct check; /* store/store.h */

/* The probe scheduler (server/probes.c), reached through the call so that api/ never depends
 * on server/. submit hands it a stored pending check (it copies what it needs; the check
 * belongs to the caller) and returns at once; ERR_UNAVAILABLE when its queue is full. wait
 * blocks until check `id` has finished or timeout_ms passed. */
struct api_prober {
    void *ctx;
    int (*submit)(void *ctx, const struct check *c, const char *actor, struct error *err);
    void (*wait)(void *ctx, int64_t id, int timeout_ms);
};

#define API_PARAMS_MAX 4            /* path parameters of the longest route template */
#define API_QUERY_MAX 32            /* more query arguments than this is a 400 */
#define API_CONTENT_TYPE_MAX 128    /* longest Content-Type a reply may carry */
#define API_ETAG_MAX 24             /* "\"" + 20 digits of an int64 + "\"" + NUL */
#define API_ALLOW_MAX 64            /* "GET, HEAD, PUT, DELETE, POST" */
#define API_IDEMPOTENCY_KEY_MAX 255 /* api.md §1 */

/* One name=value pair: a decoded path parameter or query argument. */
struct api_kv {
    const char *key;
    const char *value;
};

struct api_reply {
    int status; /* 0 until a handler replied */
    char content_type[API_CONTENT_TYPE_MAX];
    char *body; /* owned, unless body_static */
    size_t body_len;
    bool body_static; /* body points to data that outlives the request */
    char *location;   /* owned; NULL when the reply has none */
    char etag[API_ETAG_MAX];
    char allow[API_ALLOW_MAX];
    const char *cache_control; /* static text; NULL sends no Cache-Control */
    /* Why the call ended as it did, for GET /metrics (lbipam_allocations_total): a problem's
     * reason (reply_problem sets it), or what a handler names ("satisfied"). */
    char outcome[ERROR_REASON_MAX];
    /* Authentication replies (server/auth.c): WWW-Authenticate of a 401 (static text) and
     * Retry-After of a 429 ("" when none). */
    const char *www_authenticate;
    char retry_after[16];
};

struct api_call {
    struct store *st;
    const struct api_prober *prober; /* NULL: checks stay pending (no scheduler) */
    const char *request_id;          /* for logs of server errors */

    /* The request. HEAD is routed as GET: method says "GET" (the server drops the body). */
    const char *method;
    const char *path; /* as received, not decoded */
    size_t nparams;
    struct api_kv params[API_PARAMS_MAX];
    size_t nquery;
    struct api_kv query[API_QUERY_MAX];
    /* Headers; NULL when absent. */
    const char *if_match;
    const char *idempotency_key;
    const char *content_type;
    const char *prefer;
    const char *if_none_match; /* the dashboard's static files answer 304 */
    /* The body: raw bytes, and parsed when there were any (NULL otherwise). The server has
     * already checked its size and media type, and that it is one JSON object. */
    const char *raw_body;
    size_t raw_body_len;
    json_t *body;
    /* The caller, as server/ authenticated it: the token's name (the actor of the events a
     * change appends), the cluster the token is bound to (NULL: unbound) and whether it has
     * the admin role (?force=true needs it). */
    const char *actor;
    const char *bound_cluster;
    bool caller_admin;

    struct api_reply reply;
};

/* Borrowed values, valid for the call; NULL when absent. call_query returns the first
 * occurrence; call_query_count says how many there were. */
const char *call_param(const struct api_call *call, const char *name);
const char *call_query(const struct api_call *call, const char *name);
size_t call_query_count(const struct api_call *call, const char *name);

/* Replies. Each replaces what an earlier reply of the same call set. */
void reply_json(struct api_call *call, int status, json_t *doc); /* steals doc */
void reply_body(struct api_call *call, int status, const char *content_type, char *body,
                size_t len); /* takes ownership of body (malloc'ed) */
void reply_static(struct api_call *call, int status, const char *content_type, const char *body,
                  size_t len);
void reply_empty(struct api_call *call, int status);
void reply_location(struct api_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reply_etag(struct api_call *call, int64_t version);

/* The one writer of problem+json bodies (RFC 9457); the status comes from err->code (and a
 * few reasons, see problem.c). 5xx details are logged, never sent. */
void reply_problem(struct api_call *call, const struct error *err);
/* error_set + reply_problem in one. */
void reply_error(struct api_call *call, int code, const char *reason, const char *field,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* HTTP status of an error code and reason, as reply_problem picks it. */
int api_problem_status(int code, const char *reason);

void api_reply_cleanup(struct api_reply *r);

/* Handlers: one per route row of server/routes.c (keep in sync with openapi.yaml). */
void api_health_get(struct api_call *call);
void api_ready_get(struct api_call *call);

void api_clusters_list(struct api_call *call);
void api_clusters_create(struct api_call *call);
void api_clusters_get(struct api_call *call);
void api_clusters_replace(struct api_call *call);
void api_clusters_delete(struct api_call *call);

void api_pools_list(struct api_call *call);
void api_pools_create(struct api_call *call);
void api_pools_get(struct api_call *call);
void api_pools_replace(struct api_call *call);
void api_pools_delete(struct api_call *call);

void api_allocations_list(struct api_call *call);
void api_allocations_get(struct api_call *call);
void api_allocations_put(struct api_call *call);
void api_allocations_delete(struct api_call *call);

void api_addresses_get(struct api_call *call);

void api_tokens_create(struct api_call *call);
void api_tokens_list(struct api_call *call);
void api_tokens_delete(struct api_call *call);
void api_events_list(struct api_call *call);

/* Bearer tokens (api/tokens.c): the secret is "lbipam_" + 43 base64url characters (32 random
 * bytes from OpenSSL's RAND_bytes); only its hex SHA-256 is ever stored. Roles by name:
 * "reader", "operator", "admin" (enum token_role). */
#define API_TOKEN_TEXT_MAX 64
#define API_TOKEN_HASH_MAX 65
int api_token_generate(char secret[API_TOKEN_TEXT_MAX], char hash[API_TOKEN_HASH_MAX],
                       struct error *err);
void api_token_hash(char hash[API_TOKEN_HASH_MAX], const char *secret);
int api_role_parse(int *out, const char *name); /* 0 or -1 */
const char *api_role_name(int role);
/* RFC 3339 ("2026-11-27T10:00:00Z", offsets and fractions accepted) to unix milliseconds. */
int api_time_parse(int64_t *out_ms, const char *text); /* 0 or -1 */

void api_clusters_advertisements(struct api_call *call);
void api_checks_create(struct api_call *call);
void api_checks_list(struct api_call *call);
void api_checks_get(struct api_call *call);

#endif
