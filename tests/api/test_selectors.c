/* serviceSelector and clusterSelector: Kubernetes label-selector semantics, the synthetic
 * labels, and the two failures no_pool / out_of_ips (api.md §3 Selectors, §4 rule 2). */
#include <string.h>

#include "tests/api/harness.h"

HARNESS_SUITE(selectors);

static void setup_red_pool(const char *selector)
{
    cluster_create("c1", NULL);
    pool_create(
        S("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],'serviceSelector':%s}", selector));
}

static void expect_match(const char *id, const char *body)
{
    struct resp *r = alloc_put(id, body);
    assert_status(r, 201);
    assert_str(r, jstr(r->json, "/addresses/0/pool"), "sel");
}

static void expect_no_pool(const char *id, const char *body)
{
    struct resp *r = alloc_put(id, body);
    assert_problem(r, 409, "no_pool");
    /* a refused allocation is not created */
    assert_status(http("GET", S("/v1/allocations/%s", id), NULL), 404);
}

Test(selectors, match_labels_selects_only_matching_services)
{
    setup_red_pool("{'matchLabels':{'color':'red'}}");
    expect_match("c1/default/a", "{'labels':{'color':'red'}}");
    expect_match("c1/default/b", "{'labels':{'color':'red','size':'xl'}}");
    expect_no_pool("c1/default/c", "{'labels':{'color':'blue'}}");
    expect_no_pool("c1/default/d", "{}");
}

Test(selectors, match_labels_all_pairs_are_required)
{
    setup_red_pool("{'matchLabels':{'color':'red','tier':'web'}}");
    expect_match("c1/default/a", "{'labels':{'color':'red','tier':'web'}}");
    expect_no_pool("c1/default/b", "{'labels':{'color':'red'}}");
    expect_no_pool("c1/default/c", "{'labels':{'color':'red','tier':'db'}}");
}

Test(selectors, operator_in_matches_listed_values_only)
{
    setup_red_pool("{'matchExpressions':[{'key':'tier','operator':'In','values':['web','api']}]}");
    expect_match("c1/default/a", "{'labels':{'tier':'web'}}");
    expect_match("c1/default/b", "{'labels':{'tier':'api'}}");
    expect_no_pool("c1/default/c", "{'labels':{'tier':'db'}}");
    expect_no_pool("c1/default/d", "{'labels':{'other':'web'}}");
}

Test(selectors, operator_notin_matches_other_values_and_absent_key)
{
    setup_red_pool("{'matchExpressions':[{'key':'tier','operator':'NotIn','values':['db']}]}");
    expect_match("c1/default/a", "{'labels':{'tier':'web'}}");
    expect_match("c1/default/b", "{}");
    expect_no_pool("c1/default/c", "{'labels':{'tier':'db'}}");
}

Test(selectors, operator_exists_needs_the_key_whatever_its_value)
{
    setup_red_pool("{'matchExpressions':[{'key':'tier','operator':'Exists'}]}");
    expect_match("c1/default/a", "{'labels':{'tier':'web'}}");
    expect_match("c1/default/b", "{'labels':{'tier':''}}");
    expect_no_pool("c1/default/c", "{'labels':{'color':'red'}}");
}

Test(selectors, operator_does_not_exist_refuses_the_key)
{
    setup_red_pool("{'matchExpressions':[{'key':'tier','operator':'DoesNotExist'}]}");
    expect_match("c1/default/a", "{'labels':{'color':'red'}}");
    expect_match("c1/default/b", "{}");
    expect_no_pool("c1/default/c", "{'labels':{'tier':'web'}}");
}

Test(selectors, match_labels_and_expressions_are_anded)
{
    setup_red_pool("{'matchLabels':{'color':'red'},'matchExpressions':["
                   "{'key':'tier','operator':'In','values':['web']},"
                   "{'key':'legacy','operator':'DoesNotExist'}]}");
    expect_match("c1/default/a", "{'labels':{'color':'red','tier':'web'}}");
    expect_no_pool("c1/default/b", "{'labels':{'color':'red'}}");
    expect_no_pool("c1/default/c", "{'labels':{'tier':'web'}}");
    expect_no_pool("c1/default/d", "{'labels':{'color':'red','tier':'web','legacy':'y'}}");
}

Test(selectors, empty_selector_matches_everything)
{
    setup_red_pool("{}");
    expect_match("c1/default/a", "{}");
    expect_match("c1/default/b", "{'labels':{'x':'y'}}");
}

Test(selectors, unknown_operator_is_refused)
{
    cluster_create("c1", NULL);
    struct resp *r =
        http("POST", "/v1/pools",
             "{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],'serviceSelector':"
             "{'matchExpressions':[{'key':'tier','operator':'Like','values':['w']}]}}");
    assert_true(r, r->status == 400 || r->status == 422, "an unknown operator is a 4xx");
    assert_true(r,
                jstr(r->json, "/field") != NULL &&
                    strncmp(jstr(r->json, "/field"), "/serviceSelector/matchExpressions/0", 35) ==
                        0,
                "field should point into the expression");
}

Test(selectors, synthetic_namespace_label_matches_the_namespace)
{
    setup_red_pool("{'matchLabels':{'io.kubernetes.service.namespace':'kube-system'}}");
    expect_match("c1/kube-system/dns", "{}");
    expect_no_pool("c1/default/dns", "{}");
}

Test(selectors, synthetic_namespace_label_overrides_a_real_label)
{
    setup_red_pool("{'matchLabels':{'io.kubernetes.service.namespace':'kube-system'}}");
    expect_no_pool("c1/default/dns",
                   "{'labels':{'io.kubernetes.service.namespace':'kube-system'}}");
    expect_match("c1/kube-system/dns", "{'labels':{'io.kubernetes.service.namespace':'default'}}");
}

Test(selectors, synthetic_service_name_label_matches_the_service)
{
    setup_red_pool("{'matchExpressions':[{'key':'io.kubernetes.service.name','operator':'In',"
                   "'values':['dns','ntp']}]}");
    expect_match("c1/default/dns", "{}");
    expect_match("c1/other/ntp", "{}");
    expect_no_pool("c1/default/web", "{}");
}

Test(selectors, synthetic_service_name_label_overrides_a_real_label)
{
    setup_red_pool("{'matchLabels':{'io.kubernetes.service.name':'dns'}}");
    expect_no_pool("c1/default/web", "{'labels':{'io.kubernetes.service.name':'dns'}}");
}

Test(selectors, cluster_selector_match_labels)
{
    cluster_create("eu-1", "{'region':'eu'}");
    cluster_create("us-1", "{'region':'us'}");
    pool_create("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'region':'eu'}}}");
    expect_match("eu-1/default/a", "{}");
    expect_no_pool("us-1/default/a", "{}");
}

Test(selectors, cluster_selector_expressions)
{
    cluster_create("eu-1", "{'region':'eu','env':'prod'}");
    cluster_create("us-1", "{'region':'us','env':'prod'}");
    cluster_create("lab-1", "{'region':'eu'}");
    pool_create("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],"
                "'clusterSelector':{'matchExpressions':["
                "{'key':'region','operator':'NotIn','values':['us']},"
                "{'key':'env','operator':'Exists'}]}}");
    expect_match("eu-1/default/a", "{}");
    expect_no_pool("us-1/default/a", "{}");
    expect_no_pool("lab-1/default/a", "{}");
}

Test(selectors, cluster_selector_ignores_service_labels)
{
    cluster_create("us-1", "{'region':'us'}");
    pool_create("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'region':'eu'}}}");
    expect_no_pool("us-1/default/a", "{'labels':{'region':'eu'}}");
}

Test(selectors, synthetic_cluster_label_matches_the_cluster_name)
{
    cluster_create("eu-1", NULL);
    cluster_create("us-1", NULL);
    pool_create("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'lbipam.io/cluster':'eu-1'}}}");
    expect_match("eu-1/default/a", "{}");
    expect_no_pool("us-1/default/a", "{}");
}

Test(selectors, synthetic_cluster_label_overrides_a_real_cluster_label)
{
    cluster_create("eu-1", NULL);
    cluster_create("us-1", "{'lbipam.io/cluster':'eu-1'}");
    pool_create("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'lbipam.io/cluster':'eu-1'}}}");
    expect_no_pool("us-1/default/a", "{}");
    expect_match("eu-1/default/a", "{}");
}

Test(selectors, service_and_cluster_selectors_must_both_match)
{
    cluster_create("eu-1", "{'region':'eu'}");
    cluster_create("us-1", "{'region':'us'}");
    pool_create("{'name':'sel','blocks':[{'cidr':'10.10.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'region':'eu'}},"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    expect_match("eu-1/default/a", "{'labels':{'color':'red'}}");
    expect_no_pool("eu-1/default/b", "{'labels':{'color':'blue'}}");
    expect_no_pool("us-1/default/a", "{'labels':{'color':'red'}}");
}

Test(selectors, no_pool_at_all_is_409_no_pool)
{
    cluster_create("c1", NULL);
    expect_no_pool("c1/default/a", "{}");
}

Test(selectors, no_pool_of_the_wanted_family_is_409_no_pool)
{
    setup_red_pool("{}");
    expect_no_pool("c1/default/a", "{'ipFamilies':['IPv6']}");
}

Test(selectors, full_matching_pool_is_409_out_of_ips)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'tiny','blocks':[{'start':'10.10.0.9'}]}");
    struct resp *r = alloc_put("c1/default/a", "{}");
    assert_status(r, 201);
    assert_str(r, alloc_ips(r), "10.10.0.9");
    r = alloc_put("c1/default/b", "{}");
    assert_problem(r, 409, "out_of_ips");
    assert_status(http("GET", "/v1/allocations/c1/default/b", NULL), 404);
}

Test(selectors, full_matching_pool_is_out_of_ips_even_when_a_non_matching_pool_has_room)
{
    cluster_create("c1", NULL);
    pool_create("{'name':'tiny','blocks':[{'start':'10.10.0.9'}]}");
    pool_create("{'name':'red','blocks':[{'cidr':'10.11.0.0/24'}],"
                "'serviceSelector':{'matchLabels':{'color':'red'}}}");
    alloc_ip("c1/default/a", "{}");
    assert_problem(alloc_put("c1/default/b", "{}"), 409, "out_of_ips");
}
