/* cmd_events.c - the event feed (api.md §7): one page, or --follow with long polls. */
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/ctl_int.h"
#include "clients/ctl/render.h"
#include "lib/xalloc.h"

#define EVENTS_LIMIT 500
#define EVENTS_WAIT 30

static const json_t *event_items(const json_t *page)
{
    if (json_is_array(page))
        return page;
    return json_object_get(page, "items");
}

/* Prints the page's events and advances *after to the last seq. Returns how many. */
static size_t print_page(struct ctl *c, const json_t *page, json_int_t *after, bool follow,
                         json_t *all)
{
    size_t i;
    json_t *ev;
    json_array_foreach(event_items(page), i, ev)
    {
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        if (seq > *after)
            *after = seq;
        if (c->output == OUTPUT_TABLE) {
            render_event_line(c->out, ev);
        } else if (follow) {
            json_dumpf(ev, c->out, JSON_COMPACT);
            fputc('\n', c->out);
        } else {
            json_array_append(all, ev);
        }
    }
    fflush(c->out);
    return json_array_size(event_items(page));
}

int cmd_events(struct ctl *c, const struct args *a, struct error *err)
{
    const char *after_text = args_get(a, "after");
    bool follow = args_has(a, "follow");
    json_int_t after = 0;
    json_t *all = json_array();
    int rc = 0;
    if (after_text) {
        char *end;
        after = strtoll(after_text, &end, 10);
        if (end == after_text || *end || after < 0) {
            json_decref(all);
            return ctl_usage(err, "--after %s: a sequence number", after_text);
        }
    }
    for (;;) {
        json_t *page = NULL;
        char *path = xasprintf("/v1/events?after=%lld&limit=%d%s", (long long)after, EVENTS_LIMIT,
                               follow ? "&wait=30" : "");
        rc = ctl_call(c, "GET", path, NULL, NULL, (EVENTS_WAIT + 15) * 1000L, &page, NULL, NULL, 0,
                      err);
        free(path);
        if (rc < 0)
            break;
        size_t n = print_page(c, page, &after, follow, all);
        json_decref(page);
        if (!follow && n < EVENTS_LIMIT)
            break;
    }
    if (rc == 0 && c->output == OUTPUT_JSON && !follow) {
        json_t *out = json_pack("{s:O}", "items", all);
        ctl_print_json(c, out);
        json_decref(out);
    }
    json_decref(all);
    return rc;
}
