/* GET /v1/addresses/{ip}: who holds an address (api.md §5). */
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(addresses);

static void setup(void)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'edge','blocks':[{'cidr':'10.100.0.0/24'}],'allowFirstLastIPs':false}");
    pool_create("{'name':'buggy','blocks':[{'start':'10.101.0.250','stop':'10.101.1.5'}],"
                "'avoidBuggyIPs':true}");
    pool_create("{'name':'v6','blocks':[{'cidr':'2001:db8:100::/64'}]}");
}

Test(addresses, allocated_address_names_pool_and_holders)
{
    setup();
    assert_str(NULL, alloc_ip("c1/kube-system/dns", "{'pool':'edge'}"), "10.100.0.1");
    struct resp *r = address_get("10.100.0.1");
    assert_true(r, r->content_type && strncmp(r->content_type, "application/json", 16) == 0,
                "application/json expected");
    assert_str(r, jstr(r->json, "/ip"), "10.100.0.1");
    assert_str(r, jstr(r->json, "/family"), "IPv4");
    assert_str(r, jstr(r->json, "/pool"), "edge");
    assert_str(r, jstr(r->json, "/state"), "allocated");
    assert_true(r, jlen(r->json, "/holders") == 1, "one holder expected");
    assert_str(r, jstr(r->json, "/holders/0/cluster"), "c1");
    assert_str(r, jstr(r->json, "/holders/0/namespace"), "kube-system");
    assert_str(r, jstr(r->json, "/holders/0/service"), "dns");
    assert_true(r, jget(r->json, "/lastCheck") != NULL, "lastCheck member expected");
    assert_true(r, jis_null(r->json, "/lastCheck"), "lastCheck is null without checks");
}

Test(addresses, free_address_names_its_pool_and_no_holder)
{
    setup();
    struct resp *r = address_get("10.100.0.77");
    assert_str(r, jstr(r->json, "/state"), "free");
    assert_str(r, jstr(r->json, "/pool"), "edge");
    assert_str(r, jstr(r->json, "/family"), "IPv4");
    assert_true(r, json_is_array(jget(r->json, "/holders")) && jlen(r->json, "/holders") == 0,
                "holders is an empty array");
}

Test(addresses, first_and_last_of_a_cidr_without_first_last_are_reserved)
{
    setup();
    struct resp *r = address_get("10.100.0.0");
    assert_str(r, jstr(r->json, "/state"), "reserved");
    assert_str(r, jstr(r->json, "/pool"), "edge");
    assert_true(r, jlen(r->json, "/holders") == 0, "no holders");
    r = address_get("10.100.0.255");
    assert_str(r, jstr(r->json, "/state"), "reserved");
}

Test(addresses, buggy_addresses_are_reserved_when_avoided)
{
    setup();
    assert_str(NULL, address_state("10.101.0.255"), "reserved");
    assert_str(NULL, address_state("10.101.1.0"), "reserved");
    assert_str(NULL, address_state("10.101.0.254"), "free");
    assert_str(NULL, address_state("10.101.1.1"), "free");
}

Test(addresses, address_outside_every_pool_is_outside_with_null_pool)
{
    setup();
    struct resp *r = address_get("192.0.2.1");
    assert_str(r, jstr(r->json, "/state"), "outside");
    assert_true(r, jis_null(r->json, "/pool"), "pool is null outside every pool");
    assert_true(r, jlen(r->json, "/holders") == 0, "no holders");
    assert_str(r, jstr(r->json, "/family"), "IPv4");
    /* just past a range end */
    assert_str(NULL, address_state("10.101.1.6"), "outside");
    assert_str(NULL, address_state("2001:db8:101::1"), "outside");
}

Test(addresses, ipv6_lookup_answers_in_rfc5952_form)
{
    setup();
    struct resp *a = alloc_put("c1/ns/web", "{'ipFamilies':['IPv6']}");
    assert_status(a, 201);
    assert_str(a, alloc_ips(a), "2001:db8:100::");
    struct resp *r = address_get("2001:DB8:100:0:0:0:0:0");
    assert_str(r, jstr(r->json, "/ip"), "2001:db8:100::");
    assert_str(r, jstr(r->json, "/family"), "IPv6");
    assert_str(r, jstr(r->json, "/state"), "allocated");
    assert_str(r, jstr(r->json, "/pool"), "v6");
    r = address_get("2001:db8:100:0:ffff:ffff:ffff:ffff");
    assert_str(r, jstr(r->json, "/ip"), "2001:db8:100:0:ffff:ffff:ffff:ffff");
    assert_str(r, jstr(r->json, "/state"), "free");
}

Test(addresses, released_address_is_free_again)
{
    setup();
    assert_str(NULL, alloc_ip("c1/ns/web", "{'pool':'edge'}"), "10.100.0.1");
    assert_status(alloc_delete("c1/ns/web"), 204);
    struct resp *r = address_get("10.100.0.1");
    assert_str(r, jstr(r->json, "/state"), "free");
    assert_true(r, jlen(r->json, "/holders") == 0, "no holders");
}

Test(addresses, malformed_and_mapped_addresses_are_422_invalid_ip)
{
    setup();
    assert_problem(http("GET", "/v1/addresses/10.100.0.256", NULL), 422, "invalid_ip");
    assert_problem(http("GET", "/v1/addresses/not-an-ip", NULL), 422, "invalid_ip");
    assert_problem(http("GET", "/v1/addresses/::ffff:10.100.0.1", NULL), 422, "invalid_ip");
}
