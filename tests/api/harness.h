/* harness.h - the API test harness: a real lbipamd in-process, driven over HTTP with libcurl.
 *
 * Criterion runs every test in its own process and runs the suite's .init there, so
 * HARNESS_SUITE(name) gives each test a server of its own on 127.0.0.1:0 with a fresh
 * database in a fresh directory (under $LBIPAM_TEST_TMP, else /tmp); .fini stops it and
 * removes the directory. Tests never free anything: every response and every string the
 * harness hands out lives in a per-process arena released by .fini (the suite runs under
 * LeakSanitizer). The arena is thread-safe, so worker threads may use it too.
 *
 * Request bodies are JSON text in which ' stands for " (test data never needs an apostrophe):
 *     http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'}]}");
 * http_raw sends bytes exactly as given, with the Content-Type chosen by the caller.
 * Extra request headers follow the body: http("PUT", path, body, "If-Match: \"3\"").
 */
#ifndef LBIPAM_TESTS_API_HARNESS_H
#define LBIPAM_TESTS_API_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <criterion/criterion.h>
#include <jansson.h>

struct resp {
    long status;  /* HTTP status; 0 when the transfer itself failed */
    char *method; /* the request, for failure messages */
    char *path;
    char *req_body;
    char *raw; /* response body as received, NUL-terminated */
    size_t raw_len;
    json_t *json; /* parsed body or NULL (empty or not JSON) */
    char *etag;   /* header values or NULL */
    char *location;
    char *content_type;
    char *allow;
    char *headers;    /* every header line of the final response, "\r\n"-separated */
    char *curl_error; /* set when status is 0 */
};

/* One libcurl easy handle; one per thread. The default client serves http(). */
struct hclient;

void harness_setup(void);
void harness_teardown(void);
#define HARNESS_SUITE(name) TestSuite(name, .init = harness_setup, .fini = harness_teardown)

unsigned harness_port(void);
/* The temp dir of this test (holds the database). */
const char *harness_dir(void);
/* The bearer token every request sends from now on (NULL: none); the admin token from
 * admin.token is the default, harness_admin_token() returns it (arena-owned copy). */
void harness_use_token(const char *token);
const char *harness_admin_token(void);

struct hclient *hclient_new(void);
void hclient_free(struct hclient *c);

/* Arena-owned printf result. */
const char *S(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Arena-owned URL-encoding of one query value or path segment. */
const char *urlenc(const char *s);

struct resp *http_v(struct hclient *c, const char *method, const char *path, const char *body, ...);
/* http(method, path, body-or-NULL, "Header: value"...) */
#define http(method, path, ...) http_v(NULL, method, path, __VA_ARGS__, (const char *)NULL)
#define http_c(client, method, path, ...)                                                          \
    http_v(client, method, path, __VA_ARGS__, (const char *)NULL)
/* Body sent byte for byte; content_type NULL sends none. headers: NULL-terminated or NULL. */
struct resp *http_raw(struct hclient *c, const char *method, const char *path,
                      const char *content_type, const char *body, size_t len,
                      const char *const *headers);

/* JSON pointer (RFC 6901) lookups; borrowed from the response, NULL when absent. */
json_t *jget(const json_t *j, const char *pointer);
const char *jstr(const json_t *j, const char *pointer);
/* Integer at pointer, or `dflt` when absent or not an integer. */
long long jint(const json_t *j, const char *pointer, long long dflt);
size_t jlen(const json_t *j, const char *pointer); /* array/object size, 0 when absent */
bool jis_null(const json_t *j, const char *pointer);

/* One-line description of a request and its response, for failure messages. */
const char *rdesc(const struct resp *r);

/* Failure message or NULL (all arena-owned). Use through the macros below. */
const char *check_status(const struct resp *r, long status);
const char *check_ok(const struct resp *r); /* 200 or 201 */
const char *check_problem(const struct resp *r, long status, const char *reason, const char *field);

#define assert_status(r, st)                                                                       \
    do {                                                                                           \
        const char *m_ = check_status((r), (st));                                                  \
        cr_assert(m_ == NULL, "%s", m_ ? m_ : "");                                                 \
    } while (0)
#define assert_ok(r)                                                                               \
    do {                                                                                           \
        const char *m_ = check_ok(r);                                                              \
        cr_assert(m_ == NULL, "%s", m_ ? m_ : "");                                                 \
    } while (0)
/* status + application/problem+json + body.status + reason (+ field when not NULL) */
#define assert_problem(r, st, reason)                                                              \
    do {                                                                                           \
        const char *m_ = check_problem((r), (st), (reason), NULL);                                 \
        cr_assert(m_ == NULL, "%s", m_ ? m_ : "");                                                 \
    } while (0)
#define assert_problem_field(r, st, reason, field)                                                 \
    do {                                                                                           \
        const char *m_ = check_problem((r), (st), (reason), (field));                              \
        cr_assert(m_ == NULL, "%s", m_ ? m_ : "");                                                 \
    } while (0)
/* String equality with the response in the message; `got` may be NULL. */
#define assert_str(r, got, want)                                                                   \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        cr_assert(g_ != NULL && strcmp(g_, w_) == 0, "%s: expected \"%s\", got \"%s\"\n  %s",      \
                  #got, w_, g_ ? g_ : "(null)", rdesc(r));                                         \
    } while (0)
#define assert_true(r, cond, ...) cr_assert((cond), "%s\n  %s", S(__VA_ARGS__), rdesc(r))

/* Convenience wrappers; each asserts its own success. */
void cluster_create(const char *name, const char *labels_json);
struct resp *pool_create(const char *pool_json);
/* PUT /v1/allocations/{id} with id "cluster/namespace/service"; no assertion. */
struct resp *alloc_put(const char *id, const char *body);
/* PUT that must succeed with exactly one address; returns its ip. */
const char *alloc_ip(const char *id, const char *body);
/* Every addresses[].ip of an allocation response, sorted, comma-joined ("" when none). */
const char *alloc_ips(const struct resp *r);
/* The ip of the address of that family ("IPv4"/"IPv6") or NULL. */
const char *alloc_ip_of(const struct resp *r, const char *family);
struct resp *alloc_delete(const char *id);
/* GET /v1/addresses/{ip} (must be 200) and its state. */
struct resp *address_get(const char *ip);
const char *address_state(const char *ip);
/* GET a whole list, following nextCursor with the given page size; returns a new array
 * (arena-owned) of every item. `query` is "" or "a=b&c=d". */
json_t *list_all(const char *collection, const char *query, int limit);

#endif
