#include "clients/sync/service.h"

#include <string.h>

#include "lib/xalloc.h"

/* Annotation names in priority order: the first one present wins. */
static const char *const ips_annotations[] = {
    "lbipam.io/ips",
    "lbipam.cilium.io/ips",
    "io.cilium/lb-ipam-ips",
    "metallb.io/loadBalancerIPs",
    "metallb.universe.tf/loadBalancerIPs",
    NULL,
};
static const char *const pool_annotations[] = {
    "lbipam.io/pool",
    "metallb.io/address-pool",
    "metallb.universe.tf/address-pool",
    NULL,
};
static const char *const sharing_annotations[] = {
    "lbipam.io/sharing-key",
    "lbipam.cilium.io/sharing-key",
    "io.cilium/lb-ipam-sharing-key",
    "metallb.io/allow-shared-ip",
    "metallb.universe.tf/allow-shared-ip",
    NULL,
};
static const char *const cross_ns_annotations[] = {
    "lbipam.io/sharing-cross-namespace",
    "lbipam.cilium.io/sharing-cross-namespace",
    NULL,
};

static const char *str_at(json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(json_object_get(obj, a), b);
    const char *s = json_string_value(v);
    return s ? s : "";
}

const char *svc_namespace(json_t *svc)
{
    return str_at(svc, "metadata", "namespace");
}

const char *svc_name(json_t *svc)
{
    return str_at(svc, "metadata", "name");
}

const char *svc_resource_version(json_t *svc)
{
    return str_at(svc, "metadata", "resourceVersion");
}

bool svc_qualifies(json_t *svc, const struct sync_policy *p)
{
    json_t *spec = json_object_get(svc, "spec");
    const char *type = json_string_value(json_object_get(spec, "type"));
    if (!type || strcmp(type, "LoadBalancer") != 0)
        return false;
    const char *cls = json_string_value(json_object_get(spec, "loadBalancerClass"));
    if (!cls || !cls[0])
        return !p->require_class;
    return strcmp(cls, p->lb_class ? p->lb_class : SYNC_DEFAULT_CLASS) == 0;
}

bool svc_being_deleted(json_t *svc)
{
    return json_string_value(
               json_object_get(json_object_get(svc, "metadata"), "deletionTimestamp")) != NULL;
}

bool svc_has_finalizer(json_t *svc)
{
    json_t *fins = json_object_get(json_object_get(svc, "metadata"), "finalizers");
    size_t i;
    json_t *f;
    json_array_foreach(fins, i, f)
    {
        const char *s = json_string_value(f);
        if (s && strcmp(s, SYNC_FINALIZER) == 0)
            return true;
    }
    return false;
}

json_t *svc_condition(json_t *svc)
{
    json_t *conds = json_object_get(json_object_get(svc, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, SYNC_CONDITION) == 0)
            return c;
    }
    return NULL;
}

/* The value of the first annotation of `names` that is present and not blank. */
static const char *first_annotation(json_t *svc, const char *const *names)
{
    json_t *ann = json_object_get(json_object_get(svc, "metadata"), "annotations");
    for (; *names; names++) {
        const char *v = json_string_value(json_object_get(ann, *names));
        if (v && v[strspn(v, " \t\r\n")])
            return v;
    }
    return NULL;
}

static bool array_has(json_t *arr, const char *s, size_t n)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *t = json_string_value(v);
        if (strlen(t) == n && strncmp(t, s, n) == 0)
            return true;
    }
    return false;
}

/* Appends the comma-separated items of text, trimmed, skipping empty ones and duplicates. */
static void append_list(json_t *arr, const char *text)
{
    static const char ws[] = " \t\r\n";
    while (text && *text) {
        size_t len = strcspn(text, ",");
        const char *s = text;
        size_t n = len;
        while (n > 0 && strchr(ws, *s)) {
            s++;
            n--;
        }
        while (n > 0 && strchr(ws, s[n - 1]))
            n--;
        if (n > 0 && !array_has(arr, s, n))
            json_array_append_new(arr, json_stringn(s, n));
        text += len;
        if (*text == ',')
            text++;
    }
}

static void copy_field(json_t *dst, const char *dst_key, json_t *src, const char *src_key)
{
    json_t *v = json_object_get(src, src_key);
    if (v && !json_is_null(v))
        json_object_set(dst, dst_key, v);
}

static json_t *ports_of(json_t *spec)
{
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        json_t *port = json_object_get(p, "port");
        if (!json_is_integer(port))
            continue;
        const char *proto = json_string_value(json_object_get(p, "protocol"));
        json_array_append_new(
            out, json_pack("{s:O,s:s}", "port", port, "protocol", proto ? proto : "TCP"));
    }
    return out;
}

static json_t *ingress_ips(json_t *svc)
{
    json_t *out = json_array();
    json_t *ingress =
        json_object_get(json_object_get(json_object_get(svc, "status"), "loadBalancer"), "ingress");
    size_t i;
    json_t *e;
    json_array_foreach(ingress, i, e)
    {
        const char *ip = json_string_value(json_object_get(e, "ip"));
        if (ip && !array_has(out, ip, strlen(ip)))
            json_array_append_new(out, json_string(ip));
    }
    return out;
}

json_t *svc_request(json_t *svc)
{
    json_t *rq = json_object();
    json_t *meta = json_object_get(svc, "metadata");
    json_t *spec = json_object_get(svc, "spec");

    json_t *labels = json_object_get(meta, "labels");
    json_object_set_new(rq, "labels", json_is_object(labels) ? json_copy(labels) : json_object());
    copy_field(rq, "ipFamilies", spec, "ipFamilies");
    copy_field(rq, "ipFamilyPolicy", spec, "ipFamilyPolicy");

    json_t *requested = json_array();
    append_list(requested, json_string_value(json_object_get(spec, "loadBalancerIP")));
    append_list(requested, first_annotation(svc, ips_annotations));
    json_object_set_new(rq, "requestedIPs", requested);

    const char *pool = first_annotation(svc, pool_annotations);
    json_t *tmp = json_array();
    append_list(tmp, pool); /* trims */
    if (json_array_size(tmp) > 0)
        json_object_set(rq, "pool", json_array_get(tmp, 0));
    json_decref(tmp);

    const char *key = first_annotation(svc, sharing_annotations);
    tmp = json_array();
    append_list(tmp, key);
    if (json_array_size(tmp) > 0)
        json_object_set(rq, "sharingKey", json_array_get(tmp, 0));
    json_decref(tmp);

    json_t *cross = json_array();
    append_list(cross, first_annotation(svc, cross_ns_annotations));
    if (json_array_size(cross) > 0)
        json_object_set_new(rq, "sharingCrossNamespace", cross);
    else
        json_decref(cross);

    json_object_set_new(rq, "ports", ports_of(spec));
    copy_field(rq, "externalTrafficPolicy", spec, "externalTrafficPolicy");
    json_t *sel = json_object_get(spec, "selector");
    if (json_is_object(sel) && json_object_size(sel) > 0)
        json_object_set(rq, "podSelector", sel);
    json_object_set_new(rq, "preferredIPs", ingress_ips(svc));
    json_object_set_new(rq, "managedBy", json_string(SYNC_MANAGED_BY));
    return rq;
}
