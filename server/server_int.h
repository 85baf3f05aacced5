/* server_int.h - what the files of server/ share: the server object, the request context,
 * the router, idempotency and the listen socket.
 *
 * One struct request per HTTP request: created when libmicrohttpd has read the request line
 * (the URI log callback), freed in the completion callback. It owns every byte of the
 * request (URI copy, decoded parameters, body, parsed JSON, reply), so no handler can leak
 * by returning early.
 */
#ifndef LBIPAM_SERVER_INT_H
#define LBIPAM_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api/api.h"
#include "lib/error.h"
#include "server/router.h"
#include "server/server.h"

#define REQUEST_BODY_MAX ((size_t)1024 * 1024) /* api.md §1: larger bodies are 413 */
#define REQUEST_ID_MAX 65                      /* 64 characters + NUL */
#define REQUEST_METHOD_MAX 16

struct probes; /* probes.c */

struct server {
    struct MHD_Daemon *daemon;
    struct store *st;
    struct probes *probes; /* reachability probe workers and the periodic-check scheduler */
    int listen_fd;
    uint16_t port;
    char id_prefix[9]; /* random per process, so ids differ across restarts */
    atomic_uint_fast64_t next_id;
    atomic_bool draining;
    /* Requests between the URI callback and the completion callback; server_stop waits
     * until this reaches zero (bounded) before it stops the daemon. */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned inflight;
    /* auth.c: failed authentications per client address, and --metrics-auth. */
    pthread_mutex_t auth_mu;
    struct auth_fail *auth_fails; /* AUTH_FAIL_SLOTS */
    unsigned auth_fail_limit;
    bool metrics_auth;
    bool tls;
    char *tls_cert_pem, *tls_key_pem;
    /* watchdog.c: slow clients (a request must arrive within request_timeout_ms). */
    struct watchdog *wd;
};

struct request {
    struct server *srv;
    struct wd_conn *wdc; /* watchdog.c's record of this request's connection */
    char actor[64];      /* the authenticated token's name (call.actor points here) */
    char bound[64];      /* its cluster binding, "" when none */
    char *uri;           /* the request target as received */
    char *path;          /* uri up to '?', not decoded */
    char *param_buf;     /* decoded path parameters and their names */
    char *query_buf;     /* decoded query arguments */
    char method[REQUEST_METHOD_MAX];
    char id[REQUEST_ID_MAX];
    struct timespec started;
    bool begun;    /* the access handler has seen the headers */
    bool refused;  /* request_begin replied (404, 405, 413, 415, bad query) */
    bool over_cap; /* its connection is past a connection cap: answer, then close */
    bool queued;   /* a response was handed to libmicrohttpd */
    bool replayed; /* the reply is a stored idempotent one */
    const struct route *route;
    char *body; /* grows up to REQUEST_BODY_MAX */
    size_t body_len, body_cap;
    bool body_too_large;
    struct api_call call;
};

/* auth.c (api.md §9): the role of the route, the bearer token, cluster binding, the failed
 * authentication limit. auth_request: 0 to go on, else *err is the 401/403/429 (and the
 * reply's WWW-Authenticate / Retry-After are set). auth_bootstrap: the first admin token,
 * written to admin.token beside the database, when the store has no token at all. */
#define AUTH_FAIL_SLOTS 256
#define AUTH_FAIL_LIMIT 20
void auth_init(struct server *srv, const struct server_config *cfg);
void auth_cleanup(struct server *srv);
int auth_request(struct request *rq, struct MHD_Connection *conn, struct error *err);
int auth_bootstrap(struct server *srv, const char *db_path, struct error *err);

/* watchdog.c: slow-client defence. libmicrohttpd's timeout is an idle timeout, which a client
 * trickling one byte at a time never hits; the watchdog gives each request request_timeout
 * to arrive whole (408 problem+json, then the connection is shut) and an idle connection as
 * long, whatever it trickles. It also enforces the connection caps with a reply: past
 * max_total open connections a new one gets 503 server_busy, past max_per_ip from one
 * address 429 too_many_connections (libmicrohttpd's own limits, set higher, only back it). */
struct wd_conn;
struct watchdog_limits {
    unsigned request_timeout_s;
    unsigned max_total;
    unsigned max_per_ip;
};
int watchdog_start(struct server *srv, const struct watchdog_limits *limits, struct error *err);
void watchdog_stop(struct server *srv);
void watchdog_notify_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);
struct wd_conn *watchdog_conn(struct MHD_Connection *conn);
/* 0, or the cap that refused this connection: ERR_UNAVAILABLE "server_busy" (503) or
 * "too_many_connections" (429); either way the reply closes the connection. */
int watchdog_cap_check(const struct wd_conn *c, struct error *err);
/* Request states: reading (URI seen), busy (handler or reply), idle (completed). reading
 * and busy return false when the watchdog already timed the request out. */
bool watchdog_reading(struct wd_conn *w);
bool watchdog_busy(struct wd_conn *w);
void watchdog_idle(struct wd_conn *w);

/* request.c: the libmicrohttpd callbacks. */
void *request_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result request_access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls);
void request_completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe);

/* router.c: matches method and path against server_routes. On ROUTER_FOUND the decoded
 * parameters are in call->params, their text in *buf (the caller frees it). */
enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };
enum router_result router_match(const char *method, const char *path, struct api_call *call,
                                char **buf, const struct route **route, char allow[API_ALLOW_MAX]);
/* Decodes %XX in place (and '+' when plus_is_space); -1 on a bad escape or a NUL byte. */
int url_decode(char *s, bool plus_is_space);

/* idempotency.c: runs the call's handler under the Idempotency-Key rules of api.md §1. */
void idempotency_run(struct request *rq, void (*run)(struct request *rq));

/* listen.c: binds and listens on "host:port" or "[v6]:port". */
int listen_open(int *out_fd, uint16_t *port, const char *listen, struct error *err);

/* probes.c: the probe worker pool and the scheduler of periodic checks (api.md §6). start
 * fails every check a previous process left unfinished; quiesce wakes every Prefer-wait and
 * refuses new work; stop (after the HTTP daemon stopped) fails what is still queued, joins
 * every thread and frees p. */
int probes_start(struct probes **out, struct store *st, struct error *err);
const struct api_prober *probes_iface(const struct probes *p);
void probes_quiesce(struct probes *p);
void probes_stop(struct probes *p);

/* openapi.c */
void server_openapi_get(struct api_call *call);

#endif
