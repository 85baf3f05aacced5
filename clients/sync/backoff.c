#include "clients/sync/backoff.h"

#include <stdlib.h>
#include <time.h>

double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Jitter only needs to decorrelate workers, not to be unpredictable: a per-thread LCG seeded
 * from the clock avoids rand()'s hidden global state. */
static double jitter_unit(void)
{
    static _Thread_local unsigned long long state;
    if (state == 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        state = ((unsigned long long)t.tv_nsec << 1) ^ (unsigned long long)(size_t)&state;
        state |= 1;
    }
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(state >> 11) / 9007199254740992.0; /* [0, 1) */
}

double backoff_delay(int failures)
{
    double d = BACKOFF_INITIAL;
    for (int i = 1; i < failures && d < BACKOFF_MAX; i++)
        d *= 2;
    if (d > BACKOFF_MAX)
        d = BACKOFF_MAX;
    return d * (1.0 + 0.25 * jitter_unit());
}

void backoff_init(struct backoff *b)
{
    b->failures = 0;
    b->ok_since = -1;
}

double backoff_fail(struct backoff *b, double now, long retry_after)
{
    if (b->ok_since >= 0 && now - b->ok_since >= BACKOFF_HEALTHY_RESET)
        b->failures = 0;
    b->ok_since = -1;
    b->failures++;
    double d = backoff_delay(b->failures);
    if (retry_after >= 0 && d < (double)retry_after)
        d = (double)retry_after;
    return d;
}

void backoff_ok(struct backoff *b, double now)
{
    if (b->ok_since < 0)
        b->ok_since = now;
    if (now - b->ok_since >= BACKOFF_HEALTHY_RESET)
        b->failures = 0;
}
