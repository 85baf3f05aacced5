#include "clients/sync/patch.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clients/sync/service.h"

void outcome_cleanup(struct outcome *o)
{
    json_decref(o->ips);
    memset(o, 0, sizeof(*o));
}

void outcome_copy(struct outcome *dst, const struct outcome *src)
{
    *dst = *src;
    dst->ips = src->ips ? json_deep_copy(src->ips) : NULL;
}

int outcome_from_allocation(struct outcome *o, json_t *alloc, struct error *err)
{
    memset(o, 0, sizeof(*o));
    json_t *addrs = json_object_get(alloc, "addresses");
    json_t *cond = json_object_get(alloc, "condition");
    if (!json_is_array(addrs))
        return error_set(err, ERR_INVALID, "bad_allocation", NULL,
                         "allocation response has no addresses array");
    o->ips = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(addrs, i, a)
    {
        const char *ip = json_string_value(json_object_get(a, "ip"));
        if (ip)
            json_array_append_new(o->ips, json_string(ip));
    }
    o->allocated = json_array_size(o->ips) > 0;
    const char *status = json_string_value(json_object_get(cond, "status"));
    const char *reason = json_string_value(json_object_get(cond, "reason"));
    const char *message = json_string_value(json_object_get(cond, "message"));
    o->ok = status ? strcmp(status, "True") == 0 : o->allocated;
    snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : (o->ok ? "satisfied" : ""));
    snprintf(o->message, sizeof(o->message), "%s", message ? message : "");
    return 0;
}

void outcome_refused(struct outcome *o, const char *reason, const char *message)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->reason, sizeof(o->reason), "%s", reason && reason[0] ? reason : "refused");
    snprintf(o->message, sizeof(o->message), "%s", message ? message : "");
}

void rfc3339_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *ingress_of(json_t *svc)
{
    return json_object_get(json_object_get(json_object_get(svc, "status"), "loadBalancer"),
                           "ingress");
}

/* Same IPs in the same order, and nothing else set but the API server's ipMode default. */
static bool ingress_equal(json_t *current, json_t *ips)
{
    if (json_array_size(current) != json_array_size(ips))
        return false;
    for (size_t i = 0; i < json_array_size(ips); i++) {
        json_t *e = json_array_get(current, i);
        const char *ip = json_string_value(json_object_get(e, "ip"));
        const char *mode = json_string_value(json_object_get(e, "ipMode"));
        if (!ip || strcmp(ip, json_string_value(json_array_get(ips, i))) != 0)
            return false;
        if (mode && strcmp(mode, "VIP") != 0)
            return false;
        if (json_object_get(e, "hostname"))
            return false;
    }
    return true;
}

static const char *cstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static json_int_t svc_generation(json_t *svc)
{
    return json_integer_value(json_object_get(json_object_get(svc, "metadata"), "generation"));
}

static bool condition_equal(json_t *cur, const struct outcome *o, json_int_t gen)
{
    return cur && strcmp(cstr(cur, "status"), o->ok ? "True" : "False") == 0 &&
           strcmp(cstr(cur, "reason"), o->reason) == 0 &&
           strcmp(cstr(cur, "message"), o->message) == 0 &&
           json_integer_value(json_object_get(cur, "observedGeneration")) == gen &&
           cstr(cur, "lastTransitionTime")[0];
}

json_t *patch_status(json_t *svc, const struct outcome *o, const char *now)
{
    json_t *cur = svc_condition(svc);
    json_int_t gen = svc_generation(svc);
    bool write_ingress = o->allocated && !ingress_equal(ingress_of(svc), o->ips);
    bool write_cond = !condition_equal(cur, o, gen);
    if (!write_ingress && !write_cond)
        return NULL;

    json_t *status = json_object();
    if (write_ingress) {
        json_t *ingress = json_array();
        size_t i;
        json_t *ip;
        json_array_foreach(o->ips, i, ip)
            json_array_append_new(ingress, json_pack("{s:O}", "ip", ip));
        json_object_set_new(status, "loadBalancer", json_pack("{s:o}", "ingress", ingress));
    }
    /* lastTransitionTime moves only when status flips (Kubernetes condition convention). */
    const char *st = o->ok ? "True" : "False";
    const char *ltt = now;
    if (cur && strcmp(cstr(cur, "status"), st) == 0 && cstr(cur, "lastTransitionTime")[0])
        ltt = cstr(cur, "lastTransitionTime");
    json_t *cond = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "type", SYNC_CONDITION, "status", st,
                             "reason", o->reason, "message", o->message, "observedGeneration", gen,
                             "lastTransitionTime", ltt);
    json_object_set_new(status, "conditions", json_pack("[o]", cond));
    return json_pack("{s:o}", "status", status);
}

json_t *patch_status_cleanup(json_t *svc)
{
    bool has_cond = svc_condition(svc) != NULL;
    /* Only the ingress we wrote goes: without our condition it belongs to someone else. */
    bool has_ingress = has_cond && json_array_size(ingress_of(svc)) > 0;
    if (!has_cond && !has_ingress)
        return NULL;
    json_t *status = json_object();
    if (has_ingress) /* null deletes the field in a merge patch */
        json_object_set_new(status, "loadBalancer", json_pack("{s:n}", "ingress"));
    if (has_cond)
        json_object_set_new(status, "conditions",
                            json_pack("[{s:s,s:s}]", "type", SYNC_CONDITION, "$patch", "delete"));
    return json_pack("{s:o}", "status", status);
}

json_t *patch_finalizer(json_t *svc, bool want)
{
    if (svc_has_finalizer(svc) == want)
        return NULL;
    json_t *meta = json_object_get(svc, "metadata");
    json_t *list = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(meta, "finalizers"), i, f)
    {
        const char *s = json_string_value(f);
        if (s && strcmp(s, SYNC_FINALIZER) != 0)
            json_array_append(list, f);
    }
    if (want)
        json_array_append_new(list, json_string(SYNC_FINALIZER));
    return json_pack("{s:{s:o,s:s}}", "metadata", "finalizers", list, "resourceVersion",
                     svc_resource_version(svc));
}
