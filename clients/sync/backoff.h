/* backoff.h - retry delays: 0.8 s doubling to 30 s, with jitter, reset after 2 minutes healthy.
 *
 * Used for the watch loop (one backoff) and for each Service the worker has to retry (a
 * failure count kept beside the Service). Jitter spreads the retries of thousands of Services
 * that failed together so they do not come back as one burst. Times are monotonic seconds.
 */
#ifndef LBIPAM_BACKOFF_H
#define LBIPAM_BACKOFF_H

#define BACKOFF_INITIAL 0.8
#define BACKOFF_MAX 30.0
#define BACKOFF_HEALTHY_RESET 120.0

struct backoff {
    int failures;    /* consecutive failures since the last reset */
    double ok_since; /* when the current healthy stretch began, < 0 when failing */
};

/* Seconds on the monotonic clock. */
double mono_now(void);

/* The delay for the n-th consecutive failure (n >= 1), jittered to +0..25 %. */
double backoff_delay(int failures);

void backoff_init(struct backoff *b);
/* Records a failure; returns the seconds to wait, at least retry_after when it is >= 0. */
double backoff_fail(struct backoff *b, double now, long retry_after);
/* Records success; after BACKOFF_HEALTHY_RESET seconds of it the failure count resets. */
void backoff_ok(struct backoff *b, double now);

#endif
