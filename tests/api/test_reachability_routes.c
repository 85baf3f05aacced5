/* Route analysis, pool warnings and advertisement plans (api.md §3 status.warnings, §6). No
 * traffic is sent by any of these tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/api/harness.h"

HARNESS_SUITE(reachability_routes);

static void cluster(const char *name, const char *announcement, const char *routable,
                    const char *subnets, const char *labels)
{
    struct resp *r = http("POST", "/v1/clusters",
                          S("{'name':'%s','announcement':'%s','routablePrefixes':%s,"
                            "'nodeSubnets':%s,'labels':%s}",
                            name, announcement, routable, subnets, labels ? labels : "{}"));
    assert_status(r, 201);
}

/* The route of one address as GET /v1/addresses/{ip} shows it. */
static json_t *route_of(const char *ip)
{
    struct resp *r = address_get(ip);
    json_t *route = jget(r->json, "/route");
    cr_assert(route != NULL, "no route member: %s", rdesc(r));
    return route;
}

Test(reachability_routes, every_verdict_on_address_and_allocation_views)
{
    cluster("bgp1", "bgp", "['10.10.0.0/16','10.10.1.0/24']", "[]", "{'fab':'bgp'}");
    cluster("l2a", "l2", "[]", "['10.20.0.0/28']", "{'fab':'l2'}");
    cluster("stat", "static", "['10.30.0.0/24']", "[]", "{'fab':'static'}");
    cluster("dark", "none", "['10.40.0.0/24']", "[]", "{'fab':'none'}");
    pool_create("{'name':'pb','blocks':[{'cidr':'10.10.1.0/24'},{'start':'10.11.0.1',"
                "'stop':'10.11.0.9'}],'clusterSelector':{'matchLabels':{'fab':'bgp'}}}");
    pool_create("{'name':'pl','blocks':[{'cidr':'10.20.0.0/27'}],"
                "'clusterSelector':{'matchLabels':{'fab':'l2'}}}");
    pool_create("{'name':'ps','blocks':[{'cidr':'10.30.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'fab':'static'}}}");
    pool_create("{'name':'pn','blocks':[{'cidr':'10.40.0.0/24'}],"
                "'clusterSelector':{'matchLabels':{'fab':'none'}}}");

    /* bgp: inside routablePrefixes, the longest match is named */
    alloc_ip("bgp1/ns/a", "{'requestedIPs':['10.10.1.7']}");
    json_t *rt = route_of("10.10.1.7");
    cr_assert_str_eq(jstr(rt, "/verdict"), "routable");
    cr_assert_str_eq(jstr(rt, "/mechanism"), "bgp");
    cr_assert_str_eq(jstr(rt, "/matchedPrefix"), "10.10.1.0/24");
    cr_assert_str_eq(jstr(rt, "/detail"), "");
    /* bgp: a start/stop block the routable prefixes miss */
    alloc_ip("bgp1/ns/b", "{'requestedIPs':['10.11.0.5']}");
    rt = route_of("10.11.0.5");
    cr_assert_str_eq(jstr(rt, "/verdict"), "unroutable");
    cr_assert(jis_null(rt, "/matchedPrefix"));
    cr_assert(strstr(jstr(rt, "/detail"), "routablePrefixes") &&
                  strstr(jstr(rt, "/detail"), "bgp1"),
              "detail: %s", jstr(rt, "/detail"));
    /* l2: inside the node subnets, and one outside them */
    alloc_ip("l2a/ns/in", "{'requestedIPs':['10.20.0.3']}");
    alloc_ip("l2a/ns/out", "{'requestedIPs':['10.20.0.20']}");
    rt = route_of("10.20.0.3");
    cr_assert_str_eq(jstr(rt, "/verdict"), "routable");
    cr_assert_str_eq(jstr(rt, "/mechanism"), "l2");
    cr_assert_str_eq(jstr(rt, "/matchedPrefix"), "10.20.0.0/28");
    rt = route_of("10.20.0.20");
    cr_assert_str_eq(jstr(rt, "/verdict"), "unroutable");
    cr_assert_str_eq(jstr(rt, "/mechanism"), "l2");
    cr_assert(strstr(jstr(rt, "/detail"), "nodeSubnets"), "detail: %s", jstr(rt, "/detail"));
    /* static */
    alloc_ip("stat/ns/s", "{'requestedIPs':['10.30.0.9']}");
    rt = route_of("10.30.0.9");
    cr_assert_str_eq(jstr(rt, "/verdict"), "routable");
    cr_assert_str_eq(jstr(rt, "/mechanism"), "static");
    /* none: unknown, whatever the prefixes say */
    alloc_ip("dark/ns/d", "{'requestedIPs':['10.40.0.9']}");
    rt = route_of("10.40.0.9");
    cr_assert_str_eq(jstr(rt, "/verdict"), "unknown");
    cr_assert_str_eq(jstr(rt, "/mechanism"), "none");
    /* no holder: unknown */
    rt = route_of("10.30.0.200");
    cr_assert_str_eq(jstr(rt, "/verdict"), "unknown");
    cr_assert(strstr(jstr(rt, "/detail"), "no cluster holds"), "%s", jstr(rt, "/detail"));

    /* the allocation view carries the same analysis, one per address */
    struct resp *r = http("GET", "/v1/allocations/l2a/ns/out", NULL);
    assert_status(r, 200);
    assert_true(r, jlen(r->json, "/routes") == 1, "one route per address");
    assert_str(r, jstr(r->json, "/routes/0/ip"), "10.20.0.20");
    assert_str(r, jstr(r->json, "/routes/0/verdict"), "unroutable");
    assert_true(r, jis_null(r->json, "/lastCheck"), "no check yet");
    /* and a GET → PUT round trip accepts the read-only members */
    char *body = json_dumps(r->json, 0);
    r = http("PUT", "/v1/allocations/l2a/ns/out", S("%s", body));
    free(body);
    assert_status(r, 200);
}

static json_t *warnings_of(const char *pool)
{
    struct resp *r = http("GET", S("/v1/pools/%s", pool), NULL);
    assert_status(r, 200);
    return jget(r->json, "/status/warnings");
}

static json_t *warning_for(json_t *warnings, const char *cluster)
{
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w)
    {
        if (strcmp(jstr(w, "/cluster"), cluster) == 0)
            return w;
    }
    return NULL;
}

Test(reachability_routes, pool_warnings_per_selected_cluster)
{
    /* bgp routes the cidr block but misses the start/stop block and the single address */
    cluster("bgp1", "bgp", "['10.50.0.0/24']", "[]", "{'env':'prod'}");
    /* l2 node subnets cover only the lower half of the cidr */
    cluster("l2a", "l2", "['10.50.0.0/16']", "['10.50.0.0/25','10.51.0.0/24']", "{'env':'prod'}");
    /* static covering everything: no warning */
    cluster("full", "static", "['10.50.0.0/16','10.51.0.0/16','2001:db8:50::/48']", "[]",
            "{'env':'prod'}");
    /* none: never a warning */
    cluster("dark", "none", "[]", "[]", "{'env':'prod'}");
    /* not selected: no warning */
    cluster("other", "bgp", "[]", "[]", "{'env':'dev'}");
    pool_create("{'name':'blue','blocks':[{'cidr':'10.50.0.0/24'},"
                "{'start':'10.51.0.100','stop':'10.51.0.200'},{'start':'10.51.1.4'},"
                "{'cidr':'2001:db8:50::/64'}],'clusterSelector':{'matchLabels':{'env':'prod'}}}");
    json_t *ws = warnings_of("blue");
    char *dump = json_dumps(ws, 0);
    cr_assert_eq(json_array_size(ws), 2, "bgp1 and l2a warn: %s", dump);

    json_t *w = warning_for(ws, "bgp1");
    cr_assert(w != NULL, "%s", dump);
    cr_assert_str_eq(jstr(w, "/reason"), "unroutable_block");
    cr_assert_eq(jlen(w, "/uncovered"), 3, "%s", dump);
    cr_assert_str_eq(jstr(w, "/uncovered/0"), "10.51.0.100-10.51.0.200");
    cr_assert_str_eq(jstr(w, "/uncovered/1"), "10.51.1.4");
    cr_assert_str_eq(jstr(w, "/uncovered/2"), "2001:db8:50::-2001:db8:50:0:ffff:ffff:ffff:ffff");
    cr_assert_str_eq(jstr(w, "/detail"), "3 ranges of blue are not routed to bgp1");

    w = warning_for(ws, "l2a");
    cr_assert(w != NULL, "%s", dump);
    cr_assert_eq(jlen(w, "/uncovered"), 3, "%s", dump);
    cr_assert_str_eq(jstr(w, "/uncovered/0"), "10.50.0.128-10.50.0.255");
    cr_assert_str_eq(jstr(w, "/uncovered/1"), "10.51.1.4");
    cr_assert_str_eq(jstr(w, "/detail"), "3 ranges of blue are not routed to l2a");
    free(dump);

    /* fixing the fabric clears the warning; the list view shows the same warnings */
    struct resp *r = http("PUT", "/v1/clusters/bgp1",
                          "{'announcement':'bgp','labels':{'env':'prod'},'routablePrefixes':"
                          "['10.50.0.0/24','10.51.0.0/23','2001:db8:50::/64']}");
    assert_status(r, 200);
    ws = warnings_of("blue");
    cr_assert_eq(json_array_size(ws), 1);
    cr_assert(warning_for(ws, "l2a") != NULL);
    r = http("GET", "/v1/pools", NULL);
    assert_status(r, 200);
    assert_true(r, jlen(r->json, "/items/0/status/warnings") == 1, "the list shows warnings");
    /* one range: singular detail */
    r = http("PUT", "/v1/clusters/l2a",
             "{'announcement':'l2','labels':{'env':'prod'},'nodeSubnets':['10.50.0.0/24',"
             "'10.51.0.0/23']}");
    assert_status(r, 200);
    w = warning_for(warnings_of("blue"), "l2a");
    cr_assert(w != NULL);
    cr_assert_str_eq(jstr(w, "/detail"), "1 range of blue is not routed to l2a");
}

Test(reachability_routes, check_interval_is_validated_and_echoed)
{
    struct resp *r = http("POST", "/v1/clusters", "{'name':'c1','checkIntervalSeconds':5}");
    assert_problem_field(r, 422, "invalid_value", "/checkIntervalSeconds");
    r = http("POST", "/v1/clusters", "{'name':'c1','checkIntervalSeconds':30}");
    assert_status(r, 201);
    assert_true(r, jint(r->json, "/checkIntervalSeconds", -1) == 30, "echoed");
    r = http("POST", "/v1/clusters", "{'name':'c2'}");
    assert_true(r, jint(r->json, "/checkIntervalSeconds", -1) == 0, "0 by default");
}

Test(reachability_routes, advertisements_cover_merge_and_sort)
{
    cluster("edge", "bgp", "[]", "[]", "{'site':'a'}");
    cluster("far", "bgp", "[]", "[]", "{'site':'b'}");
    /* adjacent blocks of two pools merge into one /23; a range becomes its exact cover */
    pool_create("{'name':'a1','blocks':[{'cidr':'198.51.100.0/24'},{'cidr':'2001:db8:1::/64'}],"
                "'clusterSelector':{'matchLabels':{'site':'a'}}}");
    pool_create("{'name':'a2','blocks':[{'cidr':'198.51.101.0/24'},"
                "{'start':'192.0.2.10','stop':'192.0.2.20'}],"
                "'clusterSelector':{'matchLabels':{'site':'a'}}}");
    pool_create("{'name':'b1','blocks':[{'cidr':'203.0.113.0/24'}],"
                "'clusterSelector':{'matchLabels':{'site':'b'}}}");
    alloc_ip("edge/ns/x", "{'requestedIPs':['198.51.101.9']}");
    alloc_ip("edge/ns/y", "{'requestedIPs':['2001:db8:1::5']}");
    alloc_ip("edge/ns/z", "{'requestedIPs':['192.0.2.12']}");

    struct resp *r = http("GET", "/v1/clusters/edge/advertisements", NULL);
    assert_status(r, 200);
    assert_str(r, jstr(r->json, "/cluster"), "edge");
    assert_str(r, jstr(r->json, "/announcement"), "bgp");
    const char *want[] = {"192.0.2.10/31", "192.0.2.12/30",   "192.0.2.16/30",
                          "192.0.2.20/32", "198.51.100.0/23", "2001:db8:1::/64"};
    assert_true(r, jlen(r->json, "/prefixes") == 6, "six prefixes");
    for (size_t i = 0; i < 6; i++)
        assert_str(r, jstr(r->json, S("/prefixes/%zu", i)), want[i]);
    assert_true(r, jlen(r->json, "/addresses") == 3, "three addresses");
    assert_str(r, jstr(r->json, "/addresses/0"), "192.0.2.12");
    assert_str(r, jstr(r->json, "/addresses/1"), "198.51.101.9");
    assert_str(r, jstr(r->json, "/addresses/2"), "2001:db8:1::5");

    r = http("GET", "/v1/clusters/edge/advertisements?scope=allocated", NULL);
    assert_str(r, jstr(r->json, "/prefixes/0"), "192.0.2.12/32");
    assert_str(r, jstr(r->json, "/prefixes/2"), "2001:db8:1::5/128");

    r = http("GET", "/v1/clusters/far/advertisements?format=bird", NULL);
    assert_status(r, 200);
    assert_true(r, strncmp(r->content_type, "text/plain", 10) == 0, "text/plain");
    assert_true(r,
                strstr(r->raw, "protocol static lbipam4 {\n\tipv4;\n\troute 203.0.113.0/24 "
                               "blackhole;\n}") != NULL,
                "bird fragment");
    assert_true(r, strstr(r->raw, "protocol static lbipam6 {\n\tipv6;\n}") != NULL,
                "an empty lbipam6 is kept");

    r = http("GET", "/v1/clusters/nosuch/advertisements", NULL);
    assert_problem(r, 404, "not_found");
    r = http("GET", "/v1/clusters/edge/advertisements?format=yaml", NULL);
    assert_problem(r, 400, "invalid_query");
}

/* BIRD must accept what we render: `bird -p` parses a config that includes the fragment. */
Test(reachability_routes, bird_accepts_the_fragment)
{
    cr_assert(system("command -v bird >/dev/null 2>&1") == 0,
              "bird (BIRD 2) is missing: scripts/deps.sh test installs bird2");
    cluster("edge", "bgp", "[]", "[]", "{}");
    pool_create("{'name':'a1','blocks':[{'cidr':'198.51.100.0/24'},{'start':'192.0.2.10',"
                "'stop':'192.0.2.20'},{'cidr':'2001:db8:1::/64'}]}");
    alloc_ip("edge/ns/x", "{'requestedIPs':['198.51.100.9']}");
    const char *scopes[] = {"", "&scope=allocated"};
    for (int i = 0; i < 2; i++) {
        struct resp *r =
            http("GET", S("/v1/clusters/edge/advertisements?format=bird%s", scopes[i]), NULL);
        assert_status(r, 200);
        const char *frag = S("%s/lbipam-%d.conf", harness_dir(), i);
        const char *conf = S("%s/bird-%d.conf", harness_dir(), i);
        FILE *f = fopen(frag, "w");
        cr_assert(f != NULL);
        fputs(r->raw, f);
        fclose(f);
        f = fopen(conf, "w");
        cr_assert(f != NULL);
        fprintf(f, "router id 192.0.2.1;\nprotocol device {}\ninclude \"%s\";\n", frag);
        fclose(f);
        int rc = system(S("bird -p -c %s >%s/bird-%d.out 2>&1", conf, harness_dir(), i));
        cr_assert(rc == 0, "bird -p rejected the fragment:\n%s", r->raw);
    }
}
