/* events.c - GET /v1/events?after=SEQ&limit=N&wait=SECONDS (api.md §7).
 *
 * The audit trail and change feed: events with seq > after, oldest first. With wait, an empty
 * answer is held back until an event is committed (the store's writer wakes us right after
 * its COMMIT), wait seconds pass (at most 60), or the server stops. Following the feed is
 * "after = the seq of the last event seen"; nextCursor says the same for a full page.
 * Keep in sync with openapi.yaml #/components/schemas/Event.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_WAIT_MAX_S 60

static const char *const event_query[] = {"after", "wait", NULL};

static int parse_number(int64_t *out, const char *text, int64_t max, const char *name,
                        struct error *err)
{
    char *end = NULL;
    long long v;

    if (!text[0] || strspn(text, "0123456789") != strlen(text) || strlen(text) > 18)
        return error_set(err, ERR_BAD_REQUEST, "invalid_query", name,
                         "%s must be a number from 0 to %lld", name, (long long)max);
    v = strtoll(text, &end, 10);
    if (v > max)
        return error_set(err, ERR_BAD_REQUEST, "invalid_query", name,
                         "%s must be a number from 0 to %lld", name, (long long)max);
    *out = v;
    return 0;
}

/* after: ?after=, else the page cursor, else 0 (the whole retained history). */
static int parse_event_query(struct api_call *call, const struct api_page *page, int64_t *after,
                             int64_t *wait_s, struct error *err)
{
    const char *a = call_query(call, "after"), *w = call_query(call, "wait");
    int rc = 0;

    *after = 0;
    *wait_s = 0;
    if (a)
        rc = parse_number(after, a, INT64_MAX / 2, "after", err);
    else if (page->after[0])
        rc = parse_number(after, page->after, INT64_MAX / 2, "cursor", err);
    if (rc == 0 && w)
        rc = parse_number(wait_s, w, EVENTS_WAIT_MAX_S, "wait", err);
    return rc;
}

static json_t *render_event(const struct event *e)
{
    json_t *obj = json_object();
    json_t *data = json_loads(e->data, 0, NULL);

    json_object_set_new(obj, "seq", json_integer(e->seq));
    json_object_set_new(obj, "time", render_time_ms(e->time));
    json_object_set_new(obj, "actor", json_string(e->actor));
    json_object_set_new(obj, "action", json_string(e->action));
    json_object_set_new(obj, "resource", json_string(e->resource));
    json_object_set_new(obj, "data", data ? data : json_object());
    return obj;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void api_events_list(struct api_call *call)
{
    struct api_page page;
    struct event_list list = {0};
    struct error err;
    int64_t after, wait_s, deadline;
    char next[32] = "";
    json_t *items;

    if (list_query_or_reply(call, event_query, &page) < 0)
        return;
    if (parse_event_query(call, &page, &after, &wait_s, &err) < 0) {
        reply_problem(call, &err);
        return;
    }
    deadline = monotonic_ms() + wait_s * 1000;
    for (;;) {
        if (store_events_list(call->st, after, page.page.limit, &list, &err) < 0) {
            reply_problem(call, &err);
            goto out;
        }
        int64_t left = deadline - monotonic_ms();
        if (list.n > 0 || left <= 0)
            break;
        event_list_cleanup(&list);
        /* 0: timeout or server stopping; either way one last look, then answer */
        if (!store_events_wait(call->st, after, (int)left))
            deadline = 0;
    }
    items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, render_event(&list.items[i]));
    if (list.n == (size_t)page.page.limit)
        snprintf(next, sizeof(next), "%lld", (long long)list.items[list.n - 1].seq);
    reply_list(call, items, next);
out:
    event_list_cleanup(&list);
}
