/* api.md §3 at the store: validation, conflicts, edits that never move an allocation. */
#include "test_store_fixture.h"

static void setup(void)
{
    store_setup();
    cluster_create_ok("c1", NULL, NULL);
}

TestSuite(pools, .init = setup, .fini = store_teardown);

static void replace_ok(struct pool *p)
{
    struct pool *out = NULL;
    struct error err = {0};
    int rc = store_pool_replace(st, "test", p, -1, &out, &err);
    cr_assert_eq(rc, 0, "replace %s: %s: %s", p->name, err.reason, err.detail);
    pool_free(out);
}

Test(pools, overlapping_blocks_in_one_pool_are_invalid)
{
    struct pool *p = pool_new("blue", "10.0.0.0/24", "2001:db8::/64", "10.0.0.128-10.0.1.5", NULL);
    struct error err = {0};
    cr_assert_eq(store_pool_validate(p, &err), ERR_INVALID);
    cr_assert_str_eq(err.reason, "overlapping_blocks");
    cr_assert_str_eq(err.field, "/blocks/2");
    cr_assert_eq(pool_create_rc(p, &err), ERR_INVALID);
    pool_free(p);

    /* a block inside a wider earlier block, behind another one */
    p = pool_new("blue", "10.0.0.0/16", "10.0.5.0/24", "10.0.200.1", NULL);
    cr_assert_eq(store_pool_validate(p, &err), ERR_INVALID);
    cr_assert_str_eq(err.field, "/blocks/1");
    pool_free(p);

    p = pool_new("blue", "10.0.0.0/25", "10.0.0.128/25", "10.0.1.0", NULL);
    cr_assert_eq(store_pool_validate(p, &err), 0, "%s", err.detail);
    pool_free(p);
}

Test(pools, block_count_limits)
{
    struct pool *p = pool_new("blue", NULL);
    struct error err = {0};
    cr_assert_eq(store_pool_validate(p, &err), ERR_INVALID);
    for (int i = 0; i < POOL_BLOCKS_MAX; i++) {
        p->blocks[i] = block("10.0.0.0");
        p->blocks[i].range.start = p->blocks[i].range.stop = 0x0a000000u + (unsigned)i * 2;
    }
    p->nblocks = POOL_BLOCKS_MAX;
    cr_assert_eq(store_pool_validate(p, &err), 0, "%s", err.detail);
    pool_create_ok(p);
    struct pool *g = pool_get_ok("blue");
    cr_assert_eq(g->nblocks, POOL_BLOCKS_MAX);
    count_is(g->v4.total, "1024", "total");
    pool_free(g);
}

Test(pools, overlap_with_another_pool_is_pool_conflict_naming_both)
{
    pool_create_ok(pool_new("blue", "10.0.10.128/25", NULL));
    struct pool *p = pool_new("red", "192.168.0.0/24", "10.0.10.0/24", NULL);
    struct error err = {0};
    cr_assert_eq(pool_create_rc(p, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "pool_conflict");
    cr_assert_str_eq(err.field, "/blocks/1");
    cr_assert_str_eq(err.detail,
                     "block 10.0.10.0/24 overlaps 10.0.10.128-10.0.10.255 of pool blue");
    pool_free(p);
    /* adjacent is fine */
    pool_create_ok(pool_new("red", "10.0.10.0/25", NULL));
    p = pool_new("green", "10.0.10.127-10.0.10.127", NULL);
    cr_assert_eq(pool_create_rc(p, &err), ERR_CONFLICT);
    pool_free(p);
}

Test(pools, duplicate_name_is_already_exists)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    struct pool *p = pool_new("blue", "10.1.0.0/24", NULL);
    struct error err = {0};
    cr_assert_eq(pool_create_rc(p, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "already_exists");
    pool_free(p);
}

Test(pools, pool_round_trips_every_field)
{
    struct pool *p = pool_new("blue", "10.0.10.0/24", "20.0.20.100-20.0.20.200", "1.2.3.4",
                              "2001:db8:100:10::/64", NULL);
    free(p->description);
    p->description = xstrdup("payments");
    labels_set(&p->labels, "tenant", "payments");
    labels_set(&p->service_selector.match_labels, "color", "red");
    p->service_selector.nexprs = 1;
    p->service_selector.exprs = xcalloc(1, sizeof(*p->service_selector.exprs));
    p->service_selector.exprs[0].key = xstrdup("tier");
    p->service_selector.exprs[0].op = SELECTOR_IN;
    p->service_selector.exprs[0].nvalues = 1;
    p->service_selector.exprs[0].values = xcalloc(1, sizeof(char *));
    p->service_selector.exprs[0].values[0] = xstrdup("web");
    p->priority = -3;
    p->avoid_buggy_ips = true;
    struct pool *out = NULL;
    struct error err = {0};
    cr_assert_eq(store_pool_create(st, "test", p, &out, &err), 0, "%s", err.detail);
    cr_assert_str_eq(out->description, "payments");
    cr_assert_eq(out->nblocks, 4);
    cr_assert_eq(out->blocks[1].form, BLOCK_RANGE);
    cr_assert_eq(out->blocks[2].form, BLOCK_SINGLE);
    cr_assert_eq(out->blocks[3].prefix_len, 64);
    cr_assert_eq(out->priority, -3);
    cr_assert(out->avoid_buggy_ips);
    cr_assert_str_eq(out->service_selector.exprs[0].values[0], "web");
    cr_assert_eq(out->version, 1);
    cr_assert(out->has_v4 && out->has_v6);
    count_is(out->v4.total, "358", "v4 total");
    /* .0 and .255 of 10.0.10.0/24 */
    count_is(out->v4.used, "2", "v4 used");
    pool_free(out);
    /* the same content again changes nothing */
    cr_assert_eq(store_pool_replace(st, "test", p, 1, &out, &err), 0, "%s", err.detail);
    cr_assert_eq(out->version, 1);
    pool_free(out);
    cr_assert_eq(store_pool_replace(st, "test", p, 5, &out, &err), ERR_PRECONDITION);
    pool_free(p);
}

Test(pools, widening_or_adding_blocks_moves_nothing)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/25", NULL));
    cr_assert_str_eq(put_simple("c1", "ns", "a"), "10.0.0.0");
    cr_assert_str_eq(put_simple("c1", "ns", "b"), "10.0.0.1");
    struct pool *p = pool_new("blue", "10.0.0.0/24", "10.0.5.0/30", NULL);
    p->allow_first_last_ips = false; /* .0 is now reserved, but stays with "a" */
    replace_ok(p);
    pool_free(p);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_ALLOCATED);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.total, "260", "total");
    /* allocated 2, reserved 10.0.0.0 (held) + 10.0.0.255 + 10.0.5.0 + 10.0.5.3 */
    count_is(g->v4.used, "5", "used");
    cr_assert_eq(g->version, 2);
    pool_free(g);
    cr_assert_str_eq(put_simple("c1", "ns", "c"), "10.0.0.2");
    /* released, a reserved address does not come back */
    delete_ok("c1", "ns", "a");
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_RESERVED);
    g = pool_get_ok("blue");
    count_is(g->v4.used, "6", "used after release"); /* b, c + 4 reserved */
    pool_free(g);
}

Test(pools, removing_or_shrinking_a_used_block_is_blocks_in_use)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", "10.0.1.0/24", "2001:db8::/64", NULL));
    struct alloc_request rq;
    rq_init(&rq);
    rq_request(&rq, "10.0.1.200");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);

    struct error err = {0};
    struct pool *out = NULL;
    struct pool *p = pool_new("blue", "10.0.0.0/24", "2001:db8::/64", NULL);
    cr_assert_eq(store_pool_replace(st, "test", p, -1, &out, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "blocks_in_use");
    cr_assert(strstr(err.detail, "1 allocated address"), "%s", err.detail);
    cr_assert(strstr(err.detail, "10.0.1.200"), "%s", err.detail);
    pool_free(p);
    p = pool_new("blue", "10.0.0.0/24", "10.0.1.0/25", "2001:db8::/64", NULL);
    cr_assert_eq(store_pool_replace(st, "test", p, -1, &out, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "blocks_in_use");
    pool_free(p);
    /* a shrink that keeps it is fine */
    p = pool_new("blue", "10.0.1.128/25", NULL);
    replace_ok(p);
    pool_free(p);
    struct pool *g = pool_get_ok("blue");
    cr_assert_not(g->has_v6);
    count_is(g->v4.total, "128", "total");
    pool_free(g);
    cr_assert_eq(address_state("10.0.0.5", NULL), ADDRESS_OUTSIDE);
    cr_assert_str_eq(put_simple("c1", "ns", "b"), "10.0.1.128");
}

Test(pools, selector_edit_affects_only_future_allocations)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    put_simple("c1", "ns", "a");
    struct pool *p = pool_new("blue", "10.0.0.0/24", NULL);
    labels_set(&p->service_selector.match_labels, "color", "red");
    replace_ok(p);
    pool_free(p);
    struct alloc_request rq;
    struct error err = {0};
    rq_init(&rq);
    put_fails("c1", "ns", "b", &rq, ERR_CONFLICT, "no_pool", &err);
    /* "a" is untouched, and a changed PUT of "a" keeps its address */
    rq.description = xstrdup("changed");
    struct allocation *a = put_ok("c1", "ns", "a", &rq);
    cr_assert_str_eq(ipstr(&a->addrs[0].ip), "10.0.0.0");
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

Test(pools, delete_used_pool_is_pool_in_use_unless_forced)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    pool_create_ok(pool_new("v6", "2001:db8::/64", NULL));
    put_simple("c1", "ns", "a");
    struct alloc_request rq;
    rq_init(&rq);
    rq.policy = POLICY_REQUIRE_DUAL_STACK;
    struct allocation *a = put_ok("c1", "ns", "dual", &rq);
    cr_assert_eq(a->naddrs, 2);
    allocation_free(a);
    alloc_request_cleanup(&rq);

    struct error err = {0};
    cr_assert_eq(store_pool_delete(st, "test", "blue", -1, false, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "pool_in_use");
    cr_assert_eq(store_pool_delete(st, "test", "blue", 99, true, &err), ERR_PRECONDITION);
    cr_assert_eq(store_pool_delete(st, "test", "blue", -1, true, &err), 0, "%s", err.detail);
    cr_assert_eq(store_pool_delete(st, "test", "blue", -1, true, &err), ERR_NOTFOUND);

    /* "a" had nothing else: deleted; "dual" keeps its IPv6 address, condition False */
    a = NULL;
    cr_assert_eq(store_allocation_get(st, "c1", "ns", "a", &a, &err), ERR_NOTFOUND);
    cr_assert_eq(store_allocation_get(st, "c1", "ns", "dual", &a, &err), 0);
    cr_assert_eq(a->naddrs, 1);
    cr_assert_eq(a->addrs[0].ip.family, NETADDR_V6);
    cr_assert_not(a->condition.satisfied);
    allocation_free(a);
    struct cluster *c = NULL;
    cr_assert_eq(store_cluster_get(st, "c1", &c, &err), 0);
    cr_assert_eq(c->allocations, 1);
    cluster_free(c);
    /* the addresses can belong to a new pool */
    pool_create_ok(pool_new("blue2", "10.0.0.0/24", NULL));
    cr_assert_str_eq(put_simple("c1", "ns", "b"), "10.0.0.0");
    cr_assert_eq(store_pool_delete(st, "test", "v6", -1, true, &err), 0, "%s", err.detail);
    cr_assert_eq(store_allocation_get(st, "c1", "ns", "dual", &a, &err), ERR_NOTFOUND);
}

Test(pools, unused_pool_deletes_plainly)
{
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    struct error err = {0};
    cr_assert_eq(store_pool_delete(st, "test", "blue", 1, false, &err), 0, "%s", err.detail);
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
}

Test(pools, list_is_paged_by_name)
{
    const char *names[] = {"e", "b", "d", "a", "c"};
    char cidr[32];
    for (int i = 0; i < 5; i++) {
        snprintf(cidr, sizeof(cidr), "10.%d.0.0/16", i);
        pool_create_ok(pool_new(names[i], cidr, NULL));
    }
    struct pool_list l;
    struct error err = {0};
    struct store_page page = {.limit = 2};
    char seen[8] = "";
    char after[STORE_CURSOR_MAX] = "";
    for (int round = 0; round < 5; round++) {
        page.after = after;
        cr_assert_eq(store_pool_list(st, &page, &l, &err), 0, "%s", err.detail);
        for (size_t i = 0; i < l.n; i++) {
            size_t len = strlen(seen);
            snprintf(seen + len, sizeof(seen) - len, "%c", l.items[i]->name[0]);
        }
        snprintf(after, sizeof(after), "%s", l.next);
        pool_list_cleanup(&l);
        if (!after[0])
            break;
    }
    cr_assert_str_eq(seen, "abcde");
    page.limit = 0;
    cr_assert_eq(store_pool_list(st, &page, &l, &err), ERR_BAD_REQUEST);
}

Test(pools, malformed_blocks_are_invalid_block)
{
    struct error err = {0};
    struct pool *p = pool_new("blue", "10.0.0.0/24", NULL);
    p->blocks[0].range.start = p->blocks[0].range.stop + 1; /* start > stop */
    p->blocks[0].form = BLOCK_RANGE;
    cr_assert_eq(store_pool_validate(p, &err), ERR_INVALID);
    cr_assert_str_eq(err.reason, "invalid_block");
    cr_assert_str_eq(err.field, "/blocks/0");
    pool_free(p);
    p = pool_new("blue", "10.0.0.0/24", NULL);
    p->blocks[0].prefix_len = 23; /* range and prefix disagree */
    cr_assert_eq(store_pool_validate(p, &err), ERR_INVALID);
    pool_free(p);
}

Test(pools, flag_changes_rebuild_free_space)
{
    struct pool *p = pool_new("blue", "10.0.0.0/24", NULL);
    p->allow_first_last_ips = false;
    pool_create_ok(p);
    cr_assert_str_eq(put_simple("c1", "ns", "a"), "10.0.0.1");
    /* first/last usable again: .0 becomes the lowest free address */
    p = pool_new("blue", "10.0.0.0/24", NULL);
    replace_ok(p);
    pool_free(p);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_FREE);
    cr_assert_str_eq(put_simple("c1", "ns", "b"), "10.0.0.0");
    /* avoidBuggyIPs on: .0 stays with "b" but counts once as used */
    p = pool_new("blue", "10.0.0.0/24", NULL);
    p->avoid_buggy_ips = true;
    replace_ok(p);
    pool_free(p);
    struct pool *g = pool_get_ok("blue");
    count_is(g->v4.used, "3", "a, b (reserved and held), .255");
    pool_free(g);
    cr_assert_str_eq(put_simple("c1", "ns", "c"), "10.0.0.2");
}
