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

struct server {
    struct MHD_Daemon *daemon;
    struct store *st;
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
};

struct request {
    struct server *srv;
    char *uri;       /* the request target as received */
    char *path;      /* uri up to '?', not decoded */
    char *param_buf; /* decoded path parameters and their names */
    char *query_buf; /* decoded query arguments */
    char method[REQUEST_METHOD_MAX];
    char id[REQUEST_ID_MAX];
    struct timespec started;
    bool begun;    /* the access handler has seen the headers */
    bool refused;  /* request_begin replied (404, 405, 413, 415, bad query) */
    bool queued;   /* a response was handed to libmicrohttpd */
    bool replayed; /* the reply is a stored idempotent one */
    const struct route *route;
    char *body; /* grows up to REQUEST_BODY_MAX */
    size_t body_len, body_cap;
    bool body_too_large;
    struct api_call call;
};

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

/* openapi.c */
void server_openapi_get(struct api_call *call);

#endif
