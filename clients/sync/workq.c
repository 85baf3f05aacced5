#include "clients/sync/workq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/sync/backoff.h"
#include "clients/sync/strmap.h"
#include "lib/xalloc.h"

struct item {
    char *key;
    double due;
    unsigned flags;
    unsigned gen;   /* heap entries with another gen are stale */
    int queued;     /* has a live heap entry */
    int processing; /* handed to a worker */
    int again;      /* added while processing: queue again at done */
};

struct heap_entry {
    double due;
    unsigned gen;
    struct item *it;
};

struct workq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct strmap *items;
    struct heap_entry *heap;
    size_t n, cap;
    int shutdown;
};

struct workq *workq_new(void)
{
    struct workq *q = xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &attr);
    pthread_condattr_destroy(&attr);
    q->items = strmap_new();
    return q;
}

static void free_item(void *arg, const char *key, void *value)
{
    (void)arg, (void)key;
    struct item *it = value;
    free(it->key);
    free(it);
}

void workq_free(struct workq *q)
{
    if (!q)
        return;
    strmap_each(q->items, free_item, NULL);
    strmap_free(q->items);
    free(q->heap);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static void heap_push(struct workq *q, struct item *it)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 256;
        q->heap = xrealloc(q->heap, q->cap * sizeof(*q->heap));
    }
    size_t i = q->n++;
    struct heap_entry e = {.due = it->due, .gen = it->gen, .it = it};
    while (i > 0 && q->heap[(i - 1) / 2].due > e.due) {
        q->heap[i] = q->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->heap[i] = e;
}

static void heap_pop(struct workq *q)
{
    struct heap_entry last = q->heap[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && q->heap[c + 1].due < q->heap[c].due)
            c++;
        if (q->heap[c].due >= last.due)
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    if (q->n > 0)
        q->heap[i] = last;
}

static void enqueue(struct workq *q, struct item *it, double due)
{
    if (it->queued && it->due <= due)
        return;
    it->due = due;
    it->gen++;
    it->queued = 1;
    heap_push(q, it);
    pthread_cond_signal(&q->cv);
}

void workq_add(struct workq *q, const char *key, double delay, unsigned flags)
{
    double due = mono_now() + delay;
    pthread_mutex_lock(&q->mu);
    if (q->shutdown)
        goto out;
    struct item *it = strmap_get(q->items, key);
    if (!it) {
        it = xcalloc(1, sizeof(*it));
        it->key = xstrdup(key);
        strmap_put(q->items, key, it);
    }
    it->flags |= flags;
    if (it->processing) {
        if (!it->again || due < it->due)
            it->due = due;
        it->again = 1;
        goto out;
    }
    enqueue(q, it, due);
out:
    pthread_mutex_unlock(&q->mu);
}

static void wait_until(struct workq *q, double due)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    double wait = due - now;
    if (wait > 1.0)
        wait = 1.0; /* re-check the heap at least once a second */
    if (wait < 0)
        wait = 0;
    time_t secs = (time_t)wait;
    ts.tv_sec += secs;
    ts.tv_nsec += (long)((wait - (double)secs) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&q->cv, &q->mu, &ts);
}

int workq_get(struct workq *q, char **key, unsigned *flags)
{
    int rc = -1;
    pthread_mutex_lock(&q->mu);
    while (!q->shutdown) {
        if (q->n == 0) {
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        struct heap_entry top = q->heap[0];
        if (top.gen != top.it->gen || !top.it->queued) {
            heap_pop(q);
            continue;
        }
        if (top.due > mono_now()) {
            wait_until(q, top.due);
            continue;
        }
        heap_pop(q);
        struct item *it = top.it;
        it->queued = 0;
        it->processing = 1;
        *key = xstrdup(it->key);
        *flags = it->flags;
        it->flags = 0;
        rc = 0;
        break;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void workq_done(struct workq *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    struct item *it = strmap_get(q->items, key);
    if (!it)
        goto out;
    it->processing = 0;
    if (it->again && !q->shutdown) {
        it->again = 0;
        double due = it->due;
        it->queued = 0;
        enqueue(q, it, due);
        goto out;
    }
    if (!it->queued) { /* idle keys are forgotten so the map does not grow forever */
        strmap_del(q->items, key);
        free(it->key);
        free(it);
    }
out:
    pthread_mutex_unlock(&q->mu);
}

void workq_shutdown(struct workq *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutdown = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

size_t workq_len(struct workq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = strmap_count(q->items);
    pthread_mutex_unlock(&q->mu);
    return n;
}
