/* The allocator through store_allocation_put: order, reserved addresses, counts. */
#include "test_store_fixture.h"

static void setup(void)
{
    store_setup();
    cluster_create_ok("c1", "region", "eu");
}

TestSuite(alloc, .init = setup, .fini = store_teardown);

Test(alloc, lowest_free_first_and_reuse_after_release)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    cr_assert_str_eq(put_simple("c1", "ns", "a"), "10.0.0.0");
    cr_assert_str_eq(put_simple("c1", "ns", "b"), "10.0.0.1");
    cr_assert_str_eq(put_simple("c1", "ns", "c"), "10.0.0.2");
    delete_ok("c1", "ns", "b");
    cr_assert_eq(address_state("10.0.0.1", NULL), ADDRESS_FREE);
    cr_assert_str_eq(put_simple("c1", "ns", "d"), "10.0.0.1");
    cr_assert_str_eq(put_simple("c1", "ns", "e"), "10.0.0.3");
}

Test(alloc, release_merges_free_ranges_both_sides)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/29", NULL));
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    for (int i = 0; i < 8; i++)
        put_simple("c1", "ns", names[i]);
    /* free .3, .5 then .4: one range .3-.5 which hands out .3, .4, .5 in order */
    delete_ok("c1", "ns", "d");
    delete_ok("c1", "ns", "f");
    delete_ok("c1", "ns", "e");
    cr_assert_str_eq(put_simple("c1", "ns", "x"), "10.0.0.3");
    cr_assert_str_eq(put_simple("c1", "ns", "y"), "10.0.0.4");
    cr_assert_str_eq(put_simple("c1", "ns", "z"), "10.0.0.5");
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    put_fails("c1", "ns", "full", &rq, ERR_CONFLICT, "out_of_ips", &err);
    alloc_request_cleanup(&rq);
}

Test(alloc, slash24_without_first_last_starts_at_1_and_never_gives_0_or_255)
{
    struct pool *p = pool_new("blue", "10.0.0.0/24", NULL);
    p->allow_first_last_ips = false;
    pool_create_ok(p);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.total, "256", "total");
    count_is(g->v4.used, "2", "used (reserved count as used)");
    count_is(g->v4.available, "254", "available");
    pool_free(g);

    cr_assert_str_eq(put_simple("c1", "ns", "first"), "10.0.0.1");
    char svc[16];
    for (int i = 0; i < 253; i++) {
        snprintf(svc, sizeof(svc), "s%d", i);
        const char *got = put_simple("c1", "ns", svc);
        cr_assert_str_neq(got, "10.0.0.0");
        cr_assert_str_neq(got, "10.0.0.255");
    }
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    put_fails("c1", "ns", "more", &rq, ERR_CONFLICT, "out_of_ips", &err);
    rq_request(&rq, "10.0.0.255");
    put_fails("c1", "ns", "more", &rq, ERR_CONFLICT, "already_allocated", &err);
    alloc_request_cleanup(&rq);
    cr_assert_eq(address_state("10.0.0.255", NULL), ADDRESS_RESERVED);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_RESERVED);
    g = pool_get_ok("blue");
    count_is(g->v4.used, "256", "used when full");
    count_is(g->v4.available, "0", "available when full");
    pool_free(g);
}

Test(alloc, slash31_and_slash32_stay_fully_usable)
{
    struct pool *p = pool_new("p31", "10.1.0.0/31", NULL);
    p->allow_first_last_ips = false;
    pool_create_ok(p);
    p = pool_new("p32", "10.2.0.7/32", "2001:db8::/127", NULL);
    p->allow_first_last_ips = false;
    pool_create_ok(p);

    struct alloc_request rq;
    rq_init(&rq);
    rq.pool = xstrdup("p31");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.1.0.0");
    allocation_free(a);
    a = put_ok("c1", "ns", "b", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.1.0.1");
    allocation_free(a);
    free(rq.pool);
    rq.pool = xstrdup("p32");
    a = put_ok("c1", "ns", "c", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.2.0.7");
    allocation_free(a);
    rq.nfamilies = 1;
    rq.families[0] = NETADDR_V6;
    a = put_ok("c1", "ns", "d", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "2001:db8::");
    allocation_free(a);
    a = put_ok("c1", "ns", "e", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "2001:db8::1");
    allocation_free(a);
    alloc_request_cleanup(&rq);

    struct pool *g = pool_get_ok("p31");
    count_is(g->v4.total, "2", "total /31");
    count_is(g->v4.available, "0", "available /31");
    pool_free(g);
}

Test(alloc, avoid_buggy_skips_0_and_255_of_every_24_in_a_23_range)
{
    struct pool *p = pool_new("blue", "10.0.0.0-10.0.1.255", NULL);
    p->avoid_buggy_ips = true;
    p->allow_first_last_ips = false; /* a range: unaffected */
    pool_create_ok(p);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.total, "512", "total");
    count_is(g->v4.used, "4", "reserved .0/.255 twice");
    pool_free(g);

    char svc[16];
    for (int i = 0; i < 508; i++) {
        snprintf(svc, sizeof(svc), "s%d", i);
        const char *got = put_simple("c1", "ns", svc);
        const char *last = strrchr(got, '.') + 1;
        cr_assert(strcmp(last, "0") != 0 && strcmp(last, "255") != 0, "got %s", got);
        if (i == 0)
            cr_assert_str_eq(got, "10.0.0.1");
        if (i == 254)
            cr_assert_str_eq(got, "10.0.1.1");
    }
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    put_fails("c1", "ns", "more", &rq, ERR_CONFLICT, "out_of_ips", &err);
    rq_request(&rq, "10.0.1.0");
    put_fails("c1", "ns", "more", &rq, ERR_CONFLICT, "already_allocated", &err);
    alloc_request_cleanup(&rq);
}

Test(alloc, avoid_buggy_counts_cidr_first_last_once)
{
    /* a /25 at .128: .128 is not buggy but is first, .255 is both buggy and last */
    struct pool *p = pool_new("blue", "10.0.0.128/25", NULL);
    p->avoid_buggy_ips = true;
    p->allow_first_last_ips = false;
    pool_create_ok(p);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.used, "2", "reserved");
    pool_free(g);
    cr_assert_str_eq(put_simple("c1", "ns", "a"), "10.0.0.129");
}

Test(alloc, ipv6_slash48_and_slash64_have_exact_counts)
{
    pool_create_ok(pool_new("v6a", "2001:db8:100::/48", NULL));
    pool_create_ok(pool_new("v6b", "2001:db8:200:10::/64", "10.9.0.0/30", NULL));
    struct pool *g = pool_get_ok("v6a");
    cr_assert(g->has_v6);
    cr_assert_not(g->has_v4);
    count_is(g->v6.total, "1208925819614629174706176", "/48 total");
    count_is(g->v6.used, "0", "/48 used");
    pool_free(g);

    struct alloc_request rq;
    rq_init(&rq);
    rq.nfamilies = 1;
    rq.families[0] = NETADDR_V6;
    rq.pool = xstrdup("v6b");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "2001:db8:200:10::");
    cr_assert_str_eq(a->addrs[0].pool, "v6b");
    allocation_free(a);
    alloc_request_cleanup(&rq);

    g = pool_get_ok("v6b");
    count_is(g->v6.total, "18446744073709551616", "/64 total");
    count_is(g->v6.used, "1", "/64 used");
    count_is(g->v6.available, "18446744073709551615", "/64 available");
    count_is(g->v4.total, "4", "v4 total");
    pool_free(g);
}

Test(alloc, whole_ipv6_space_counts_two_to_the_128)
{
    pool_create_ok(pool_new("all", "::/0", NULL));
    struct pool *g = pool_get_ok("all");
    count_is(g->v6.total, "340282366920938463463374607431768211456", "::/0 total");
    pool_free(g);
    struct alloc_request rq;
    rq_init(&rq);
    rq.nfamilies = 1;
    rq.families[0] = NETADDR_V6;
    rq_request(&rq, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    struct allocation *a = put_ok("c1", "ns", "top", &rq);
    allocation_free(a);
    delete_ok("c1", "ns", "top");
    cr_assert_eq(address_state("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL), ADDRESS_FREE);
    alloc_request_cleanup(&rq);
}

Test(alloc, address_states)
{
    struct pool *p = pool_new("blue", "10.0.0.0/24", NULL);
    p->allow_first_last_ips = false;
    pool_create_ok(p);
    put_simple("c1", "ns", "a");
    size_t holders = 0;
    cr_assert_eq(address_state("10.0.0.1", &holders), ADDRESS_ALLOCATED);
    cr_assert_eq(holders, 1);
    cr_assert_eq(address_state("10.0.0.2", NULL), ADDRESS_FREE);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_RESERVED);
    cr_assert_eq(address_state("10.0.1.0", NULL), ADDRESS_OUTSIDE);

    struct address_info *a = NULL;
    struct error err = {0};
    struct netaddr x = ip("10.0.0.1");
    cr_assert_eq(store_address_get(st, &x, &a, &err), 0);
    cr_assert_str_eq(a->pool, "blue");
    cr_assert_str_eq(a->holders[0].service, "a");
    address_info_free(a);
    x = ip("192.168.0.1");
    cr_assert_eq(store_address_get(st, &x, &a, &err), 0);
    cr_assert_str_eq(a->pool, "");
    address_info_free(a);
}

Test(alloc, pool_choice_priority_then_selector_then_name)
{
    pool_create_ok(pool_new("zeta", "10.0.1.0/24", NULL));
    pool_create_ok(pool_new("alpha", "10.0.2.0/24", NULL));
    struct pool *p = pool_new("red", "10.0.3.0/24", NULL);
    labels_set(&p->service_selector.match_labels, "color", "red");
    pool_create_ok(p);
    p = pool_new("high", "10.0.4.0/24", NULL);
    p->priority = 10;
    labels_set(&p->cluster_selector.match_labels, "lbipam.io/cluster", "c2");
    pool_create_ok(p);

    /* catch-all pools by name */
    cr_assert_str_eq(put_simple("c1", "ns", "a"), "10.0.2.0");
    /* a serviceSelector pool that matches goes before catch-all ones */
    struct alloc_request rq;
    rq_init(&rq);
    labels_set(&rq.labels, "color", "red");
    struct allocation *a = put_ok("c1", "ns", "b", &rq);
    cr_assert_str_eq(a->addrs[0].pool, "red");
    allocation_free(a);
    alloc_request_cleanup(&rq);
    /* priority wins, but only for the cluster its clusterSelector picks */
    cluster_create_ok("c2", NULL, NULL);
    cr_assert_str_eq(put_simple("c2", "ns", "c"), "10.0.4.0");
}

Test(alloc, synthetic_service_labels_override_real_ones)
{
    struct pool *p = pool_new("kube", "10.0.5.0/24", NULL);
    labels_set(&p->service_selector.match_labels, "io.kubernetes.service.namespace", "kube-system");
    pool_create_ok(p);
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    labels_set(&rq.labels, "io.kubernetes.service.namespace", "kube-system"); /* a lie */
    put_fails("c1", "default", "a", &rq, ERR_CONFLICT, "no_pool", &err);
    struct allocation *a = put_ok("c1", "kube-system", "a", &rq);
    cr_assert_str_eq(a->addrs[0].pool, "kube");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(alloc, auto_assign_false_only_when_named_or_requested)
{
    struct pool *p = pool_new("manual", "10.0.6.0/24", NULL);
    p->auto_assign = false;
    pool_create_ok(p);
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    put_fails("c1", "ns", "a", &rq, ERR_CONFLICT, "no_pool", &err);
    rq.pool = xstrdup("manual");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.6.0");
    allocation_free(a);
    free(rq.pool);
    rq.pool = NULL;
    rq_request(&rq, "10.0.6.9");
    a = put_ok("c1", "ns", "b", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.6.9");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(alloc, disabled_pool_keeps_allocations_and_refuses_new_ones)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    put_simple("c1", "ns", "a");
    struct pool *p = pool_get_ok("blue");
    p->disabled = true;
    struct pool *out = NULL;
    struct error err = {0};
    cr_assert_eq(store_pool_replace(st, "test", p, -1, &out, &err), 0, "%s", err.detail);
    pool_free(out);
    pool_free(p);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_ALLOCATED);
    struct alloc_request rq;
    rq_init(&rq);
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "no_pool", &err);
    rq_request(&rq, "10.0.0.5");
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "no_pool", &err);
    alloc_request_cleanup(&rq);
    /* the existing allocation is still served, unchanged */
    rq_init(&rq);
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(alloc, unknown_cluster_and_unknown_pool)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    put_fails("nope", "ns", "a", &rq, ERR_NOTFOUND, "unknown_cluster", &err);
    rq.pool = xstrdup("green");
    put_fails("c1", "ns", "a", &rq, ERR_INVALID, "unknown_pool", &err);
    cr_assert_str_eq(err.field, "/pool");
    alloc_request_cleanup(&rq);
}
