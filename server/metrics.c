/* metrics.c - lbipamd's counters and their Prometheus exposition (text format 0.0.4).
 *
 * HTTP counters live in one slot per route row (indexed by the row's place in server_routes)
 * plus one per method for requests no row served, each an array of atomics indexed by status
 * code: a request bumps two counters and never takes a lock. The few allocation outcomes are
 * named at run time (the reasons of error.h), so they sit in a small table under a mutex;
 * an allocation takes the store's writer anyway, so the lock costs nothing measurable.
 * Numbers are written as floats, the only number type of the format: exact address counts of
 * IPv6 pools lose precision beyond 2^53, which the HELP lines say.
 */
#include "server/metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_TEXT_MAX ((size_t)64 * 1024 * 1024) /* 64 MiB: ~300k pools; past it, 500 */
#define METRICS_ROUTES_MAX 128                      /* rows of server_routes we can count */
#define METRICS_CODE_MIN 100
#define METRICS_CODE_MAX 599
#define METRICS_OUTCOMES_MAX 64 /* distinct reasons; more (a bug) count as "other" */
#define METRICS_POOL_PAGE 1000

/* Upper bounds of lbipam_http_request_duration_seconds. Long polls (GET /v1/events?wait=)
 * last up to 60 s, hence the last two. */
static const double duration_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60};
#define NBOUNDS (sizeof(duration_bounds) / sizeof(duration_bounds[0]))

/* Methods of requests that no row served: anything else is "other", so that a client cannot
 * invent label values. */
static const char *const unmatched_methods[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "other"};
#define NUNMATCHED (sizeof(unmatched_methods) / sizeof(unmatched_methods[0]))

struct http_slot {
    atomic_uint_least64_t codes[METRICS_CODE_MAX - METRICS_CODE_MIN + 1];
    atomic_uint_least64_t buckets[NBOUNDS + 1]; /* not cumulative; the last is > 60 s */
    atomic_uint_least64_t sum_ns;
};

static struct http_slot http_slots[METRICS_ROUTES_MAX + NUNMATCHED];

struct outcome {
    char reason[ERROR_REASON_MAX];
    uint64_t n;
};

/* The outcomes a dashboard expects to find are there from the start, at zero. */
static struct outcome outcomes[METRICS_OUTCOMES_MAX] = {
    {"satisfied", 0},
    {"no_pool", 0},
    {"out_of_ips", 0},
    {"already_allocated", 0},
    {"already_allocated_incompatible_service", 0},
    {"requested_ip_not_in_pool", 0},
    {"pool_selector_mismatch", 0},
    {"unknown_pool", 0},
    {"unknown_cluster", 0},
};
static pthread_mutex_t outcomes_lock = PTHREAD_MUTEX_INITIALIZER;

static atomic_uint_least64_t checks_passed, checks_failed;

/* ------------------------------------------------------------------------ counting */

static size_t unmatched_slot(const char *method)
{
    size_t i;

    for (i = 0; i + 1 < NUNMATCHED; i++) {
        if (method && strcmp(method, unmatched_methods[i]) == 0)
            break;
    }
    return METRICS_ROUTES_MAX + i;
}

void metrics_request_done(const struct route *route, const char *method, int status, double seconds)
{
    struct http_slot *slot;
    size_t b = 0;

    if (route) {
        size_t row = (size_t)(route - server_routes);
        assert(row < METRICS_ROUTES_MAX); /* raise METRICS_ROUTES_MAX with the table */
        slot = &http_slots[row];
    } else {
        slot = &http_slots[unmatched_slot(method)];
    }
    if (status >= METRICS_CODE_MIN && status <= METRICS_CODE_MAX)
        atomic_fetch_add(&slot->codes[status - METRICS_CODE_MIN], 1);
    if (!(seconds >= 0))
        seconds = 0; /* a clock step backwards */
    while (b < NBOUNDS && seconds > duration_bounds[b])
        b++;
    atomic_fetch_add(&slot->buckets[b], 1);
    atomic_fetch_add(&slot->sum_ns, (uint_least64_t)(seconds * 1e9));
}

void metrics_allocation_outcome(const char *reason)
{
    size_t i;

    if (!reason || !reason[0])
        return;
    pthread_mutex_lock(&outcomes_lock);
    for (i = 0; i < METRICS_OUTCOMES_MAX && outcomes[i].reason[0]; i++) {
        if (strcmp(outcomes[i].reason, reason) == 0)
            break;
    }
    if (i == METRICS_OUTCOMES_MAX)
        i = METRICS_OUTCOMES_MAX - 1; /* the last entry becomes "other" */
    if (!outcomes[i].reason[0])
        snprintf(outcomes[i].reason, sizeof(outcomes[i].reason), "%s",
                 i == METRICS_OUTCOMES_MAX - 1 ? "other" : reason);
    outcomes[i].n++;
    pthread_mutex_unlock(&outcomes_lock);
}

void metrics_check_finished(bool passed)
{
    atomic_fetch_add(passed ? &checks_passed : &checks_failed, 1);
}

/* ------------------------------------------------------------------------ the text */

/* A bounded growing buffer: past METRICS_TEXT_MAX it stops growing and remembers so. */
struct text {
    char *p;
    size_t len, cap;
    bool overflow;
};

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->p ? t->p + t->len : NULL, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || t->len + (size_t)n + 1 > METRICS_TEXT_MAX) {
        t->overflow = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        t->p = xgrow(t->p, &t->cap, t->len + (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
    }
    t->len += (size_t)n;
}

/* A label value per the exposition format: backslash, double quote and newline escaped. */
static void text_label(struct text *t, const char *name, const char *value, bool last)
{
    text_printf(t, "%s=\"", name);
    for (const char *c = value; *c; c++) {
        if (*c == '\\')
            text_printf(t, "\\\\");
        else if (*c == '"')
            text_printf(t, "\\\"");
        else if (*c == '\n')
            text_printf(t, "\\n");
        else
            text_printf(t, "%c", *c);
    }
    text_printf(t, "\"%s", last ? "" : ",");
}

static void text_header(struct text *t, const char *name, const char *type, const char *help)
{
    text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The shortest text that reads back as the same double: 256, 0.25, 1.8446744073709552e+19;
 * whole numbers below 10^15 in plain digits (10, not 1e+01). */
static void format_float(char out[32], double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
        snprintf(out, 32, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void text_value(struct text *t, double v)
{
    char num[32];

    format_float(num, v);
    text_printf(t, "} %s\n", num);
}

static double netcount_to_double(struct netcount c)
{
    return (double)c.lo + (c.hi ? 0x1p128 : 0.0);
}

/* ------------------------------------------------------------------------ pools */

static void pool_family(struct text *addrs, struct text *util, const char *pool, const char *family,
                        const struct pool_family_status *s)
{
    static const char *const states[] = {"total", "used", "available"};
    const struct netcount *counts[] = {&s->total, &s->used, &s->available};

    for (size_t i = 0; i < 3; i++) {
        text_printf(addrs, "lbipam_pool_addresses{");
        text_label(addrs, "pool", pool, false);
        text_label(addrs, "family", family, false);
        text_label(addrs, "state", states[i], true);
        text_value(addrs, netcount_to_double(*counts[i]));
    }
    text_printf(util, "lbipam_pool_utilization{");
    text_label(util, "pool", pool, false);
    text_label(util, "family", family, true);
    text_value(util, netcount_ratio(s->used, s->total));
}

/* Every pool, page by page, into two families written one after the other (the format wants
 * the samples of one metric together). */
static int emit_pools(struct text *t, struct store *st, struct error *err)
{
    struct text addrs = {0}, util = {0};
    char after[STORE_CURSOR_MAX] = "";
    int rc = 0;

    do {
        struct store_page page = {.after = after, .limit = METRICS_POOL_PAGE};
        struct pool_list list = {0};
        rc = store_pool_list(st, &page, &list, err);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < list.n; i++) {
            const struct pool *p = list.items[i];
            if (p->has_v4)
                pool_family(&addrs, &util, p->name, "ipv4", &p->v4);
            if (p->has_v6)
                pool_family(&addrs, &util, p->name, "ipv6", &p->v6);
        }
        snprintf(after, sizeof(after), "%s", list.next);
        pool_list_cleanup(&list);
    } while (after[0]);
    text_header(t, "lbipam_pool_addresses", "gauge",
                "Addresses of a pool by IP family and state (reserved addresses count as used). "
                "A float: counts above 2^53 (IPv6) are rounded; the API's pool status has the "
                "exact decimal.");
    text_printf(t, "%s", addrs.p ? addrs.p : "");
    text_header(t, "lbipam_pool_utilization", "gauge",
                "Used / total addresses of a pool and IP family, in [0, 1].");
    text_printf(t, "%s", util.p ? util.p : "");
    if (addrs.overflow || util.overflow)
        t->overflow = true;
out:
    free(addrs.p);
    free(util.p);
    return rc;
}

/* ------------------------------------------------------------------------ counters */

static void emit_allocations(struct text *t)
{
    text_header(t, "lbipam_allocations_total", "counter",
                "PUT /v1/allocations/... handled, by outcome: satisfied, or the reason it was "
                "refused or partly met (no_pool, out_of_ips, ...).");
    pthread_mutex_lock(&outcomes_lock);
    for (size_t i = 0; i < METRICS_OUTCOMES_MAX && outcomes[i].reason[0]; i++) {
        text_printf(t, "lbipam_allocations_total{");
        text_label(t, "outcome", outcomes[i].reason, true);
        text_value(t, (double)outcomes[i].n);
    }
    pthread_mutex_unlock(&outcomes_lock);
}

static void slot_labels(struct text *t, size_t slot, bool last)
{
    if (slot < METRICS_ROUTES_MAX) {
        text_label(t, "route", server_routes[slot].path, false);
        text_label(t, "method", server_routes[slot].method, last);
    } else {
        text_label(t, "route", "unmatched", false);
        text_label(t, "method", unmatched_methods[slot - METRICS_ROUTES_MAX], last);
    }
}

static size_t slot_count(void)
{
    return METRICS_ROUTES_MAX + NUNMATCHED;
}

static bool slot_used(size_t slot)
{
    return slot >= METRICS_ROUTES_MAX || slot < server_route_count;
}

static void emit_http_requests(struct text *t)
{
    text_header(t, "lbipam_http_requests_total", "counter",
                "HTTP requests answered, by route template (\"unmatched\" when no route "
                "served it), method (HEAD counts as the GET it is served by) and status code.");
    for (size_t s = 0; s < slot_count(); s++) {
        if (!slot_used(s))
            continue;
        for (int c = METRICS_CODE_MIN; c <= METRICS_CODE_MAX; c++) {
            uint_least64_t n = atomic_load(&http_slots[s].codes[c - METRICS_CODE_MIN]);
            char code[8];
            if (n == 0)
                continue;
            snprintf(code, sizeof(code), "%d", c);
            text_printf(t, "lbipam_http_requests_total{");
            slot_labels(t, s, false);
            text_label(t, "code", code, true);
            text_value(t, (double)n);
        }
    }
}

static void emit_http_durations(struct text *t)
{
    const char *name = "lbipam_http_request_duration_seconds";

    text_header(t, name, "histogram",
                "Time from the request line to the end of the response, by route template and "
                "method.");
    for (size_t s = 0; s < slot_count(); s++) {
        uint_least64_t cumulative = 0;
        char le[32];
        if (!slot_used(s))
            continue;
        for (size_t b = 0; b <= NBOUNDS; b++)
            cumulative += atomic_load(&http_slots[s].buckets[b]);
        if (cumulative == 0)
            continue;
        cumulative = 0;
        /* +Inf and _count are the sum of the buckets read here, so they always agree. */
        for (size_t b = 0; b <= NBOUNDS; b++) {
            cumulative += atomic_load(&http_slots[s].buckets[b]);
            if (b < NBOUNDS)
                format_float(le, duration_bounds[b]);
            else
                snprintf(le, sizeof(le), "+Inf");
            text_printf(t, "%s_bucket{", name);
            slot_labels(t, s, false);
            text_label(t, "le", le, true);
            text_value(t, (double)cumulative);
        }
        text_printf(t, "%s_sum{", name);
        slot_labels(t, s, true);
        text_value(t, (double)atomic_load(&http_slots[s].sum_ns) / 1e9);
        text_printf(t, "%s_count{", name);
        slot_labels(t, s, true);
        text_value(t, (double)cumulative);
    }
}

static void emit_checks(struct text *t)
{
    text_header(t, "lbipam_reachability_checks_total", "counter",
                "Reachability checks finished, by result: passed when every probe succeeded.");
    text_printf(t, "lbipam_reachability_checks_total{result=\"passed\"");
    text_value(t, (double)atomic_load(&checks_passed));
    text_printf(t, "lbipam_reachability_checks_total{result=\"failed\"");
    text_value(t, (double)atomic_load(&checks_failed));
}

/* The store's single writer: how much waits for it, and how well group commit batches. */
static void emit_store(struct text *t, struct store *st)
{
    const char *name = "lbipam_store_commit_batch_size";
    struct store_stats stats;
    uint64_t cumulative = 0;

    store_stats(st, &stats);
    text_header(t, "lbipam_store_writer_queue_depth", "gauge",
                "Write operations waiting for the store's writer thread.");
    text_printf(t, "lbipam_store_writer_queue_depth %" PRIu64 "\n", stats.queue_depth);
    text_header(t, "lbipam_store_commits_total", "counter",
                "Write transactions committed by the store's writer (one per batch).");
    text_printf(t, "lbipam_store_commits_total %" PRIu64 "\n", stats.commits);
    text_header(t, "lbipam_store_writes_total", "counter",
                "Write operations run by the store's writer, over all batches.");
    text_printf(t, "lbipam_store_writes_total %" PRIu64 "\n", stats.writes);
    text_header(t, name, "histogram", "Write operations committed together in one transaction.");
    for (size_t b = 0; b < STORE_BATCH_BUCKETS; b++) {
        cumulative += stats.batch_hist[b];
        text_printf(t, "%s_bucket{le=\"%u\"} %" PRIu64 "\n", name, store_batch_bounds[b],
                    cumulative);
    }
    /* Every batch falls in a bucket (the last bound is the largest batch), so +Inf and _count
     * equal the sum of the buckets; the sum of the sizes is the number of writes. */
    text_printf(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
    text_printf(t, "%s_sum %" PRIu64 "\n%s_count %" PRIu64 "\n", name, stats.writes, name,
                cumulative);
}

void server_metrics_get(struct api_call *call)
{
    struct text t = {0};
    struct error err;

    if (emit_pools(&t, call->st, &err) < 0) {
        free(t.p);
        reply_problem(call, &err);
        return;
    }
    emit_allocations(&t);
    emit_http_requests(&t);
    emit_http_durations(&t);
    emit_checks(&t);
    emit_store(&t, call->st);
    if (t.overflow) {
        free(t.p);
        reply_error(call, ERR_INTERNAL, "internal", NULL, "the metrics exceed %zu bytes",
                    METRICS_TEXT_MAX);
        return;
    }
    reply_body(call, 200, METRICS_CONTENT_TYPE, t.p ? t.p : xstrdup(""), t.len);
    call->reply.cache_control = "no-store";
}
