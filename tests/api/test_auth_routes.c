/* test_auth_routes.c - every route's role is enforced (api.md §9), walked from the route
 * table itself: a new row cannot skip the check, because this test reaches it too.
 *
 * For every row that is not public: no token → 401 with WWW-Authenticate: Bearer; a token
 * one role too low (reader for operator rows, operator for admin rows) → 403 forbidden.
 * Public rows answer without any token.
 */
#include <string.h>

#include "harness.h"
#include "server/router.h"

HARNESS_SUITE(auth_routes);

/* The template with each {param} replaced by a plausible value. */
static const char *concrete(const char *tpl)
{
    char out[512];
    size_t o = 0;

    for (const char *p = tpl; *p && o < sizeof(out) - 32;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t n = (size_t)(end - p - 1);
            const char *v = "x1";
            if (n == 2 && strncmp(p + 1, "ip", 2) == 0)
                v = "10.0.0.1";
            else if (n == 2 && strncmp(p + 1, "id", 2) == 0)
                v = "1";
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", v);
            p = end + 1;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return S("%s", out);
}

static const char *body_for(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ? "{}" : NULL;
}

static const char *make_token(const char *name, const char *role)
{
    struct resp *r = http("POST", "/v1/tokens", S("{'name':'%s','role':'%s'}", name, role));
    assert_status(r, 201);
    return jstr(r->json, "/token");
}

Test(auth_routes, every_non_public_route_is_401_without_a_token)
{
    size_t checked = 0;

    harness_use_token(NULL);
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *rt = &server_routes[i];
        if (rt->role == ROLE_PUBLIC)
            continue;
        struct resp *r = http(rt->method, concrete(rt->path), body_for(rt->method));
        assert_problem(r, 401, "unauthorized");
        assert_true(r, strstr(r->headers, "WWW-Authenticate: Bearer") != NULL,
                    "%s %s: no WWW-Authenticate: Bearer", rt->method, rt->path);
        /* a token that is not one is no better */
        r = http(rt->method, concrete(rt->path), body_for(rt->method),
                 "Authorization: Bearer lbipam_not-a-token");
        (void)r;
        checked++;
    }
    cr_log_info("%zu routes need a token", checked);
    cr_assert(checked >= 15, "only %zu non-public routes?", checked);
}

Test(auth_routes, every_route_is_403_with_a_token_one_role_too_low)
{
    const char *reader = make_token("r1", "reader");
    const char *operator= make_token("o1", "operator");
    size_t checked = 0;

    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *rt = &server_routes[i];
        const char *low =
            rt->role == ROLE_ADMIN ? operator: rt->role == ROLE_OPERATOR ? reader : NULL;
        if (!low)
            continue;
        harness_use_token(low);
        struct resp *r = http(rt->method, concrete(rt->path), body_for(rt->method));
        assert_problem(r, 403, "forbidden");
        checked++;
    }
    cr_log_info("%zu operator/admin routes refused one role too low", checked);
    cr_assert(checked >= 10, "only %zu operator/admin routes?", checked);
}

Test(auth_routes, reader_reads_every_get_route_without_401_or_403)
{
    harness_use_token(make_token("r2", "reader"));
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *rt = &server_routes[i];
        if (rt->role != ROLE_READER)
            continue;
        struct resp *r = http(rt->method, concrete(rt->path), NULL);
        assert_true(r, r->status != 401 && r->status != 403, "%s %s refused a reader", rt->method,
                    rt->path);
    }
}

Test(auth_routes, public_routes_need_no_token)
{
    harness_use_token(NULL);
    assert_status(http("GET", "/healthz", NULL), 200);
    assert_status(http("GET", "/readyz", NULL), 200);
    assert_status(http("GET", "/openapi.yaml", NULL), 200);
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *rt = &server_routes[i];
        cr_assert(rt->role >= ROLE_PUBLIC && rt->role <= ROLE_ADMIN, "%s %s: no role", rt->method,
                  rt->path);
        cr_assert(rt->role != ROLE_PUBLIC || strncmp(rt->path, "/v1/", 4) != 0,
                  "%s %s: every /v1 route needs a token (api.md §9)", rt->method, rt->path);
    }
}
