/* probes.c - the probe scheduler: a bounded pool of worker threads that runs the probes of
 * reachability checks (api.md §6), and the periodic checks of clusters with
 * checkIntervalSeconds.
 *
 * HTTP threads never probe: api/checks.c stores a pending check and submits it here, which
 * queues one item per (address, probe). Workers take items in order, so the probes of one
 * check run concurrently when workers are free; each probe is bounded by the check's timeout
 * (clients/probe). The worker that completes a check's last probe records every result and
 * the final state in one store write, then wakes whoever waits for it (Prefer: wait=N).
 * Stopping finishes what is still queued as failed ("lbipamd is stopping") so that no check
 * is left pending by a clean stop; a crash leaves some, which the next start fails.
 */
#include "server/server_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/probe/probe.h"
#include "lib/log.h"
#include "server/metrics.h"
#include "lib/xalloc.h"
#include "store/store.h"

#define PROBES_THREADS 32
#define PROBES_QUEUE_MAX 20000 /* queued probes; beyond this a check fails at once */
#define SCHEDULER_ACTOR "lbipamd-scheduler"
#define SCHEDULER_TICK_MS 1000

/* One check in flight. `ck` is the scheduler's own copy; each result slot is written by the
 * one worker that ran that probe, `remaining` under the lock. */
struct probe_job {
    struct check *ck;
    char *actor;
    size_t remaining;
    bool started;
    struct probe_job *next; /* the active list, for wait() */
};

struct probe_item {
    struct probe_job *job;
    size_t index;
    struct probe_item *next;
};

struct due {
    char cluster[STORE_NAME_MAX];
    int64_t at_ms;
};

struct probes {
    struct store *st;
    struct api_prober iface;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* items queued, or stopping */
    pthread_cond_t finished; /* a check finished, or quiescing */
    pthread_cond_t tick;     /* the scheduler's sleep */
    struct probe_item *head, *tail;
    size_t queued;
    struct probe_job *active;
    bool quiescing, stopping;
    size_t nthreads;
    pthread_t threads[PROBES_THREADS];
    bool sched_started;
    pthread_t sched;
    size_t ndue;
    struct due *due;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void job_free(struct probe_job *j)
{
    if (!j)
        return;
    check_free(j->ck);
    free(j->actor);
    free(j);
}

/* Passed when every probe ran and succeeded: the rule store_check_finish records. */
static bool job_passed(const struct check *ck)
{
    for (size_t i = 0; i < ck->nresults; i++)
        if (!ck->results[i].ok)
            return false;
    return true;
}

/* Records the results; the job leaves the active list and waiters wake. */
static void job_finish(struct probes *p, struct probe_job *j)
{
    struct error err;
    error_clear(&err);
    if (store_check_finish(p->st, j->actor, j->ck, &err) == 0) {
        metrics_check_finished(job_passed(j->ck));
    } else {
        char id[24];
        snprintf(id, sizeof(id), "%" PRId64, j->ck->id);
        log_fields(LOG_ERROR, "cannot record a check", "check", id, "reason", err.reason, "detail",
                   err.detail, NULL);
    }
    pthread_mutex_lock(&p->mu);
    for (struct probe_job **pp = &p->active; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    }
    pthread_cond_broadcast(&p->finished);
    pthread_mutex_unlock(&p->mu);
    job_free(j);
}

static void result_error(struct check_result *r, const char *text)
{
    r->done = true;
    r->ok = false;
    free(r->error);
    r->error = xstrdup(text);
}

static void run_one(struct probes *p, struct probe_job *j, size_t index, bool cancel)
{
    struct check_result *r = &j->ck->results[index];
    struct probe_spec spec = {.ip = r->ip,
                              .port = r->probe.port,
                              .path = r->probe.path,
                              .expect_status = r->probe.expect_status,
                              .timeout_ms = j->ck->timeout_ms};
    struct probe_outcome o;
    struct error err;
    bool first;

    if (cancel) {
        result_error(r, "not run: lbipamd is stopping");
        return;
    }
    if (probe_type_parse(&spec.type, r->probe.type) < 0) {
        result_error(r, "unknown probe type");
        return;
    }
    pthread_mutex_lock(&p->mu);
    first = !j->started;
    j->started = true;
    pthread_mutex_unlock(&p->mu);
    if (first && store_check_start(p->st, j->actor, j->ck->id, &err) < 0)
        log_fields(LOG_WARN, "cannot mark a check running", "detail", err.detail, NULL);
    probe_run(&spec, &o);
    r->done = true;
    r->ok = o.ok;
    r->latency_us = o.latency_us;
    if (!o.ok)
        result_error(r, o.error);
}

static void *worker_main(void *arg)
{
    struct probes *p = arg;

    for (;;) {
        struct probe_item *it;
        bool cancel, last;
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        it = p->head;
        if (!it) {
            pthread_mutex_unlock(&p->mu);
            break; /* stopping and nothing left */
        }
        p->head = it->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        cancel = p->stopping;
        pthread_mutex_unlock(&p->mu);

        run_one(p, it->job, it->index, cancel);
        pthread_mutex_lock(&p->mu);
        last = --it->job->remaining == 0;
        pthread_mutex_unlock(&p->mu);
        if (last)
            job_finish(p, it->job);
        free(it);
    }
    return NULL;
}

/* ------------------------------------------------------------------------- submit, wait */

static int probes_submit(void *ctx, const struct check *c, const char *actor, struct error *err)
{
    struct probes *p = ctx;
    struct probe_job *j = xcalloc(1, sizeof(*j));
    bool full;
    size_t n; /* once queued, j may be finished and freed by a worker at any time */
    /* Our own copy, read back from the store: the caller frees its check when it replies. */
    int rc = store_check_get(p->st, c->id, &j->ck, err);
    if (rc < 0) {
        job_free(j);
        return rc;
    }
    j->actor = xstrdup(actor ? actor : "");
    n = j->remaining = j->ck->nresults;
    pthread_mutex_lock(&p->mu);
    full = p->quiescing || p->queued + n > PROBES_QUEUE_MAX;
    j->next = p->active;
    p->active = j;
    if (!full) {
        for (size_t i = 0; i < n; i++) {
            struct probe_item *it = xcalloc(1, sizeof(*it));
            it->job = j;
            it->index = i;
            if (p->tail)
                p->tail->next = it;
            else
                p->head = it;
            p->tail = it;
        }
        p->queued += n;
        pthread_cond_broadcast(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
    if (full) {
        /* Refusing after the check exists would leave it pending forever: it fails instead,
         * and says why. */
        for (size_t i = 0; i < n; i++)
            result_error(&j->ck->results[i], p->quiescing ? "not run: lbipamd is stopping"
                                                          : "not run: the probe queue is full");
        job_finish(p, j);
    } else if (n == 0) {
        job_finish(p, j);
    }
    return 0;
}

static bool is_active(const struct probes *p, int64_t id)
{
    for (const struct probe_job *j = p->active; j; j = j->next) {
        if (j->ck->id == id)
            return true;
    }
    return false;
}

static void probes_wait(void *ctx, int64_t id, int timeout_ms)
{
    struct probes *p = ctx;
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->quiescing && is_active(p, id)) {
        if (pthread_cond_timedwait(&p->finished, &p->mu, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---------------------------------------------------------------------- periodic checks */

/* True when cluster is due now; then its next time is set. */
static bool cluster_due(struct probes *p, const struct cluster *c, int64_t now)
{
    struct due *d = NULL;
    for (size_t i = 0; i < p->ndue; i++) {
        if (strcmp(p->due[i].cluster, c->name) == 0)
            d = &p->due[i];
    }
    if (!d) {
        p->due = xrealloc(p->due, (p->ndue + 1) * sizeof(*p->due));
        d = &p->due[p->ndue++];
        snprintf(d->cluster, sizeof(d->cluster), "%s", c->name);
        d->at_ms = now; /* a newly seen cluster is checked at once */
    }
    if (now < d->at_ms)
        return false;
    d->at_ms = now + c->check_interval_s * 1000;
    return true;
}

static void check_allocation(struct probes *p, const struct allocation *a)
{
    struct check_request rq = {
        .target_allocation = true, .timeout_ms = CHECK_TIMEOUT_DEFAULT_MS, .periodic = true};
    struct check *ck = NULL;
    struct error err;

    snprintf(rq.cluster, sizeof(rq.cluster), "%s", a->cluster);
    snprintf(rq.namespace, sizeof(rq.namespace), "%s", a->namespace);
    snprintf(rq.service, sizeof(rq.service), "%s", a->service);
    error_clear(&err);
    if (store_check_create(p->st, SCHEDULER_ACTOR, &rq, &ck, &err) < 0 ||
        probes_submit(p, ck, SCHEDULER_ACTOR, &err) < 0)
        log_fields(LOG_WARN, "periodic check not made", "cluster", a->cluster, "namespace",
                   a->namespace, "service", a->service, "detail", err.detail, NULL);
    check_free(ck);
}

static void check_cluster(struct probes *p, const char *cluster)
{
    struct allocation_filter f = {.cluster = cluster};
    char after[STORE_CURSOR_MAX] = "";
    struct error err;

    do {
        struct store_page page = {.after = after, .limit = 1000};
        struct allocation_list l = {0};
        if (store_allocation_list(p->st, &f, &page, &l, &err) < 0) {
            log_fields(LOG_WARN, "periodic checks: cannot list allocations", "cluster", cluster,
                       "detail", err.detail, NULL);
            break;
        }
        for (size_t i = 0; i < l.n; i++) {
            if (l.items[i]->naddrs > 0)
                check_allocation(p, l.items[i]);
        }
        snprintf(after, sizeof(after), "%s", l.next);
        allocation_list_cleanup(&l);
    } while (after[0]);
}

static void scheduler_tick(struct probes *p)
{
    char after[STORE_CURSOR_MAX] = "";
    int64_t now = mono_ms();
    struct error err;

    do {
        struct store_page page = {.after = after, .limit = 1000};
        struct cluster_list l = {0};
        if (store_cluster_list(p->st, &page, &l, &err) < 0)
            break;
        for (size_t i = 0; i < l.n; i++) {
            if (l.items[i]->check_interval_s > 0 && cluster_due(p, l.items[i], now))
                check_cluster(p, l.items[i]->name);
        }
        snprintf(after, sizeof(after), "%s", l.next);
        cluster_list_cleanup(&l);
    } while (after[0]);
}

static void *scheduler_main(void *arg)
{
    struct probes *p = arg;

    pthread_mutex_lock(&p->mu);
    while (!p->quiescing) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += SCHEDULER_TICK_MS / 1000;
        pthread_cond_timedwait(&p->tick, &p->mu, &deadline);
        if (p->quiescing)
            break;
        pthread_mutex_unlock(&p->mu);
        scheduler_tick(p);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ------------------------------------------------------------------------ start, stop */

int probes_start(struct probes **out, struct store *st, struct error *err)
{
    struct probes *p = xcalloc(1, sizeof(*p));
    int64_t abandoned = 0;
    int rc = 0;

    *out = NULL;
    probe_global_init();
    p->st = st;
    p->iface = (struct api_prober){.ctx = p, .submit = probes_submit, .wait = probes_wait};
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->finished, NULL);
    pthread_cond_init(&p->tick, NULL);
    /* Checks a previous process left unfinished can never finish now. */
    rc = store_check_abandon(st, "lbipamd", &abandoned, err);
    if (rc == ERR_UNAVAILABLE) {
        /* a read-only or full database still serves reads; the marking waits for a restart */
        log_fields(LOG_WARN, "cannot mark unfinished checks failed", "detail",
                   err ? err->detail : "", NULL);
        rc = 0;
    }
    if (rc == 0 && abandoned > 0)
        log_msg(LOG_WARN, "%" PRId64 " unfinished checks of a previous run marked failed",
                abandoned);
    for (size_t i = 0; rc == 0 && i < PROBES_THREADS; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
            rc = error_set(err, ERR_INTERNAL, "internal", NULL, "cannot start probe workers");
        else
            p->nthreads++;
    }
    if (rc == 0) {
        if (pthread_create(&p->sched, NULL, scheduler_main, p) != 0)
            rc = error_set(err, ERR_INTERNAL, "internal", NULL, "cannot start the scheduler");
        else
            p->sched_started = true;
    }
    if (rc < 0) {
        probes_stop(p);
        return rc;
    }
    *out = p;
    return 0;
}

const struct api_prober *probes_iface(const struct probes *p)
{
    return p ? &p->iface : NULL;
}

void probes_quiesce(struct probes *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quiescing = true;
    pthread_cond_broadcast(&p->finished);
    pthread_cond_broadcast(&p->tick);
    pthread_mutex_unlock(&p->mu);
}

void probes_stop(struct probes *p)
{
    if (!p)
        return;
    probes_quiesce(p);
    if (p->sched_started)
        pthread_join(p->sched, NULL);
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->finished);
    pthread_cond_destroy(&p->tick);
    pthread_mutex_destroy(&p->mu);
    free(p->due);
    free(p);
}
