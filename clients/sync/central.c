#include "clients/sync/central.h"

#include <stdlib.h>
#include <string.h>

#include "clients/kube/http.h"
#include "clients/kube/token.h"
#include "clients/sync/service.h"
#include "lib/xalloc.h"

struct central {
    char *base;
    char *cluster;
    struct token_source *token;
};

struct central_conn {
    struct central *ce;
    struct http_conn *http;
    char token[TOKEN_MAX];
};

struct central *central_new(const char *base_url, const char *token_file, const char *cluster)
{
    struct central *ce = xcalloc(1, sizeof(*ce));
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    ce->base = xstrndup(base_url, n);
    ce->cluster = xstrdup(cluster);
    ce->token = token_source_new(token_file, NULL);
    return ce;
}

void central_free(struct central *ce)
{
    if (!ce)
        return;
    token_source_free(ce->token);
    free(ce->base);
    free(ce->cluster);
    free(ce);
}

struct central_conn *central_conn_new(struct central *ce)
{
    struct central_conn *c = xcalloc(1, sizeof(*c));
    c->ce = ce;
    c->http = http_conn_new(NULL); /* system CA store; verification on */
    return c;
}

void central_conn_free(struct central_conn *c)
{
    if (!c)
        return;
    http_conn_free(c->http);
    free(c);
}

static char *alloc_url(struct central_conn *c, const char *ns, const char *name)
{
    char *cl = http_escape(c->ce->cluster), *n = http_escape(ns), *s = http_escape(name);
    char *url = xasprintf("%s/v1/allocations/%s/%s/%s", c->ce->base, cl, n, s);
    free(cl);
    free(n);
    free(s);
    return url;
}

/* Sends with the token; a 401 re-reads the token file and tries once more. */
static int send_authed(struct central_conn *c, struct http_req *rq, struct http_resp *resp,
                       struct error *err)
{
    int rc = 0;
    memset(resp, 0, sizeof(*resp)); /* initialised even when no request is sent */
    resp->retry_after = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = token_source_get(c->ce->token, c->token, err);
        if (rc < 0)
            return rc;
        rq->token = c->token;
        rq->max_body = CENTRAL_MAX_BODY;
        rq->timeout_ms = CENTRAL_TIMEOUT_MS;
        rc = http_do(c->http, rq, resp, err);
        if (rc < 0 || resp->status != 401 || attempt == 1)
            break;
        http_resp_cleanup(resp);
        token_source_invalidate(c->ce->token);
    }
    return rc;
}

/* Maps a non-2xx answer to the worker's three cases, keeping the server's words. */
static int problem(const struct http_resp *resp, const char *what, struct error *err)
{
    json_t *doc = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
    const char *reason = json_string_value(json_object_get(doc, "reason"));
    const char *detail = json_string_value(json_object_get(doc, "detail"));
    int code = ERR_UNAVAILABLE;
    if (resp->status == 409)
        code = ERR_CONFLICT;
    else if (resp->status == 422 || resp->status == 400)
        code = ERR_INVALID;
    else if (resp->status == 404)
        code = ERR_NOTFOUND;
    int rc;
    if (code == ERR_UNAVAILABLE)
        rc = error_set(err, code, "central_unavailable", NULL, "%s: HTTP %ld: %.200s", what,
                       resp->status, detail ? detail : "");
    else
        rc = error_set(err, code, reason ? reason : "refused", NULL, "%s", detail ? detail : "");
    json_decref(doc);
    return rc;
}

int central_put(struct central_conn *c, const char *ns, const char *name, json_t *body,
                json_t **out, long *retry_after, struct error *err)
{
    int rc = 0;
    *out = NULL;
    char *url = alloc_url(c, ns, name);
    char *text = json_dumps(body, JSON_COMPACT);
    struct http_req rq = {
        .method = "PUT", .url = url, .content_type = "application/json", .body = text};
    struct http_resp resp;
    rc = send_authed(c, &rq, &resp, err);
    *retry_after = resp.retry_after;
    if (rc < 0) {
        rc = ERR_UNAVAILABLE; /* too large or unreadable token: still "no usable answer" */
        goto out;
    }
    if (resp.status != 200 && resp.status != 201) {
        rc = problem(&resp, "PUT allocation", err);
        goto out;
    }
    json_error_t jerr;
    *out = json_loadb(resp.body ? resp.body : "", resp.len, 0, &jerr);
    if (!*out)
        rc = error_set(err, ERR_UNAVAILABLE, "central_bad_reply", NULL,
                       "PUT allocation: bad JSON: %s", jerr.text);
out:
    http_resp_cleanup(&resp);
    free(text);
    free(url);
    return rc;
}

int central_release(struct central_conn *c, const char *ns, const char *name, long *retry_after,
                    struct error *err)
{
    int rc = 0;
    char *url = alloc_url(c, ns, name);
    struct http_req rq = {.method = "DELETE", .url = url};
    struct http_resp resp;
    rc = send_authed(c, &rq, &resp, err);
    *retry_after = resp.retry_after;
    if (rc < 0)
        goto out;
    if (resp.status != 204 && resp.status != 200 && resp.status != 404)
        rc = error_set(err, ERR_UNAVAILABLE, "central_unavailable", NULL,
                       "DELETE allocation %s/%s: HTTP %ld", ns, name, resp.status);
out:
    http_resp_cleanup(&resp);
    free(url);
    return rc;
}

static int list_page(struct central_conn *c, const char *cursor, central_alloc_fn fn, void *arg,
                     char **next, struct error *err)
{
    int rc = 0;
    json_t *doc = NULL;
    char *cl = http_escape(c->ce->cluster);
    char *cur = cursor ? http_escape(cursor) : NULL;
    char *url = xasprintf("%s/v1/allocations?cluster=%s&managedBy=%s&limit=1000%s%s", c->ce->base,
                          cl, SYNC_MANAGED_BY, cur ? "&cursor=" : "", cur ? cur : "");
    struct http_req rq = {.method = "GET", .url = url};
    struct http_resp resp;
    rc = send_authed(c, &rq, &resp, err);
    if (rc < 0)
        goto out;
    if (resp.status != 200) {
        rc = error_set(err, ERR_UNAVAILABLE, "central_unavailable", NULL,
                       "GET allocations: HTTP %ld", resp.status);
        goto out;
    }
    doc = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
    json_t *items = json_object_get(doc, "items");
    if (!json_is_array(items)) {
        rc =
            error_set(err, ERR_UNAVAILABLE, "central_bad_reply", NULL, "GET allocations: no items");
        goto out;
    }
    size_t i;
    json_t *a;
    json_array_foreach(items, i, a)
    {
        const char *ns = json_string_value(json_object_get(a, "namespace"));
        const char *name = json_string_value(json_object_get(a, "service"));
        const char *mb = json_string_value(json_object_get(a, "managedBy"));
        /* The filter is the server's; checking again costs nothing and protects hand-made
         * reservations if a server ever ignores the query. */
        if (ns && name && mb && strcmp(mb, SYNC_MANAGED_BY) == 0)
            fn(arg, ns, name);
    }
    const char *nc = json_string_value(json_object_get(doc, "nextCursor"));
    *next = nc && nc[0] ? xstrdup(nc) : NULL;
out:
    json_decref(doc);
    http_resp_cleanup(&resp);
    free(url);
    free(cl);
    free(cur);
    return rc;
}

int central_list_managed(struct central_conn *c, central_alloc_fn fn, void *arg, struct error *err)
{
    int rc = 0;
    char *cursor = NULL;
    do {
        char *next = NULL;
        rc = list_page(c, cursor, fn, arg, &next, err);
        free(cursor);
        cursor = next;
    } while (rc == 0 && cursor);
    free(cursor);
    return rc;
}
