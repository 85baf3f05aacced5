/* server.h - the lbipamd HTTP server as an embeddable object.
 *
 * main() and the in-process API tests both use it: start on an address (port 0 picks a free
 * port, see server_port), serve until server_stop. server_stop is graceful: it stops
 * accepting, lets in-flight requests finish, then closes the store.
 */
#ifndef LBIPAM_SERVER_H
#define LBIPAM_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

struct server_config {
    const char *listen;       /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0" … */
    const char *db_path;      /* SQLite file */
    bool synchronous_normal;  /* relaxes synchronous=FULL (tests of speed only) */
    unsigned max_connections; /* 0 means 1024 */
    int max_batch;            /* writes per commit (store_options.max_batch); 0: the default */
    /* Security (api.md §9, issue 3). */
    const char *tls_cert, *tls_key;  /* PEM files: HTTPS when both are set */
    bool metrics_auth;               /* GET /metrics needs a reader token */
    int64_t event_retention_ms;      /* 0 means 90 days */
    unsigned auth_fail_limit;        /* failed authentications a minute per address; 0: 20 */
    unsigned request_timeout_s;      /* to send a whole request (slow clients); 0: 30 */
    unsigned max_connections_per_ip; /* 0 means 256 */
};

struct server;

int server_start(struct server **out, const struct server_config *cfg, struct error *err);
/* The TCP port actually bound (useful with port 0). */
uint16_t server_port(const struct server *srv);
/* Graceful stop; frees srv. NULL is a no-op. */
void server_stop(struct server *srv);

#endif
