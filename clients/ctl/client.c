#include "clients/ctl/client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

#define CLIENT_CONNECT_TIMEOUT_MS 10000L
#define CLIENT_DEFAULT_TIMEOUT_MS 60000L

struct client {
    CURL *curl;
    char *server;
    char *token;
};

struct transfer {
    struct client_resp *resp;
    size_t cap;
    int too_large;
};

struct client *client_new(const char *server, const char *token)
{
    struct client *c = xcalloc(1, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl) {
        fprintf(stderr, "lbipamctl: curl_easy_init failed\n");
        abort();
    }
    c->server = xstrdup(server);
    c->token = token && token[0] ? xstrdup(token) : NULL;
    return c;
}

void client_free(struct client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->server);
    free(c->token);
    free(c);
}

void client_resp_cleanup(struct client_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    struct client_resp *r = t->resp;
    size_t n = size * nmemb;
    if (r->len + n > CLIENT_MAX_BODY) {
        t->too_large = 1;
        return 0;
    }
    r->body = xgrow(r->body, &t->cap, r->len + n + 1);
    memcpy(r->body + r->len, p, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

/* Copies the value of header `name` (lower case, with the colon) into out when line is it. */
static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t len = strlen(name);
    if (n <= len || strncasecmp(line, name, len) != 0)
        return;
    line += len, n -= len;
    while (n > 0 && (*line == ' ' || *line == '\t'))
        line++, n--;
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, line, n);
    out[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct transfer *t = arg;
    size_t n = size * nmemb;
    header_value(p, n, "etag:", t->resp->etag, sizeof(t->resp->etag));
    header_value(p, n, "content-type:", t->resp->content_type, sizeof(t->resp->content_type));
    return n;
}

static struct curl_slist *build_headers(const struct client *c, const char *body,
                                        const char *const *extra)
{
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    if (c->token) {
        char *line = xasprintf("Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, line);
        free(line);
    }
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    for (size_t i = 0; extra && extra[i]; i++)
        h = curl_slist_append(h, extra[i]);
    h = curl_slist_append(h, "Expect:");
    return h;
}

int client_do(struct client *c, const char *method, const char *path, const char *body,
              const char *const *headers, long timeout_ms, struct client_resp *resp,
              struct error *err)
{
    int rc = 0;
    CURL *curl = c->curl;
    struct transfer t = {.resp = resp};
    char *url = xasprintf("%s%s", c->server, path);
    struct curl_slist *h = build_headers(c, body, headers);

    memset(resp, 0, sizeof(*resp));
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     timeout_ms > 0 ? timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    CURLcode cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (t.too_large) {
        rc = error_set(err, ERR_TOO_LARGE, "response_too_large", NULL,
                       "%s %s: the reply is larger than %u bytes", method, url, CLIENT_MAX_BODY);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = error_set(err, ERR_UNAVAILABLE, "unreachable", NULL, "%s %s: %s", method, url,
                       curl_easy_strerror(cc));
        goto out;
    }
    if (!resp->body)
        resp->body = xstrdup("");
out:
    curl_slist_free_all(h);
    free(url);
    return rc;
}

static int status_code(long status)
{
    switch (status) {
    case 400:
        return ERR_BAD_REQUEST;
    case 404:
        return ERR_NOTFOUND;
    case 409:
        return ERR_CONFLICT;
    case 412:
        return ERR_PRECONDITION;
    case 413:
        return ERR_TOO_LARGE;
    case 415:
        return ERR_UNSUPPORTED;
    case 422:
        return ERR_INVALID;
    case 503:
        return ERR_UNAVAILABLE;
    default:
        return ERR_INTERNAL;
    }
}

int client_problem(const struct client_resp *resp, const char *method, const char *path,
                   struct error *err)
{
    json_t *p = json_loads(resp->body ? resp->body : "", 0, NULL);
    const char *reason = json_string_value(json_object_get(p, "reason"));
    const char *detail = json_string_value(json_object_get(p, "detail"));
    const char *title = json_string_value(json_object_get(p, "title"));
    const char *field = json_string_value(json_object_get(p, "field"));
    int code = status_code(resp->status);
    if (reason)
        error_set(err, code, reason, field, "%s", detail ? detail : title ? title : "");
    else
        error_set(err, code, "http_error", NULL, "%s %s: HTTP %ld", method, path, resp->status);
    json_decref(p);
    return code;
}

char *client_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), j = 0;
    char *out = xmalloc(3 * n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
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
