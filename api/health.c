/* health.c - liveness and readiness (api.md §8). */
#include "api/api_int.h"

void api_health_get(struct api_call *call)
{
    json_t *doc = json_object();

    json_object_set_new(doc, "status", json_string("ok"));
    reply_json(call, 200, doc);
}

/* Ready means open, migrated and writable: the store answers that in one call. */
void api_ready_get(struct api_call *call)
{
    json_t *doc;

    if (!store_ready(call->st)) {
        reply_error(call, ERR_UNAVAILABLE, "not_ready", NULL,
                    "the store is stopping or its database does not accept writes (disk "
                    "full, read-only or locked); reads may still work");
        return;
    }
    doc = json_object();
    json_object_set_new(doc, "status", json_string("ready"));
    reply_json(call, 200, doc);
}
