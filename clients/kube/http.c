#include "clients/kube/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

#define HTTP_DEFAULT_MAX_BODY (16u << 20)
#define HTTP_CONNECT_TIMEOUT_MS 10000L

struct http_conn {
    CURL *curl;
    const struct http_tls *tls;
};

/* What the callbacks of one transfer share. */
struct transfer {
    const struct http_req *rq;
    struct http_resp *resp;
    struct http_conn *c;
    size_t max_body;
    size_t cap;
    int too_large;
};

struct http_conn *http_conn_new(const struct http_tls *tls)
{
    struct http_conn *c = xcalloc(1, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl) {
        fprintf(stderr, "lbipam: curl_easy_init failed\n");
        abort();
    }
    c->tls = tls;
    return c;
}

void http_conn_free(struct http_conn *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

void http_resp_cleanup(struct http_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

static int buffer_append(struct transfer *t, const char *p, size_t n)
{
    struct http_resp *r = t->resp;
    if (r->len + n > t->max_body) {
        t->too_large = 1;
        return -1;
    }
    r->body = xgrow(r->body, &t->cap, r->len + n + 1);
    memcpy(r->body + r->len, p, n);
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(t->c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->rq->on_data && status >= 200 && status < 300) {
        int rc = t->rq->on_data(t->rq->arg, p, n);
        if (rc < 0) {
            t->resp->stream_rc = rc;
            return 0; /* anything but n aborts the transfer */
        }
        return n;
    }
    return buffer_append(t, p, n) < 0 ? 0 : n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    /* Only delta-seconds; an HTTP-date Retry-After is rare enough to treat as absent. */
    if (n > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        char tmp[32];
        size_t len = n - (sizeof(name) - 1);
        if (len >= sizeof(tmp))
            len = sizeof(tmp) - 1;
        memcpy(tmp, p + sizeof(name) - 1, len);
        tmp[len] = '\0';
        char *end;
        long v = strtol(tmp, &end, 10);
        if (end != tmp && v >= 0)
            t->resp->retry_after = v;
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct transfer *t = arg;
    return t->rq->should_stop(t->rq->arg) ? 1 : 0;
}

static void set_blob(CURL *curl, CURLoption opt, const void *data, size_t len)
{
    struct curl_blob blob = {.data = (void *)data, .len = len, .flags = CURL_BLOB_COPY};
    curl_easy_setopt(curl, opt, &blob);
}

static void apply_tls(CURL *curl, const struct http_tls *tls)
{
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!tls)
        return;
    if (tls->ca_data)
        set_blob(curl, CURLOPT_CAINFO_BLOB, tls->ca_data, tls->ca_len);
    else if (tls->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, tls->ca_file);
    if (tls->cert_data)
        set_blob(curl, CURLOPT_SSLCERT_BLOB, tls->cert_data, tls->cert_len);
    else if (tls->cert_file)
        curl_easy_setopt(curl, CURLOPT_SSLCERT, tls->cert_file);
    if (tls->key_data)
        set_blob(curl, CURLOPT_SSLKEY_BLOB, tls->key_data, tls->key_len);
    else if (tls->key_file)
        curl_easy_setopt(curl, CURLOPT_SSLKEY, tls->key_file);
    if (tls->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static struct curl_slist *build_headers(const struct http_req *rq)
{
    struct curl_slist *h = NULL;
    char line[64 + 8192];
    h = curl_slist_append(h, "Accept: application/json");
    if (rq->token && rq->token[0]) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", rq->token);
        h = curl_slist_append(h, line);
    }
    if (rq->content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", rq->content_type);
        h = curl_slist_append(h, line);
    }
    /* No "Expect: 100-continue" round trip for small bodies. */
    h = curl_slist_append(h, "Expect:");
    return h;
}

int http_do(struct http_conn *c, const struct http_req *rq, struct http_resp *resp,
            struct error *err)
{
    int rc = 0;
    CURL *curl = c->curl;
    struct transfer t = {.rq = rq, .resp = resp, .c = c};
    t.max_body = rq->max_body ? rq->max_body : HTTP_DEFAULT_MAX_BODY;
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;

    curl_easy_reset(curl); /* keeps the connection cache, drops the previous request's options */
    apply_tls(curl, c->tls);
    struct curl_slist *headers = build_headers(rq);
    curl_easy_setopt(curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
    /* A watch idles for minutes; keepalive notices a peer that vanished without a FIN. */
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    if (rq->timeout_ms > 0)
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    if (rq->body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
    } else if (strcmp(rq->method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    if (rq->should_stop) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }

    CURLcode cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (t.too_large) {
        rc = error_set(err, ERR_TOO_LARGE, "response_too_large", NULL,
                       "%s %s: response body exceeds %zu bytes", rq->method, rq->url, t.max_body);
        goto out;
    }
    if (resp->stream_rc < 0) {
        rc = resp->stream_rc; /* on_data set the error where it understood it */
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = error_set(err, ERR_UNAVAILABLE, "unreachable", NULL, "%s %s: %s", rq->method, rq->url,
                       curl_easy_strerror(cc));
        goto out;
    }
out:
    curl_slist_free_all(headers);
    return rc;
}

char *http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (keep) {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = '\0';
    return out;
}
