/* call.c - reading an api_call and filling its reply. */
#include "api/api.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define JSON_TYPE "application/json; charset=utf-8"

static const char *kv_find(const struct api_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(kv[i].key, name) == 0)
            return kv[i].value;
    }
    return NULL;
}

const char *call_param(const struct api_call *call, const char *name)
{
    return kv_find(call->params, call->nparams, name);
}

const char *call_query(const struct api_call *call, const char *name)
{
    return kv_find(call->query, call->nquery, name);
}

size_t call_query_count(const struct api_call *call, const char *name)
{
    size_t count = 0;
    for (size_t i = 0; i < call->nquery; i++) {
        if (strcmp(call->query[i].key, name) == 0)
            count++;
    }
    return count;
}

static void reply_drop_body(struct api_reply *r)
{
    if (!r->body_static)
        free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->body_static = false;
}

void reply_body(struct api_call *call, int status, const char *content_type, char *body, size_t len)
{
    struct api_reply *r = &call->reply;

    reply_drop_body(r);
    r->status = status;
    snprintf(r->content_type, sizeof(r->content_type), "%s", content_type ? content_type : "");
    r->body = body;
    r->body_len = len;
}

void reply_static(struct api_call *call, int status, const char *content_type, const char *body,
                  size_t len)
{
    /* The cast is safe: body_static tells every reader not to write or free it. */
    reply_body(call, status, content_type, (char *)(uintptr_t)body, len);
    call->reply.body_static = true;
}

void reply_json(struct api_call *call, int status, json_t *doc)
{
    /* Compact, with a final newline so that curl output ends its line. Six significant
     * digits keep utilization readable; no other number is a real. */
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6));
    size_t len = strlen(text);

    json_decref(doc);
    text = xrealloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';
    reply_body(call, status, JSON_TYPE, text, len + 1);
}

void reply_empty(struct api_call *call, int status)
{
    reply_body(call, status, NULL, NULL, 0);
}

void reply_location(struct api_call *call, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(call->reply.location);
    call->reply.location = xstrdup(buf);
}

void reply_etag(struct api_call *call, int64_t version)
{
    snprintf(call->reply.etag, sizeof(call->reply.etag), "\"%" PRId64 "\"", version);
}

void api_reply_cleanup(struct api_reply *r)
{
    reply_drop_body(r);
    free(r->location);
    r->location = NULL;
}
