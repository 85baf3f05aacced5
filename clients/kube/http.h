/* http.h - one reusable libcurl connection with bounded bodies, for Kubernetes and central.
 *
 * A connection is used by one thread at a time (libcurl easy handles are not shared); it keeps
 * the TCP/TLS session alive between requests. Certificate verification is always on unless
 * the TLS settings say `insecure` (only ever set from an explicit --allow-insecure). Response
 * bodies are buffered up to `max_body`; a streaming request instead hands 2xx body bytes to
 * `on_data` as they arrive (the watch) and buffers only error bodies.
 */
#ifndef LBIPAM_HTTP_H
#define LBIPAM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

/* Every pointer is borrowed for the life of the connection. Blobs are PEM bytes. */
struct http_tls {
    const char *ca_file;
    const void *ca_data;
    size_t ca_len;
    const char *cert_file;
    const void *cert_data;
    size_t cert_len;
    const char *key_file;
    const void *key_data;
    size_t key_len;
    bool insecure;
};

struct http_req {
    const char *method; /* "GET", "PUT", "PATCH", "DELETE" */
    const char *url;
    const char *token;        /* bearer token; NULL or "" sends none */
    const char *content_type; /* of body; NULL when there is no body */
    const char *body;
    size_t max_body; /* buffered response limit; 0 means 16 MiB */
    long timeout_ms; /* whole request; 0 means none (watches end by themselves) */
    /* Streaming: called with 2xx body bytes; a negative return aborts the transfer. */
    int (*on_data)(void *arg, const char *p, size_t n);
    /* Polled about once a second during a transfer; nonzero aborts it (shutdown, resync). */
    int (*should_stop)(void *arg);
    void *arg;
};

struct http_resp {
    long status; /* 0 when no response arrived */
    char *body;  /* NUL-terminated, owned; NULL when streamed or empty */
    size_t len;
    long retry_after; /* seconds from Retry-After, -1 when absent */
    int stream_rc;    /* the negative value on_data returned, else 0 */
};

struct http_conn;

struct http_conn *http_conn_new(const struct http_tls *tls);
void http_conn_free(struct http_conn *c);

/* Returns 0 when a response arrived (any status: the caller reads resp->status),
 * ERR_UNAVAILABLE when none did (connect/TLS failure, dropped connection, timeout, aborted),
 * ERR_TOO_LARGE when the buffered body passed the limit. resp is always initialised and must
 * be cleaned up with http_resp_cleanup. */
int http_do(struct http_conn *c, const struct http_req *rq, struct http_resp *resp,
            struct error *err);
void http_resp_cleanup(struct http_resp *resp);

/* Percent-encodes s for a URL path segment or query value (RFC 3986 unreserved kept). */
char *http_escape(const char *s);

#endif
