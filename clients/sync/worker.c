#include "clients/sync/worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/sync/backoff.h"
#include "clients/sync/patch.h"
#include "clients/sync/strmap.h"
#include "clients/sync/workq.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define SERVICES_PATH "/api/v1/services"
#define GC_KEY "\001gc" /* cannot collide with "namespace/name" */
#define WATCH_TIMEOUT_MIN 300
#define WATCH_TIMEOUT_MAX 600
#define CONFLICT_RETRIES 5
#define KEY_MAX 256

#define STAT_INC(w, field) atomic_fetch_add(&(w)->stats.field, 1)

/* What the cache knows of one Service. Guarded by worker.mu. */
struct entry {
    json_t *obj;  /* latest object seen (never mutated: shared read-only with workers) */
    bool deleted; /* gone from the API server; kept until a worker has released it */
    int fails;    /* consecutive failed reconciles, for the retry backoff */
    /* The last answer of central and the request (without preferredIPs) it answered: an event
     * that does not change the request (our own status write, say) needs no new PUT. */
    char *memo_req;
    struct outcome memo;
};

struct worker {
    struct kube *k;
    struct central *ce;
    struct sync_options opts;
    struct workq *q;
    pthread_mutex_t mu;
    struct strmap *cache; /* "ns/name" -> struct entry */
    atomic_int stopping;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    struct sync_stats stats;
};

/* Per reconcile thread: its own connections. */
struct thread_ctx {
    struct worker *w;
    struct kube_conn *kc;
    struct central_conn *cc;
};

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    json_decref(e->obj);
    free(e->memo_req);
    outcome_cleanup(&e->memo);
    free(e);
}

static void free_entry_cb(void *arg, const char *key, void *value)
{
    (void)arg, (void)key;
    entry_free(value);
}

struct worker *worker_new(struct kube *k, struct central *ce, const struct sync_options *opts)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    w->k = k;
    w->ce = ce;
    w->opts = *opts;
    if (w->opts.resync_seconds <= 0)
        w->opts.resync_seconds = 300;
    if (w->opts.workers <= 0)
        w->opts.workers = 4;
    w->q = workq_new();
    w->cache = strmap_new();
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->stop_mu, NULL);
    pthread_cond_init(&w->stop_cv, NULL);
    return w;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    strmap_each(w->cache, free_entry_cb, NULL);
    strmap_free(w->cache);
    workq_free(w->q);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->stop_mu);
    pthread_cond_destroy(&w->stop_cv);
    free(w);
}

struct sync_stats *worker_stats(struct worker *w)
{
    return &w->stats;
}

void worker_stop(struct worker *w)
{
    pthread_mutex_lock(&w->stop_mu);
    atomic_store(&w->stopping, 1);
    pthread_cond_broadcast(&w->stop_cv);
    pthread_mutex_unlock(&w->stop_mu);
    workq_shutdown(w->q);
}

static bool stopping(struct worker *w)
{
    return atomic_load(&w->stopping) != 0;
}

/* Sleeps up to secs, returning early when the worker stops. */
static void nap(struct worker *w, double secs)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(secs * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_mutex_lock(&w->stop_mu);
    while (!stopping(w)) {
        if (pthread_cond_timedwait(&w->stop_cv, &w->stop_mu, &ts) != 0)
            break;
    }
    pthread_mutex_unlock(&w->stop_mu);
}

static void key_of(char out[KEY_MAX], json_t *obj)
{
    snprintf(out, KEY_MAX, "%s/%s", svc_namespace(obj), svc_name(obj));
}

static void log_err(enum log_level lvl, const char *msg, const char *key, const struct error *e)
{
    log_fields(lvl, msg, "service", key, "reason", e->reason, "detail", e->detail, NULL);
}

/* ---- cache updates (watcher thread) ---- */

static void cache_set(struct worker *w, json_t *obj, bool deleted, unsigned flags)
{
    char key[KEY_MAX];
    key_of(key, obj);
    pthread_mutex_lock(&w->mu);
    struct entry *e = strmap_get(w->cache, key);
    if (!e) {
        if (deleted) { /* never seen alive: nothing of ours can be on it */
            pthread_mutex_unlock(&w->mu);
            return;
        }
        e = xcalloc(1, sizeof(*e));
        strmap_put(w->cache, key, e);
    }
    json_incref(obj);
    json_decref(e->obj);
    e->obj = obj;
    e->deleted = deleted;
    atomic_store(&w->stats.services, (long)strmap_count(w->cache));
    pthread_mutex_unlock(&w->mu);
    workq_add(w->q, key, 0, flags);
}

/* ---- reconcile (worker threads) ---- */

/* What a reconcile takes from the cache, so it works without holding the lock. */
struct snapshot {
    json_t *obj;
    bool deleted;
    char *memo_req;
    struct outcome memo;
    int fails;
};

static bool snapshot_take(struct worker *w, const char *key, struct snapshot *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&w->mu);
    struct entry *e = strmap_get(w->cache, key);
    if (e) {
        s->obj = json_incref(e->obj);
        s->deleted = e->deleted;
        s->memo_req = xstrdup(e->memo_req);
        outcome_copy(&s->memo, &e->memo);
        s->fails = e->fails;
    }
    pthread_mutex_unlock(&w->mu);
    return e != NULL;
}

static void snapshot_cleanup(struct snapshot *s)
{
    json_decref(s->obj);
    free(s->memo_req);
    outcome_cleanup(&s->memo);
}

static void memo_store(struct worker *w, const char *key, const char *req, const struct outcome *o)
{
    pthread_mutex_lock(&w->mu);
    struct entry *e = strmap_get(w->cache, key);
    if (e) {
        free(e->memo_req);
        outcome_cleanup(&e->memo);
        e->memo_req = req ? xstrdup(req) : NULL;
        if (o)
            outcome_copy(&e->memo, o);
    }
    pthread_mutex_unlock(&w->mu);
}

/* Records the result of a reconcile; a failure schedules a forced retry with backoff. */
static void finish(struct worker *w, const char *key, bool failed, long retry_after)
{
    int fails = 0;
    pthread_mutex_lock(&w->mu);
    struct entry *e = strmap_get(w->cache, key);
    if (e) {
        e->fails = failed ? e->fails + 1 : 0;
        fails = e->fails;
    }
    pthread_mutex_unlock(&w->mu);
    if (!failed || !e)
        return;
    double d = backoff_delay(fails);
    if (retry_after >= 0 && d < (double)retry_after)
        d = (double)retry_after;
    workq_add(w->q, key, d, WORKQ_FORCE);
}

/* Drops the cache entry of a Service that is gone, unless it came back meanwhile. */
static void forget_deleted(struct worker *w, const char *key)
{
    pthread_mutex_lock(&w->mu);
    struct entry *e = strmap_get(w->cache, key);
    if (e && e->deleted) {
        strmap_del(w->cache, key);
        entry_free(e);
    }
    atomic_store(&w->stats.services, (long)strmap_count(w->cache));
    pthread_mutex_unlock(&w->mu);
}

static char *service_path(json_t *svc, const char *suffix)
{
    char *ns = http_escape(svc_namespace(svc)), *name = http_escape(svc_name(svc));
    char *p = xasprintf("/api/v1/namespaces/%s/services/%s%s", ns, name, suffix);
    free(ns);
    free(name);
    return p;
}

/* Sends one PATCH; *fresh gets the object the API server answered with (owned) on 200.
 * Returns 0, ERR_CONFLICT (409), ERR_NOTFOUND (404), or ERR_UNAVAILABLE. */
static int kube_patch(struct thread_ctx *t, json_t *svc, const char *suffix, const char *ctype,
                      json_t *patch, json_t **fresh, long *retry_after, struct error *err)
{
    int rc = 0;
    char *path = service_path(svc, suffix);
    char *body = json_dumps(patch, JSON_COMPACT);
    struct http_resp resp;
    *fresh = NULL;
    rc = kube_call(t->kc, "PATCH", path, ctype, body, &resp, err);
    *retry_after = resp.retry_after;
    if (rc < 0)
        goto out;
    if (resp.status == 200) {
        *fresh = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
        goto out;
    }
    if (resp.status == 409)
        rc = error_set(err, ERR_CONFLICT, "kube_conflict", NULL, "PATCH %s: 409", path);
    else if (resp.status == 404)
        rc = error_set(err, ERR_NOTFOUND, "kube_notfound", NULL, "PATCH %s: 404", path);
    else
        rc = error_set(err, ERR_UNAVAILABLE, "kube_status", NULL, "PATCH %s: HTTP %ld: %.200s",
                       path, resp.status, resp.body ? resp.body : "");
out:
    if (rc < 0)
        STAT_INC(t->w, kube_errors);
    http_resp_cleanup(&resp);
    free(body);
    free(path);
    return rc;
}

static int kube_get(struct thread_ctx *t, json_t *svc, json_t **out, long *retry_after,
                    struct error *err)
{
    char *path = service_path(svc, "");
    struct http_resp resp;
    *out = NULL;
    STAT_INC(t->w, kube_gets);
    int rc = kube_call(t->kc, "GET", path, NULL, NULL, &resp, err);
    *retry_after = resp.retry_after;
    if (rc == 0 && resp.status == 404)
        rc = error_set(err, ERR_NOTFOUND, "kube_notfound", NULL, "GET %s: 404", path);
    else if (rc == 0 && resp.status != 200)
        rc = error_set(err, ERR_UNAVAILABLE, "kube_status", NULL, "GET %s: HTTP %ld", path,
                       resp.status);
    else if (rc == 0)
        *out = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
    if (rc == 0 && !*out)
        rc = error_set(err, ERR_UNAVAILABLE, "kube_bad_reply", NULL, "GET %s: bad JSON", path);
    http_resp_cleanup(&resp);
    free(path);
    return rc;
}

/* Adds or removes our finalizer. *svc is replaced by the newest object seen. A 409 means
 * someone else wrote the Service since we read it: read again, recompute, retry. */
static int ensure_finalizer(struct thread_ctx *t, json_t **svc, bool want, long *retry_after,
                            struct error *err)
{
    int rc = 0;
    for (int attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
        json_t *patch = patch_finalizer(*svc, want);
        if (!patch)
            return 0;
        json_t *fresh = NULL;
        STAT_INC(t->w, kube_finalizer_patches);
        rc = kube_patch(t, *svc, "", "application/merge-patch+json", patch, &fresh, retry_after,
                        err);
        json_decref(patch);
        if (rc == 0 && fresh) {
            json_decref(*svc);
            *svc = fresh;
            return 0;
        }
        json_decref(fresh);
        if (rc != ERR_CONFLICT)
            return rc;
        rc = kube_get(t, *svc, &fresh, retry_after, err);
        if (rc < 0)
            return rc;
        json_decref(*svc);
        *svc = fresh;
    }
    return rc;
}

static int write_status(struct thread_ctx *t, json_t *svc, json_t *patch, long *retry_after,
                        struct error *err)
{
    json_t *fresh = NULL;
    STAT_INC(t->w, kube_status_patches);
    int rc = kube_patch(t, svc, "/status", "application/strategic-merge-patch+json", patch, &fresh,
                        retry_after, err);
    json_decref(fresh);
    return rc;
}

/* Releases at central. Counts and logs; 0 or ERR_UNAVAILABLE. */
static int release(struct thread_ctx *t, const char *ns, const char *name, long *retry_after,
                   struct error *err)
{
    STAT_INC(t->w, central_releases);
    int rc = central_release(t->cc, ns, name, retry_after, err);
    if (rc < 0)
        STAT_INC(t->w, central_errors);
    else
        log_fields(LOG_INFO, "released", "namespace", ns, "service", name, NULL);
    return rc;
}

/* A Service gone from the API server: release what it held, then forget it. */
static int reconcile_gone(struct thread_ctx *t, const char *key, struct snapshot *s,
                          long *retry_after, struct error *err)
{
    int rc = 0;
    if (svc_qualifies(s->obj, &t->w->opts.policy) || svc_has_finalizer(s->obj))
        rc = release(t, svc_namespace(s->obj), svc_name(s->obj), retry_after, err);
    if (rc == 0)
        forget_deleted(t->w, key);
    return rc;
}

/* deletionTimestamp set: release first, then let the Service go. */
static int reconcile_deleting(struct thread_ctx *t, struct snapshot *s, long *retry_after,
                              struct error *err)
{
    if (!svc_has_finalizer(s->obj))
        return 0;
    int rc = release(t, svc_namespace(s->obj), svc_name(s->obj), retry_after, err);
    if (rc < 0)
        return rc;
    rc = ensure_finalizer(t, &s->obj, false, retry_after, err);
    return rc == ERR_NOTFOUND ? 0 : rc;
}

/* A Service we handled that no longer qualifies: release, clean the status, drop the
 * finalizer. One we never touched (no finalizer, no condition) is left alone. */
static int reconcile_unqualified(struct thread_ctx *t, const char *key, struct snapshot *s,
                                 long *retry_after, struct error *err)
{
    int rc = 0;
    if (!svc_has_finalizer(s->obj) && !svc_condition(s->obj))
        return 0;
    rc = release(t, svc_namespace(s->obj), svc_name(s->obj), retry_after, err);
    if (rc < 0)
        return rc;
    memo_store(t->w, key, NULL, NULL);
    json_t *patch = patch_status_cleanup(s->obj);
    if (patch) {
        rc = write_status(t, s->obj, patch, retry_after, err);
        json_decref(patch);
        if (rc < 0)
            return rc == ERR_NOTFOUND ? 0 : rc;
    }
    rc = ensure_finalizer(t, &s->obj, false, retry_after, err);
    return rc == ERR_NOTFOUND ? 0 : rc;
}

/* The request without preferredIPs, canonical: what decides whether central must be asked. */
static char *request_memo_key(json_t *rq)
{
    json_t *copy = json_copy(rq);
    json_object_del(copy, "preferredIPs");
    char *s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    return s;
}

/* Asks central (or the memo) for the outcome. 0 with *o filled (refusals included), or
 * ERR_UNAVAILABLE: then nothing may be written to the cluster. */
static int decide(struct thread_ctx *t, const char *key, struct snapshot *s, bool force,
                  struct outcome *o, long *retry_after, struct error *err)
{
    int rc = 0;
    json_t *rq = svc_request(s->obj);
    char *memo_key = request_memo_key(rq);
    json_t *reply = NULL;
    if (!force && s->memo_req && strcmp(s->memo_req, memo_key) == 0) {
        outcome_copy(o, &s->memo);
        goto out;
    }
    STAT_INC(t->w, central_puts);
    rc = central_put(t->cc, svc_namespace(s->obj), svc_name(s->obj), rq, &reply, retry_after, err);
    if (rc == 0) {
        rc = outcome_from_allocation(o, reply, err);
        if (rc < 0)
            rc = ERR_UNAVAILABLE;
    } else if (rc == ERR_CONFLICT || rc == ERR_INVALID || rc == ERR_NOTFOUND) {
        STAT_INC(t->w, refusals);
        log_err(LOG_WARN, "request refused", key, err);
        outcome_refused(o, err->reason, err->detail);
        rc = 0;
    } else {
        STAT_INC(t->w, central_errors);
    }
    if (rc == 0)
        memo_store(t->w, key, memo_key, o);
out:
    json_decref(reply);
    json_decref(rq);
    free(memo_key);
    return rc;
}

static int reconcile_active(struct thread_ctx *t, const char *key, struct snapshot *s, bool force,
                            bool *refused, long *retry_after, struct error *err)
{
    struct outcome o = {0};
    int rc = decide(t, key, s, force, &o, retry_after, err);
    if (rc < 0)
        goto out;
    *refused = !o.ok;
    if (o.allocated) {
        rc = ensure_finalizer(t, &s->obj, true, retry_after, err);
        if (rc < 0)
            goto out;
    }
    char now[32];
    rfc3339_now(now);
    json_t *patch = patch_status(s->obj, &o, now);
    if (patch) {
        rc = write_status(t, s->obj, patch, retry_after, err);
        json_decref(patch);
        if (rc == 0)
            log_fields(LOG_INFO, o.ok ? "satisfied" : "not satisfied", "service", key, "reason",
                       o.reason, NULL);
    }
out:
    outcome_cleanup(&o);
    return rc == ERR_NOTFOUND ? 0 : rc;
}

static void reconcile(struct thread_ctx *t, const char *key, unsigned flags)
{
    struct snapshot s;
    struct error err = {0};
    long retry_after = -1;
    bool refused = false;
    int rc = 0;
    if (!snapshot_take(t->w, key, &s))
        return;
    STAT_INC(t->w, reconciles);
    if (s.deleted)
        rc = reconcile_gone(t, key, &s, &retry_after, &err);
    else if (svc_being_deleted(s.obj))
        rc = reconcile_deleting(t, &s, &retry_after, &err);
    else if (!svc_qualifies(s.obj, &t->w->opts.policy))
        rc = reconcile_unqualified(t, key, &s, &retry_after, &err);
    else
        rc = reconcile_active(t, key, &s, flags & WORKQ_FORCE, &refused, &retry_after, &err);
    if (rc < 0)
        log_err(LOG_WARN, "reconcile failed, will retry", key, &err);
    finish(t->w, key, rc < 0 || refused, retry_after);
    snapshot_cleanup(&s);
}

/* ---- garbage collection ---- */

struct gc_ctx {
    struct worker *w;
    json_t *orphans; /* [[ns, name], …] */
};

static void gc_consider(void *arg, const char *ns, const char *name)
{
    struct gc_ctx *g = arg;
    char key[KEY_MAX];
    snprintf(key, sizeof(key), "%s/%s", ns, name);
    pthread_mutex_lock(&g->w->mu);
    struct entry *e = strmap_get(g->w->cache, key);
    bool orphan = !e || e->deleted || !svc_qualifies(e->obj, &g->w->opts.policy);
    pthread_mutex_unlock(&g->w->mu);
    if (orphan)
        json_array_append_new(g->orphans, json_pack("[s,s]", ns, name));
}

static void run_gc(struct thread_ctx *t)
{
    struct error err = {0};
    struct gc_ctx g = {.w = t->w, .orphans = json_array()};
    long retry_after = -1;
    STAT_INC(t->w, central_lists);
    int rc = central_list_managed(t->cc, gc_consider, &g, &err);
    size_t i;
    json_t *pair;
    json_array_foreach(g.orphans, i, pair)
    {
        if (rc < 0)
            break;
        const char *ns = json_string_value(json_array_get(pair, 0));
        const char *name = json_string_value(json_array_get(pair, 1));
        rc = release(t, ns, name, &retry_after, &err);
        if (rc == 0)
            STAT_INC(t->w, gc_releases);
    }
    if (rc < 0) {
        STAT_INC(t->w, central_errors);
        log_err(LOG_WARN, "garbage collection failed, will retry", "", &err);
        workq_add(t->w->q, GC_KEY, backoff_delay(3), 0);
    }
    json_decref(g.orphans);
}

static void *reconcile_thread(void *arg)
{
    struct thread_ctx *t = arg;
    char *key;
    unsigned flags;
    while (workq_get(t->w->q, &key, &flags) == 0) {
        if (strcmp(key, GC_KEY) == 0)
            run_gc(t);
        else
            reconcile(t, key, flags);
        workq_done(t->w->q, key);
        free(key);
    }
    return NULL;
}

/* ---- list and watch (watcher thread) ---- */

struct lister {
    struct worker *w;
    struct strmap *seen; /* key -> json_t* (owned reference) */
};

static void on_list_item(void *arg, json_t *item)
{
    struct lister *l = arg;
    char key[KEY_MAX];
    key_of(key, item);
    json_t *old = strmap_put(l->seen, key, json_incref(item));
    json_decref(old); /* a restarted list may hand an item twice */
}

struct diff_ctx {
    struct worker *w;
    struct strmap *seen;
    json_t *gone; /* objects in the cache but not in the list */
};

static void find_gone(void *arg, const char *key, void *value)
{
    struct diff_ctx *d = arg;
    struct entry *e = value;
    if (!e->deleted && !strmap_get(d->seen, key))
        json_array_append(d->gone, e->obj);
}

static void apply_seen(void *arg, const char *key, void *value)
{
    (void)key;
    struct diff_ctx *d = arg;
    cache_set(d->w, value, false, 0);
}

static void apply_seen_force(void *arg, const char *key, void *value)
{
    (void)key;
    struct diff_ctx *d = arg;
    cache_set(d->w, value, false, WORKQ_FORCE);
}

static void drop_seen(void *arg, const char *key, void *value)
{
    (void)arg, (void)key;
    json_decref(value);
}

/* Full list, then the diff against the cache: Services missing from the list were deleted
 * while we were not watching (a 410 gap, or before the start) and are released. */
static int relist(struct worker *w, struct kube_conn *kc, bool force, char **rv,
                  struct kube_fail *fail, struct error *err)
{
    struct lister l = {.w = w, .seen = strmap_new()};
    STAT_INC(w, kube_lists);
    STAT_INC(w, relists);
    char *new_rv = NULL;
    int rc = kube_list(kc, SERVICES_PATH, on_list_item, &l, &new_rv, fail, err);
    if (rc == 0) {
        struct diff_ctx d = {.w = w, .seen = l.seen, .gone = json_array()};
        pthread_mutex_lock(&w->mu);
        strmap_each(w->cache, find_gone, &d);
        pthread_mutex_unlock(&w->mu);
        size_t i;
        json_t *obj;
        json_array_foreach(d.gone, i, obj) cache_set(w, obj, true, 0);
        strmap_each(l.seen, force ? apply_seen_force : apply_seen, &d);
        json_decref(d.gone);
        free(*rv);
        *rv = new_rv;
        atomic_store(&w->stats.synced, 1);
        workq_add(w->q, GC_KEY, 0, 0);
        char count[32];
        snprintf(count, sizeof(count), "%zu", strmap_count(l.seen));
        log_fields(LOG_INFO, "listed services", "count", count, "resourceVersion", *rv, NULL);
    }
    strmap_each(l.seen, drop_seen, NULL);
    strmap_free(l.seen);
    return rc;
}

struct watcher {
    struct worker *w;
    char *rv;
    double resync_at;
    int events;
};

static void on_event(void *arg, const char *type, json_t *obj)
{
    struct watcher *wa = arg;
    const char *rv = svc_resource_version(obj);
    if (rv[0]) {
        free(wa->rv);
        wa->rv = xstrdup(rv);
    }
    STAT_INC(wa->w, watch_events);
    wa->events++;
    if (strcmp(type, "BOOKMARK") == 0)
        return;
    cache_set(wa->w, obj, strcmp(type, "DELETED") == 0, 0);
}

static int watch_should_stop(void *arg)
{
    struct watcher *wa = arg;
    return stopping(wa->w) || mono_now() >= wa->resync_at;
}

static int random_watch_timeout(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)ts.tv_nsec * 2654435761ULL;
    return WATCH_TIMEOUT_MIN + (int)(x % (WATCH_TIMEOUT_MAX - WATCH_TIMEOUT_MIN + 1));
}

static void watch_loop(struct worker *w, struct kube_conn *kc)
{
    struct watcher wa = {.w = w};
    struct backoff bo;
    struct error err = {0};
    struct kube_fail fail = {0};
    bool need_list = true, force = false;
    backoff_init(&bo);
    while (!stopping(w)) {
        int rc = 0;
        if (need_list) {
            rc = relist(w, kc, force, &wa.rv, &fail, &err);
            if (rc == 0) {
                need_list = false;
                force = false;
                wa.resync_at = mono_now() + w->opts.resync_seconds;
            }
        } else {
            double started = mono_now();
            wa.events = 0;
            STAT_INC(w, kube_watches);
            rc = kube_watch(kc, SERVICES_PATH, wa.rv, random_watch_timeout(), on_event,
                            watch_should_stop, &wa, &fail, &err);
            if (rc == KUBE_ERR_GONE) {
                log_fields(LOG_INFO, "watch expired; listing again", "detail", err.detail, NULL);
                need_list = true;
                continue;
            }
            if (rc == 0 && mono_now() >= wa.resync_at) {
                need_list = force = true; /* periodic resync: full list, GC, re-PUT all */
                continue;
            }
            /* A stream that ends at once with nothing in it is a failing server, not a
             * timeout: back off instead of spinning. */
            if (rc == 0 && wa.events == 0 && mono_now() - started < 1.0) {
                rc = error_set(&err, ERR_UNAVAILABLE, "watch_empty", NULL,
                               "watch ended at once without events");
                fail.status = 0;
                fail.retry_after = -1;
            }
        }
        if (rc == 0) {
            backoff_ok(&bo, mono_now());
            continue;
        }
        STAT_INC(w, kube_errors);
        double d = backoff_fail(&bo, mono_now(), fail.retry_after);
        char delay[32];
        snprintf(delay, sizeof(delay), "%.2f", d);
        log_fields(LOG_WARN, need_list ? "list failed" : "watch failed", "detail", err.detail,
                   "retryIn", delay, NULL);
        nap(w, d);
    }
    free(wa.rv);
}

static void *watcher_thread(void *arg)
{
    struct worker *w = arg;
    struct kube_conn *kc = kube_conn_new(w->k);
    watch_loop(w, kc);
    kube_conn_free(kc);
    return NULL;
}

int worker_run(struct worker *w)
{
    int n = w->opts.workers;
    struct thread_ctx *ctx = xcalloc((size_t)n, sizeof(*ctx));
    pthread_t *threads = xcalloc((size_t)n, sizeof(*threads));
    pthread_t watcher;
    for (int i = 0; i < n; i++) {
        ctx[i] =
            (struct thread_ctx){.w = w, .kc = kube_conn_new(w->k), .cc = central_conn_new(w->ce)};
        pthread_create(&threads[i], NULL, reconcile_thread, &ctx[i]);
    }
    pthread_create(&watcher, NULL, watcher_thread, w);
    pthread_join(watcher, NULL);
    workq_shutdown(w->q);
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        kube_conn_free(ctx[i].kc);
        central_conn_free(ctx[i].cc);
    }
    free(threads);
    free(ctx);
    return 0;
}
