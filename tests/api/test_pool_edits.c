/* Editing and deleting pools never moves an allocation (api.md §3 Edits). */
#include <stdlib.h>
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(pool_edits);

/* GET the pool, replace member `key` with `value_json` (' for "), PUT it back with If-Match. */
static struct resp *pool_set(const char *name, const char *key, const char *value_json)
{
    struct resp *g = http("GET", S("/v1/pools/%s", name), NULL);
    assert_status(g, 200);
    char *v = strdup(value_json);
    for (char *p = v; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t jerr;
    json_t *val = json_loads(v, JSON_DECODE_ANY, &jerr);
    free(v);
    cr_assert(val != NULL, "bad test JSON %s: %s", value_json, jerr.text);
    json_object_set_new(g->json, key, val);
    char *body = json_dumps(g->json, JSON_COMPACT);
    struct resp *r =
        http("PUT", S("/v1/pools/%s", name), S("%s", body), S("If-Match: %s", g->etag));
    free(body);
    return r;
}

static void assert_alloc_ips(const char *id, const char *ips)
{
    struct resp *g = http("GET", S("/v1/allocations/%s", id), NULL);
    assert_status(g, 200);
    assert_str(g, alloc_ips(g), ips);
}

Test(pool_edits, widening_a_range_moves_nothing)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'start':'10.70.0.10','stop':'10.70.0.13'}]}");
    alloc_ip("c1/ns/a", "{}");
    alloc_ip("c1/ns/b", "{}");
    alloc_ip("c1/ns/c", "{}");
    struct resp *r = pool_set("p", "blocks", "[{'start':'10.70.0.0','stop':'10.70.0.20'}]");
    assert_status(r, 200);
    assert_str(r, jstr(r->json, "/status/ipv4/total"), "21");
    assert_str(r, jstr(r->json, "/status/ipv4/used"), "3");
    assert_alloc_ips("c1/ns/a", "10.70.0.10");
    assert_alloc_ips("c1/ns/b", "10.70.0.11");
    assert_alloc_ips("c1/ns/c", "10.70.0.12");
    /* the widened part is used from now on: lowest free first */
    assert_str(NULL, alloc_ip("c1/ns/d", "{}"), "10.70.0.0");
}

Test(pool_edits, widening_a_cidr_moves_nothing)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.128/25'}]}");
    alloc_ip("c1/ns/a", "{}");
    alloc_ip("c1/ns/b", "{}");
    struct resp *r = pool_set("p", "blocks", "[{'cidr':'10.70.0.0/24'}]");
    assert_status(r, 200);
    assert_alloc_ips("c1/ns/a", "10.70.0.128");
    assert_alloc_ips("c1/ns/b", "10.70.0.129");
    assert_str(r, jstr(r->json, "/status/ipv4/total"), "256");
}

Test(pool_edits, adding_a_block_moves_nothing)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.1.0/30'}]}");
    alloc_ip("c1/ns/a", "{}");
    alloc_ip("c1/ns/b", "{}");
    struct resp *r = pool_set("p", "blocks",
                              "[{'cidr':'10.70.0.0/24'},{'cidr':'10.70.1.0/30'},"
                              "{'cidr':'2001:db8:70::/120'}]");
    assert_status(r, 200);
    assert_alloc_ips("c1/ns/a", "10.70.1.0");
    assert_alloc_ips("c1/ns/b", "10.70.1.1");
    assert_str(r, jstr(r->json, "/status/ipv4/used"), "2");
    assert_str(r, jstr(r->json, "/status/ipv6/total"), "256");
}

Test(pool_edits, removing_a_block_in_use_is_409_blocks_in_use_and_changes_nothing)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'},{'cidr':'10.70.1.0/24'}]}");
    assert_status(alloc_put("c1/ns/a", "{'requestedIPs':['10.70.1.7']}"), 201);
    assert_status(alloc_put("c1/ns/b", "{'requestedIPs':['10.70.1.9']}"), 201);
    struct resp *before = http("GET", "/v1/pools/p", NULL);
    struct resp *r = pool_set("p", "blocks", "[{'cidr':'10.70.0.0/24'}]");
    assert_problem(r, 409, "blocks_in_use");
    const char *d = jstr(r->json, "/detail");
    assert_true(r, d != NULL && strstr(d, "10.70.1.7") != NULL, "detail should name 10.70.1.7");
    assert_true(r, strstr(d, "2") != NULL, "detail should count the 2 allocations");

    struct resp *g = http("GET", "/v1/pools/p", NULL);
    assert_true(g, jlen(g->json, "/blocks") == 2, "both blocks still there");
    assert_str(g, g->etag, before->etag);
    assert_alloc_ips("c1/ns/a", "10.70.1.7");
}

Test(pool_edits, shrinking_a_block_below_an_allocation_is_409_blocks_in_use)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'start':'10.70.0.0','stop':'10.70.0.99'}]}");
    assert_status(alloc_put("c1/ns/a", "{'requestedIPs':['10.70.0.50']}"), 201);
    struct resp *r = pool_set("p", "blocks", "[{'start':'10.70.0.0','stop':'10.70.0.49'}]");
    assert_problem(r, 409, "blocks_in_use");
    /* shrinking around it is fine */
    r = pool_set("p", "blocks", "[{'start':'10.70.0.40','stop':'10.70.0.60'}]");
    assert_status(r, 200);
    assert_alloc_ips("c1/ns/a", "10.70.0.50");
}

Test(pool_edits, removing_an_unused_block_is_allowed)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'},{'cidr':'10.70.1.0/24'}]}");
    alloc_ip("c1/ns/a", "{}");
    struct resp *r = pool_set("p", "blocks", "[{'cidr':'10.70.0.0/24'}]");
    assert_status(r, 200);
    assert_str(NULL, address_state("10.70.1.5"), "outside");
    /* a third pool can take the freed range */
    pool_create("{'name':'q','blocks':[{'cidr':'10.70.1.0/24'}]}");
}

Test(pool_edits, changing_the_selector_keeps_existing_allocations)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    const char *body = "{'labels':{'color':'red'}}";
    assert_str(NULL, alloc_ip("c1/ns/a", body), "10.70.0.0");
    struct resp *r = pool_set("p", "serviceSelector", "{'matchLabels':{'color':'blue'}}");
    assert_status(r, 200);
    /* the same request again keeps its address: only future allocations are affected */
    struct resp *again = alloc_put("c1/ns/a", body);
    assert_status(again, 200);
    assert_str(again, alloc_ips(again), "10.70.0.0");
    assert_problem(alloc_put("c1/ns/b", body), 409, "no_pool");
    assert_str(NULL, alloc_ip("c1/ns/c", "{'labels':{'color':'blue'}}"), "10.70.0.1");
}

Test(pool_edits, edit_into_another_pools_range_is_409_pool_conflict)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'}]}");
    pool_create("{'name':'q','blocks':[{'cidr':'10.71.0.0/24'}]}");
    struct resp *r = pool_set("p", "blocks", "[{'cidr':'10.70.0.0/23'},{'cidr':'10.71.0.128/25'}]");
    assert_problem(r, 409, "pool_conflict");
}

Test(pool_edits, put_with_a_different_name_is_422_name_mismatch)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'}]}");
    struct resp *r = http("PUT", "/v1/pools/p", "{'name':'q','blocks':[{'cidr':'10.70.0.0/24'}]}");
    assert_problem(r, 422, "name_mismatch");
}

Test(pool_edits, delete_of_a_used_pool_is_409_pool_in_use)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'}]}");
    alloc_ip("c1/ns/a", "{}");
    struct resp *r = http("DELETE", "/v1/pools/p", NULL);
    assert_problem(r, 409, "pool_in_use");
    assert_status(http("GET", "/v1/pools/p", NULL), 200);
    assert_alloc_ips("c1/ns/a", "10.70.0.0");
}

Test(pool_edits, forced_delete_releases_every_address_of_the_pool)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'}]}");
    pool_create("{'name':'v6','blocks':[{'cidr':'2001:db8:70::/120'}]}");
    alloc_ip("c1/ns/a", "{}");
    alloc_ip("c1/ns/b", "{}");
    struct resp *dual = alloc_put("c1/ns/c", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_status(dual, 201);
    assert_str(dual, alloc_ips(dual), "10.70.0.2,2001:db8:70::");

    struct resp *r = http("DELETE", "/v1/pools/p?force=true", NULL);
    assert_true(r, r->status == 204 || r->status == 200, "forced DELETE should succeed");
    assert_problem(http("GET", "/v1/pools/p", NULL), 404, "not_found");

    /* allocations left with no address are gone; the dual-stack one keeps its IPv6 */
    assert_problem(http("GET", "/v1/allocations/c1/ns/a", NULL), 404, "not_found");
    assert_problem(http("GET", "/v1/allocations/c1/ns/b", NULL), 404, "not_found");
    assert_alloc_ips("c1/ns/c", "2001:db8:70::");

    struct resp *a = address_get("10.70.0.0");
    assert_str(a, jstr(a->json, "/state"), "outside");
    assert_true(a, jis_null(a->json, "/pool"), "pool should be null");
    assert_true(a, jlen(a->json, "/holders") == 0, "no holders");

    /* the same range as a new pool: the addresses are free again */
    pool_create("{'name':'p2','blocks':[{'cidr':'10.70.0.0/24'}]}");
    assert_str(NULL, address_state("10.70.0.0"), "free");
    assert_str(NULL, address_state("10.70.0.2"), "free");
    assert_str(NULL, alloc_ip("c1/ns/d", "{}"), "10.70.0.0");
}

Test(pool_edits, delete_of_an_unused_pool_is_204)
{
    pool_create("{'name':'p','blocks':[{'cidr':'10.70.0.0/24'}]}");
    struct resp *r = http("DELETE", "/v1/pools/p", NULL);
    assert_status(r, 204);
    assert_problem(http("GET", "/v1/pools/p", NULL), 404, "not_found");
    assert_problem(http("DELETE", "/v1/pools/p", NULL), 404, "not_found");
}
