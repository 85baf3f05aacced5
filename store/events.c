/* events.c - the audit trail and change feed (api.md §7).
 *
 * Every write function of the store appends its event with event_append on the writer's
 * connection, inside the same transaction as the change: the change and its event commit or
 * vanish together. The writer publishes the newest committed seq after each COMMIT
 * (events_publish), which wakes the long-polls of GET /v1/events?wait=. Event data is JSON
 * text made by SQLite (json_object, json()), so that the store never needs a JSON library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store_int.h"

int event_append(struct conn *c, const char *actor, const char *action, const char *resource,
                 const char *data_json, struct error *err)
{
    static const char sql[] = "INSERT INTO events (time, actor, action, resource, data)"
                              " VALUES (?, ?, ?, ?, json(?))";
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, store_now());
    q_text(&q, actor && actor[0] ? actor : "system");
    q_text(&q, action);
    q_text(&q, resource);
    q_text(&q, data_json ? data_json : "{}");
    rc = q_exec(&q, err);
    if (rc == 0)
        c->events_pending = true;
out:
    q_close(&q);
    return rc;
}

int event_json(struct conn *c, char **out, const char *sql, const char *const *args, size_t n,
               struct error *err)
{
    struct q q;
    *out = NULL;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        q_text(&q, args[i]);
    rc = q_step(&q, err);
    if (rc > 0) {
        *out = xstrdup(col_text(q.s, 0));
        rc = 0;
    } else if (rc == 0) {
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error (event data)");
    }
out:
    q_close(&q);
    return rc;
}

/* ------------------------------------------------------------------ the feed's clock */

static int last_seq(struct conn *c, int64_t *out, struct error *err)
{
    struct q q;
    *out = 0;
    int rc = q_prepare(&q, c, "SELECT coalesce(max(seq), 0) FROM events", err);
    if (rc < 0)
        goto out;
    rc = q_step(&q, err);
    if (rc > 0) {
        *out = sqlite3_column_int64(q.s, 0);
        rc = 0;
    }
out:
    q_close(&q);
    return rc;
}

int events_init(struct store *st, struct error *err)
{
    pthread_condattr_t attr;
    pthread_mutex_init(&st->evmu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&st->evcv, &attr);
    pthread_condattr_destroy(&attr);
    st->ev_ready = true;
    return last_seq(&st->writer, &st->ev_last, err);
}

void events_destroy(struct store *st)
{
    if (!st->ev_ready)
        return;
    pthread_mutex_destroy(&st->evmu);
    pthread_cond_destroy(&st->evcv);
    st->ev_ready = false;
}

void events_publish(struct store *st)
{
    struct conn *c = &st->writer;
    int64_t seq = 0;
    if (!c->events_pending)
        return;
    c->events_pending = false;
    /* max(seq) after the commit, not the rowid of the last insert: an operation refused after
     * its event was appended rolled that event back. */
    if (last_seq(c, &seq, NULL) < 0)
        return;
    pthread_mutex_lock(&st->evmu);
    if (seq > st->ev_last)
        st->ev_last = seq;
    pthread_cond_broadcast(&st->evcv);
    pthread_mutex_unlock(&st->evmu);
}

int64_t store_events_last(struct store *st)
{
    pthread_mutex_lock(&st->evmu);
    int64_t seq = st->ev_last;
    pthread_mutex_unlock(&st->evmu);
    return seq;
}

int store_events_wait(struct store *st, int64_t after, int timeout_ms)
{
    struct timespec deadline;
    int rc = 0;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->evmu);
    while (st->ev_last <= after && !st->ev_interrupted) {
        if (pthread_cond_timedwait(&st->evcv, &st->evmu, &deadline) == ETIMEDOUT)
            break;
    }
    rc = st->ev_last > after;
    pthread_mutex_unlock(&st->evmu);
    return rc;
}

void store_events_interrupt(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->evmu);
    st->ev_interrupted = true;
    pthread_cond_broadcast(&st->evcv);
    pthread_mutex_unlock(&st->evmu);
}

/* ------------------------------------------------------------------------ retention */

static int purge_run(struct conn *c, void *arg, struct error *err)
{
    const store_time *before = arg;
    struct q q;
    int rc = q_prepare(&q, c, "DELETE FROM events WHERE time < ?", err);
    if (rc < 0)
        goto out;
    q_int(&q, *before);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

/* How often the writer looks for expired events: a tenth of the retention, between 1 s and
 * 1 h, so that nothing outlives the retention by more than 10 %. */
static store_time purge_interval(const struct store *st)
{
    store_time every = st->event_retention_ms / 10;
    if (every < 1000)
        every = 1000;
    if (every > (store_time)3600 * 1000)
        every = (store_time)3600 * 1000;
    return every;
}

bool events_purge_due(struct store *st)
{
    return store_now() >= st->next_purge;
}

void events_purge_wait(struct store *st)
{
    store_time ms = st->next_purge - store_now();
    struct timespec ts;
    if (ms <= 0)
        return;
    clock_gettime(CLOCK_REALTIME, &ts); /* qcv uses the default clock */
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&st->qcv, &st->qmu, &ts);
}

void events_purge_tick(struct store *st)
{
    store_time before = store_now() - st->event_retention_ms;
    struct conn *c = &st->writer;
    struct error err;
    st->next_purge = store_now() + purge_interval(st);
    int rc = db_exec(c, "BEGIN IMMEDIATE", &err);
    if (rc == 0)
        rc = purge_run(c, &before, &err);
    if (rc == 0)
        rc = db_exec(c, "COMMIT", &err);
    if (rc < 0 && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc < 0)
        log_fields(LOG_WARN, "event purge failed", "detail", err.detail, NULL);
}

/* ------------------------------------------------------------------------- reading */

void event_list_cleanup(struct event_list *l)
{
    for (size_t i = 0; l && i < l->n; i++) {
        free(l->items[i].actor);
        free(l->items[i].action);
        free(l->items[i].resource);
        free(l->items[i].data);
    }
    if (l) {
        free(l->items);
        memset(l, 0, sizeof(*l));
    }
}

struct events_read {
    int64_t after;
    int limit;
    struct event_list *list;
};

static int events_list_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] = "SELECT seq, time, actor, action, resource, data FROM events"
                              " WHERE seq > ? ORDER BY seq LIMIT ?";
    struct events_read *r = arg;
    struct event_list *l = r->list;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_int(&q, r->after);
    q_int(&q, r->limit);
    l->items = xcalloc((size_t)r->limit, sizeof(*l->items));
    while ((rc = q_step(&q, err)) > 0 && l->n < (size_t)r->limit) {
        struct event *e = &l->items[l->n++];
        e->seq = sqlite3_column_int64(q.s, 0);
        e->time = sqlite3_column_int64(q.s, 1);
        e->actor = xstrdup(col_text(q.s, 2));
        e->action = xstrdup(col_text(q.s, 3));
        e->resource = xstrdup(col_text(q.s, 4));
        e->data = xstrdup(col_text(q.s, 5));
    }
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

int store_events_list(struct store *st, int64_t after, int limit, struct event_list *out,
                      struct error *err)
{
    struct store_page page = {.limit = limit};
    struct events_read r = {.after = after, .limit = limit, .list = out};
    memset(out, 0, sizeof(*out));
    int rc = page_check(&page, err);
    if (rc == 0)
        rc = store_read(st, events_list_run, &r, err);
    if (rc < 0)
        event_list_cleanup(out);
    return rc;
}
