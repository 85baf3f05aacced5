/* The allocator's address rules: lowest free first, reuse, allowFirstLastIPs, avoidBuggyIPs,
 * exact counts and IPv6 (api.md §3 flags, §4 rule 2). */
#include <stdlib.h>
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(allocator);

static const char *svc(int i)
{
    return S("c1/default/svc-%d", i);
}

/* Allocates until the pool is full; returns how many succeeded and marks each last octet
 * pair (third*256 + fourth of an IPv4 10.x.y.z) in seen[]. The failing PUT must be
 * 409 out_of_ips. */
static int fill_v4(int seen[512], int first_svc)
{
    for (int i = 0;; i++) {
        struct resp *r = alloc_put(svc(first_svc + i), "{}");
        if (r->status == 409) {
            assert_problem(r, 409, "out_of_ips");
            return i;
        }
        assert_status(r, 201);
        const char *ip = jstr(r->json, "/addresses/0/ip");
        cr_assert(ip != NULL, "no ip\n  %s", rdesc(r));
        unsigned a, b, c, d;
        cr_assert(sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4, "not IPv4: %s", ip);
        unsigned idx = (c & 1u) * 256 + d;
        cr_assert(seen[idx] == 0, "%s handed out twice\n  %s", ip, rdesc(r));
        seen[idx] = 1;
        cr_assert(i < 600, "pool never filled up");
    }
}

Test(allocator, first_last_off_on_24_first_allocation_is_dot_1)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.1.0.0/24'}],'allowFirstLastIPs':false}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.1.0.1");
    assert_str(NULL, alloc_ip(svc(1), "{}"), "10.1.0.2");
}

Test(allocator, first_last_off_on_24_never_hands_out_dot_0_or_dot_255)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.1.0.0/24'}],'allowFirstLastIPs':false}");
    int seen[512] = {0};
    int n = fill_v4(seen, 0);
    cr_assert(n == 254, "expected 254 allocations from a /24 without first/last, got %d", n);
    cr_assert(seen[0] == 0, "10.1.0.0 was handed out");
    cr_assert(seen[255] == 0, "10.1.0.255 was handed out");
    for (int i = 1; i <= 254; i++)
        cr_assert(seen[i] == 1, "10.1.0.%d was never handed out", i);
    assert_str(NULL, address_state("10.1.0.0"), "reserved");
    assert_str(NULL, address_state("10.1.0.255"), "reserved");
}

Test(allocator, first_last_off_requesting_dot_255_is_409_already_allocated)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.1.0.0/24'}],'allowFirstLastIPs':false}");
    struct resp *r = alloc_put(svc(0), "{'requestedIPs':['10.1.0.255']}");
    assert_problem(r, 409, "already_allocated");
    r = alloc_put(svc(1), "{'requestedIPs':['10.1.0.0']}");
    assert_problem(r, 409, "already_allocated");
    /* nothing was created by the refusals */
    assert_problem(http("GET", "/v1/allocations/c1/default/svc-0", NULL), 404, "not_found");
    /* and an address just inside is fine */
    r = alloc_put(svc(2), "{'requestedIPs':['10.1.0.254']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.1.0.254");
}

Test(allocator, first_last_reserved_addresses_count_as_used_in_status)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.1.0.0/24'}],'allowFirstLastIPs':false}");
    alloc_ip(svc(0), "{}");
    struct resp *r = http("GET", "/v1/pools/p", NULL);
    assert_status(r, 200);
    assert_str(r, jstr(r->json, "/status/ipv4/total"), "256");
    assert_str(r, jstr(r->json, "/status/ipv4/used"), "3");
    assert_str(r, jstr(r->json, "/status/ipv4/available"), "253");
}

Test(allocator, first_last_off_keeps_a_31_fully_usable)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.2.0.0/31'}],'allowFirstLastIPs':false}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.2.0.0");
    assert_str(NULL, alloc_ip(svc(1), "{}"), "10.2.0.1");
    assert_problem(alloc_put(svc(2), "{}"), 409, "out_of_ips");
}

Test(allocator, first_last_off_keeps_a_32_fully_usable)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.3.0.7/32'}],'allowFirstLastIPs':false}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.3.0.7");
    assert_problem(alloc_put(svc(1), "{}"), 409, "out_of_ips");
}

Test(allocator, first_last_off_does_not_touch_start_stop_blocks)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'start':'10.4.0.0','stop':'10.4.0.255'}],"
                "'allowFirstLastIPs':false}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.4.0.0");
    struct resp *r = alloc_put(svc(1), "{'requestedIPs':['10.4.0.255']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.4.0.255");
}

Test(allocator, first_last_off_on_ipv6_64_first_allocation_is_base_plus_1_and_last_is_reserved)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'2001:db8:7::/64'}],'allowFirstLastIPs':false}");
    assert_str(NULL, alloc_ip(svc(0), "{'ipFamilies':['IPv6']}"), "2001:db8:7::1");
    struct resp *r = alloc_put(svc(1), "{'requestedIPs':['2001:db8:7:0:ffff:ffff:ffff:ffff']}");
    assert_problem(r, 409, "already_allocated");
}

Test(allocator, avoid_buggy_ips_skips_dot0_dot255_of_every_24_inside_a_23_range)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'start':'10.5.0.0','stop':'10.5.1.255'}],"
                "'avoidBuggyIPs':true}");
    assert_str(NULL, alloc_ip(svc(1000), "{}"), "10.5.0.1");
    const char *bad[] = {"10.5.0.0", "10.5.0.255", "10.5.1.0", "10.5.1.255"};
    for (int i = 0; i < 4; i++) {
        struct resp *r = alloc_put(svc(2000 + i), S("{'requestedIPs':['%s']}", bad[i]));
        assert_problem(r, 409, "already_allocated");
        assert_str(NULL, address_state(bad[i]), "reserved");
    }
    int seen[512] = {0};
    seen[1] = 1; /* 10.5.0.1 above */
    int n = fill_v4(seen, 0);
    cr_assert(n == 507, "expected 508 allocations in all from a /23 range, got %d + 1", n);
    cr_assert(!seen[0] && !seen[255] && !seen[256] && !seen[511],
              "a .0 or .255 address was handed out");
}

Test(allocator, avoid_buggy_ips_crossing_a_24_boundary_skips_both_sides)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'start':'10.5.0.254','stop':'10.5.1.1'}],"
                "'avoidBuggyIPs':true}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.5.0.254");
    assert_str(NULL, alloc_ip(svc(1), "{}"), "10.5.1.1");
    assert_problem(alloc_put(svc(2), "{}"), 409, "out_of_ips");
}

Test(allocator, avoid_buggy_ips_applies_to_cidr_blocks_too)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.5.0.0/24'}],'avoidBuggyIPs':true}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.5.0.1");
    assert_problem(alloc_put(svc(1), "{'requestedIPs':['10.5.0.255']}"), 409, "already_allocated");
}

Test(allocator, lowest_free_order_and_reuse_of_a_released_address)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.6.0.0/24'}]}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.6.0.0");
    assert_str(NULL, alloc_ip(svc(1), "{}"), "10.6.0.1");
    assert_str(NULL, alloc_ip(svc(2), "{}"), "10.6.0.2");
    struct resp *d = alloc_delete(svc(1));
    assert_status(d, 204);
    assert_str(NULL, address_state("10.6.0.1"), "free");
    assert_str(NULL, alloc_ip(svc(3), "{}"), "10.6.0.1");
    assert_str(NULL, alloc_ip(svc(4), "{}"), "10.6.0.3");
}

Test(allocator, lowest_free_spans_blocks_in_address_order)
{
    cluster_create("c1", NULL);
    /* blocks listed high first: the lowest address still comes first */
    pool_create("{'name':'p','blocks':[{'start':'10.6.9.9'},{'start':'10.6.1.1'}]}");
    assert_str(NULL, alloc_ip(svc(0), "{}"), "10.6.1.1");
    assert_str(NULL, alloc_ip(svc(1), "{}"), "10.6.9.9");
    assert_problem(alloc_put(svc(2), "{}"), 409, "out_of_ips");
}

Test(allocator, ipv6_64_pool_has_exact_counts_and_allocates_in_rfc5952_form)
{
    cluster_create("c1", NULL);
    struct resp *p = pool_create("{'name':'v6','blocks':[{'cidr':'2001:db8:6::/64'}]}");
    assert_str(p, jstr(p->json, "/status/ipv6/total"), "18446744073709551616");
    assert_str(p, jstr(p->json, "/status/ipv6/used"), "0");
    assert_str(p, jstr(p->json, "/status/ipv6/available"), "18446744073709551616");

    struct resp *r = alloc_put(svc(0), "{'ipFamilies':['IPv6']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "2001:db8:6::");
    assert_str(r, jstr(r->json, "/addresses/0/family"), "IPv6");
    assert_str(r, jstr(r->json, "/addresses/0/pool"), "v6");
    assert_str(NULL, alloc_ip(svc(1), "{'ipFamilies':['IPv6']}"), "2001:db8:6::1");
    /* requested in a long form, answered in RFC 5952 form */
    r = alloc_put(svc(2), "{'requestedIPs':['2001:DB8:6:0:0:0:0:00AB']}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "2001:db8:6::ab");
    r = alloc_put(svc(3), "{'requestedIPs':['2001:db8:6:0:ffff:ffff:ffff:ffff']}");
    assert_status(r, 201);

    p = http("GET", "/v1/pools/v6", NULL);
    assert_status(p, 200);
    assert_str(p, jstr(p->json, "/status/ipv6/used"), "4");
    assert_str(p, jstr(p->json, "/status/ipv6/available"), "18446744073709551612");
    assert_str(p, address_state("2001:db8:6::ab"), "allocated");
    assert_str(p, address_state("2001:db8:6::2"), "free");
}

Test(allocator, utilization_is_used_over_total_of_the_family)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.6.0.0/30'},{'cidr':'2001:db8::/126'}]}");
    alloc_ip(svc(0), "{}");
    struct resp *p = http("GET", "/v1/pools/p", NULL);
    assert_status(p, 200);
    json_t *u4 = jget(p->json, "/status/ipv4/utilization");
    json_t *u6 = jget(p->json, "/status/ipv6/utilization");
    assert_true(p, json_is_number(u4) && json_is_number(u6), "utilization must be numbers");
    double v4 = json_number_value(u4), v6 = json_number_value(u6);
    assert_true(p, v4 > 0.249 && v4 < 0.251, "ipv4 utilization %g, expected 0.25", v4);
    assert_true(p, v6 == 0.0, "ipv6 utilization %g, expected 0", v6);
    assert_str(p, jstr(p->json, "/status/ipv4/used"), "1");
    assert_str(p, jstr(p->json, "/status/ipv4/available"), "3");
}
