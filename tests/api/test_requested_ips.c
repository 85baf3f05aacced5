/* requestedIPs: every failure reason of api.md §4 rule 1, all-or-nothing, and the families
 * taken from the IPs. */
#include <string.h>
#include <strings.h>

#include "tests/api/harness.h"

HARNESS_SUITE(requested_ips);

static void setup(void)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'a','blocks':[{'cidr':'10.30.0.0/24'},{'cidr':'2001:db8:30::/120'}]}");
    pool_create("{'name':'b','blocks':[{'cidr':'10.31.0.0/24'}]}");
}

static void assert_absent(const char *id)
{
    struct resp *r = http("GET", S("/v1/allocations/%s", id), NULL);
    assert_problem(r, 404, "not_found");
}

Test(requested_ips, free_requested_ip_is_201_with_that_address_and_condition_true)
{
    setup();
    struct resp *r =
        alloc_put("c1/default/web", "{'requestedIPs':['10.30.0.7'],'labels':{'app':'web'},"
                                    "'externalRef':'CHG-1234','description':'by hand'}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.30.0.7");
    assert_str(r, jstr(r->json, "/addresses/0/family"), "IPv4");
    assert_str(r, jstr(r->json, "/addresses/0/pool"), "a");
    assert_str(r, jstr(r->json, "/condition/status"), "True");
    assert_str(r, jstr(r->json, "/condition/reason"), "satisfied");
    assert_str(r, jstr(r->json, "/cluster"), "c1");
    assert_str(r, jstr(r->json, "/namespace"), "default");
    assert_str(r, jstr(r->json, "/service"), "web");
    /* the body echoes the request */
    assert_str(r, jstr(r->json, "/labels/app"), "web");
    assert_str(r, jstr(r->json, "/externalRef"), "CHG-1234");
    assert_str(r, jstr(r->json, "/description"), "by hand");
    assert_str(r, jstr(r->json, "/requestedIPs/0"), "10.30.0.7");
    assert_true(r, jstr(r->json, "/createdAt") != NULL && jstr(r->json, "/updatedAt") != NULL,
                "createdAt and updatedAt expected");
    assert_str(r, address_state("10.30.0.7"), "allocated");
}

Test(requested_ips, ip_outside_every_pool_is_409_no_pool)
{
    setup();
    assert_problem(alloc_put("c1/default/web", "{'requestedIPs':['10.99.0.1']}"), 409, "no_pool");
    assert_absent("c1/default/web");
}

Test(requested_ips, ip_of_a_disabled_pool_is_409_no_pool)
{
    setup();
    pool_create("{'name':'off','blocks':[{'cidr':'10.32.0.0/24'}],'disabled':true}");
    assert_problem(alloc_put("c1/default/web", "{'requestedIPs':['10.32.0.1']}"), 409, "no_pool");
    assert_absent("c1/default/web");
}

Test(requested_ips, ip_outside_the_named_pool_is_409_requested_ip_not_in_pool)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'pool':'a','requestedIPs':['10.31.0.5']}");
    assert_problem(r, 409, "requested_ip_not_in_pool");
    assert_str(NULL, address_state("10.31.0.5"), "free");
    assert_absent("c1/default/web");
}

Test(requested_ips, ip_of_a_pool_whose_service_selector_does_not_match_is_409)
{
    setup();
    pool_create("{'name':'red','blocks':[{'cidr':'10.33.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    struct resp *r =
        alloc_put("c1/default/web", "{'requestedIPs':['10.33.0.5'],'labels':{'color':'blue'}}");
    assert_problem(r, 409, "pool_selector_mismatch");
    assert_absent("c1/default/web");
    r = alloc_put("c1/default/web", "{'requestedIPs':['10.33.0.5'],'labels':{'color':'red'}}");
    assert_status(r, 201);
}

Test(requested_ips, ip_of_a_pool_whose_cluster_selector_does_not_match_is_409)
{
    setup();
    cluster_create("us-1", "{'region':'us'}");
    pool_create("{'name':'eu','blocks':[{'cidr':'10.34.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'region':'eu'}}}");
    assert_problem(alloc_put("us-1/default/web", "{'requestedIPs':['10.34.0.5']}"), 409,
                   "pool_selector_mismatch");
    assert_absent("us-1/default/web");
}

Test(requested_ips, ip_held_by_another_service_is_409_already_allocated)
{
    setup();
    assert_status(alloc_put("c1/default/one", "{'requestedIPs':['10.30.0.5']}"), 201);
    struct resp *r = alloc_put("c1/default/two", "{'requestedIPs':['10.30.0.5']}");
    assert_problem(r, 409, "already_allocated");
    assert_absent("c1/default/two");
    /* holder without a sharing key, requester with one: still already_allocated */
    r = alloc_put("c1/default/three", "{'requestedIPs':['10.30.0.5'],'sharingKey':'k'}");
    assert_problem(r, 409, "already_allocated");
}

Test(requested_ips, ip_held_under_a_key_requested_without_one_is_409_already_allocated)
{
    setup();
    assert_status(alloc_put("c1/default/one", "{'requestedIPs':['10.30.0.5'],'sharingKey':'k',"
                                              "'ports':[{'port':80,'protocol':'TCP'}]}"),
                  201);
    struct resp *r = alloc_put("c1/default/two", "{'requestedIPs':['10.30.0.5'],"
                                                 "'ports':[{'port':443,'protocol':'TCP'}]}");
    assert_problem(r, 409, "already_allocated");
}

Test(requested_ips, reserved_ip_is_409_already_allocated)
{
    setup();
    pool_create("{'name':'edge','blocks':[{'cidr':'10.35.0.0/24'}],'allowFirstLastIPs':false}");
    pool_create("{'name':'buggy','blocks':[{'start':'10.36.0.0','stop':'10.36.1.255'}],"
                "'avoidBuggyIPs':true}");
    assert_problem(alloc_put("c1/default/w1", "{'requestedIPs':['10.35.0.0']}"), 409,
                   "already_allocated");
    assert_problem(alloc_put("c1/default/w2", "{'requestedIPs':['10.35.0.255']}"), 409,
                   "already_allocated");
    assert_problem(alloc_put("c1/default/w3", "{'requestedIPs':['10.36.0.255']}"), 409,
                   "already_allocated");
    assert_problem(alloc_put("c1/default/w4", "{'requestedIPs':['10.36.1.0']}"), 409,
                   "already_allocated");
}

Test(requested_ips, ip_held_by_an_incompatible_sharer_is_409_naming_the_incompatibility)
{
    setup();
    assert_status(alloc_put("c1/default/one", "{'requestedIPs':['10.30.0.5'],'sharingKey':'k',"
                                              "'ports':[{'port':80,'protocol':'TCP'}]}"),
                  201);
    struct resp *r = alloc_put("c1/default/two", "{'requestedIPs':['10.30.0.5'],'sharingKey':'k',"
                                                 "'ports':[{'port':80,'protocol':'TCP'}]}");
    assert_problem(r, 409, "already_allocated_incompatible_service");
    const char *d = jstr(r->json, "/detail");
    assert_true(r, d != NULL && (strcasestr(d, "port") != NULL || strstr(d, "80") != NULL),
                "the detail should name the port clash");
    assert_absent("c1/default/two");
}

Test(requested_ips, auto_assign_does_not_matter_for_a_requested_ip)
{
    setup();
    pool_create("{'name':'manual','blocks':[{'cidr':'10.37.0.0/24'}],'autoAssign':false}");
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['10.37.0.200']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.37.0.200");
}

Test(requested_ips, all_or_nothing_when_a_later_ip_is_outside_every_pool)
{
    setup();
    struct resp *r =
        alloc_put("c1/default/web", "{'requestedIPs':['10.30.0.7','2001:db8:ffff::1']}");
    assert_problem(r, 409, "no_pool");
    assert_str(NULL, address_state("10.30.0.7"), "free");
    assert_absent("c1/default/web");
}

Test(requested_ips, all_or_nothing_when_a_later_ip_is_taken)
{
    setup();
    assert_status(alloc_put("c1/default/holder", "{'requestedIPs':['10.31.0.9']}"), 201);
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['10.30.0.7','10.31.0.9']}");
    assert_problem(r, 409, "already_allocated");
    assert_str(NULL, address_state("10.30.0.7"), "free");
    assert_absent("c1/default/web");
    /* the holder is untouched */
    struct resp *h = address_get("10.31.0.9");
    assert_str(h, jstr(h->json, "/holders/0/service"), "holder");
    assert_true(h, jlen(h->json, "/holders") == 1, "one holder expected");
}

Test(requested_ips, all_or_nothing_when_a_later_ip_is_not_in_the_named_pool)
{
    setup();
    struct resp *r =
        alloc_put("c1/default/web", "{'pool':'a','requestedIPs':['10.30.0.7','10.31.0.7']}");
    assert_problem(r, 409, "requested_ip_not_in_pool");
    assert_str(NULL, address_state("10.30.0.7"), "free");
    assert_str(NULL, address_state("10.31.0.7"), "free");
}

Test(requested_ips, two_families_requested_gives_both_whatever_ip_families_says)
{
    setup();
    struct resp *r =
        alloc_put("c1/default/web", "{'requestedIPs':['10.30.0.7','2001:db8:30::7'],"
                                    "'ipFamilies':['IPv4'],'ipFamilyPolicy':'SingleStack'}");
    assert_status(r, 201);
    assert_str(r, alloc_ip_of(r, "IPv4"), "10.30.0.7");
    assert_str(r, alloc_ip_of(r, "IPv6"), "2001:db8:30::7");
    assert_true(r, jlen(r->json, "/addresses") == 2, "two addresses expected");
}

Test(requested_ips, requested_ipv6_overrides_ip_families_ipv4)
{
    setup();
    struct resp *r =
        alloc_put("c1/default/web", "{'requestedIPs':['2001:db8:30::42'],'ipFamilies':['IPv4']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "2001:db8:30::42");
    assert_str(r, jstr(r->json, "/addresses/0/family"), "IPv6");
}

Test(requested_ips, two_ips_of_one_pool_are_both_held)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['10.30.0.8','10.30.0.9']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.30.0.8,10.30.0.9");
}

Test(requested_ips, ipv4_mapped_ipv6_is_422_invalid_ip)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['::ffff:10.30.0.7']}");
    assert_problem_field(r, 422, "invalid_ip", "/requestedIPs/0");
    assert_str(NULL, address_state("10.30.0.7"), "free");
}

Test(requested_ips, malformed_ip_is_422_invalid_ip)
{
    setup();
    struct resp *r = alloc_put("c1/default/web", "{'requestedIPs':['10.30.0.7','10.30.0.256']}");
    assert_problem_field(r, 422, "invalid_ip", "/requestedIPs/1");
    assert_str(NULL, address_state("10.30.0.7"), "free");
}

Test(requested_ips, preferred_ip_that_fails_rule_1_is_silently_skipped)
{
    setup();
    assert_status(alloc_put("c1/default/holder", "{'requestedIPs':['10.30.0.0']}"), 201);
    /* taken, outside every pool: skipped, the lowest free address of the pools is taken */
    struct resp *r = alloc_put("c1/default/web", "{'preferredIPs':['10.30.0.0','10.99.9.9']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.30.0.1");
    r = alloc_put("c1/default/web2", "{'preferredIPs':['10.30.0.77']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.30.0.77");
}
