/* api.md §4: requested IPs, dual stack, sharing, idempotence and reconciliation. */
#include <time.h>

#include "test_store_fixture.h"

static void setup(void)
{
    store_setup();
    cluster_create_ok("c1", "region", "eu");
    cluster_create_ok("c2", "region", "us");
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
}

TestSuite(requests, .init = setup, .fini = store_teardown);

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* --------------------------------------------------------------------- requested IPs */

Test(requests, requested_ip_is_honoured_and_families_follow_it)
{
    pool_create_ok(pool_new("v6", "2001:db8::/64", NULL));
    struct alloc_request rq;
    rq_init(&rq);
    rq_request(&rq, "2001:db8::7");
    rq_request(&rq, "10.0.0.7");
    rq.nfamilies = 1; /* ignored with requestedIPs */
    rq.families[0] = NETADDR_V6;
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 2);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.7"); /* IPv4 first */
    cr_assert_str_eq(ipstr(&a->addrs[1].ip), "2001:db8::7");
    cr_assert(a->condition.satisfied);
    cr_assert_str_eq(a->condition.reason, "satisfied");
    cr_assert_str_eq(a->condition.message, "");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, requested_outside_every_pool_is_no_pool)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "192.168.1.1");
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "no_pool", &err);
    cr_assert_str_eq(err.field, "/requestedIPs/0");
    alloc_request_cleanup(&rq);
}

Test(requests, requested_outside_named_pool)
{
    pool_create_ok(pool_new("green", "10.0.1.0/24", NULL));
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "10.0.0.5");
    rq.pool = xstrdup("green");
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "requested_ip_not_in_pool", &err);
    alloc_request_cleanup(&rq);
}

Test(requests, requested_in_pool_whose_selectors_do_not_match)
{
    struct pool *p = pool_new("red", "10.0.1.0/24", NULL);
    labels_set(&p->service_selector.match_labels, "color", "red");
    pool_create_ok(p);
    p = pool_new("us", "10.0.2.0/24", NULL);
    labels_set(&p->cluster_selector.match_labels, "region", "us");
    pool_create_ok(p);
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "10.0.1.5");
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "pool_selector_mismatch", &err);
    labels_set(&rq.labels, "color", "red");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);
    rq_init(&rq);
    rq_request(&rq, "10.0.2.5");
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "pool_selector_mismatch", &err);
    a = put_ok("c2", "ns", "b", &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, requested_taken_is_already_allocated)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "10.0.0.9");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    allocation_free(a);
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "already_allocated", &err);
    cr_assert(strstr(err.detail, "ns/a"), "%s", err.detail);
    /* a key on one side only is still a plain conflict */
    rq.sharing_key = xstrdup("k");
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "already_allocated", &err);
    alloc_request_cleanup(&rq);
}

Test(requests, requested_incompatible_names_the_reason)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "10.0.0.53");
    rq.sharing_key = xstrdup("dns");
    rq_port(&rq, 53, "UDP");
    struct allocation *a = put_ok("c1", "kube-system", "dns", &rq);
    allocation_free(a);
    put_fails("c1", "kube-system", "dns2", &rq, ERR_CONFLICT,
              "already_allocated_incompatible_service", &err);
    cr_assert(strstr(err.detail, "port 53/UDP is used by kube-system/dns"), "%s", err.detail);
    alloc_request_cleanup(&rq);
}

Test(requests, requested_are_all_or_nothing)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "10.0.0.9");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);
    rq_init(&rq);
    rq_request(&rq, "10.0.0.8");
    rq_request(&rq, "10.0.0.9");
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "already_allocated", &err);
    cr_assert_str_eq(err.field, "/requestedIPs/1");
    cr_assert_eq(address_state("10.0.0.8", NULL), ADDRESS_FREE);
    alloc_request_cleanup(&rq);
    struct allocation *none = NULL;
    cr_assert_eq(store_allocation_get(st, "c1", "ns", "b", &none, &err), ERR_NOTFOUND);
}

/* ------------------------------------------------------------------------ dual stack */

Test(requests, single_stack_defaults_to_ipv4_or_first_family)
{
    pool_create_ok(pool_new("v6", "2001:db8::/64", NULL));
    cr_assert_str_eq(put_simple("c1", "ns", "a"), "10.0.0.0");
    struct alloc_request rq;
    rq_init(&rq);
    rq.nfamilies = 2;
    rq.families[0] = NETADDR_V6;
    rq.families[1] = NETADDR_V4;
    struct allocation *a = put_ok("c1", "ns", "b", &rq);
    cr_assert_eq(a->naddrs, 1);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "2001:db8::");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, prefer_dual_stack_with_only_ipv4_is_partial)
{
    struct alloc_request rq;
    rq_init(&rq);
    rq.policy = POLICY_PREFER_DUAL_STACK;
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 1);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    cr_assert_not(a->condition.satisfied);
    cr_assert_str_eq(a->condition.reason, "no_pool");
    cr_assert(strstr(a->condition.message, "IPv6"), "%s", a->condition.message);
    int64_t version = a->version;
    allocation_free(a);
    /* retried in vain: nothing written */
    a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->version, version);
    allocation_free(a);
    /* once an IPv6 pool exists the same request completes */
    pool_create_ok(pool_new("v6", "2001:db8::/64", NULL));
    a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 2);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    cr_assert_str_eq(ipstr(&a->addrs[1].ip), "2001:db8::");
    cr_assert(a->condition.satisfied);
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, prefer_dual_stack_with_nothing_fails)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq.policy = POLICY_PREFER_DUAL_STACK;
    rq.nfamilies = 1;
    rq.families[0] = NETADDR_V6;
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "no_pool", &err);
    alloc_request_cleanup(&rq);
}

Test(requests, require_dual_stack_with_only_ipv4_consumes_nothing)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq.policy = POLICY_REQUIRE_DUAL_STACK;
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "no_pool", &err);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_FREE);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.used, "0", "used after refusal");
    pool_free(g);
    pool_create_ok(pool_new("v6", "2001:db8::/64", NULL));
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 2);
    cr_assert_eq(a->addrs[0].ip.family, NETADDR_V4);
    cr_assert_eq(a->addrs[1].ip.family, NETADDR_V6);
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

/* --------------------------------------------------------------------------- sharing */

static struct allocation *put_shared(const char *cluster, const char *ns, const char *svc,
                                     const char *key, unsigned port, const char *etp)
{
    struct alloc_request rq;
    rq_init(&rq);
    rq.sharing_key = key ? xstrdup(key) : NULL;
    rq_port(&rq, port, "TCP");
    rq.external_traffic_policy = etp ? xstrdup(etp) : NULL;
    struct allocation *a = put_ok(cluster, ns, svc, &rq);
    alloc_request_cleanup(&rq);
    return a;
}

static const char *addr_of(struct allocation *a)
{
    const char *t = ipstr(&a->addrs[0].ip);
    allocation_free(a);
    return t;
}

Test(requests, same_key_disjoint_ports_share_one_ip)
{
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "a", "k", 80, NULL)), "10.0.0.0");
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "b", "k", 443, "Cluster")), "10.0.0.0");
    size_t holders = 0;
    cr_assert_eq(address_state("10.0.0.0", &holders), ADDRESS_ALLOCATED);
    cr_assert_eq(holders, 2);
    /* the IP is freed when its last holder releases it */
    delete_ok("c1", "ns", "a");
    cr_assert_eq(address_state("10.0.0.0", &holders), ADDRESS_ALLOCATED);
    cr_assert_eq(holders, 1);
    delete_ok("c1", "ns", "b");
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_FREE);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.used, "0", "used");
    pool_free(g);
}

Test(requests, incompatible_sharers_get_other_ips)
{
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "a", "k", 80, NULL)), "10.0.0.0");
    /* same port */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "b", "k", 80, NULL)), "10.0.0.1");
    /* different key */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "c", "other", 81, NULL)), "10.0.0.2");
    /* different namespace, no sharingCrossNamespace */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns2", "d", "k", 82, NULL)), "10.0.0.3");
    /* different externalTrafficPolicy */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "e", "k", 83, "Local")), "10.0.0.4");
    /* different cluster */
    cr_assert_str_eq(addr_of(put_shared("c2", "ns", "f", "k", 84, NULL)), "10.0.0.5");
    /* no key: never shared */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "g", NULL, 85, NULL)), "10.0.0.6");
    /* compatible with the first: joins the lowest */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "h", "k", 86, NULL)), "10.0.0.0");
}

Test(requests, cross_namespace_sharing_needs_both_sides)
{
    struct alloc_request rq;
    rq_init(&rq);
    rq.sharing_key = xstrdup("k");
    rq_port(&rq, 53, "UDP");
    rq_cross(&rq, "apps");
    struct allocation *a = put_ok("c1", "kube-system", "dns", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    allocation_free(a);
    alloc_request_cleanup(&rq);

    rq_init(&rq);
    rq.sharing_key = xstrdup("k");
    rq_port(&rq, 80, "TCP");
    a = put_ok("c1", "apps", "web", &rq); /* apps does not list kube-system */
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.1");
    allocation_free(a);
    rq_cross(&rq, "*");
    a = put_ok("c1", "apps", "web2", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, local_policy_needs_identical_pod_selector)
{
    struct alloc_request rq;
    rq_init(&rq);
    rq.sharing_key = xstrdup("k");
    rq.external_traffic_policy = xstrdup("Local");
    rq_port(&rq, 80, "TCP");
    labels_set(&rq.pod_selector, "app", "web");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    allocation_free(a);
    rq.ports[0].port = 443;
    a = put_ok("c1", "ns", "b", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    allocation_free(a);
    rq.ports[0].port = 8443;
    labels_set(&rq.pod_selector, "app", "api");
    a = put_ok("c1", "ns", "c", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.1");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, requested_shared_ip_is_joined_when_compatible)
{
    struct alloc_request rq;
    rq_init(&rq);
    rq_request(&rq, "10.0.0.53");
    rq.sharing_key = xstrdup("dns");
    rq_port(&rq, 53, "UDP");
    struct allocation *a = put_ok("c1", "ns", "udp", &rq);
    allocation_free(a);
    rq.ports[0].protocol[0] = 'T'; /* TCP */
    snprintf(rq.ports[0].protocol, sizeof(rq.ports[0].protocol), "TCP");
    a = put_ok("c1", "ns", "tcp", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.53");
    allocation_free(a);
    alloc_request_cleanup(&rq);
    size_t holders = 0;
    cr_assert_eq(address_state("10.0.0.53", &holders), ADDRESS_ALLOCATED);
    cr_assert_eq(holders, 2);
}

Test(requests, preferred_ip_is_used_when_it_passes_rule1_else_skipped)
{
    put_simple("c1", "ns", "a"); /* 10.0.0.0 */
    struct alloc_request rq;
    rq_init(&rq);
    rq_prefer(&rq, "10.0.0.0");   /* taken: skipped */
    rq_prefer(&rq, "192.0.2.1");  /* outside: skipped */
    rq_prefer(&rq, "10.0.0.200"); /* used */
    struct allocation *a = put_ok("c1", "ns", "b", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.200");
    allocation_free(a);
    alloc_request_cleanup(&rq);
    cr_assert_str_eq(put_simple("c1", "ns", "c"), "10.0.0.1");
}

/* ------------------------------------------------------------ idempotence, reconcile */

Test(requests, same_put_twice_writes_nothing)
{
    struct alloc_request rq;
    rq_init(&rq);
    labels_set(&rq.labels, "app", "web");
    rq.description = xstrdup("vip");
    rq_port(&rq, 80, "TCP");
    bool created = false;
    struct allocation *a = NULL, *b = NULL;
    struct error err = {0};
    cr_assert_eq(store_allocation_put(st, "test", "c1", "ns", "a", &rq, -1, &a, &created, &err), 0);
    cr_assert(created);
    sleep_ms(5);
    cr_assert_eq(
        store_allocation_put(st, "test", "c1", "ns", "a", &rq, a->version, &b, &created, &err), 0);
    cr_assert_not(created);
    cr_assert_eq(b->version, a->version);
    cr_assert_eq(b->updated_at, a->updated_at);
    cr_assert_eq(b->naddrs, 1);
    cr_assert_eq(b->addrs[0].ip.v, a->addrs[0].ip.v);
    cr_assert_str_eq(b->rq.description, "vip");
    cr_assert_str_eq(labels_get(&b->rq.labels, "app"), "web");
    cr_assert_eq(b->rq.nports, 1);
    allocation_free(b);
    /* If-Match with another version is refused even when nothing would change */
    cr_assert_eq(
        store_allocation_put(st, "test", "c1", "ns", "a", &rq, a->version + 7, &b, &created, &err),
        ERR_PRECONDITION);
    cr_assert_str_eq(err.reason, "precondition_failed");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(requests, changed_put_keeps_what_still_fits)
{
    pool_create_ok(pool_new("v6", "2001:db8::/64", NULL));
    pool_create_ok(pool_new("green", "10.0.1.0/24", NULL));
    put_simple("c1", "ns", "x"); /* 10.0.0.0, so that "a" gets 10.0.0.1 */
    struct alloc_request rq;
    rq_init(&rq);
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.1");
    int64_t v1 = a->version;
    allocation_free(a);
    delete_ok("c1", "ns", "x"); /* a lower address is free now: must not move */

    rq.policy = POLICY_REQUIRE_DUAL_STACK;
    a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 2);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.1");
    cr_assert_str_eq(ipstr(&a->addrs[1].ip), "2001:db8::");
    cr_assert_eq(a->version, v1 + 1);
    allocation_free(a);

    /* back to IPv6 only: the IPv4 address is released, IPv6 kept */
    rq.policy = POLICY_SINGLE_STACK;
    rq.nfamilies = 1;
    rq.families[0] = NETADDR_V6;
    a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 1);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "2001:db8::");
    allocation_free(a);
    cr_assert_eq(address_state("10.0.0.1", NULL), ADDRESS_FREE);

    /* naming another pool moves the address there */
    rq.nfamilies = 0;
    rq.pool = xstrdup("green");
    a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 1);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.1.0");
    cr_assert_str_eq(a->addrs[0].pool, "green");
    allocation_free(a);
    alloc_request_cleanup(&rq);
    cr_assert_eq(address_state("2001:db8::", NULL), ADDRESS_FREE);
}

Test(requests, changed_ports_that_clash_move_the_allocation)
{
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "a", "k", 80, NULL)), "10.0.0.0");
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "b", "k", 443, NULL)), "10.0.0.0");
    /* b now wants port 80 too: it cannot stay with a */
    cr_assert_str_eq(addr_of(put_shared("c1", "ns", "b", "k", 80, NULL)), "10.0.0.1");
    size_t holders = 0;
    cr_assert_eq(address_state("10.0.0.0", &holders), ADDRESS_ALLOCATED);
    cr_assert_eq(holders, 1);
}

Test(requests, refused_change_leaves_the_allocation_as_it_was)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    rq_request(&rq, "10.0.0.9");
    struct allocation *other = put_ok("c1", "ns", "other", &rq);
    allocation_free(other);
    alloc_request_cleanup(&rq);

    rq_init(&rq);
    rq.description = xstrdup("before");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    alloc_request_cleanup(&rq);

    rq_init(&rq);
    rq.description = xstrdup("after");
    rq_request(&rq, "10.0.0.9");
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "already_allocated", &err);
    alloc_request_cleanup(&rq);

    struct allocation *b = NULL;
    cr_assert_eq(store_allocation_get(st, "c1", "ns", "a", &b, &err), 0);
    cr_assert_eq(b->version, a->version);
    cr_assert_eq(b->updated_at, a->updated_at);
    cr_assert_str_eq(b->rq.description, "before");
    cr_assert_eq(b->naddrs, 1);
    cr_assert_eq(b->addrs[0].ip.v, a->addrs[0].ip.v);
    cr_assert_eq(address_state(ipstr(&a->addrs[0].ip), NULL), ADDRESS_ALLOCATED);
    allocation_free(a);
    allocation_free(b);
}

Test(requests, changing_to_a_requested_ip_moves_there)
{
    struct alloc_request rq;
    rq_init(&rq);
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    allocation_free(a);
    rq_request(&rq, "10.0.0.77");
    a = put_ok("c1", "ns", "a", &rq);
    cr_assert_eq(a->naddrs, 1);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.77");
    allocation_free(a);
    alloc_request_cleanup(&rq);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_FREE);
}

Test(requests, delete_with_if_match_and_missing)
{
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    alloc_request_cleanup(&rq);
    cr_assert_eq(store_allocation_delete(st, "test", "c1", "ns", "a", a->version + 1, &err),
                 ERR_PRECONDITION);
    cr_assert_eq(store_allocation_delete(st, "test", "c1", "ns", "a", a->version, &err), 0);
    cr_assert_eq(store_allocation_delete(st, "test", "c1", "ns", "a", -1, &err), ERR_NOTFOUND);
    allocation_free(a);
}

/* "Cluster" is the default policy and "" no description: either spelling is the same request,
 * so repeating it (as a GET → PUT round trip does) writes nothing. */
Test(requests, default_spelled_out_or_left_out_is_the_same_request)
{
    struct alloc_request rq;
    rq_init(&rq);
    struct allocation *first = put_ok("c1", "ns", "svc", &rq);
    sleep_ms(5); /* a write now would show in updated_at */

    rq.external_traffic_policy = xstrdup("Cluster");
    rq.description = xstrdup("");
    struct allocation *again = put_ok("c1", "ns", "svc", &rq);
    cr_assert_eq(again->version, first->version, "spelled-out defaults wrote a new version");
    cr_assert_eq(again->updated_at, first->updated_at);

    free(rq.external_traffic_policy);
    rq.external_traffic_policy = xstrdup("Local");
    struct allocation *changed = put_ok("c1", "ns", "svc", &rq);
    cr_assert_eq(changed->version, first->version + 1, "Local is a real change");

    allocation_free(first);
    allocation_free(again);
    allocation_free(changed);
    alloc_request_cleanup(&rq);
}
