/* IP sharing under a sharingKey (api.md §4 rule 2 and rule 3): who may share, who gets another
 * address, and when a shared address is freed. */
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(sharing);

static void setup(void)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.50.0.0/24'}]}");
}

#define UDP53 "'ports':[{'port':53,'protocol':'UDP'}]"
#define TCP53 "'ports':[{'port':53,'protocol':'TCP'}]"

Test(sharing, same_key_and_disjoint_ports_share_one_ip)
{
    setup();
    const char *a = alloc_ip("c1/kube-system/dns-udp", "{'sharingKey':'dns'," UDP53 "}");
    const char *b = alloc_ip("c1/kube-system/dns-tcp", "{'sharingKey':'dns'," TCP53 "}");
    assert_str(NULL, a, "10.50.0.0");
    assert_str(NULL, b, "10.50.0.0");
    struct resp *r = address_get("10.50.0.0");
    assert_str(r, jstr(r->json, "/state"), "allocated");
    assert_true(r, jlen(r->json, "/holders") == 2, "two holders expected");
    /* one address used, not two */
    struct resp *p = http("GET", "/v1/pools/p", NULL);
    assert_str(p, jstr(p->json, "/status/ipv4/used"), "1");
}

Test(sharing, same_port_gets_another_ip)
{
    setup();
    assert_str(NULL, alloc_ip("c1/ns/a", "{'sharingKey':'dns'," UDP53 "}"), "10.50.0.0");
    assert_str(NULL, alloc_ip("c1/ns/b", "{'sharingKey':'dns'," UDP53 "}"), "10.50.0.1");
}

Test(sharing, same_port_number_other_protocol_shares)
{
    setup();
    assert_str(NULL,
               alloc_ip("c1/ns/a", "{'sharingKey':'k','ports':[{'port':443,'protocol':'TCP'}]}"),
               "10.50.0.0");
    assert_str(NULL,
               alloc_ip("c1/ns/b", "{'sharingKey':'k','ports':[{'port':443,'protocol':'UDP'}]}"),
               "10.50.0.0");
}

Test(sharing, different_key_gets_another_ip)
{
    setup();
    assert_str(NULL, alloc_ip("c1/ns/a", "{'sharingKey':'one'," UDP53 "}"), "10.50.0.0");
    assert_str(NULL, alloc_ip("c1/ns/b", "{'sharingKey':'two'," TCP53 "}"), "10.50.0.1");
}

Test(sharing, without_a_key_nobody_shares)
{
    setup();
    assert_str(NULL, alloc_ip("c1/ns/a", "{" UDP53 "}"), "10.50.0.0");
    assert_str(NULL, alloc_ip("c1/ns/b", "{" TCP53 "}"), "10.50.0.1");
}

Test(sharing, different_namespace_without_cross_namespace_gets_another_ip)
{
    setup();
    assert_str(NULL, alloc_ip("c1/ns-a/a", "{'sharingKey':'dns'," UDP53 "}"), "10.50.0.0");
    assert_str(NULL, alloc_ip("c1/ns-b/b", "{'sharingKey':'dns'," TCP53 "}"), "10.50.0.1");
}

Test(sharing, cross_namespace_listed_one_way_only_gets_another_ip)
{
    setup();
    assert_str(
        NULL,
        alloc_ip("c1/ns-a/a", "{'sharingKey':'dns','sharingCrossNamespace':['ns-b']," UDP53 "}"),
        "10.50.0.0");
    assert_str(NULL, alloc_ip("c1/ns-b/b", "{'sharingKey':'dns'," TCP53 "}"), "10.50.0.1");
}

Test(sharing, cross_namespace_listed_both_ways_shares)
{
    setup();
    assert_str(
        NULL,
        alloc_ip("c1/ns-a/a", "{'sharingKey':'dns','sharingCrossNamespace':['ns-b']," UDP53 "}"),
        "10.50.0.0");
    assert_str(
        NULL,
        alloc_ip("c1/ns-b/b", "{'sharingKey':'dns','sharingCrossNamespace':['ns-a']," TCP53 "}"),
        "10.50.0.0");
}

Test(sharing, cross_namespace_wildcard_both_ways_shares)
{
    setup();
    assert_str(
        NULL, alloc_ip("c1/ns-a/a", "{'sharingKey':'dns','sharingCrossNamespace':['*']," UDP53 "}"),
        "10.50.0.0");
    assert_str(
        NULL,
        alloc_ip("c1/ns-b/b", "{'sharingKey':'dns','sharingCrossNamespace':['ns-a']," TCP53 "}"),
        "10.50.0.0");
}

Test(sharing, different_external_traffic_policy_gets_another_ip)
{
    setup();
    assert_str(
        NULL, alloc_ip("c1/ns/a", "{'sharingKey':'k','externalTrafficPolicy':'Cluster'," UDP53 "}"),
        "10.50.0.0");
    assert_str(NULL,
               alloc_ip("c1/ns/b", "{'sharingKey':'k','externalTrafficPolicy':'Local',"
                                   "'podSelector':{'app':'dns'}," TCP53 "}"),
               "10.50.0.1");
}

Test(sharing, local_with_identical_pod_selector_shares_and_different_does_not)
{
    setup();
    assert_str(NULL,
               alloc_ip("c1/ns/a", "{'sharingKey':'k','externalTrafficPolicy':'Local',"
                                   "'podSelector':{'app':'dns'}," UDP53 "}"),
               "10.50.0.0");
    assert_str(NULL,
               alloc_ip("c1/ns/b", "{'sharingKey':'k','externalTrafficPolicy':'Local',"
                                   "'podSelector':{'app':'dns'}," TCP53 "}"),
               "10.50.0.0");
    assert_str(NULL,
               alloc_ip("c1/ns/c", "{'sharingKey':'k','externalTrafficPolicy':'Local',"
                                   "'podSelector':{'app':'other'},"
                                   "'ports':[{'port':80,'protocol':'TCP'}]}"),
               "10.50.0.1");
}

Test(sharing, local_with_empty_pod_selector_does_not_share)
{
    setup();
    assert_str(NULL,
               alloc_ip("c1/ns/a", "{'sharingKey':'k','externalTrafficPolicy':'Local'," UDP53 "}"),
               "10.50.0.0");
    assert_str(NULL,
               alloc_ip("c1/ns/b", "{'sharingKey':'k','externalTrafficPolicy':'Local'," TCP53 "}"),
               "10.50.0.1");
}

Test(sharing, another_cluster_does_not_share)
{
    setup();
    cluster_create("c2", NULL);
    assert_str(NULL, alloc_ip("c1/ns/a", "{'sharingKey':'k'," UDP53 "}"), "10.50.0.0");
    assert_str(NULL, alloc_ip("c2/ns/a", "{'sharingKey':'k'," TCP53 "}"), "10.50.0.1");
}

Test(sharing, joins_the_lowest_ip_of_the_key_whose_holders_are_all_compatible)
{
    setup();
    assert_str(NULL,
               alloc_ip("c1/ns/a", "{'sharingKey':'k','ports':[{'port':80,'protocol':'TCP'}]}"),
               "10.50.0.0");
    assert_str(NULL,
               alloc_ip("c1/ns/b", "{'sharingKey':'k','ports':[{'port':80,'protocol':'TCP'}]}"),
               "10.50.0.1");
    assert_str(NULL,
               alloc_ip("c1/ns/c", "{'sharingKey':'k','ports':[{'port':443,'protocol':'TCP'}]}"),
               "10.50.0.0");
    /* .0 now has 80 and 443; .1 has only 80 */
    assert_str(NULL,
               alloc_ip("c1/ns/d", "{'sharingKey':'k','ports':[{'port':443,'protocol':'TCP'}]}"),
               "10.50.0.1");
    assert_str(NULL,
               alloc_ip("c1/ns/e", "{'sharingKey':'k','ports':[{'port':443,'protocol':'TCP'}]}"),
               "10.50.0.2");
}

Test(sharing, requested_shared_ip_with_compatible_holders_is_shared)
{
    setup();
    assert_str(NULL, alloc_ip("c1/ns/a", "{'sharingKey':'k'," UDP53 "}"), "10.50.0.0");
    struct resp *r =
        alloc_put("c1/ns/b", "{'requestedIPs':['10.50.0.0'],'sharingKey':'k'," TCP53 "}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.50.0.0");
}

Test(sharing, requested_ip_with_same_port_is_409_incompatible)
{
    setup();
    alloc_ip("c1/ns/a", "{'sharingKey':'k'," UDP53 "}");
    struct resp *r =
        alloc_put("c1/ns/b", "{'requestedIPs':['10.50.0.0'],'sharingKey':'k'," UDP53 "}");
    assert_problem(r, 409, "already_allocated_incompatible_service");
}

Test(sharing, requested_ip_with_different_key_is_409_incompatible)
{
    setup();
    alloc_ip("c1/ns/a", "{'sharingKey':'one'," UDP53 "}");
    struct resp *r =
        alloc_put("c1/ns/b", "{'requestedIPs':['10.50.0.0'],'sharingKey':'two'," TCP53 "}");
    assert_problem(r, 409, "already_allocated_incompatible_service");
}

Test(sharing, requested_ip_from_another_namespace_is_409_incompatible)
{
    setup();
    alloc_ip("c1/ns-a/a", "{'sharingKey':'k'," UDP53 "}");
    struct resp *r =
        alloc_put("c1/ns-b/b", "{'requestedIPs':['10.50.0.0'],'sharingKey':'k'," TCP53 "}");
    assert_problem(r, 409, "already_allocated_incompatible_service");
    const char *d = jstr(r->json, "/detail");
    assert_true(r, d != NULL && strcasestr(d, "namespace") != NULL,
                "detail should name the namespace");
}

Test(sharing, requested_ip_with_other_external_traffic_policy_is_409_incompatible)
{
    setup();
    alloc_ip("c1/ns/a", "{'sharingKey':'k','externalTrafficPolicy':'Cluster'," UDP53 "}");
    struct resp *r = alloc_put(
        "c1/ns/b", "{'requestedIPs':['10.50.0.0'],'sharingKey':'k',"
                   "'externalTrafficPolicy':'Local','podSelector':{'app':'x'}," TCP53 "}");
    assert_problem(r, 409, "already_allocated_incompatible_service");
    const char *d = jstr(r->json, "/detail");
    assert_true(r,
                d != NULL && (strcasestr(d, "externalTrafficPolicy") != NULL ||
                              strcasestr(d, "traffic policy") != NULL),
                "detail should name externalTrafficPolicy");
}

Test(sharing, shared_ip_is_freed_only_when_its_last_holder_releases_it)
{
    setup();
    alloc_ip("c1/ns/a", "{'sharingKey':'k'," UDP53 "}");
    alloc_ip("c1/ns/b", "{'sharingKey':'k'," TCP53 "}");
    assert_status(alloc_delete("c1/ns/a"), 204);
    struct resp *r = address_get("10.50.0.0");
    assert_str(r, jstr(r->json, "/state"), "allocated");
    assert_true(r, jlen(r->json, "/holders") == 1, "one holder left");
    assert_str(r, jstr(r->json, "/holders/0/service"), "b");
    /* an unkeyed newcomer may not take it while b holds it */
    assert_str(NULL, alloc_ip("c1/ns/c", "{}"), "10.50.0.1");

    assert_status(alloc_delete("c1/ns/b"), 204);
    assert_str(NULL, address_state("10.50.0.0"), "free");
    assert_str(NULL, alloc_ip("c1/ns/d", "{}"), "10.50.0.0");
}

Test(sharing, dual_stack_sharing_joins_per_family)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.50.0.0/24'},{'cidr':'2001:db8:50::/120'}]}");
    struct resp *a =
        alloc_put("c1/ns/a", "{'ipFamilyPolicy':'RequireDualStack','sharingKey':'k'," UDP53 "}");
    assert_status(a, 201);
    struct resp *b =
        alloc_put("c1/ns/b", "{'ipFamilyPolicy':'RequireDualStack','sharingKey':'k'," TCP53 "}");
    assert_status(b, 201);
    assert_str(b, alloc_ips(b), alloc_ips(a));
    assert_str(b, alloc_ips(b), "10.50.0.0,2001:db8:50::");
}

Test(sharing, joining_a_shared_ip_works_inside_an_auto_assign_false_pool)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'manual','blocks':[{'cidr':'10.51.0.0/24'}],'autoAssign':false}");
    struct resp *a =
        alloc_put("c1/ns/a", "{'requestedIPs':['10.51.0.5'],'sharingKey':'k'," UDP53 "}");
    assert_status(a, 201);
    /* no pool named, no IP requested: the key alone leads into the manual pool */
    assert_str(NULL, alloc_ip("c1/ns/b", "{'sharingKey':'k'," TCP53 "}"), "10.51.0.5");
}
