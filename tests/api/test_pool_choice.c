/* Which pool an allocation comes from: priority, serviceSelector before catch-all, name;
 * autoAssign and disabled (api.md §3 Flags, §4 rule 2). */
#include <stdlib.h>
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(pool_choice);

static const char *pool_of(const char *id, const char *body)
{
    struct resp *r = alloc_put(id, body);
    assert_ok(r);
    cr_assert(jlen(r->json, "/addresses") == 1, "expected one address\n  %s", rdesc(r));
    const char *p = jstr(r->json, "/addresses/0/pool");
    cr_assert(p != NULL, "address without pool\n  %s", rdesc(r));
    return p;
}

Test(pool_choice, higher_priority_is_tried_first)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a-low','blocks':[{'cidr':'10.20.0.0/24'}],'priority':0}");
    pool_create("{'name':'z-high','blocks':[{'start':'10.21.0.1'}],'priority':10}");
    pool_create("{'name':'m-neg','blocks':[{'cidr':'10.22.0.0/24'}],'priority':-5}");
    assert_str(NULL, pool_of("c1/default/s1", "{}"), "z-high");
    /* z-high is full now: the next priority takes over */
    assert_str(NULL, pool_of("c1/default/s2", "{}"), "a-low");
}

Test(pool_choice, negative_priority_comes_last)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a-neg','blocks':[{'cidr':'10.22.0.0/24'}],'priority':-5}");
    pool_create("{'name':'b-zero','blocks':[{'start':'10.20.0.1'}]}");
    assert_str(NULL, pool_of("c1/default/s1", "{}"), "b-zero");
    assert_str(NULL, pool_of("c1/default/s2", "{}"), "a-neg");
}

Test(pool_choice, at_equal_priority_a_service_selector_pool_beats_a_catch_all)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a-catch-all','blocks':[{'cidr':'10.20.0.0/24'}]}");
    pool_create("{'name':'z-red','blocks':[{'cidr':'10.21.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    assert_str(NULL, pool_of("c1/default/red", "{'labels':{'color':'red'}}"), "z-red");
    assert_str(NULL, pool_of("c1/default/blue", "{'labels':{'color':'blue'}}"), "a-catch-all");
}

Test(pool_choice, a_cluster_selector_alone_does_not_make_a_pool_specific)
{
    cluster_create("c1", "{'region':'eu'}");
    pool_create("{'name':'a-cluster-only','blocks':[{'cidr':'10.20.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'region':'eu'}}}");
    pool_create("{'name':'z-red','blocks':[{'cidr':'10.21.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    assert_str(NULL, pool_of("c1/default/red", "{'labels':{'color':'red'}}"), "z-red");
}

Test(pool_choice, priority_beats_the_service_selector_rule)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'z-catch-all','blocks':[{'cidr':'10.20.0.0/24'}],'priority':5}");
    pool_create("{'name':'a-red','blocks':[{'cidr':'10.21.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    assert_str(NULL, pool_of("c1/default/red", "{'labels':{'color':'red'}}"), "z-catch-all");
}

Test(pool_choice, then_by_name)
{
    cluster_create("c1", NULL);
    /* created in the opposite order and with the higher addresses first */
    pool_create("{'name':'beta','blocks':[{'cidr':'10.20.0.0/24'}]}");
    pool_create("{'name':'alpha','blocks':[{'start':'10.21.0.1'}]}");
    assert_str(NULL, pool_of("c1/default/s1", "{}"), "alpha");
    assert_str(NULL, pool_of("c1/default/s2", "{}"), "beta");
}

Test(pool_choice, then_by_name_among_selector_pools)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'red-b','blocks':[{'cidr':'10.20.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    pool_create("{'name':'red-a','blocks':[{'cidr':'10.21.0.0/24'}],"
                "'serviceSelector':{'matchExpressions':[{'key':'color','operator':'Exists'}]}}");
    assert_str(NULL, pool_of("c1/default/s1", "{'labels':{'color':'red'}}"), "red-a");
}

Test(pool_choice, auto_assign_false_pool_is_not_used_unasked)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'manual','blocks':[{'cidr':'10.20.0.0/24'}],'autoAssign':false}");
    struct resp *r = alloc_put("c1/default/s1", "{}");
    assert_problem(r, 409, "no_pool");
    assert_str(NULL, address_state("10.20.0.0"), "free");
}

Test(pool_choice, auto_assign_false_pool_is_skipped_for_an_automatic_one)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a-manual','blocks':[{'cidr':'10.20.0.0/24'}],'autoAssign':false,"
                "'priority':100}");
    pool_create("{'name':'z-auto','blocks':[{'cidr':'10.21.0.0/24'}]}");
    assert_str(NULL, pool_of("c1/default/s1", "{}"), "z-auto");
}

Test(pool_choice, auto_assign_false_pool_serves_a_request_that_names_it)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'manual','blocks':[{'cidr':'10.20.0.0/24'}],'autoAssign':false}");
    pool_create("{'name':'auto','blocks':[{'cidr':'10.21.0.0/24'}],'priority':100}");
    struct resp *r = alloc_put("c1/default/s1", "{'pool':'manual'}");
    assert_status(r, 201);
    assert_str(r, jstr(r->json, "/addresses/0/pool"), "manual");
    assert_str(r, alloc_ips(r), "10.20.0.0");
}

Test(pool_choice, auto_assign_false_pool_serves_a_requested_ip)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'manual','blocks':[{'cidr':'10.20.0.0/24'}],'autoAssign':false}");
    struct resp *r = alloc_put("c1/default/s1", "{'requestedIPs':['10.20.0.7']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.20.0.7");
    assert_str(r, jstr(r->json, "/addresses/0/pool"), "manual");
}

Test(pool_choice, auto_assign_false_pool_serves_a_preferred_ip)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'manual','blocks':[{'cidr':'10.20.0.0/24'}],'autoAssign':false}");
    pool_create("{'name':'auto','blocks':[{'cidr':'10.21.0.0/24'}]}");
    struct resp *r = alloc_put("c1/default/s1", "{'preferredIPs':['10.20.0.9']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.20.0.9");
}

Test(pool_choice, named_pool_is_used_alone_even_at_lower_priority)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'high','blocks':[{'cidr':'10.20.0.0/24'}],'priority':10}");
    pool_create("{'name':'low','blocks':[{'start':'10.21.0.5'}]}");
    assert_str(NULL, pool_of("c1/default/s1", "{'pool':'low'}"), "low");
    /* the named pool is full: no fallback to another pool */
    assert_problem(alloc_put("c1/default/s2", "{'pool':'low'}"), 409, "out_of_ips");
}

Test(pool_choice, named_pool_still_needs_matching_selectors)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'red','blocks':[{'cidr':'10.20.0.0/24'}],'autoAssign':false,"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    assert_problem(alloc_put("c1/default/s1", "{'pool':'red'}"), 409, "no_pool");
    assert_str(NULL, pool_of("c1/default/s2", "{'pool':'red','labels':{'color':'red'}}"), "red");
}

Test(pool_choice, unknown_named_pool_is_422_unknown_pool)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'real','blocks':[{'cidr':'10.20.0.0/24'}]}");
    assert_problem_field(alloc_put("c1/default/s1", "{'pool':'ghost'}"), 422, "unknown_pool",
                         "/pool");
}

Test(pool_choice, unknown_cluster_is_404_unknown_cluster)
{
    pool_create("{'name':'real','blocks':[{'cidr':'10.20.0.0/24'}]}");
    assert_problem(alloc_put("nowhere/default/s1", "{}"), 404, "unknown_cluster");
    assert_str(NULL, address_state("10.20.0.0"), "free");
}

Test(pool_choice, disabled_pool_keeps_existing_allocations_and_refuses_new_ones)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.20.0.0/24'}]}");
    struct resp *first = alloc_put("c1/default/s1", "{'labels':{'app':'a'}}");
    assert_status(first, 201);
    assert_str(first, alloc_ips(first), "10.20.0.0");

    struct resp *g = http("GET", "/v1/pools/p", NULL);
    assert_status(g, 200);
    json_object_set_new(g->json, "disabled", json_true());
    char *body = json_dumps(g->json, JSON_COMPACT);
    struct resp *u = http("PUT", "/v1/pools/p", S("%s", body), S("If-Match: %s", g->etag));
    free(body);
    assert_status(u, 200);
    assert_true(u, json_is_true(jget(u->json, "/disabled")), "pool should be disabled now");

    /* the existing allocation stays, and re-applying it keeps it */
    struct resp *again = alloc_put("c1/default/s1", "{'labels':{'app':'a'}}");
    assert_status(again, 200);
    assert_str(again, alloc_ips(again), "10.20.0.0");
    assert_str(NULL, address_state("10.20.0.0"), "allocated");

    /* new allocations are refused, by every route into the pool */
    assert_problem(alloc_put("c1/default/s2", "{}"), 409, "no_pool");
    assert_problem(alloc_put("c1/default/s3", "{'pool':'p'}"), 409, "no_pool");
    assert_problem(alloc_put("c1/default/s4", "{'requestedIPs':['10.20.0.5']}"), 409, "no_pool");
    struct resp *pref = alloc_put("c1/default/s5", "{'preferredIPs':['10.20.0.6']}");
    assert_problem(pref, 409, "no_pool");
    assert_str(NULL, address_state("10.20.0.5"), "free");
}

Test(pool_choice, disabled_pool_is_skipped_for_the_next_one)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a-off','blocks':[{'cidr':'10.20.0.0/24'}],'disabled':true,"
                "'priority':10}");
    pool_create("{'name':'b-on','blocks':[{'cidr':'10.21.0.0/24'}]}");
    assert_str(NULL, pool_of("c1/default/s1", "{}"), "b-on");
}

Test(pool_choice, preferred_ip_of_a_pool_whose_selector_does_not_match_is_skipped)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'red','blocks':[{'cidr':'10.20.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    pool_create("{'name':'z-any','blocks':[{'cidr':'10.21.0.0/24'}]}");
    struct resp *r = alloc_put("c1/default/s1", "{'preferredIPs':['10.20.0.9']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.21.0.0");
    assert_str(NULL, address_state("10.20.0.9"), "free");
}
