/* The conventions of api.md §1 that every resource shares: ETag/If-Match, Idempotency-Key,
 * pagination, 404/405/413/415, strict decoding, HEAD, problem details. */
#include <stdlib.h>
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(http);

/* Allow lists `method` as a token. */
static bool allows(const struct resp *r, const char *method)
{
    if (r->allow == NULL)
        return false;
    size_t n = strlen(method);
    for (const char *p = r->allow; (p = strstr(p, method)) != NULL; p += n) {
        bool starts = p == r->allow || p[-1] == ' ' || p[-1] == ',';
        bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == ',';
        if (starts && ends)
            return true;
    }
    return false;
}

static bool is_json(const struct resp *r)
{
    return r->content_type != NULL && strncmp(r->content_type, "application/json", 16) == 0;
}

/* ---- ETag / If-Match ---- */

Test(http, if_match_mismatch_on_pool_put_is_412_and_changes_nothing)
{
    struct resp *c = pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r =
        http("PUT", "/v1/pools/p", "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}],'priority':7}",
             "If-Match: \"no-such-version\"");
    assert_problem(r, 412, "precondition_failed");
    struct resp *g = http("GET", "/v1/pools/p", NULL);
    assert_true(g, jint(g->json, "/priority", -1) == 0, "priority must be unchanged");
    assert_str(g, g->etag, c->etag);
}

Test(http, if_match_with_the_current_etag_succeeds_and_the_etag_changes)
{
    struct resp *c = pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r =
        http("PUT", "/v1/pools/p", "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}],'priority':7}",
             S("If-Match: %s", c->etag));
    assert_status(r, 200);
    assert_true(r, r->etag != NULL && strcmp(r->etag, c->etag) != 0, "ETag should change");
    struct resp *g = http("GET", "/v1/pools/p", NULL);
    assert_str(g, g->etag, r->etag);
    /* the old ETag is stale now */
    struct resp *stale =
        http("PUT", "/v1/pools/p", "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}],'priority':9}",
             S("If-Match: %s", c->etag));
    assert_problem(stale, 412, "precondition_failed");
}

Test(http, put_without_if_match_is_accepted)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r =
        http("PUT", "/v1/pools/p", "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}],'priority':7}");
    assert_status(r, 200);
    assert_true(r, jint(r->json, "/priority", -1) == 7, "priority 7 expected");
}

Test(http, if_match_mismatch_on_pool_delete_is_412)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r = http("DELETE", "/v1/pools/p", NULL, "If-Match: \"stale\"");
    assert_problem(r, 412, "precondition_failed");
    assert_status(http("GET", "/v1/pools/p", NULL), 200);
}

Test(http, if_match_on_allocations_put_and_delete)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *a = alloc_put("c1/ns/web", "{}");
    assert_status(a, 201);
    assert_true(a, a->etag != NULL, "allocation PUT should answer an ETag");
    struct resp *r =
        http("PUT", "/v1/allocations/c1/ns/web", "{'description':'x'}", "If-Match: \"stale\"");
    assert_problem(r, 412, "precondition_failed");
    r = http("DELETE", "/v1/allocations/c1/ns/web", NULL, "If-Match: \"stale\"");
    assert_problem(r, 412, "precondition_failed");
    assert_str(NULL, address_state("10.80.0.0"), "allocated");
    r = http("DELETE", "/v1/allocations/c1/ns/web", NULL, S("If-Match: %s", a->etag));
    assert_status(r, 204);
}

Test(http, if_match_on_clusters_put)
{
    cluster_create("c1", "{'env':'prod'}");
    struct resp *g = http("GET", "/v1/clusters/c1", NULL);
    assert_status(g, 200);
    assert_true(g, g->etag != NULL, "cluster GET should answer an ETag");
    struct resp *r = http("PUT", "/v1/clusters/c1", "{'name':'c1','labels':{'env':'dev'}}",
                          "If-Match: \"stale\"");
    assert_problem(r, 412, "precondition_failed");
    r = http("PUT", "/v1/clusters/c1", "{'name':'c1','labels':{'env':'dev'}}",
             S("If-Match: %s", g->etag));
    assert_status(r, 200);
    assert_str(r, jstr(r->json, "/labels/env"), "dev");
}

/* ---- Idempotency-Key ---- */

Test(http, idempotency_key_replay_returns_the_first_response)
{
    const char *body = "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}";
    struct resp *a = http("POST", "/v1/pools", body, "Idempotency-Key: key-1");
    assert_status(a, 201);
    struct resp *b = http("POST", "/v1/pools", body, "Idempotency-Key: key-1");
    assert_status(b, 201);
    assert_true(b, json_equal(a->json, b->json), "replay body differs from the first: %s", a->raw);
    assert_str(b, b->location, a->location);
    json_t *all = list_all("pools", "", 100);
    cr_assert(json_array_size(all) == 1, "one pool expected, got %zu", json_array_size(all));
}

Test(http, idempotency_key_replay_returns_the_first_response_even_after_changes)
{
    const char *body = "{'name':'c9','labels':{}}";
    struct resp *a = http("POST", "/v1/clusters", body, "Idempotency-Key: k-cluster");
    assert_status(a, 201);
    assert_status(http("DELETE", "/v1/clusters/c9", NULL), 204);
    struct resp *b = http("POST", "/v1/clusters", body, "Idempotency-Key: k-cluster");
    assert_status(b, 201);
    assert_true(b, json_equal(a->json, b->json), "replay differs from the first response");
    /* a replay does not execute again */
    assert_problem(http("GET", "/v1/clusters/c9", NULL), 404, "not_found");
}

Test(http, idempotency_key_replay_of_a_failure_returns_the_failure)
{
    const char *body = "{'name':'p','blocks':[{'cidr':'10.80.0.5/24'}]}";
    struct resp *a = http("POST", "/v1/pools", body, "Idempotency-Key: k-bad");
    assert_problem(a, 422, "invalid_block");
    struct resp *b = http("POST", "/v1/pools", body, "Idempotency-Key: k-bad");
    assert_problem(b, 422, "invalid_block");
    assert_true(b, json_equal(a->json, b->json), "replay differs from the first response");
}

Test(http, idempotency_key_reused_with_another_body_is_422)
{
    assert_status(http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}",
                       "Idempotency-Key: k-2"),
                  201);
    struct resp *r = http("POST", "/v1/pools", "{'name':'q','blocks':[{'cidr':'10.81.0.0/24'}]}",
                          "Idempotency-Key: k-2");
    assert_problem(r, 422, "idempotency_key_reused");
    assert_problem(http("GET", "/v1/pools/q", NULL), 404, "not_found");
}

Test(http, idempotency_key_is_scoped_to_the_path)
{
    assert_status(http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}",
                       "Idempotency-Key: shared"),
                  201);
    struct resp *r =
        http("POST", "/v1/clusters", "{'name':'c1','labels':{}}", "Idempotency-Key: shared");
    assert_status(r, 201);
    assert_str(r, jstr(r->json, "/name"), "c1");
}

Test(http, post_without_idempotency_key_twice_is_a_conflict)
{
    const char *body = "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}";
    assert_status(http("POST", "/v1/pools", body), 201);
    assert_status(http("POST", "/v1/pools", body), 409);
}

/* ---- pagination ---- */

static void check_names_in_order(json_t *all, const char *const *want, size_t n)
{
    cr_assert(json_array_size(all) == n, "expected %zu items, got %zu", n, json_array_size(all));
    for (size_t i = 0; i < n; i++) {
        const char *got = jstr(all, S("/%zu/name", i));
        cr_assert(got != NULL && strcmp(got, want[i]) == 0, "item %zu: expected %s, got %s", i,
                  want[i], got ? got : "(null)");
    }
}

Test(http, pagination_of_pools_returns_every_pool_once_in_name_order)
{
    const char *create[] = {"kilo",  "alpha", "juliet",  "echo",  "bravo",  "golf",
                            "delta", "india", "charlie", "hotel", "foxtrot"};
    const char *sorted[] = {"alpha", "bravo", "charlie", "delta",  "echo", "foxtrot",
                            "golf",  "hotel", "india",   "juliet", "kilo"};
    for (int i = 0; i < 11; i++)
        pool_create(S("{'name':'%s','blocks':[{'cidr':'10.90.%d.0/24'}]}", create[i], i));
    check_names_in_order(list_all("pools", "", 1), sorted, 11);
    check_names_in_order(list_all("pools", "", 3), sorted, 11);
    check_names_in_order(list_all("pools", "", 11), sorted, 11);
    check_names_in_order(list_all("pools", "", 1000), sorted, 11);
}

Test(http, pagination_of_clusters_returns_every_cluster_once_in_name_order)
{
    const char *create[] = {"c-5", "c-1", "c-9", "c-3", "c-7", "c-2", "c-8"};
    const char *sorted[] = {"c-1", "c-2", "c-3", "c-5", "c-7", "c-8", "c-9"};
    for (int i = 0; i < 7; i++)
        cluster_create(create[i], NULL);
    check_names_in_order(list_all("clusters", "", 2), sorted, 7);
    check_names_in_order(list_all("clusters", "", 1), sorted, 7);
    check_names_in_order(list_all("clusters", "", 100), sorted, 7);
}

Test(http, pagination_of_allocations_returns_every_allocation_once_in_identity_order)
{
    cluster_create("c1", NULL);
    cluster_create("c2", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    const char *create[] = {"c2/ns-b/s1", "c1/ns-b/s2",  "c1/ns-a/s3", "c2/ns-a/s1", "c1/ns-a/s1",
                            "c1/ns-b/s1", "c2/ns-a/s0",  "c1/ns-a/s2", "c2/ns-b/s0", "c1/ns-c/s1",
                            "c2/ns-a/s2", "c1/ns-a/s10", "c2/ns-c/s9"};
    const char *sorted[] = {"c1/ns-a/s1", "c1/ns-a/s10", "c1/ns-a/s2", "c1/ns-a/s3", "c1/ns-b/s1",
                            "c1/ns-b/s2", "c1/ns-c/s1",  "c2/ns-a/s0", "c2/ns-a/s1", "c2/ns-a/s2",
                            "c2/ns-b/s0", "c2/ns-b/s1",  "c2/ns-c/s9"};
    for (int i = 0; i < 13; i++)
        alloc_ip(create[i], "{}");
    int limits[] = {1, 4, 13, 100};
    for (int l = 0; l < 4; l++) {
        json_t *all = list_all("allocations", "", limits[l]);
        cr_assert(json_array_size(all) == 13, "limit %d: expected 13 items, got %zu", limits[l],
                  json_array_size(all));
        for (size_t i = 0; i < 13; i++) {
            const char *id = S("%s/%s/%s", jstr(all, S("/%zu/cluster", i)),
                               jstr(all, S("/%zu/namespace", i)), jstr(all, S("/%zu/service", i)));
            cr_assert(strcmp(id, sorted[i]) == 0, "limit %d item %zu: expected %s, got %s",
                      limits[l], i, sorted[i], id);
        }
    }
}

Test(http, list_without_limit_returns_up_to_100_and_a_null_cursor)
{
    pool_create("{'name':'a','blocks':[{'cidr':'10.80.0.0/24'}]}");
    pool_create("{'name':'b','blocks':[{'cidr':'10.81.0.0/24'}]}");
    struct resp *r = http("GET", "/v1/pools", NULL);
    assert_status(r, 200);
    assert_true(r, jlen(r->json, "/items") == 2, "two items expected");
    assert_true(r, jis_null(r->json, "/nextCursor"), "nextCursor should be null");
    assert_true(r, is_json(r), "Content-Type application/json expected");
}

Test(http, limit_outside_1_to_1000_is_a_4xx_problem)
{
    struct resp *r = http("GET", "/v1/pools?limit=0", NULL);
    assert_true(r, r->status == 400 || r->status == 422, "limit=0 is refused");
    assert_true(r, jstr(r->json, "/reason") != NULL, "problem with a reason expected");
    r = http("GET", "/v1/pools?limit=1001", NULL);
    assert_true(r, r->status == 400 || r->status == 422, "limit=1001 is refused");
    r = http("GET", "/v1/pools?limit=1000", NULL);
    assert_status(r, 200);
}

Test(http, allocation_list_filters)
{
    cluster_create("c1", NULL);
    cluster_create("c2", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    pool_create("{'name':'q','blocks':[{'cidr':'2001:db8:80::/120'}]}");
    alloc_ip("c1/ns-a/s1", "{'sharingKey':'k','externalRef':'CHG-1'}"); /* 10.80.0.0 */
    alloc_ip("c1/ns-b/s2", "{'managedBy':'lbipam-sync'}");              /* 10.80.0.1 */
    alloc_ip("c2/ns-a/s3", "{'ipFamilies':['IPv6']}");                  /* 2001:db8:80:: */
    struct {
        const char *query;
        const char *first;
        size_t n;
    } cases[] = {
        {"cluster=c2", "s3", 1},
        {"namespace=ns-a", "s1", 2},
        {"pool=p", "s1", 2},
        {"pool=q", "s3", 1},
        {"ip=10.80.0.1", "s2", 1},
        {"family=IPv6", "s3", 1},
        {"sharingKey=k", "s1", 1},
        {"externalRef=CHG-1", "s1", 1},
        {"managedBy=lbipam-sync", "s2", 1},
        {"cluster=c1&namespace=ns-b", "s2", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *all = list_all("allocations", cases[i].query, 100);
        cr_assert(json_array_size(all) == cases[i].n, "?%s: expected %zu items, got %zu",
                  cases[i].query, cases[i].n, json_array_size(all));
        const char *svc = jstr(all, "/0/service");
        cr_assert(svc != NULL && strcmp(svc, cases[i].first) == 0, "?%s: expected %s first, got %s",
                  cases[i].query, cases[i].first, svc ? svc : "(null)");
    }
}

/* ---- router answers ---- */

Test(http, unknown_path_is_404_problem)
{
    struct resp *r = http("GET", "/v1/nothing-here", NULL);
    assert_problem(r, 404, "not_found");
    r = http("GET", "/v1/pools/ghost", NULL);
    assert_problem(r, 404, "not_found");
    r = http("GET", "/v1/clusters/ghost", NULL);
    assert_problem(r, 404, "not_found");
}

Test(http, wrong_method_is_405_with_allow)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r = http("POST", "/v1/pools/p", "{}");
    assert_status(r, 405);
    assert_true(r, allows(r, "GET") && allows(r, "PUT") && allows(r, "DELETE"),
                "Allow should list GET, PUT, DELETE; got %s", r->allow ? r->allow : "(none)");
    assert_true(r, !allows(r, "POST"), "Allow must not list POST");

    r = http("DELETE", "/v1/pools", NULL);
    assert_status(r, 405);
    assert_true(r, allows(r, "GET") && allows(r, "POST"), "Allow should list GET, POST; got %s",
                r->allow ? r->allow : "(none)");

    r = http("PATCH", "/v1/allocations/c1/ns/s", "{}");
    assert_status(r, 405);
    assert_true(r, allows(r, "GET") && allows(r, "PUT") && allows(r, "DELETE"),
                "Allow should list GET, PUT, DELETE; got %s", r->allow ? r->allow : "(none)");

    r = http("DELETE", "/v1/addresses/10.80.0.1", NULL);
    assert_status(r, 405);
    assert_true(r, allows(r, "GET"), "Allow should list GET; got %s",
                r->allow ? r->allow : "(none)");
}

Test(http, wrong_content_type_is_415)
{
    const char *body = "{\"name\":\"p\",\"blocks\":[{\"cidr\":\"10.80.0.0/24\"}]}";
    struct resp *r = http_raw(NULL, "POST", "/v1/pools", "text/plain", body, strlen(body), NULL);
    assert_status(r, 415);
    r = http_raw(NULL, "POST", "/v1/pools", "application/x-www-form-urlencoded", body, strlen(body),
                 NULL);
    assert_status(r, 415);
    assert_problem(http("GET", "/v1/pools/p", NULL), 404, "not_found");

    cluster_create("c1", NULL);
    r = http_raw(NULL, "PUT", "/v1/allocations/c1/ns/s", "text/plain", "{}", 2, NULL);
    assert_status(r, 415);

    /* with the charset parameter it is accepted */
    r = http_raw(NULL, "POST", "/v1/pools", "application/json; charset=utf-8", body, strlen(body),
                 NULL);
    assert_status(r, 201);
}

Test(http, body_over_1_mib_is_413)
{
    size_t size = 1024 * 1024 + 1;
    char *big = malloc(size + 1);
    const char *head =
        "{\"name\":\"big\",\"blocks\":[{\"cidr\":\"10.80.0.0/24\"}],\"description\":\"";
    size_t hl = strlen(head);
    memcpy(big, head, hl);
    memset(big + hl, 'x', size - hl - 2);
    big[size - 2] = '"';
    big[size - 1] = '}';
    big[size] = '\0';
    struct resp *r = http_raw(NULL, "POST", "/v1/pools", "application/json", big, size, NULL);
    free(big);
    assert_status(r, 413);
    assert_problem(http("GET", "/v1/pools/big", NULL), 404, "not_found");
}

Test(http, unknown_fields_are_400_with_pointer_on_every_resource)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    assert_problem_field(alloc_put("c1/ns/s", "{'sharingkey':'dns'}"), 400, "unknown_field",
                         "/sharingkey");
    assert_problem_field(alloc_put("c1/ns/s", "{'ports':[{'port':53,'protocl':'UDP'}]}"), 400,
                         "unknown_field", "/ports/0/protocl");
    assert_problem(http("GET", "/v1/allocations/c1/ns/s", NULL), 404, "not_found");
    assert_problem_field(
        http("POST", "/v1/clusters", "{'name':'c2','labels':{},'annoucement':'bgp'}"), 400,
        "unknown_field", "/annoucement");
    assert_problem(http("GET", "/v1/clusters/c2", NULL), 404, "not_found");
}

Test(http, invalid_json_is_400_invalid_json_on_every_resource)
{
    cluster_create("c1", NULL);
    assert_problem(alloc_put("c1/ns/s", "{'labels':"), 400, "invalid_json");
    assert_problem(http("POST", "/v1/clusters", "not json"), 400, "invalid_json");
}

Test(http, wrong_types_are_400_invalid_type_with_pointer)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    assert_problem_field(alloc_put("c1/ns/s", "{'requestedIPs':'10.80.0.1'}"), 400, "invalid_type",
                         "/requestedIPs");
    assert_problem_field(alloc_put("c1/ns/s", "{'ports':[{'port':'fifty','protocol':'UDP'}]}"), 400,
                         "invalid_type", "/ports/0/port");
}

Test(http, invalid_names_in_the_allocation_path_are_refused)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    /* service names are RFC 1035 labels: they start with a letter */
    struct resp *r = alloc_put("c1/ns/9lives", "{}");
    assert_problem(r, 422, "invalid_name");
    r = alloc_put("c1/Bad_NS/web", "{}");
    assert_problem(r, 422, "invalid_name");
    assert_str(NULL, address_state("10.80.0.0"), "free");
}

Test(http, read_only_fields_are_accepted_and_ignored_on_input)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}],"
                          "'status':{'ipv4':{'total':'1','used':'1'}},"
                          "'createdAt':'2001-01-01T00:00:00Z','updatedAt':'2001-01-01T00:00:00Z'}");
    assert_status(r, 201);
    assert_str(r, jstr(r->json, "/status/ipv4/total"), "256");
    assert_true(r,
                strcmp(jstr(r->json, "/createdAt") ? jstr(r->json, "/createdAt") : "",
                       "2001-01-01T00:00:00Z") != 0,
                "createdAt from the client must be ignored");
    r = http("POST", "/v1/clusters",
             "{'name':'c1','labels':{},'status':{'allocations':99,'lastSyncAt':null}}");
    assert_status(r, 201);
    assert_true(r, jint(r->json, "/status/allocations", -1) == 0, "status.allocations is 0");
}

Test(http, head_answers_the_headers_of_get_without_a_body)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *g = http("GET", "/v1/pools/p", NULL);
    struct resp *h = http("HEAD", "/v1/pools/p", NULL);
    assert_status(h, 200);
    assert_true(h, h->raw_len == 0, "HEAD must not carry a body");
    assert_str(h, h->etag, g->etag);
    assert_true(h, is_json(h), "HEAD has the Content-Type of GET");
    h = http("HEAD", "/v1/pools", NULL);
    assert_status(h, 200);
    assert_true(h, h->raw_len == 0, "HEAD must not carry a body");
    h = http("HEAD", "/v1/pools/ghost", NULL);
    assert_status(h, 404);
    assert_true(h, h->raw_len == 0, "HEAD must not carry a body");
}

static bool rfc3339_utc(const char *t)
{
    if (t == NULL)
        return false;
    int y, mo, d, h, mi, s;
    char tail[64] = "";
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%63s", &y, &mo, &d, &h, &mi, &s, tail) != 7)
        return false;
    size_t n = strlen(tail);
    return n >= 1 && tail[n - 1] == 'Z' && (n == 1 || tail[0] == '.');
}

Test(http, times_are_rfc3339_utc_with_z)
{
    cluster_create("c1", NULL);
    struct resp *p = pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *a = alloc_put("c1/ns/s", "{}");
    assert_status(a, 201);
    assert_true(p, rfc3339_utc(jstr(p->json, "/createdAt")), "createdAt %s",
                jstr(p->json, "/createdAt"));
    assert_true(p, rfc3339_utc(jstr(p->json, "/updatedAt")), "updatedAt");
    assert_true(a, rfc3339_utc(jstr(a->json, "/createdAt")), "createdAt");
    assert_true(a, rfc3339_utc(jstr(a->json, "/updatedAt")), "updatedAt");
}

/* ---- clusters ---- */

Test(http, cluster_lifecycle_and_cluster_in_use)
{
    struct resp *r = http("POST", "/v1/clusters",
                          "{'name':'prod-eu-1','labels':{'region':'eu'},'description':'Frankfurt',"
                          "'announcement':'bgp','routablePrefixes':['10.80.0.0/16'],"
                          "'nodeSubnets':['192.168.10.0/24']}");
    assert_status(r, 201);
    assert_str(r, r->location, "/v1/clusters/prod-eu-1");
    assert_str(r, jstr(r->json, "/announcement"), "bgp");
    assert_str(r, jstr(r->json, "/routablePrefixes/0"), "10.80.0.0/16");
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    alloc_ip("prod-eu-1/ns/s", "{}");

    struct resp *g = http("GET", "/v1/clusters/prod-eu-1", NULL);
    assert_status(g, 200);
    assert_true(g, jint(g->json, "/status/allocations", -1) == 1, "status.allocations is 1");

    assert_problem(http("DELETE", "/v1/clusters/prod-eu-1", NULL), 409, "cluster_in_use");
    assert_status(alloc_delete("prod-eu-1/ns/s"), 204);
    assert_status(http("DELETE", "/v1/clusters/prod-eu-1", NULL), 204);
    assert_problem(http("GET", "/v1/clusters/prod-eu-1", NULL), 404, "not_found");
}

Test(http, cluster_with_a_bad_announcement_is_refused_with_its_field)
{
    struct resp *r = http("POST", "/v1/clusters", "{'name':'c1','announcement':'ospf'}");
    assert_true(r, r->status == 400 || r->status == 422, "4xx expected");
    assert_str(r, jstr(r->json, "/field"), "/announcement");
}

Test(http, cluster_put_with_another_name_is_422_name_mismatch)
{
    cluster_create("c1", NULL);
    assert_problem(http("PUT", "/v1/clusters/c1", "{'name':'c2','labels':{}}"), 422,
                   "name_mismatch");
}

Test(http, pagination_survives_inserts_and_deletes_between_pages)
{
    const char *names[] = {"b-1", "b-2", "b-3", "b-4", "b-5", "b-6", "b-7", "b-8"};
    for (int i = 0; i < 8; i++)
        pool_create(S("{'name':'%s','blocks':[{'cidr':'10.90.%d.0/24'}]}", names[i], i));
    struct resp *p1 = http("GET", "/v1/pools?limit=3", NULL);
    assert_status(p1, 200);
    assert_str(p1, jstr(p1->json, "/items/2/name"), "b-3");
    const char *cursor = jstr(p1->json, "/nextCursor");
    assert_true(p1, cursor != NULL, "a cursor after the first page");
    /* before the next page: one pool sorting before the cursor appears, one listed goes */
    pool_create("{'name':'a-new','blocks':[{'cidr':'10.91.0.0/24'}]}");
    assert_status(http("DELETE", "/v1/pools/b-1", NULL), 204);
    struct resp *p2 = http("GET", S("/v1/pools?limit=3&cursor=%s", urlenc(cursor)), NULL);
    assert_status(p2, 200);
    /* keyset order: the next page starts right after b-3, neither repeating nor skipping */
    assert_str(p2, jstr(p2->json, "/items/0/name"), "b-4");
    assert_str(p2, jstr(p2->json, "/items/1/name"), "b-5");
    assert_str(p2, jstr(p2->json, "/items/2/name"), "b-6");
}

Test(http, garbage_cursor_is_a_4xx_problem)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r = http("GET", "/v1/pools?cursor=%25%25not-a-cursor", NULL);
    assert_true(r, r->status == 400 || r->status == 422, "a bad cursor is a 4xx");
    assert_true(r, jstr(r->json, "/reason") != NULL, "problem with a reason expected");
}

Test(http, body_of_exactly_1_mib_is_not_413)
{
    size_t size = 1024 * 1024;
    char *big = malloc(size + 1);
    const char *head =
        "{\"name\":\"big\",\"blocks\":[{\"cidr\":\"10.80.0.0/24\"}],\"description\":\"";
    size_t hl = strlen(head);
    memcpy(big, head, hl);
    memset(big + hl, 'x', size - hl - 2);
    big[size - 2] = '"';
    big[size - 1] = '}';
    big[size] = '\0';
    struct resp *r = http_raw(NULL, "POST", "/v1/pools", "application/json", big, size, NULL);
    free(big);
    assert_true(r, r->status != 413 && r->status != 0, "1 MiB is the limit, not over it");
}

Test(http, if_match_on_an_absent_allocation_is_412)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.80.0.0/24'}]}");
    struct resp *r = http("PUT", "/v1/allocations/c1/ns/web", "{}", "If-Match: \"1\"");
    assert_problem(r, 412, "precondition_failed");
    assert_problem(http("GET", "/v1/allocations/c1/ns/web", NULL), 404, "not_found");
    assert_str(NULL, address_state("10.80.0.0"), "free");
}
