/* problem.c - the one writer of RFC 9457 problem details.
 *
 * One table maps each err_code to its HTTP status, title and default reason; a second,
 * shorter one gives the few reasons whose status no err_code carries. A 5xx never sends the
 * detail it was given (it may name SQL or a file): it is logged with the request id and the
 * client gets a fixed sentence.
 */
#include "api/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define PROBLEM_TYPE "application/problem+json"

struct problem_kind {
    int code;
    int status;
    const char *title;
    const char *reason; /* when the error carries none */
};

static const struct problem_kind kinds[] = {
    {ERR_INTERNAL, 500, "Internal Server Error", "internal"},
    {ERR_BAD_REQUEST, 400, "Bad Request", "bad_request"},
    {ERR_INVALID, 422, "Unprocessable Content", "invalid"},
    {ERR_NOTFOUND, 404, "Not Found", "not_found"},
    {ERR_CONFLICT, 409, "Conflict", "conflict"},
    {ERR_PRECONDITION, 412, "Precondition Failed", "precondition_failed"},
    {ERR_UNAVAILABLE, 503, "Service Unavailable", "unavailable"},
    {ERR_TOO_LARGE, 413, "Content Too Large", "too_large"},
    {ERR_UNSUPPORTED, 415, "Unsupported Media Type", "unsupported_media_type"},
};

/* Reasons with a status of their own (error.h): the router's 405 has no err_code. */
static const struct problem_kind by_reason[] = {
    {ERR_BAD_REQUEST, 405, "Method Not Allowed", "method_not_allowed"},
    /* authentication and authorization (server/auth.c, api.md §9) */
    {ERR_BAD_REQUEST, 401, "Unauthorized", "unauthorized"},
    {ERR_BAD_REQUEST, 403, "Forbidden", "forbidden"},
    {ERR_BAD_REQUEST, 403, "Forbidden", "forbidden_cluster"},
    {ERR_BAD_REQUEST, 429, "Too Many Requests", "too_many_requests"},
    {ERR_BAD_REQUEST, 429, "Too Many Requests", "too_many_connections"}, /* watchdog.c */
    /* hostile input (server/request.c, server/watchdog.c) */
    {ERR_BAD_REQUEST, 408, "Request Timeout", "request_timeout"},
    {ERR_BAD_REQUEST, 414, "URI Too Long", "uri_too_long"},
    {ERR_BAD_REQUEST, 431, "Request Header Fields Too Large", "headers_too_large"},
};

static const struct problem_kind *problem_kind(int code, const char *reason)
{
    for (size_t i = 0; i < sizeof(by_reason) / sizeof(by_reason[0]); i++) {
        if (reason && strcmp(reason, by_reason[i].reason) == 0)
            return &by_reason[i];
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (kinds[i].code == code)
            return &kinds[i];
    }
    return &kinds[0]; /* an unknown code is a bug: answer 500 */
}

int api_problem_status(int code, const char *reason)
{
    return problem_kind(code, reason)->status;
}

static const char *public_detail(const struct problem_kind *kind, const struct error *err,
                                 const char *request_id)
{
    if (kind->status < 500)
        return err->detail;
    log_fields(LOG_ERROR, "server error", "request_id", request_id, "reason", err->reason, "detail",
               err->detail, NULL);
    /* The store words every 503 for the client ("the database disk is full; nothing was
     * changed"): db_fail never puts SQL or a path in it. */
    if (kind->status == 503 && err->detail[0])
        return err->detail;
    if (kind->status == 503)
        return "the store cannot serve this request right now; retry later";
    return "internal error; the server log has the details under this request id";
}

/* A detail may quote request bytes (a decoded path) or be cut inside a UTF-8 sequence by
 * error_set; jansson refuses invalid UTF-8, so such bytes become '?'. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    char buf[ERROR_DETAIL_MAX];

    if (j)
        return j;
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *c = buf; *c; c++) {
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
            *c = '?';
    }
    return json_string(buf);
}

void reply_problem(struct api_call *call, const struct error *err)
{
    const struct problem_kind *kind = problem_kind(err->code, err->reason);
    const char *reason = err->reason[0] ? err->reason : kind->reason;
    char type[ERROR_REASON_MAX + 32];
    json_t *doc = json_object();

    snprintf(type, sizeof(type), "urn:lbipam:problem:%s", reason);
    json_object_set_new(doc, "type", json_text(type));
    json_object_set_new(doc, "title", json_string(kind->title));
    json_object_set_new(doc, "status", json_integer(kind->status));
    json_object_set_new(doc, "detail", json_text(public_detail(kind, err, call->request_id)));
    json_object_set_new(doc, "reason", json_text(reason));
    if (err->field[0])
        json_object_set_new(doc, "field", json_text(err->field));
    reply_json(call, kind->status, doc);
    snprintf(call->reply.content_type, sizeof(call->reply.content_type), "%s", PROBLEM_TYPE);
    /* A problem is about this request, not about a representation. */
    call->reply.etag[0] = '\0';
    snprintf(call->reply.outcome, sizeof(call->reply.outcome), "%s", reason);
}

void reply_error(struct api_call *call, int code, const char *reason, const char *field,
                 const char *fmt, ...)
{
    struct error err;
    va_list ap;

    error_set(&err, code, reason, field, "%s", "");
    va_start(ap, fmt);
    vsnprintf(err.detail, sizeof(err.detail), fmt, ap);
    va_end(ap);
    reply_problem(call, &err);
}
