/* PUT of an allocation is declarative: the same body changes nothing, a changed body is
 * reconciled keeping what still fits, a refused change changes nothing (api.md §4). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/api/harness.h"

HARNESS_SUITE(idempotence);

static void setup(void)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a','blocks':[{'cidr':'10.60.0.0/24'},{'cidr':'2001:db8:60::/120'}]}");
    pool_create("{'name':'b','blocks':[{'cidr':'10.61.0.0/24'}]}");
}

Test(idempotence, same_put_twice_keeps_addresses_updated_at_and_etag)
{
    setup();
    const char *body = "{'labels':{'app':'web'},'ipFamilyPolicy':'PreferDualStack',"
                       "'ports':[{'port':443,'protocol':'TCP'}],'description':'x'}";
    struct resp *first = alloc_put("c1/default/web", body);
    assert_status(first, 201);
    assert_true(first, first->etag != NULL, "PUT should answer an ETag");
    sleep(1); /* a rewrite would now show a different updatedAt */
    struct resp *second = alloc_put("c1/default/web", body);
    assert_status(second, 200);
    assert_str(second, alloc_ips(second), alloc_ips(first));
    assert_str(second, jstr(second->json, "/updatedAt"), jstr(first->json, "/updatedAt"));
    assert_str(second, jstr(second->json, "/createdAt"), jstr(first->json, "/createdAt"));
    assert_str(second, second->etag, first->etag);

    struct resp *g = http("GET", "/v1/allocations/c1/default/web", NULL);
    assert_status(g, 200);
    assert_str(g, g->etag, first->etag);
    assert_str(g, jstr(g->json, "/updatedAt"), jstr(first->json, "/updatedAt"));
    /* nothing extra consumed */
    struct resp *p = http("GET", "/v1/pools/a", NULL);
    assert_str(p, jstr(p->json, "/status/ipv4/used"), "1");
    assert_str(p, jstr(p->json, "/status/ipv6/used"), "1");
}

Test(idempotence, get_edit_put_round_trip_with_read_only_fields_keeps_addresses)
{
    setup();
    struct resp *first = alloc_put("c1/default/web", "{'labels':{'app':'web'}}");
    assert_status(first, 201);
    struct resp *g = http("GET", "/v1/allocations/c1/default/web", NULL);
    assert_status(g, 200);
    json_object_set_new(g->json, "description", json_string("edited"));
    char *body = json_dumps(g->json, JSON_COMPACT);
    struct resp *r = alloc_put("c1/default/web", S("%s", body));
    free(body);
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), alloc_ips(first));
    assert_str(r, jstr(r->json, "/description"), "edited");
    assert_str(r, jstr(r->json, "/createdAt"), jstr(first->json, "/createdAt"));
}

Test(idempotence, adding_a_family_keeps_the_existing_address)
{
    setup();
    alloc_ip("c1/default/filler", "{}"); /* 10.60.0.0 */
    struct resp *r = alloc_put("c1/default/web", "{}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.60.0.1");
    assert_status(alloc_delete("c1/default/filler"), 204);
    /* 10.60.0.0 is free and lower now, yet the kept address does not move */
    r = alloc_put("c1/default/web", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "10.60.0.1,2001:db8:60::");
}

Test(idempotence, dropping_a_family_releases_only_that_address)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.60.0.0,2001:db8:60::");
    r = alloc_put("c1/default/web", "{'ipFamilies':['IPv6']}");
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "2001:db8:60::");
    assert_str(NULL, address_state("10.60.0.0"), "free");
    assert_str(NULL, address_state("2001:db8:60::"), "allocated");
}

Test(idempotence, changed_labels_that_still_match_keep_the_address)
{
    setup();
    alloc_ip("c1/default/filler", "{}");
    const char *ip = alloc_ip("c1/default/web", "{'labels':{'v':'1'}}");
    assert_str(NULL, ip, "10.60.0.1");
    assert_status(alloc_delete("c1/default/filler"), 204);
    struct resp *r = alloc_put("c1/default/web", "{'labels':{'v':'2'},'description':'new'}");
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "10.60.0.1");
    assert_str(r, jstr(r->json, "/labels/v"), "2");
}

Test(idempotence, changing_the_named_pool_moves_the_address_and_frees_the_old_one)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'pool':'a'}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.60.0.0");
    r = alloc_put("c1/default/web", "{'pool':'b'}");
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "10.61.0.0");
    assert_str(NULL, address_state("10.60.0.0"), "free");
}

Test(idempotence, changing_the_requested_ip_releases_the_old_one)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['10.60.0.5']}");
    assert_status(r, 201);
    r = alloc_put("c1/default/web", "{'requestedIPs':['10.60.0.6']}");
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "10.60.0.6");
    assert_str(NULL, address_state("10.60.0.5"), "free");
}

Test(idempotence, adding_a_requested_ip_keeps_the_first_one)
{
    setup();
    assert_status(alloc_put("c1/default/web", "{'requestedIPs':['10.60.0.5']}"), 201);
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['10.60.0.5','10.61.0.5']}");
    assert_status(r, 200);
    assert_str(r, alloc_ips(r), "10.60.0.5,10.61.0.5");
}

Test(idempotence, refused_change_leaves_the_allocation_as_it_was)
{
    setup();
    struct resp *before = alloc_put("c1/default/web", "{'labels':{'app':'web'}}");
    assert_status(before, 201);
    assert_str(before, alloc_ips(before), "10.60.0.0");
    assert_status(alloc_put("c1/default/other", "{'requestedIPs':['10.60.0.7']}"), 201);
    sleep(1);

    struct resp *r =
        alloc_put("c1/default/web", "{'labels':{'app':'changed'},'requestedIPs':['10.60.0.7']}");
    assert_problem(r, 409, "already_allocated");

    struct resp *g = http("GET", "/v1/allocations/c1/default/web", NULL);
    assert_status(g, 200);
    assert_str(g, alloc_ips(g), "10.60.0.0");
    assert_str(g, jstr(g->json, "/labels/app"), "web");
    assert_str(g, jstr(g->json, "/updatedAt"), jstr(before->json, "/updatedAt"));
    assert_str(g, g->etag, before->etag);
    assert_str(NULL, address_state("10.60.0.0"), "allocated");
}

Test(idempotence, refused_dual_stack_change_keeps_the_ipv4_address)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'v4','blocks':[{'cidr':'10.60.0.0/24'}]}");
    struct resp *before = alloc_put("c1/default/web", "{}");
    assert_status(before, 201);
    struct resp *r = alloc_put("c1/default/web", "{'ipFamilyPolicy':'RequireDualStack'}");
    assert_problem(r, 409, "no_pool");
    struct resp *g = http("GET", "/v1/allocations/c1/default/web", NULL);
    assert_status(g, 200);
    assert_str(g, alloc_ips(g), "10.60.0.0");
    const char *pol = jstr(g->json, "/ipFamilyPolicy");
    assert_true(g, pol == NULL || strcmp(pol, "RequireDualStack") != 0,
                "the refused policy must not be stored");
    assert_str(g, g->etag, before->etag);
}

Test(idempotence, refused_change_to_a_full_pool_keeps_the_old_address)
{
    setup();
    pool_create("{'name':'tiny','blocks':[{'start':'10.62.0.1'}]}");
    assert_status(alloc_put("c1/default/taker", "{'pool':'tiny'}"), 201);
    assert_status(alloc_put("c1/default/web", "{'pool':'a'}"), 201);
    struct resp *r = alloc_put("c1/default/web", "{'pool':'tiny'}");
    assert_problem(r, 409, "out_of_ips");
    struct resp *g = http("GET", "/v1/allocations/c1/default/web", NULL);
    assert_str(g, alloc_ips(g), "10.60.0.0");
    assert_str(g, jstr(g->json, "/pool"), "a");
}

Test(idempotence, delete_releases_then_404)
{
    setup();
    alloc_ip("c1/default/web", "{}");
    struct resp *d = alloc_delete("c1/default/web");
    assert_status(d, 204);
    assert_str(NULL, address_state("10.60.0.0"), "free");
    assert_problem(alloc_delete("c1/default/web"), 404, "not_found");
    assert_problem(http("GET", "/v1/allocations/c1/default/web", NULL), 404, "not_found");
}

Test(idempotence, recreated_allocation_after_delete_is_201_again)
{
    setup();
    assert_status(alloc_put("c1/default/web", "{}"), 201);
    assert_status(alloc_delete("c1/default/web"), 204);
    struct resp *r = alloc_put("c1/default/web", "{}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.60.0.0");
}
