#include "clients/kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/kube/jsonsplit.h"
#include "clients/kube/token.h"
#include "lib/xalloc.h"

struct kube {
    struct kube_config *cfg;
    struct http_tls tls;
    struct token_source *token;
};

struct kube_conn {
    struct kube *k;
    struct http_conn *http;
    char token[TOKEN_MAX];
};

struct kube *kube_new(struct kube_config *cfg)
{
    struct kube *k = xcalloc(1, sizeof(*k));
    k->cfg = cfg;
    k->tls = (struct http_tls){
        .ca_file = cfg->ca_file,
        .ca_data = cfg->ca_data,
        .ca_len = cfg->ca_len,
        .cert_file = cfg->cert_file,
        .cert_data = cfg->cert_data,
        .cert_len = cfg->cert_len,
        .key_file = cfg->key_file,
        .key_data = cfg->key_data,
        .key_len = cfg->key_len,
        .insecure = cfg->insecure,
    };
    k->token = token_source_new(cfg->token_file, cfg->token);
    return k;
}

void kube_free(struct kube *k)
{
    if (!k)
        return;
    token_source_free(k->token);
    kube_config_free(k->cfg);
    free(k);
}

const char *kube_server(const struct kube *k)
{
    return k->cfg->server;
}

struct kube_conn *kube_conn_new(struct kube *k)
{
    struct kube_conn *c = xcalloc(1, sizeof(*c));
    c->k = k;
    c->http = http_conn_new(&k->tls);
    return c;
}

void kube_conn_free(struct kube_conn *c)
{
    if (!c)
        return;
    http_conn_free(c->http);
    free(c);
}

/* Sends rq with the current token; after a 401 re-reads the token and sends it once more. */
static int send_authed(struct kube_conn *c, struct http_req *rq, struct http_resp *resp,
                       struct error *err)
{
    int rc = 0;
    memset(resp, 0, sizeof(*resp)); /* initialised even when no request is sent */
    resp->retry_after = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = token_source_get(c->k->token, c->token, err);
        if (rc < 0)
            return rc;
        rq->token = c->token;
        rc = http_do(c->http, rq, resp, err);
        if (rc < 0 || resp->status != 401 || attempt == 1)
            break;
        http_resp_cleanup(resp);
        token_source_invalidate(c->k->token);
    }
    return rc;
}

int kube_call(struct kube_conn *c, const char *method, const char *path, const char *content_type,
              const char *body, struct http_resp *resp, struct error *err)
{
    char *url = xasprintf("%s%s", c->k->cfg->server, path);
    struct http_req rq = {
        .method = method,
        .url = url,
        .content_type = content_type,
        .body = body,
        .max_body = KUBE_MAX_OBJECT,
        .timeout_ms = KUBE_CALL_TIMEOUT_MS,
    };
    int rc = send_authed(c, &rq, resp, err);
    free(url);
    return rc;
}

static void set_fail(struct kube_fail *fail, const struct http_resp *resp)
{
    fail->status = resp->status;
    fail->retry_after = resp->retry_after;
}

static int status_error(const struct http_resp *resp, const char *what, struct error *err)
{
    return error_set(err, ERR_UNAVAILABLE, "kube_status", NULL, "%s: HTTP %ld: %.200s", what,
                     resp->status, resp->body ? resp->body : "");
}

/* One page: hands items out and returns the continue token ("" at the end). */
static int list_page(struct kube_conn *c, const char *path, const char *cont, kube_item_fn fn,
                     void *arg, char **rv_out, char **cont_out, struct kube_fail *fail,
                     struct error *err)
{
    int rc = 0;
    json_t *doc = NULL;
    char *esc = cont ? http_escape(cont) : NULL;
    char *url = xasprintf("%s%s?limit=%d%s%s", c->k->cfg->server, path, KUBE_LIST_LIMIT,
                          esc ? "&continue=" : "", esc ? esc : "");
    struct http_req rq = {.method = "GET",
                          .url = url,
                          .max_body = KUBE_MAX_LIST_PAGE,
                          .timeout_ms = 4 * KUBE_CALL_TIMEOUT_MS};
    struct http_resp resp;
    rc = send_authed(c, &rq, &resp, err);
    set_fail(fail, &resp);
    if (rc < 0)
        goto out;
    if (resp.status == 410 && cont) {
        rc = KUBE_ERR_GONE;
        goto out;
    }
    if (resp.status != 200) {
        rc = status_error(&resp, "list", err);
        goto out;
    }
    json_error_t jerr;
    doc = json_loadb(resp.body ? resp.body : "", resp.len, 0, &jerr);
    json_t *items = json_object_get(doc, "items");
    json_t *meta = json_object_get(doc, "metadata");
    const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (!json_is_array(items) || !rv) {
        rc = error_set(err, ERR_UNAVAILABLE, "kube_bad_list", NULL, "list %s: not a list: %s", path,
                       doc ? "no items/resourceVersion" : jerr.text);
        goto out;
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) fn(arg, item);
    free(*rv_out);
    *rv_out = xstrdup(rv);
    const char *next = json_string_value(json_object_get(meta, "continue"));
    *cont_out = xstrdup(next ? next : "");
out:
    json_decref(doc);
    http_resp_cleanup(&resp);
    free(url);
    free(esc);
    return rc;
}

int kube_list(struct kube_conn *c, const char *path, kube_item_fn fn, void *arg, char **rv_out,
              struct kube_fail *fail, struct error *err)
{
    int rc = 0;
    char *cont = NULL;
    *rv_out = NULL;
    /* A continue token expires after a few minutes (etcd compaction): the list is then no
     * longer one snapshot, so it starts over. The caller's fn must tolerate seeing an item
     * twice; bounded so that a server that always expires cannot loop forever. */
    for (int restarts = 0; restarts < 5;) {
        char *next = NULL;
        rc = list_page(c, path, cont, fn, arg, rv_out, &next, fail, err);
        free(cont);
        cont = NULL;
        if (rc == KUBE_ERR_GONE) {
            restarts++;
            continue;
        }
        if (rc < 0 || next[0] == '\0') {
            free(next);
            break;
        }
        cont = next;
    }
    if (rc == KUBE_ERR_GONE)
        rc = error_set(err, ERR_UNAVAILABLE, "kube_list_expired", NULL,
                       "list %s: continue token expired 5 times in a row", path);
    free(cont);
    if (rc < 0) {
        free(*rv_out);
        *rv_out = NULL;
    }
    return rc;
}

struct watch_ctx {
    struct kube_conn *c;
    struct jsonsplit *split;
    kube_event_fn fn;
    int (*should_stop)(void *arg);
    void *arg;
    int gone;
    struct error *err;
};

static int on_document(void *arg, const char *doc, size_t len)
{
    struct watch_ctx *w = arg;
    int rc = 0;
    json_error_t jerr;
    json_t *ev = json_loadb(doc, len, 0, &jerr);
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *obj = json_object_get(ev, "object");
    if (!type || !json_is_object(obj)) {
        rc = error_set(w->err, ERR_UNAVAILABLE, "kube_bad_event", NULL,
                       "watch event is not {type, object}: %s", ev ? "fields" : jerr.text);
        goto out;
    }
    if (strcmp(type, "ERROR") == 0) {
        json_int_t code = json_integer_value(json_object_get(obj, "code"));
        const char *msg = json_string_value(json_object_get(obj, "message"));
        if (code == 410) {
            w->gone = 1;
            rc = KUBE_ERR_GONE;
            error_set(w->err, KUBE_ERR_GONE, "expired", NULL, "watch expired: %s",
                      msg ? msg : "410");
        } else {
            rc = error_set(w->err, ERR_UNAVAILABLE, "kube_watch_error", NULL,
                           "watch ERROR %lld: %s", (long long)code, msg ? msg : "");
        }
        goto out;
    }
    w->fn(w->arg, type, obj);
out:
    json_decref(ev);
    return rc;
}

static int on_watch_data(void *arg, const char *p, size_t n)
{
    struct watch_ctx *w = arg;
    return jsonsplit_feed(w->split, p, n, on_document, w, w->err);
}

static int watch_should_stop(void *arg)
{
    struct watch_ctx *w = arg;
    return w->should_stop ? w->should_stop(w->arg) : 0;
}

int kube_watch(struct kube_conn *c, const char *path, const char *rv, int timeout_s,
               kube_event_fn fn, int (*should_stop)(void *arg), void *arg, struct kube_fail *fail,
               struct error *err)
{
    int rc = 0;
    char *esc = http_escape(rv);
    char *url = xasprintf("%s%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true"
                          "&timeoutSeconds=%d",
                          c->k->cfg->server, path, esc, timeout_s);
    struct watch_ctx w = {.c = c,
                          .split = jsonsplit_new(KUBE_MAX_OBJECT + 4096),
                          .fn = fn,
                          .should_stop = should_stop,
                          .arg = arg,
                          .err = err};
    struct http_req rq = {.method = "GET",
                          .url = url,
                          .max_body = 1u << 20,
                          /* the server ends the stream at timeoutSeconds; this is the net */
                          .timeout_ms = (timeout_s + 60) * 1000L,
                          .on_data = on_watch_data,
                          .should_stop = watch_should_stop,
                          .arg = &w};
    struct http_resp resp;
    rc = send_authed(c, &rq, &resp, err);
    set_fail(fail, &resp);
    if (w.gone) {
        rc = KUBE_ERR_GONE;
        goto out;
    }
    if (rc < 0) {
        if (should_stop && should_stop(arg))
            rc = 0; /* we cut the stream ourselves */
        goto out;
    }
    if (resp.status == 410) {
        rc = error_set(err, KUBE_ERR_GONE, "expired", NULL, "watch: HTTP 410");
        goto out;
    }
    if (resp.status != 200) {
        rc = status_error(&resp, "watch", err);
        goto out;
    }
    if (jsonsplit_pending(w.split))
        rc = error_set(err, ERR_UNAVAILABLE, "kube_watch_cut", NULL,
                       "watch stream ended inside a document");
out:
    http_resp_cleanup(&resp);
    jsonsplit_free(w.split);
    free(url);
    free(esc);
    return rc;
}
