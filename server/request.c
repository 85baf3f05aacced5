/* request.c - one HTTP request from libmicrohttpd to a handler and back.
 *
 * The life of a request:
 *   1. request_uri_cb: the request line is read; the context is created and counted in flight.
 *   2. first access call (headers read): route, query, size and media type are checked. A
 *      404, 405, 413 or 415 is queued right away, so that a body we refuse is never read.
 *   3. further access calls: the body is accumulated, up to REQUEST_BODY_MAX.
 *   4. last access call: the body is parsed and the handler runs (under the Idempotency-Key
 *      rules for POST); its reply is queued.
 *   5. request_completed_cb: one access log line, then everything is freed.
 * The path is matched undecoded: libmicrohttpd's own unescaping is never used for it (we keep
 * the URI from the log callback), so an encoded "/" in a parameter cannot change the route.
 */
#include "server/server_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/metrics.h"
#include "server/ui.h"

#define JSON_MEDIA_TYPE "application/json"
/* Hostile input (issue 3): longer URLs are 414, bigger header sections 431, deeper JSON 400.
 * libmicrohttpd's own memory limit (server.c) is above these, so that we, not it, answer. */
#define REQUEST_URI_MAX 8192
#define REQUEST_HEADERS_MAX ((size_t)16 * 1024)
#define REQUEST_JSON_DEPTH_MAX 64

static void server_request_done(struct server *srv)
{
    pthread_mutex_lock(&srv->lock);
    if (--srv->inflight == 0)
        pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

void *request_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct server *srv = cls;
    struct request *rq = xcalloc(1, sizeof(*rq));
    uint64_t n = atomic_fetch_add(&srv->next_id, 1);

    (void)conn;
    rq->srv = srv;
    rq->uri = xstrdup(uri ? uri : "");
    rq->wdc = watchdog_conn(conn);
    watchdog_reading(rq->wdc);
    clock_gettime(CLOCK_MONOTONIC, &rq->started);
    snprintf(rq->id, sizeof(rq->id), "%s%016" PRIx64, srv->id_prefix, n);
    pthread_mutex_lock(&srv->lock);
    srv->inflight++;
    pthread_mutex_unlock(&srv->lock);
    return rq;
}

/* A client's own X-Request-Id is kept when it is short and plain, so that its logs and ours
 * can be joined; otherwise ours stays. */
static void adopt_request_id(struct request *rq, struct MHD_Connection *conn)
{
    const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = id ? strlen(id) : 0;

    if (n == 0 || n >= sizeof(rq->id))
        return;
    if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") != n)
        return;
    memcpy(rq->id, id, n + 1);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Splits the query string into decoded arguments. "a=1&b" gives a="1", b="". */
static int parse_query(struct request *rq, const char *query, struct error *err)
{
    struct api_call *call = &rq->call;
    char *save = NULL;

    rq->query_buf = xstrdup(query);
    for (char *arg = strtok_r(rq->query_buf, "&", &save); arg; arg = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(arg, '=');
        if (call->nquery == API_QUERY_MAX)
            return error_set(err, ERR_BAD_REQUEST, "invalid_query", NULL,
                             "more than %d query arguments", API_QUERY_MAX);
        if (eq)
            *eq = '\0';
        if (url_decode(arg, true) < 0 || (eq && url_decode(eq + 1, true) < 0))
            return error_set(err, ERR_BAD_REQUEST, "invalid_query", NULL,
                             "the query string has a bad %%-escape");
        call->query[call->nquery++] = (struct api_kv){.key = arg, .value = eq ? eq + 1 : ""};
    }
    return 0;
}

static bool media_type_is_json(const char *ct)
{
    size_t n;

    ct += strspn(ct, " \t");
    n = strcspn(ct, "; \t");
    return n == strlen(JSON_MEDIA_TYPE) && strncasecmp(ct, JSON_MEDIA_TYPE, n) == 0;
}

static bool has_body(struct MHD_Connection *conn)
{
    const char *length = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
           (length && strspn(length, " 0") != strlen(length));
}

/* The size and media type of the body, from the headers alone. */
static int check_body_headers(struct MHD_Connection *conn, struct error *err)
{
    const char *length = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *type = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    unsigned long long n = length ? strtoull(length, NULL, 10) : 0;

    if (n > REQUEST_BODY_MAX)
        return error_set(err, ERR_TOO_LARGE, "body_too_large", NULL,
                         "the body is larger than %zu bytes", REQUEST_BODY_MAX);
    /* A body without a Content-Type is taken as JSON: curl users often leave it out. */
    if (has_body(conn) && type && !media_type_is_json(type))
        return error_set(err, ERR_UNSUPPORTED, "unsupported_media_type", NULL,
                         "the body must be application/json, not %.64s", type);
    return 0;
}

static void fill_call(struct request *rq, struct MHD_Connection *conn)
{
    struct api_call *call = &rq->call;

    call->st = rq->srv->st;
    call->prober = probes_iface(rq->srv->probes);
    call->request_id = rq->id;
    call->method = strcmp(rq->method, "HEAD") == 0 ? "GET" : rq->method;
    call->path = rq->path;
    call->if_match = header(conn, MHD_HTTP_HEADER_IF_MATCH);
    call->idempotency_key = header(conn, "Idempotency-Key");
    call->content_type = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    call->prefer = header(conn, "Prefer");
    call->if_none_match = header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
}

static enum MHD_Result queue_reply(struct request *rq, struct MHD_Connection *conn)
{
    struct api_reply *r = &rq->call.reply;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (r->body_static || !r->body) {
        resp = MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer_with_free_callback(r->body_len, r->body, free);
        r->body = NULL; /* libmicrohttpd frees it now */
    }
    if (!resp)
        return MHD_NO;
    if (r->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
    if (r->retry_after[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->retry_after);
    if (r->content_type[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (rq->replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    MHD_add_response_header(resp, "X-Request-Id", rq->id);
    if (r->cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* The dashboard loads nothing from elsewhere; say so, so that an injected script or a
     * foreign frame cannot run either. */
    if (strncmp(r->content_type, "text/html", 9) == 0)
        MHD_add_response_header(resp, "Content-Security-Policy", UI_CONTENT_SECURITY_POLICY);
    /* While draining, let keep-alive clients go so that server_stop is not kept waiting. */
    if (atomic_load(&rq->srv->draining) || rq->over_cap)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    /* the watchdog may have timed this request out (408) meanwhile: then it owns the socket */
    ret = watchdog_busy(rq->wdc) ? MHD_queue_response(conn, (unsigned)r->status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    rq->queued = true;
    return ret;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    size_t *total = cls;

    (void)kind;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

static int check_request_size(const struct request *rq, struct MHD_Connection *conn,
                              struct error *err)
{
    size_t headers = 0;

    if (strlen(rq->uri) > REQUEST_URI_MAX)
        return error_set(err, ERR_BAD_REQUEST, "uri_too_long", NULL,
                         "the request target is longer than %d bytes", REQUEST_URI_MAX);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_size, &headers);
    if (headers > REQUEST_HEADERS_MAX)
        return error_set(err, ERR_BAD_REQUEST, "headers_too_large", NULL,
                         "the request headers take more than %zu bytes", REQUEST_HEADERS_MAX);
    return 0;
}

/* Route, query and body headers. A refusal is queued at once when a body would follow (so it
 * is never read), else on the last call. */
static enum MHD_Result request_begin(struct request *rq, struct MHD_Connection *conn,
                                     const char *method)
{
    struct api_call *call = &rq->call;
    const char *query;
    struct error err;
    enum router_result found;
    int rc = 0;

    rq->begun = true;
    snprintf(rq->method, sizeof(rq->method), "%s", method);
    adopt_request_id(rq, conn);
    rq->path = xstrndup(rq->uri, strcspn(rq->uri, "?"));
    query = rq->uri + strlen(rq->path);
    fill_call(rq, conn);
    /* past a connection cap, every request of the connection gets the refusal, and it closes */
    if (watchdog_cap_check(rq->wdc, &err) < 0) {
        rq->over_cap = true;
        snprintf(call->reply.retry_after, sizeof(call->reply.retry_after), "1");
        reply_problem(call, &err);
        rq->refused = true;
        return has_body(conn) ? queue_reply(rq, conn) : MHD_YES;
    }
    found = router_match(rq->method, rq->path, call, &rq->param_buf, &rq->route, call->reply.allow);
    if (found == ROUTER_NOT_FOUND)
        rc = error_set(&err, ERR_NOTFOUND, "not_found", NULL, "no route for %.200s", rq->path);
    else if (found == ROUTER_BAD_METHOD)
        rc = error_set(&err, ERR_BAD_REQUEST, "method_not_allowed", NULL,
                       "%s is not allowed here; allowed: %s", rq->method, call->reply.allow);
    else
        call->reply.allow[0] = '\0'; /* Allow belongs to 405 only */
    if (rc == 0)
        rc = check_request_size(rq, conn, &err);
    if (rc == 0 && *query == '?')
        rc = parse_query(rq, query + 1, &err);
    if (rc == 0)
        rc = check_body_headers(conn, &err);
    /* before any body byte is read: a caller who may not is never made to upload */
    if (rc == 0)
        rc = auth_request(rq, conn, &err);
    if (rc == 0)
        return MHD_YES;
    reply_problem(call, &err);
    rq->refused = true;
    /* Queued now, a refusal keeps libmicrohttpd from reading the body (it then closes the
     * connection); without a body it waits for the last call and keeps the connection. */
    return has_body(conn) ? queue_reply(rq, conn) : MHD_YES;
}

static void take_body(struct request *rq, const char *data, size_t n)
{
    if (rq->queued || rq->body_too_large)
        return;
    if (n > REQUEST_BODY_MAX - rq->body_len) {
        /* Chunked bodies have no Content-Length to refuse up front: stop keeping bytes. */
        rq->body_too_large = true;
        free(rq->body);
        rq->body = NULL;
        rq->body_len = rq->body_cap = 0;
        return;
    }
    if (rq->body_len + n + 1 > rq->body_cap) {
        size_t cap = rq->body_cap ? rq->body_cap : 4096;
        while (cap < rq->body_len + n + 1)
            cap *= 2;
        rq->body_cap = cap < REQUEST_BODY_MAX + 1 ? cap : REQUEST_BODY_MAX + 1;
        rq->body = xrealloc(rq->body, rq->body_cap);
    }
    memcpy(rq->body + rq->body_len, data, n);
    rq->body_len += n;
    rq->body[rq->body_len] = '\0';
}

static bool route_takes_body(const struct route *r)
{
    return strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0;
}

/* Counted before jansson parses (its parser recurses): a scan without recursion, so that no
 * nesting, however deep, can reach the stack. */
static bool json_too_deep(const char *s, size_t n)
{
    int depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > REQUEST_JSON_DEPTH_MAX)
                return true;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return false;
}

/* The body of POST and PUT: one JSON object, duplicates refused (a duplicate key is as
 * ambiguous as a typo). Other methods ignore any body. */
static int parse_body(struct request *rq, struct error *err)
{
    json_error_t jerr;

    if (!rq->body || rq->body_len == 0 || !route_takes_body(rq->route))
        return 0;
    if (json_too_deep(rq->body, rq->body_len))
        return error_set(err, ERR_BAD_REQUEST, "invalid_json", NULL,
                         "the JSON nests deeper than %d levels", REQUEST_JSON_DEPTH_MAX);
    rq->call.body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!rq->call.body)
        return error_set(err, ERR_BAD_REQUEST, "invalid_json", NULL,
                         "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                         jerr.text);
    if (!json_is_object(rq->call.body))
        return error_set(err, ERR_BAD_REQUEST, "invalid_type", NULL,
                         "the body must be a JSON object");
    return 0;
}

static void run_handler(struct request *rq)
{
    struct api_call *call = &rq->call;
    struct error err;

    if (parse_body(rq, &err) < 0) {
        reply_problem(call, &err);
        return;
    }
    rq->route->handler(call);
    if (rq->route->handler == api_allocations_put)
        metrics_allocation_outcome(call->reply.outcome);
    if (call->reply.status == 0)
        reply_error(call, ERR_INTERNAL, "internal", NULL, "%s %s: the handler did not reply",
                    rq->method, rq->route->path);
}

static enum MHD_Result request_finish(struct request *rq, struct MHD_Connection *conn)
{
    struct api_call *call = &rq->call;

    if (rq->refused)
        return queue_reply(rq, conn); /* request_begin has replied */
    if (!watchdog_busy(rq->wdc))
        return MHD_NO; /* timed out (408) while the body trickled in */
    call->raw_body = rq->body ? rq->body : "";
    call->raw_body_len = rq->body_len;
    if (rq->body_too_large)
        reply_error(call, ERR_TOO_LARGE, "body_too_large", NULL,
                    "the body is larger than %zu bytes", REQUEST_BODY_MAX);
    else if (strcmp(call->method, "POST") == 0 && call->idempotency_key)
        idempotency_run(rq, run_handler);
    else
        run_handler(rq);
    return queue_reply(rq, conn);
}

enum MHD_Result request_access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct request *rq = *req_cls;

    (void)cls;
    (void)url;
    (void)version;
    if (!rq)
        return MHD_NO; /* the URI callback always runs first */
    if (!rq->begun)
        return request_begin(rq, conn, method);
    if (*upload_data_size) {
        take_body(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->queued)
        return MHD_YES;
    return request_finish(rq, conn);
}

static void log_access(const struct request *rq, enum MHD_RequestTerminationCode toe)
{
    struct timespec now;
    char status[8], ms[32];
    double elapsed;

    clock_gettime(CLOCK_MONOTONIC, &now);
    elapsed = (double)(now.tv_sec - rq->started.tv_sec) * 1e3 +
              (double)(now.tv_nsec - rq->started.tv_nsec) / 1e6;
    snprintf(status, sizeof(status), "%d", rq->call.reply.status);
    snprintf(ms, sizeof(ms), "%.3f", elapsed);
    /* route is the template (bounded, for grouping); actor the token's name, once known. */
    log_fields(LOG_INFO, "request", "method", rq->method[0] ? rq->method : NULL, "path",
               rq->path ? rq->path : rq->uri, "route", rq->route ? rq->route->path : NULL, "status",
               status, "duration_ms", ms, "request_id", rq->id, "actor", rq->call.actor,
               "termination", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? NULL : "aborted", NULL);
    metrics_request_done(rq->route, rq->method, rq->call.reply.status, elapsed / 1e3);
}

static void request_free(struct request *rq)
{
    json_decref(rq->call.body);
    api_reply_cleanup(&rq->call.reply);
    free(rq->body);
    free(rq->query_buf);
    free(rq->param_buf);
    free(rq->path);
    free(rq->uri);
    free(rq);
}

void request_completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct request *rq = *req_cls;

    (void)cls;
    (void)conn;
    if (!rq)
        return;
    *req_cls = NULL;
    watchdog_idle(rq->wdc);
    log_access(rq, toe);
    server_request_done(rq->srv);
    request_free(rq);
}
