/* Many threads racing for few addresses through the one writer: no address is handed out
 * twice, none is lost, and the store's own counters agree. */
#include <pthread.h>

#include "test_store_fixture.h"

#define THREADS 32
#define PUTS_PER_THREAD 63 /* 2016 requests */
#define FREE_ADDRESSES 500

static void setup(void)
{
    store_setup();
    cluster_create_ok("c1", NULL, NULL);
    /* 512 addresses, the first 12 already taken: 500 free */
    pool_create_ok(pool_new("blue", "10.0.0.0/23", NULL));
    char svc[16];
    for (int i = 0; i < 12; i++) {
        snprintf(svc, sizeof(svc), "pre%d", i);
        put_simple("c1", "ns", svc);
    }
}

TestSuite(race, .init = setup, .fini = store_teardown, .timeout = 300);

struct worker {
    int id;
    int ok, out_of_ips, other;
    u128 got[PUTS_PER_THREAD];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct alloc_request rq;
    rq_init(&rq);
    for (int i = 0; i < PUTS_PER_THREAD; i++) {
        char svc[32];
        struct allocation *a = NULL;
        struct error err = {0};
        bool created = false;
        snprintf(svc, sizeof(svc), "t%d-s%d", w->id, i);
        int rc = store_allocation_put(st, "test", "c1", "race", svc, &rq, -1, &a, &created, &err);
        if (rc == 0 && a && a->naddrs == 1 && created)
            w->got[w->ok++] = a->addrs[0].ip.v;
        else if (rc == ERR_CONFLICT && strcmp(err.reason, "out_of_ips") == 0)
            w->out_of_ips++;
        else
            w->other++;
        allocation_free(a);
    }
    alloc_request_cleanup(&rq);
    return NULL;
}

static int cmp_u128(const void *a, const void *b)
{
    u128 x = *(const u128 *)a, y = *(const u128 *)b;
    return x < y ? -1 : x > y;
}

Test(race, many_threads_get_exactly_the_free_addresses_once)
{
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].id = i;
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    int ok = 0, full = 0, other = 0;
    static u128 all[THREADS * PUTS_PER_THREAD];
    for (int i = 0; i < THREADS; i++) {
        for (int j = 0; j < w[i].ok; j++)
            all[ok + j] = w[i].got[j];
        ok += w[i].ok;
        full += w[i].out_of_ips;
        other += w[i].other;
    }
    cr_assert_eq(other, 0, "%d requests failed for another reason", other);
    cr_assert_eq(ok, FREE_ADDRESSES, "%d successes", ok);
    cr_assert_eq(full, THREADS * PUTS_PER_THREAD - FREE_ADDRESSES);
    qsort(all, (size_t)ok, sizeof(all[0]), cmp_u128);
    for (int i = 1; i < ok; i++)
        cr_assert_neq(all[i], all[i - 1], "an address was handed out twice");
    cr_assert_geq(all[0], (u128)0x0a00000c); /* none of the 12 taken before */

    /* the store agrees */
    struct pool *p = pool_get_ok("blue");
    count_is(p->v4.used, "512", "used");
    count_is(p->v4.available, "0", "available");
    pool_free(p);
    struct allocation_list l;
    struct error err = {0};
    struct allocation_filter f = {.namespace = "race"};
    struct store_page page = {.limit = 1000};
    cr_assert_eq(store_allocation_list(st, &f, &page, &l, &err), 0);
    cr_assert_eq(l.n, FREE_ADDRESSES);
    cr_assert_str_eq(l.next, "");
    allocation_list_cleanup(&l);
    struct cluster *c = NULL;
    cr_assert_eq(store_cluster_get(st, "c1", &c, &err), 0);
    cr_assert_eq(c->allocations, FREE_ADDRESSES + 12);
    cluster_free(c);
}

/* Writers whose refusals come after they released something (a changed PUT naming a full
 * pool) share transactions with writers that succeed: each refusal must roll back exactly its
 * own changes. */
struct mixer {
    int id;
    int failures;
};

static void *mix(void *arg)
{
    struct mixer *m = arg;
    for (int i = 0; i < 12; i++) {
        char svc[32];
        struct allocation *a = NULL;
        struct error err = {0};
        bool created = false;
        struct alloc_request rq;
        snprintf(svc, sizeof(svc), "m%d-s%d", m->id, i);
        rq_init(&rq);
        int rc = store_allocation_put(st, "test", "c1", "mix", svc, &rq, -1, &a, &created, &err);
        allocation_free(a);
        a = NULL;
        if (rc == 0) {
            rq.pool = xstrdup("tiny"); /* full: releases the blue address, then refuses */
            rc = store_allocation_put(st, "test", "c1", "mix", svc, &rq, -1, &a, &created, &err);
            if (rc != ERR_CONFLICT || strcmp(err.reason, "out_of_ips") != 0)
                m->failures++;
            allocation_free(a);
            if (i % 3 == 0 && store_allocation_delete(st, "test", "c1", "mix", svc, -1, &err) != 0)
                m->failures++;
        } else if (rc != ERR_CONFLICT) {
            m->failures++;
        }
        alloc_request_cleanup(&rq);
    }
    return NULL;
}

Test(race, refusals_in_a_shared_transaction_roll_back_only_themselves)
{
    pool_create_ok(pool_new("tiny", "10.9.0.1", NULL));
    struct alloc_request rq;
    rq_init(&rq);
    rq.pool = xstrdup("tiny");
    struct allocation *a = put_ok("c1", "ns", "tiny-holder", &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);

    static struct mixer m[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        m[i].id = i;
        cr_assert_eq(pthread_create(&t[i], NULL, mix, &m[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(m[i].failures, 0, "thread %d saw %d unexpected results", i, m[i].failures);

    /* every surviving allocation holds one distinct blue address, and the counters agree */
    struct allocation_list l;
    struct error err = {0};
    struct allocation_filter f = {.namespace = "mix"};
    struct store_page page = {.limit = 1000};
    cr_assert_eq(store_allocation_list(st, &f, &page, &l, &err), 0);
    static u128 seen[THREADS * 12];
    for (size_t i = 0; i < l.n; i++) {
        cr_assert_eq(l.items[i]->naddrs, 1);
        cr_assert_str_eq(l.items[i]->addrs[0].pool, "blue");
        seen[i] = l.items[i]->addrs[0].ip.v;
        cr_assert_eq(address_state(ipstr(&l.items[i]->addrs[0].ip), NULL), ADDRESS_ALLOCATED);
    }
    qsort(seen, l.n, sizeof(seen[0]), cmp_u128);
    for (size_t i = 1; i < l.n; i++)
        cr_assert_neq(seen[i], seen[i - 1]);
    char want[16];
    snprintf(want, sizeof(want), "%zu", l.n + 12);
    struct pool *p = pool_get_ok("blue");
    count_is(p->v4.used, want, "blue used");
    pool_free(p);
    struct cluster *c = NULL;
    cr_assert_eq(store_cluster_get(st, "c1", &c, &err), 0);
    cr_assert_eq(c->allocations, (int64_t)l.n + 13);
    cluster_free(c);
    allocation_list_cleanup(&l);
}
