/* Pool creation: what is accepted, what is refused and how the refusal names the fault
 * (api.md §1, §3). */
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(pools);

/* The problem's field starts with `prefix` (the spec pins the block, not which member). */
#define assert_field_under(r, prefix)                                                              \
    do {                                                                                           \
        const char *f_ = jstr((r)->json, "/field");                                                \
        assert_true(r, f_ != NULL && strncmp(f_, prefix, strlen(prefix)) == 0,                     \
                    "expected a field under %s, got %s", prefix, f_ ? f_ : "(none)");              \
    } while (0)

/* The detail contains `a` or `b` (a block may be named as CIDR or as a start-stop range). */
#define assert_detail_has_either(r, a, b)                                                          \
    do {                                                                                           \
        const char *d_ = jstr((r)->json, "/detail");                                               \
        assert_true(r, d_ != NULL && (strstr(d_, a) != NULL || strstr(d_, b) != NULL),             \
                    "detail should contain \"%s\" or \"%s\"", a, b);                               \
    } while (0)

#define assert_detail_has(r, text)                                                                 \
    do {                                                                                           \
        const char *d_ = jstr((r)->json, "/detail");                                               \
        assert_true(r, d_ != NULL && strstr(d_, text) != NULL, "detail should contain \"%s\"",     \
                    text);                                                                         \
    } while (0)

static void assert_pool_absent(const char *name)
{
    struct resp *r = http("GET", S("/v1/pools/%s", name), NULL);
    assert_problem(r, 404, "not_found");
}

Test(pools, valid_pool_is_201_with_location_etag_and_exact_counts)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'blue-pool','blocks':[{'cidr':'10.0.10.0/24'},"
                          "{'start':'20.0.20.100','stop':'20.0.20.200'},{'start':'1.2.3.4'},"
                          "{'cidr':'2001:db8:100:10::/64'}]}");
    assert_status(r, 201);
    assert_str(r, r->location, "/v1/pools/blue-pool");
    assert_true(r, r->etag != NULL && r->etag[0] == '"', "strong ETag expected, got %s",
                r->etag ? r->etag : "(none)");
    assert_true(r, r->content_type && strncmp(r->content_type, "application/json", 16) == 0,
                "Content-Type application/json expected");
    assert_str(r, jstr(r->json, "/name"), "blue-pool");
    assert_str(r, jstr(r->json, "/status/ipv4/total"), "358");
    assert_str(r, jstr(r->json, "/status/ipv4/used"), "0");
    assert_str(r, jstr(r->json, "/status/ipv4/available"), "358");
    assert_str(r, jstr(r->json, "/status/ipv6/total"), "18446744073709551616");
    assert_str(r, jstr(r->json, "/status/ipv6/available"), "18446744073709551616");
    /* defaults of §3 */
    assert_true(r, jint(r->json, "/priority", -99) == 0, "priority defaults to 0");
    assert_true(r, json_is_true(jget(r->json, "/autoAssign")), "autoAssign defaults to true");
    assert_true(r, json_is_false(jget(r->json, "/disabled")), "disabled defaults to false");
    assert_true(r, json_is_true(jget(r->json, "/allowFirstLastIPs")),
                "allowFirstLastIPs defaults to true");
    assert_true(r, json_is_false(jget(r->json, "/avoidBuggyIPs")),
                "avoidBuggyIPs defaults to false");

    struct resp *g = http("GET", r->location, NULL);
    assert_status(g, 200);
    assert_str(g, g->etag, r->etag);
    assert_str(g, jstr(g->json, "/blocks/0/cidr"), "10.0.10.0/24");
}

Test(pools, host_bits_set_is_422_invalid_block_naming_canonical_cidr)
{
    struct resp *r = http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.0.10.5/24'}]}");
    assert_problem(r, 422, "invalid_block");
    assert_field_under(r, "/blocks/0");
    assert_detail_has(r, "10.0.10.0/24");
    assert_pool_absent("p");
}

Test(pools, ipv6_host_bits_set_is_422_invalid_block_naming_canonical_cidr)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.9.0.0/24'},"
                          "{'cidr':'2001:db8:0:0:1::/64'}]}");
    assert_problem(r, 422, "invalid_block");
    assert_field_under(r, "/blocks/1");
    assert_detail_has(r, "2001:db8::/64");
    assert_pool_absent("p");
}

Test(pools, start_after_stop_is_422_invalid_range_with_field)
{
    struct resp *r =
        http("POST", "/v1/pools", "{'name':'p','blocks':[{'start':'10.0.0.9','stop':'10.0.0.1'}]}");
    assert_problem(r, 422, "invalid_range");
    assert_field_under(r, "/blocks/0");
    assert_pool_absent("p");
}

Test(pools, mixed_families_in_one_block_is_422_mixed_families_with_field)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.1.0.0/24'},"
                          "{'start':'10.0.0.1','stop':'2001:db8::1'}]}");
    assert_problem(r, 422, "mixed_families");
    assert_field_under(r, "/blocks/1");
    assert_pool_absent("p");
}

Test(pools, ipv4_mapped_ipv6_start_is_422_invalid_ip_with_field)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'start':'::ffff:10.0.0.1',"
                          "'stop':'::ffff:10.0.0.9'}]}");
    assert_problem_field(r, 422, "invalid_ip", "/blocks/0/start");
    assert_pool_absent("p");
}

Test(pools, ipv4_mapped_ipv6_cidr_is_422_invalid_ip_with_field)
{
    struct resp *r =
        http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'::ffff:10.0.0.0/120'}]}");
    assert_problem_field(r, 422, "invalid_ip", "/blocks/0/cidr");
    assert_pool_absent("p");
}

Test(pools, unknown_top_level_field_is_400_unknown_field_with_pointer)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'}],"
                          "'serviceSelecter':{'matchLabels':{'color':'red'}}}");
    assert_problem_field(r, 400, "unknown_field", "/serviceSelecter");
    assert_pool_absent("p");
}

Test(pools, unknown_field_in_block_is_400_unknown_field_with_pointer)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'},"
                          "{'start':'10.0.1.1','stpo':'10.0.1.9'}]}");
    assert_problem_field(r, 400, "unknown_field", "/blocks/1/stpo");
    assert_pool_absent("p");
}

Test(pools, unknown_field_in_selector_expression_is_400_unknown_field_with_pointer)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'}],"
                          "'serviceSelector':{'matchExpressions':[{'key':'tier',"
                          "'operater':'In','values':['web']}]}}");
    assert_problem_field(r, 400, "unknown_field", "/serviceSelector/matchExpressions/0/operater");
    assert_pool_absent("p");
}

Test(pools, overlapping_blocks_in_one_pool_is_422_overlapping_blocks)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'},"
                          "{'start':'10.0.0.200','stop':'10.0.1.5'}]}");
    assert_problem(r, 422, "overlapping_blocks");
    assert_pool_absent("p");
}

Test(pools, same_single_ip_twice_in_one_pool_is_422_overlapping_blocks)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'start':'10.0.0.7'},{'cidr':'10.0.0.7/32'}]}");
    assert_problem(r, 422, "overlapping_blocks");
    assert_pool_absent("p");
}

Test(pools, overlap_with_another_pool_is_409_pool_conflict_naming_both_ranges)
{
    pool_create("{'name':'pool-alpha','blocks':[{'cidr':'10.0.0.0/24'}]}");
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'pool-beta','blocks':[{'cidr':'10.7.0.0/24'},"
                          "{'start':'10.0.0.250','stop':'10.0.1.10'}]}");
    assert_problem(r, 409, "pool_conflict");
    assert_detail_has_either(r, "10.0.0.0/24", "10.0.0.0-10.0.0.255");
    assert_detail_has(r, "10.0.0.250");
    assert_detail_has(r, "10.0.1.10");
    assert_detail_has(r, "pool-alpha");
    assert_pool_absent("pool-beta");
}

Test(pools, ipv6_overlap_with_another_pool_is_409_pool_conflict)
{
    pool_create("{'name':'v6-a','blocks':[{'cidr':'2001:db8:1::/48'}]}");
    struct resp *r =
        http("POST", "/v1/pools", "{'name':'v6-b','blocks':[{'cidr':'2001:db8:1:ff::/64'}]}");
    assert_problem(r, 409, "pool_conflict");
    assert_detail_has_either(r, "2001:db8:1::/48",
                             "2001:db8:1::-2001:db8:1:ffff:ffff:ffff:ffff:ffff");
    assert_detail_has(r, "2001:db8:1:ff::/64");
    assert_detail_has(r, "v6-a");
    assert_pool_absent("v6-b");
}

Test(pools, adjacent_blocks_of_two_pools_do_not_conflict)
{
    pool_create("{'name':'left','blocks':[{'cidr':'10.0.0.0/24'}]}");
    pool_create("{'name':'right','blocks':[{'start':'10.0.1.0','stop':'10.0.1.10'}]}");
}

Test(pools, duplicate_name_is_409)
{
    pool_create("{'name':'dup','blocks':[{'cidr':'10.0.0.0/24'}]}");
    struct resp *r = http("POST", "/v1/pools", "{'name':'dup','blocks':[{'cidr':'10.9.0.0/24'}]}");
    assert_status(r, 409);
}

Test(pools, invalid_name_is_422_invalid_name)
{
    struct resp *r =
        http("POST", "/v1/pools", "{'name':'Blue_Pool','blocks':[{'cidr':'10.0.0.0/24'}]}");
    assert_problem_field(r, 422, "invalid_name", "/name");
}

Test(pools, prefix_length_out_of_range_is_422_invalid_cidr)
{
    struct resp *r = http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.0.0.0/33'}]}");
    assert_problem_field(r, 422, "invalid_cidr", "/blocks/0/cidr");
    assert_pool_absent("p");
}

Test(pools, malformed_ip_is_422_invalid_ip)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'start':'10.0.0.300','stop':'10.0.1.1'}]}");
    assert_problem_field(r, 422, "invalid_ip", "/blocks/0/start");
    assert_pool_absent("p");
}

Test(pools, wrong_type_is_400_invalid_type_with_pointer)
{
    struct resp *r = http("POST", "/v1/pools",
                          "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'}],'priority':'high'}");
    assert_problem_field(r, 400, "invalid_type", "/priority");
    assert_pool_absent("p");
}

Test(pools, invalid_json_is_400_invalid_json)
{
    struct resp *r = http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.0.0.0/24'}");
    assert_problem(r, 400, "invalid_json");
    assert_pool_absent("p");
}

Test(pools, too_many_labels_is_422_too_many_labels)
{
    char labels[4096];
    size_t n = 0;
    n += (size_t)snprintf(labels + n, sizeof(labels) - n, "{");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(labels + n, sizeof(labels) - n, "%s'k%d':'v'", i ? "," : "", i);
    snprintf(labels + n, sizeof(labels) - n, "}");
    struct resp *r = http("POST", "/v1/pools",
                          S("{'name':'p','blocks':[{'cidr':'10.0.0.0/24'}],'labels':%s}", labels));
    assert_problem(r, 422, "too_many_labels");
    assert_pool_absent("p");
}

Test(pools, mixed_family_pool_counts_each_family)
{
    struct resp *r = pool_create("{'name':'mixed','blocks':[{'cidr':'10.0.0.0/30'},"
                                 "{'start':'2001:db8::10','stop':'2001:db8::1f'}]}");
    assert_str(r, jstr(r->json, "/status/ipv4/total"), "4");
    assert_str(r, jstr(r->json, "/status/ipv6/total"), "16");
    assert_true(r, json_is_number(jget(r->json, "/status/ipv4/utilization")),
                "utilization is a number");
}

Test(pools, ipv6_input_is_returned_in_rfc5952_form)
{
    struct resp *r = pool_create("{'name':'v6','blocks':[{'cidr':'2001:DB8:0:0:0:0:0:0/120'},"
                                 "{'start':'2001:db8:0:0:0:0:1:0','stop':'2001:db8::1:00ff'}]}");
    assert_str(r, jstr(r->json, "/blocks/0/cidr"), "2001:db8::/120");
    assert_str(r, jstr(r->json, "/blocks/1/start"), "2001:db8::1:0");
    assert_str(r, jstr(r->json, "/blocks/1/stop"), "2001:db8::1:ff");
}

Test(pools, name_longer_than_63_is_422_invalid_name)
{
    struct resp *r = http("POST", "/v1/pools",
                          S("{'name':'%s','blocks':[{'cidr':'10.0.0.0/24'}]}",
                            "a123456789012345678901234567890123456789012345678901234567890123"));
    assert_problem_field(r, 422, "invalid_name", "/name");
}

Test(pools, blocks_that_is_not_an_array_is_400_invalid_type)
{
    struct resp *r = http("POST", "/v1/pools", "{'name':'p','blocks':{'cidr':'10.0.0.0/24'}}");
    assert_problem_field(r, 400, "invalid_type", "/blocks");
}
