/* harness.c - see harness.h. */
#include "tests/api/harness.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "server/server.h"

/* ---- arena: everything handed to a test is freed by harness_teardown ---- */

struct arena_item {
    void *p;
    void (*release)(void *);
    struct arena_item *next;
};

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena_item *arena;

static void *arena_keep(void *p, void (*release)(void *))
{
    struct arena_item *it = malloc(sizeof(*it));
    if (it == NULL)
        abort();
    it->p = p;
    it->release = release;
    pthread_mutex_lock(&arena_lock);
    it->next = arena;
    arena = it;
    pthread_mutex_unlock(&arena_lock);
    return p;
}

static void arena_release_all(void)
{
    pthread_mutex_lock(&arena_lock);
    struct arena_item *it = arena;
    arena = NULL;
    pthread_mutex_unlock(&arena_lock);
    while (it != NULL) {
        struct arena_item *next = it->next;
        it->release(it->p);
        free(it);
        it = next;
    }
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (d == NULL)
        abort();
    return d;
}

static char *vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vfmt(const char *fmt, va_list ap)
{
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        abort();
    return out;
}

const char *S(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    return arena_keep(s, free);
}

/* ---- server lifecycle ---- */

static struct server *srv;
static char dir[4096];
static char token[512];
static char admin_token[512]; /* as read from admin.token at setup */

void harness_use_token(const char *t)
{
    snprintf(token, sizeof(token), "%s", t ? t : "");
}

const char *harness_admin_token(void)
{
    return S("%s", admin_token);
}
static unsigned port;
static struct hclient *default_client;

unsigned harness_port(void)
{
    return port;
}

const char *harness_dir(void)
{
    return dir;
}

static void read_token(void)
{
    token[0] = '\0';
    char path[4200];
    snprintf(path, sizeof(path), "%s/admin.token", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return; /* a server without authentication */
    size_t n = fread(token, 1, sizeof(token) - 1, f);
    fclose(f);
    token[n] = '\0';
    while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
        token[--n] = '\0';
    snprintf(admin_token, sizeof(admin_token), "%s", token);
}

void harness_setup(void)
{
    const char *base = getenv("LBIPAM_TEST_TMP");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    if (mkdir(base, 0700) != 0 && errno != EEXIST)
        cr_assert_fail("mkdir %s: %s", base, strerror(errno));
    snprintf(dir, sizeof(dir), "%s/lbipam-api-XXXXXX", base);
    cr_assert(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));

    curl_global_init(CURL_GLOBAL_ALL);

    char db[4200];
    snprintf(db, sizeof(db), "%s/lbipam.db", dir);
    struct server_config cfg = {.listen = "127.0.0.1:0", .db_path = db};
    struct error err;
    memset(&err, 0, sizeof(err));
    int rc = server_start(&srv, &cfg, &err);
    cr_assert(rc == 0 && srv != NULL, "server_start: rc %d reason %s: %s", rc, err.reason,
              err.detail);
    port = server_port(srv);
    cr_assert(port != 0, "server_port is 0");
    read_token();
    default_client = hclient_new();
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void harness_teardown(void)
{
    hclient_free(default_client);
    default_client = NULL;
    server_stop(srv);
    srv = NULL;
    arena_release_all();
    curl_global_cleanup();
    if (dir[0] != '\0')
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* ---- HTTP ---- */

struct hclient {
    CURL *curl;
};

struct hclient *hclient_new(void)
{
    struct hclient *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        abort();
    return c;
}

void hclient_free(struct hclient *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

const char *urlenc(const char *s)
{
    CURL *curl = curl_easy_init();
    char *e = curl_easy_escape(curl, s, 0);
    char *out = xstrdup(e);
    curl_free(e);
    curl_easy_cleanup(curl);
    return arena_keep(out, free);
}

struct dbuf {
    char *p;
    size_t len, cap;
};

static void dbuf_add(struct dbuf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    dbuf_add(ud, data, size * nmemb);
    return size * nmemb;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct dbuf *b = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
        b->len = 0; /* a new response (after 100 Continue): keep only the final headers */
    dbuf_add(b, data, n);
    return n;
}

static void resp_release(void *p)
{
    struct resp *r = p;
    free(r->method);
    free(r->path);
    free(r->req_body);
    free(r->raw);
    json_decref(r->json);
    free(r->etag);
    free(r->location);
    free(r->content_type);
    free(r->allow);
    free(r->headers);
    free(r->curl_error);
    free(r);
}

/* Value of header `name` in the "\r\n"-separated block, or NULL (malloc'd). */
static char *header_value(const char *headers, const char *name)
{
    size_t nlen = strlen(name);
    const char *line = headers;
    while (line != NULL && *line != '\0') {
        const char *eol = strstr(line, "\r\n");
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        if (llen > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            const char *end = line + llen;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            char *out = strndup(v, (size_t)(end - v));
            if (out == NULL)
                abort();
            return out;
        }
        line = eol ? eol + 2 : NULL;
    }
    return NULL;
}

struct resp *http_raw(struct hclient *c, const char *method, const char *path,
                      const char *content_type, const char *body, size_t len,
                      const char *const *headers)
{
    if (c == NULL)
        c = default_client;
    CURL *curl = c->curl;
    curl_easy_reset(curl);

    struct resp *r = calloc(1, sizeof(*r));
    if (r == NULL)
        abort();
    r->method = xstrdup(method);
    r->path = xstrdup(path);
    if (body != NULL) {
        r->req_body = strndup(body, len > 2000 ? 2000 : len);
        if (r->req_body == NULL)
            abort();
    }

    char url[8192];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0 || body != NULL) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }

    struct curl_slist *hl = NULL;
    char line[1024];
    bool caller_ct = false;
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            caller_ct = true;
    if (content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        hl = curl_slist_append(hl, line);
    } else if (body != NULL && !caller_ct) {
        hl = curl_slist_append(hl, "Content-Type:"); /* remove curl's form default */
    }
    if (token[0] != '\0') {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, line);
    }
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);

    struct dbuf rb = {0}, hb = {0};
    dbuf_add(&rb, "", 0);
    dbuf_add(&hb, "", 0);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rb);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hb);

    CURLcode cc = curl_easy_perform(curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        r->status = 0;
        r->curl_error = xstrdup(curl_easy_strerror(cc));
    }
    curl_slist_free_all(hl);

    r->raw = rb.p;
    r->raw_len = rb.len;
    r->headers = hb.p;
    r->etag = header_value(r->headers, "ETag");
    r->location = header_value(r->headers, "Location");
    r->content_type = header_value(r->headers, "Content-Type");
    r->allow = header_value(r->headers, "Allow");
    if (r->raw_len > 0)
        r->json = json_loadb(r->raw, r->raw_len, JSON_DECODE_ANY, NULL);
    return arena_keep(r, resp_release);
}

struct resp *http_v(struct hclient *c, const char *method, const char *path, const char *body, ...)
{
    const char *headers[32];
    size_t n = 0;
    va_list ap;
    va_start(ap, body);
    const char *h;
    while ((h = va_arg(ap, const char *)) != NULL) {
        cr_assert(n < 31, "too many headers");
        headers[n++] = h;
    }
    va_end(ap);
    headers[n] = NULL;

    char *json = NULL;
    bool has_ct = false;
    for (size_t i = 0; i < n; i++)
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            has_ct = true;
    if (body != NULL) {
        json = xstrdup(body);
        for (char *p = json; *p; p++)
            if (*p == '\'')
                *p = '"';
    }
    struct resp *r = http_raw(c, method, path, body && !has_ct ? "application/json" : NULL, json,
                              json ? strlen(json) : 0, headers);
    free(json);
    return r;
}

/* ---- JSON access ---- */

json_t *jget(const json_t *j, const char *pointer)
{
    if (j == NULL || pointer == NULL)
        return NULL;
    json_t *cur = (json_t *)j;
    const char *p = pointer;
    if (*p == '\0')
        return cur;
    while (*p == '/' && cur != NULL) {
        p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char tok[512];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 1 < sizeof(tok); i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                tok[k++] = p[i];
            }
        }
        tok[k] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            char *e = NULL;
            unsigned long idx = strtoul(tok, &e, 10);
            cur = (e != tok && *e == '\0') ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
        p += n;
    }
    return cur;
}

const char *jstr(const json_t *j, const char *pointer)
{
    return json_string_value(jget(j, pointer));
}

long long jint(const json_t *j, const char *pointer, long long dflt)
{
    json_t *v = jget(j, pointer);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

size_t jlen(const json_t *j, const char *pointer)
{
    json_t *v = jget(j, pointer);
    if (json_is_array(v))
        return json_array_size(v);
    if (json_is_object(v))
        return json_object_size(v);
    return 0;
}

bool jis_null(const json_t *j, const char *pointer)
{
    return json_is_null(jget(j, pointer));
}

/* ---- assertions ---- */

const char *rdesc(const struct resp *r)
{
    if (r == NULL)
        return "(no response)";
    const char *body = r->raw ? r->raw : "";
    if (r->status == 0)
        return S("%s %s %s -> transfer failed: %s", r->method, r->path,
                 r->req_body ? r->req_body : "", r->curl_error ? r->curl_error : "?");
    return S("%s %s %s -> %ld %s %.3000s", r->method, r->path, r->req_body ? r->req_body : "",
             r->status, r->content_type ? r->content_type : "(no content-type)", body);
}

const char *check_status(const struct resp *r, long status)
{
    if (r->status != status)
        return S("expected status %ld\n  %s", status, rdesc(r));
    return NULL;
}

const char *check_ok(const struct resp *r)
{
    if (r->status != 200 && r->status != 201)
        return S("expected 200 or 201\n  %s", rdesc(r));
    return NULL;
}

const char *check_problem(const struct resp *r, long status, const char *reason, const char *field)
{
    if (r->status != status)
        return S("expected status %ld reason %s%s%s\n  %s", status, reason, field ? " field " : "",
                 field ? field : "", rdesc(r));
    if (r->content_type == NULL || strncmp(r->content_type, "application/problem+json", 24) != 0)
        return S("expected Content-Type application/problem+json\n  %s", rdesc(r));
    if (!json_is_object(r->json))
        return S("problem body is not a JSON object\n  %s", rdesc(r));
    const char *got = jstr(r->json, "/reason");
    if (got == NULL || strcmp(got, reason) != 0)
        return S("expected reason \"%s\", got \"%s\"\n  %s", reason, got ? got : "(none)",
                 rdesc(r));
    if (jint(r->json, "/status", -1) != status)
        return S("problem \"status\" member is not %ld\n  %s", status, rdesc(r));
    if (jstr(r->json, "/title") == NULL || jstr(r->json, "/type") == NULL ||
        jstr(r->json, "/detail") == NULL)
        return S("problem lacks type, title or detail\n  %s", rdesc(r));
    if (field != NULL) {
        const char *f = jstr(r->json, "/field");
        if (f == NULL || strcmp(f, field) != 0)
            return S("expected field \"%s\", got \"%s\"\n  %s", field, f ? f : "(none)", rdesc(r));
    }
    return NULL;
}

/* ---- convenience ---- */

void cluster_create(const char *name, const char *labels_json)
{
    struct resp *r = http("POST", "/v1/clusters",
                          S("{'name':'%s','labels':%s,'announcement':'none'}", name,
                            labels_json ? labels_json : "{}"));
    assert_status(r, 201);
}

struct resp *pool_create(const char *pool_json)
{
    struct resp *r = http("POST", "/v1/pools", pool_json);
    assert_status(r, 201);
    return r;
}

struct resp *alloc_put(const char *id, const char *body)
{
    return http("PUT", S("/v1/allocations/%s", id), body ? body : "{}");
}

const char *alloc_ip(const char *id, const char *body)
{
    struct resp *r = alloc_put(id, body);
    assert_ok(r);
    cr_assert(jlen(r->json, "/addresses") == 1, "expected exactly one address\n  %s", rdesc(r));
    const char *ip = jstr(r->json, "/addresses/0/ip");
    cr_assert(ip != NULL, "address without ip\n  %s", rdesc(r));
    return ip;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *alloc_ips(const struct resp *r)
{
    size_t n = jlen(r->json, "/addresses");
    const char **ips = calloc(n + 1, sizeof(*ips));
    if (ips == NULL)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ip = jstr(r->json, S("/addresses/%zu/ip", i));
        if (ip != NULL)
            ips[k++] = ip;
    }
    qsort(ips, k, sizeof(*ips), cmp_str);
    struct dbuf b = {0};
    dbuf_add(&b, "", 0);
    for (size_t i = 0; i < k; i++) {
        if (i > 0)
            dbuf_add(&b, ",", 1);
        dbuf_add(&b, ips[i], strlen(ips[i]));
    }
    free(ips);
    return arena_keep(b.p, free);
}

const char *alloc_ip_of(const struct resp *r, const char *family)
{
    size_t n = jlen(r->json, "/addresses");
    for (size_t i = 0; i < n; i++) {
        const char *f = jstr(r->json, S("/addresses/%zu/family", i));
        if (f != NULL && strcmp(f, family) == 0)
            return jstr(r->json, S("/addresses/%zu/ip", i));
    }
    return NULL;
}

struct resp *alloc_delete(const char *id)
{
    return http("DELETE", S("/v1/allocations/%s", id), NULL);
}

struct resp *address_get(const char *ip)
{
    struct resp *r = http("GET", S("/v1/addresses/%s", ip), NULL);
    assert_status(r, 200);
    return r;
}

const char *address_state(const char *ip)
{
    struct resp *r = address_get(ip);
    const char *st = jstr(r->json, "/state");
    cr_assert(st != NULL, "address without state\n  %s", rdesc(r));
    return st;
}

static void json_release(void *p)
{
    json_decref(p);
}

json_t *list_all(const char *collection, const char *query, int limit)
{
    json_t *all = arena_keep(json_array(), json_release);
    const char *cursor = NULL;
    for (int page = 0; page < 100000; page++) {
        const char *path = S("/v1/%s?limit=%d%s%s%s%s", collection, limit, query[0] ? "&" : "",
                             query, cursor ? "&cursor=" : "", cursor ? urlenc(cursor) : "");
        struct resp *r = http("GET", path, NULL);
        assert_status(r, 200);
        json_t *items = jget(r->json, "/items");
        cr_assert(json_is_array(items), "list without items array\n  %s", rdesc(r));
        cr_assert(json_array_size(items) <= (size_t)limit, "page larger than limit %d\n  %s", limit,
                  rdesc(r));
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) json_array_append(all, it);
        json_t *next = jget(r->json, "/nextCursor");
        cr_assert(next != NULL, "list without nextCursor member\n  %s", rdesc(r));
        if (json_is_null(next))
            return all;
        cr_assert(json_is_string(next), "nextCursor neither string nor null\n  %s", rdesc(r));
        cr_assert(json_array_size(items) > 0, "empty page with a nextCursor\n  %s", rdesc(r));
        cursor = json_string_value(next);
    }
    cr_assert_fail("list of %s never ended", collection);
    return all;
}
