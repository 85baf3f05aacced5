/* test_store_events.c - the store's event feed: events commit with their change (a refused
 * write leaves none), waiters wake on commit, retention purges by age, tokens keep hashes.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "test_store_fixture.h"

static void retention_setup(void)
{
    struct error err = {0};
    fixture_dir();
    struct store_options o = {.path = dbpath, .event_retention_ms = 1000};
    cr_assert_eq(store_open(&st, &o, &err), 0, "store_open: %s", err.detail);
}

TestSuite(events, .init = store_setup, .fini = store_teardown);
TestSuite(retention, .init = retention_setup, .fini = store_teardown);

static size_t count_events(void)
{
    struct event_list l;
    struct error err;
    cr_assert_eq(store_events_list(st, 0, 1000, &l, &err), 0, "%s", err.detail);
    size_t n = l.n;
    event_list_cleanup(&l);
    return n;
}

Test(events, a_refused_write_appends_no_event)
{
    cluster_create_ok("c1", NULL, NULL);
    size_t before = count_events();
    struct cluster c = {0};
    struct cluster *out = NULL;
    struct error err;
    snprintf(c.name, sizeof(c.name), "c1");
    c.description = "";
    labels_init(&c.labels);
    cr_assert_eq(store_cluster_create(st, "test", &c, &out, &err), ERR_CONFLICT);
    cr_assert_eq(store_cluster_delete(st, "test", "nope", -1, &err), ERR_NOTFOUND);
    cr_assert_eq(count_events(), before);
    cr_assert_eq(store_events_last(st), (int64_t)before);
}

Test(events, a_waiter_wakes_on_commit_and_times_out_otherwise)
{
    int64_t last = store_events_last(st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(store_events_wait(st, last, 200), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert(ms >= 190, "returned after %.0f ms", ms);
    cluster_create_ok("c1", NULL, NULL);
    cr_assert_eq(store_events_wait(st, last, 5000), 1);
    cr_assert_eq(store_events_last(st), last + 1);
    store_events_interrupt(st);
    cr_assert_eq(store_events_wait(st, last + 1, 5000), 0); /* at once */
}

Test(retention, events_older_than_the_retention_are_purged)
{
    cluster_create_ok("c1", NULL, NULL);
    cr_assert_eq(count_events(), 1);
    /* purged by the writer within a tick of 1 s after they are 1 s old */
    struct timespec pause = {.tv_sec = 2, .tv_nsec = 600 * 1000000L};
    nanosleep(&pause, NULL);
    cr_assert_eq(count_events(), 0);
    /* seq is never reused after a purge */
    int64_t last = store_events_last(st);
    cluster_create_ok("c2", NULL, NULL);
    cr_assert_eq(store_events_last(st), last + 1);
}

Test(events, tokens_are_stored_by_hash_and_revoked_by_name)
{
    struct token_info t = {0}, got;
    struct error err;
    bool created = false;
    snprintf(t.name, sizeof(t.name), "ci");
    memset(t.hash, 'a', 64);
    t.role = TOKEN_OPERATOR;
    cr_assert_eq(store_token_create_first(st, "test", &t, &created, &err), 0, "%s", err.detail);
    cr_assert(created);
    snprintf(t.name, sizeof(t.name), "second");
    memset(t.hash, 'b', 64);
    cr_assert_eq(store_token_create_first(st, "test", &t, &created, &err), 0);
    cr_assert_not(created, "create_first creates only into an empty table");
    cr_assert_eq(
        store_token_lookup(st, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                           &got, &err),
        1);
    cr_assert_str_eq(got.name, "ci");
    cr_assert_eq(got.role, TOKEN_OPERATOR);
    cr_assert_eq(store_token_delete(st, "test", "ci", &err), 0);
    cr_assert_eq(
        store_token_lookup(st, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                           &got, &err),
        0);
    cr_assert_eq(store_token_delete(st, "test", "ci", &err), ERR_NOTFOUND);
}
