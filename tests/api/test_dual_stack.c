/* Which families an allocation gets: SingleStack, PreferDualStack, RequireDualStack
 * (api.md §4 "Which families are wanted"). */
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(dual_stack);

static void v4_pool(void)
{
    pool_create("{'name':'v4','blocks':[{'cidr':'10.40.0.0/24'}]}");
}

static void v6_pool(void)
{
    pool_create("{'name':'v6','blocks':[{'cidr':'2001:db8:40::/120'}]}");
}

Test(dual_stack, single_stack_default_is_one_ipv4_address)
{
    cluster_create("c1", NULL);
    v4_pool();
    v6_pool();
    struct resp *r = alloc_put("c1/default/web", "{}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.40.0.0");
    assert_str(r, jstr(r->json, "/addresses/0/family"), "IPv4");
    assert_str(r, jstr(r->json, "/condition/status"), "True");
}

Test(dual_stack, single_stack_takes_the_first_listed_family)
{
    cluster_create("c1", NULL);
    v4_pool();
    v6_pool();
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'SingleStack',"
                                               "'ipFamilies':['IPv6','IPv4']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "2001:db8:40::");
    r = alloc_put("c1/default/b", "{'ipFamilies':['IPv6']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "2001:db8:40::1");
    r = alloc_put("c1/default/c", "{'ipFamilyPolicy':'SingleStack','ipFamilies':['IPv4','IPv6']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.40.0.0");
}

Test(dual_stack, prefer_dual_stack_with_both_pools_gets_both)
{
    cluster_create("c1", NULL);
    v4_pool();
    v6_pool();
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'PreferDualStack',"
                                               "'ipFamilies':['IPv4','IPv6']}");
    assert_status(r, 201);
    assert_str(r, alloc_ip_of(r, "IPv4"), "10.40.0.0");
    assert_str(r, alloc_ip_of(r, "IPv6"), "2001:db8:40::");
    assert_true(r, jlen(r->json, "/addresses") == 2, "two addresses expected");
    assert_str(r, jstr(r->json, "/condition/status"), "True");
}

Test(dual_stack, prefer_dual_stack_without_families_means_both)
{
    cluster_create("c1", NULL);
    v4_pool();
    v6_pool();
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'PreferDualStack'}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.40.0.0,2001:db8:40::");
}

Test(dual_stack, prefer_dual_stack_listing_one_family_gets_only_that_one)
{
    cluster_create("c1", NULL);
    v4_pool();
    v6_pool();
    struct resp *r =
        alloc_put("c1/default/a", "{'ipFamilyPolicy':'PreferDualStack','ipFamilies':['IPv6']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "2001:db8:40::");
}

Test(dual_stack, prefer_dual_stack_with_only_an_ipv4_pool_succeeds_with_condition_false)
{
    cluster_create("c1", NULL);
    v4_pool();
    const char *body = "{'ipFamilyPolicy':'PreferDualStack','ipFamilies':['IPv4','IPv6']}";
    struct resp *r = alloc_put("c1/default/a", body);
    assert_status(r, 201); /* created: 201 (api.md §4), success although IPv6 is missing */
    assert_true(r, jlen(r->json, "/addresses") == 1, "one address expected");
    assert_str(r, alloc_ips(r), "10.40.0.0");
    assert_str(r, jstr(r->json, "/condition/status"), "False");
    assert_str(r, jstr(r->json, "/condition/reason"), "no_pool");

    /* the same again is a plain 200, same address, still False */
    r = alloc_put("c1/default/a", body);
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "10.40.0.0");
    assert_str(r, jstr(r->json, "/condition/status"), "False");

    struct resp *g = http("GET", "/v1/allocations/c1/default/a", NULL);
    assert_status(g, 200);
    assert_str(g, jstr(g->json, "/condition/status"), "False");
}

Test(dual_stack, prefer_dual_stack_with_a_full_ipv6_pool_is_condition_false_out_of_ips)
{
    cluster_create("c1", NULL);
    v4_pool();
    pool_create("{'name':'v6','blocks':[{'start':'2001:db8:40::5'}]}");
    assert_status(alloc_put("c1/default/taker", "{'ipFamilies':['IPv6']}"), 201);
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'PreferDualStack'}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.40.0.0");
    assert_str(r, jstr(r->json, "/condition/status"), "False");
    assert_str(r, jstr(r->json, "/condition/reason"), "out_of_ips");
}

Test(dual_stack, prefer_dual_stack_with_no_family_available_is_409)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'red','blocks':[{'cidr':'10.40.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'PreferDualStack'}");
    assert_problem(r, 409, "no_pool");
    assert_status(http("GET", "/v1/allocations/c1/default/a", NULL), 404);
}

Test(dual_stack, require_dual_stack_with_only_ipv4_is_409_and_consumes_nothing)
{
    cluster_create("c1", NULL);
    v4_pool();
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_problem(r, 409, "no_pool");
    assert_status(http("GET", "/v1/allocations/c1/default/a", NULL), 404);
    assert_str(NULL, address_state("10.40.0.0"), "free");
    struct resp *p = http("GET", "/v1/pools/v4", NULL);
    assert_str(p, jstr(p->json, "/status/ipv4/used"), "0");
    /* the next single-stack allocation still gets the lowest address */
    struct resp *n = alloc_put("c1/default/b", "{}");
    assert_status(n, 201);
    assert_str(n, alloc_ips(n), "10.40.0.0");
}

Test(dual_stack, require_dual_stack_with_a_full_ipv6_pool_is_409_out_of_ips_consuming_nothing)
{
    cluster_create("c1", NULL);
    v4_pool();
    pool_create("{'name':'v6','blocks':[{'start':'2001:db8:40::5'}]}");
    assert_status(alloc_put("c1/default/taker", "{'ipFamilies':['IPv6']}"), 201);
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_problem(r, 409, "out_of_ips");
    assert_str(NULL, address_state("10.40.0.0"), "free");
}

Test(dual_stack, require_dual_stack_gets_both_and_ignores_ip_families)
{
    cluster_create("c1", NULL);
    v4_pool();
    v6_pool();
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'RequireDualStack',"
                                               "'ipFamilies':['IPv6']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.40.0.0,2001:db8:40::");
    assert_str(r, jstr(r->json, "/condition/status"), "True");
}

Test(dual_stack, mixed_family_pool_serves_both_families)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'mixed','blocks':[{'cidr':'10.40.0.0/24'},{'cidr':'2001:db8:40::/120'}]}");
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.40.0.0,2001:db8:40::");
    assert_str(r, jstr(r->json, "/addresses/0/pool"), "mixed");
    assert_str(r, jstr(r->json, "/addresses/1/pool"), "mixed");
}

Test(dual_stack, unknown_family_policy_is_refused_with_its_field)
{
    cluster_create("c1", NULL);
    v4_pool();
    struct resp *r = alloc_put("c1/default/a", "{'ipFamilyPolicy':'MaybeDualStack'}");
    assert_true(r, r->status == 400 || r->status == 422, "an unknown policy is a 4xx");
    assert_str(r, jstr(r->json, "/field"), "/ipFamilyPolicy");
}
