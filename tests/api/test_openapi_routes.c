/* test_openapi_routes.c - the route table and openapi.yaml describe the same API.
 *
 * Every (method, path) row of server_routes must be an operation of openapi.yaml, and every
 * operation of openapi.yaml must be routed (HEAD is implicit wherever GET is routed, as the
 * router serves it). The document read is the copy compiled into the server
 * (server_openapi[], the bytes GET /openapi.yaml serves), so the test needs no YAML library
 * and no path to the source tree.
 *
 * The scanner reads only the `paths:` section, in the layout openapi.yaml keeps: two spaces
 * an indentation level, path templates as keys at level 1, operations as keys at level 2.
 * Anything it does not understand there fails the test instead of being skipped, so a
 * reformatted file cannot make the check pass vacuously.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/embedded.h"
#include "server/router.h"

extern const struct embedded_file server_openapi[];

#define OPS_MAX 256
#define PATH_MAX_LEN 256

struct operation {
    char method[8]; /* upper case, as in server_routes */
    char path[PATH_MAX_LEN];
};

struct spec {
    size_t n;
    struct operation ops[OPS_MAX];
};

static const char *const methods[] = {"get",  "put",     "post",  "delete",
                                      "head", "options", "patch", "trace"};

static size_t indent_of(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    return i;
}

/* The key of a "key:" line without surrounding quotes, into out; false when the line is not
 * a mapping key ending in ':' (a key with an inline value is not what we look for). */
static bool line_key(const char *s, size_t len, char *out, size_t cap)
{
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\r'))
        len--;
    if (len < 2 || s[len - 1] != ':')
        return false;
    len--;
    if (len >= 2 && (s[0] == '\'' || s[0] == '"') && s[len - 1] == s[0]) {
        s++;
        len -= 2;
    }
    if (len == 0 || len >= cap)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

static bool is_method(const char *key)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (strcmp(key, methods[i]) == 0)
            return true;
    }
    return false;
}

/* Fills *spec from the `paths:` section of text; fails the test on anything unexpected. */
static void scan_paths(struct spec *spec, const char *text)
{
    char path[PATH_MAX_LEN] = "";
    bool in_paths = false;
    bool seen_paths = false;
    unsigned lineno = 0;

    spec->n = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t ind = indent_of(line, len);
        const char *body = line + ind;
        size_t blen = len - ind;
        char key[PATH_MAX_LEN];

        lineno++;
        if (blen == 0 || body[0] == '#')
            goto next;
        if (ind == 0) {
            in_paths = blen >= 6 && strncmp(body, "paths:", 6) == 0;
            if (in_paths) {
                cr_assert(blen == 6,
                          "openapi.yaml:%u: expected a block mapping after paths:", lineno);
                seen_paths = true;
            }
            goto next;
        }
        if (!in_paths)
            goto next;
        if (ind == 2) {
            cr_assert(line_key(body, blen, path, sizeof(path)) && path[0] == '/',
                      "openapi.yaml:%u: expected a path template key under paths:, got '%.*s'",
                      lineno, (int)blen, body);
        } else if (ind == 4 && line_key(body, blen, key, sizeof(key)) && is_method(key)) {
            struct operation *op;

            cr_assert(path[0] == '/', "openapi.yaml:%u: operation outside a path", lineno);
            cr_assert(spec->n < OPS_MAX, "more than %d operations", OPS_MAX);
            op = &spec->ops[spec->n++];
            for (size_t i = 0; key[i] && i < sizeof(op->method) - 1; i++) {
                op->method[i] = (char)(key[i] - 'a' + 'A');
                op->method[i + 1] = '\0';
            }
            snprintf(op->path, sizeof(op->path), "%s", path);
        } else {
            cr_assert(ind >= 4, "openapi.yaml:%u: unexpected indentation %zu in paths:", lineno,
                      ind);
        }
    next:
        if (!nl)
            break;
        line = nl + 1;
    }
    cr_assert(seen_paths, "openapi.yaml has no top-level paths: block");
    cr_assert(spec->n > 0, "openapi.yaml: no operation found under paths:");
}

static bool spec_has(const struct spec *spec, const char *method, const char *path)
{
    for (size_t i = 0; i < spec->n; i++) {
        if (strcmp(spec->ops[i].method, method) == 0 && strcmp(spec->ops[i].path, path) == 0)
            return true;
    }
    return false;
}

static bool routed(const char *method, const char *path)
{
    for (size_t i = 0; i < server_route_count; i++) {
        if (strcmp(server_routes[i].method, method) == 0 &&
            strcmp(server_routes[i].path, path) == 0)
            return true;
    }
    return false;
}

static struct spec spec;

static void load(void)
{
    cr_assert(server_openapi[0].name != NULL, "no openapi.yaml compiled into the server");
    cr_assert(strcmp(server_openapi[0].name, "openapi.yaml") == 0, "embedded file is %s",
              server_openapi[0].name);
    scan_paths(&spec, server_openapi[0].data);
}

TestSuite(openapi_routes, .init = load);

Test(openapi_routes, every_route_is_an_openapi_operation)
{
    cr_assert(server_route_count > 0, "the route table is empty");
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *r = &server_routes[i];
        cr_expect(spec_has(&spec, r->method, r->path),
                  "route %s %s is not an operation of openapi.yaml", r->method, r->path);
    }
}

Test(openapi_routes, every_openapi_operation_is_routed)
{
    for (size_t i = 0; i < spec.n; i++) {
        const struct operation *op = &spec.ops[i];
        /* The router answers HEAD for every GET route itself. */
        const char *method = strcmp(op->method, "HEAD") == 0 ? "GET" : op->method;
        cr_expect(routed(method, op->path), "openapi.yaml operation %s %s is not routed",
                  op->method, op->path);
    }
}

Test(openapi_routes, routes_are_unique_templates)
{
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *r = &server_routes[i];
        size_t len = strlen(r->path);

        cr_expect(r->path[0] == '/' && (len == 1 || r->path[len - 1] != '/'),
                  "route path %s is not an OpenAPI template", r->path);
        cr_expect(strcmp(r->method, "HEAD") != 0, "HEAD %s: HEAD is implicit for GET", r->path);
        for (size_t j = i + 1; j < server_route_count; j++) {
            cr_expect(strcmp(r->method, server_routes[j].method) != 0 ||
                          strcmp(r->path, server_routes[j].path) != 0,
                      "route %s %s appears twice", r->method, r->path);
        }
    }
}

Test(openapi_routes, scanner_reads_every_operation_once)
{
    /* Guards the scanner itself: a duplicate would mean it misread the layout. */
    for (size_t i = 0; i < spec.n; i++) {
        for (size_t j = i + 1; j < spec.n; j++) {
            cr_expect(strcmp(spec.ops[i].method, spec.ops[j].method) != 0 ||
                          strcmp(spec.ops[i].path, spec.ops[j].path) != 0,
                      "openapi.yaml lists %s %s twice", spec.ops[i].method, spec.ops[i].path);
        }
    }
    size_t n = 0;
    for (size_t i = 0; i < spec.n; i++)
        n += strcmp(spec.ops[i].method, "HEAD") != 0;
    cr_expect(n == server_route_count,
              "openapi.yaml has %zu operations (HEAD aside), the router %zu", n,
              server_route_count);
}
