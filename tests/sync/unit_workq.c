/* The work queue: dedupe, delays, no key handed out twice at once. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clients/sync/backoff.h"
#include "clients/sync/workq.h"

Test(workq, duplicate_adds_collapse_and_flags_merge)
{
    struct workq *q = workq_new();
    workq_add(q, "a", 0, 0);
    workq_add(q, "a", 0, WORKQ_FORCE);
    workq_add(q, "b", 0, 0);
    cr_assert_eq(workq_len(q), 2);
    char *k;
    unsigned f;
    cr_assert_eq(workq_get(q, &k, &f), 0);
    cr_assert_str_eq(k, "a");
    cr_assert_eq(f, WORKQ_FORCE);
    workq_done(q, k);
    free(k);
    cr_assert_eq(workq_get(q, &k, &f), 0);
    cr_assert_str_eq(k, "b");
    workq_done(q, k);
    free(k);
    cr_assert_eq(workq_len(q), 0);
    workq_free(q);
}

Test(workq, key_added_while_processing_comes_back_after_done)
{
    struct workq *q = workq_new();
    workq_add(q, "a", 0, 0);
    char *k;
    unsigned f;
    cr_assert_eq(workq_get(q, &k, &f), 0);
    workq_add(q, "a", 0, WORKQ_FORCE);
    workq_add(q, "z", 0.05, 0);
    /* "a" is held: the next key handed out is "z", after its delay */
    char *k2;
    double t0 = mono_now();
    cr_assert_eq(workq_get(q, &k2, &f), 0);
    cr_assert_str_eq(k2, "z");
    cr_assert_geq(mono_now() - t0, 0.04);
    workq_done(q, k);
    free(k);
    cr_assert_eq(workq_get(q, &k, &f), 0);
    cr_assert_str_eq(k, "a");
    cr_assert_eq(f, WORKQ_FORCE);
    workq_done(q, k);
    workq_done(q, k2);
    free(k), free(k2);
    workq_shutdown(q);
    cr_assert_eq(workq_get(q, &k, &f), -1);
    workq_free(q);
}

Test(workq, earlier_add_moves_the_due_time_forward)
{
    struct workq *q = workq_new();
    workq_add(q, "a", 30, 0);
    workq_add(q, "a", 0, 0);
    char *k;
    unsigned f;
    double t0 = mono_now();
    cr_assert_eq(workq_get(q, &k, &f), 0);
    cr_assert_lt(mono_now() - t0, 1.0);
    workq_done(q, k);
    free(k);
    workq_free(q);
}

Test(backoff, doubles_to_thirty_seconds_with_jitter_and_honours_retry_after)
{
    cr_assert_geq(backoff_delay(1), 0.8);
    cr_assert_leq(backoff_delay(1), 1.0);
    cr_assert_geq(backoff_delay(2), 1.6);
    cr_assert_geq(backoff_delay(20), 30.0);
    cr_assert_leq(backoff_delay(20), 37.5);
    struct backoff b;
    backoff_init(&b);
    cr_assert_geq(backoff_fail(&b, 0, 7), 7.0);
    cr_assert_geq(backoff_fail(&b, 1, -1), 1.6);
    backoff_ok(&b, 2);
    backoff_ok(&b, 200); /* two minutes healthy */
    cr_assert_leq(backoff_fail(&b, 201, -1), 1.0);
}
