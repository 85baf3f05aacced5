#include "clients/ctl/convert.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/yamljson.h"
#include "lib/labels.h"
#include "lib/names.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"

#define PATH_MAX_LEN 256
#define NS_LABEL "io.kubernetes.service.namespace"

static const char *const cilium_versions[] = {"cilium.io/v2alpha1", "cilium.io/v2", NULL};
static const char *const pool_bool_fields[] = {"autoAssign", "disabled", "allowFirstLastIPs",
                                               "avoidBuggyIPs", NULL};
static const char *const pool_only_fields[] = {
    "blocks",   "serviceSelector",   "clusterSelector", "priority", "autoAssign",
    "disabled", "allowFirstLastIPs", "avoidBuggyIPs",   NULL};
static const char *const cluster_only_fields[] = {"announcement", "routablePrefixes", "nodeSubnets",
                                                  NULL};

static int refuse(struct error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every refusal goes through here: one reason, the manifest path as field. */
static int refuse(struct error *err, const char *field, const char *fmt, ...)
{
    char detail[ERROR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return error_set(err, ERR_INVALID, "not_convertible", field, "%s", detail);
}

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static void path_join(char out[PATH_MAX_LEN], const char *base, const char *key)
{
    /* A path that long is cut: it only names a field in a message. */
    if (snprintf(out, PATH_MAX_LEN, "%s%s%s", base, base[0] ? "." : "", key) >= PATH_MAX_LEN)
        out[PATH_MAX_LEN - 1] = '\0';
}

static void path_index(char out[PATH_MAX_LEN], const char *base, size_t i)
{
    if (snprintf(out, PATH_MAX_LEN, "%s[%zu]", base, i) >= PATH_MAX_LEN)
        out[PATH_MAX_LEN - 1] = '\0';
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int want_type(const json_t *v, json_type type, const char *path, struct error *err)
{
    static const char *const names[] = {[JSON_OBJECT] = "a mapping",
                                        [JSON_ARRAY] = "a list",
                                        [JSON_STRING] = "a string",
                                        [JSON_INTEGER] = "an integer"};
    if (json_typeof(v) == type)
        return 0;
    if (type == JSON_STRING && !json_is_object(v) && !json_is_array(v) && !json_is_null(v))
        return refuse(err, path, "%s must be a string, not %s (quote it in YAML)", path,
                      type_name(v));
    return refuse(err, path, "%s must be %s, not %s", path, names[type], type_name(v));
}

/* Refuses the first key of obj that is not in allowed, naming what obj is. */
static int only_fields(const json_t *obj, const char *base, const char *const *allowed,
                       const char *what, struct error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (in_list(key, allowed))
            continue;
        char path[PATH_MAX_LEN];
        path_join(path, base, key);
        return refuse(err, path,
                      "%s cannot be converted: it is not a field of %s known to lbipamctl", path,
                      what);
    }
    return 0;
}

static int string_list(json_t **out, const json_t *v, const char *path, struct error *err)
{
    int rc = want_type(v, JSON_ARRAY, path, err);
    size_t i;
    json_t *item;
    *out = NULL;
    if (rc < 0)
        return rc;
    json_array_foreach(v, i, item)
    {
        char p[PATH_MAX_LEN];
        path_index(p, path, i);
        if ((rc = want_type(item, JSON_STRING, p, err)) < 0)
            return rc;
    }
    *out = json_deep_copy(v);
    return 0;
}

/* A map of strings (labels, matchLabels), copied. */
static int string_map(json_t **out, const json_t *v, const char *path, struct error *err)
{
    int rc = want_type(v, JSON_OBJECT, path, err);
    const char *key;
    json_t *value;
    *out = NULL;
    if (rc < 0)
        return rc;
    json_object_foreach((json_t *)v, key, value)
    {
        char p[PATH_MAX_LEN];
        path_join(p, path, key);
        if ((rc = want_type(value, JSON_STRING, p, err)) < 0)
            return rc;
    }
    *out = json_deep_copy(v);
    return 0;
}

static int convert_expression(json_t **out, const json_t *v, const char *path, struct error *err)
{
    static const char *const fields[] = {"key", "operator", "values", NULL};
    char p[PATH_MAX_LEN];
    json_t *values = NULL;
    enum selector_op op;
    int rc = want_type(v, JSON_OBJECT, path, err);
    const json_t *key = json_object_get(v, "key"), *oper = json_object_get(v, "operator");
    *out = NULL;
    if (rc == 0)
        rc = only_fields(v, path, fields, "a label selector requirement", err);
    if (rc < 0)
        return rc;
    path_join(p, path, "key");
    if (!key)
        return refuse(err, p, "%s is missing", p);
    if ((rc = want_type(key, JSON_STRING, p, err)) < 0)
        return rc;
    path_join(p, path, "operator");
    if (!oper)
        return refuse(err, p, "%s is missing", p);
    if ((rc = want_type(oper, JSON_STRING, p, err)) < 0)
        return rc;
    if (selector_op_parse(&op, json_string_value(oper)) < 0)
        return refuse(err, p,
                      "%s \"%s\" cannot be converted: lbipam selectors know In, NotIn, Exists and "
                      "DoesNotExist",
                      p, json_string_value(oper));
    path_join(p, path, "values");
    if (json_object_get(v, "values") &&
        (rc = string_list(&values, json_object_get(v, "values"), p, err)) < 0)
        return rc;
    *out = json_pack("{s:O,s:O}", "key", key, "operator", oper);
    if (values)
        json_object_set_new(*out, "values", values);
    return 0;
}

/* A Kubernetes LabelSelector into lbipam's (the same shape, checked field by field); empty
 * parts are left out. */
static int convert_selector(json_t **out, const json_t *v, const char *path, struct error *err)
{
    static const char *const fields[] = {"matchLabels", "matchExpressions", NULL};
    char p[PATH_MAX_LEN];
    json_t *labels = NULL, *exprs = json_array(), *item;
    const json_t *ml = json_object_get(v, "matchLabels"),
                 *me = json_object_get(v, "matchExpressions");
    size_t i;
    int rc = want_type(v, JSON_OBJECT, path, err);
    *out = NULL;
    if (rc == 0)
        rc = only_fields(v, path, fields, "a label selector", err);
    if (rc < 0)
        goto out;
    path_join(p, path, "matchLabels");
    if (ml && !json_is_null(ml) && (rc = string_map(&labels, ml, p, err)) < 0)
        goto out;
    path_join(p, path, "matchExpressions");
    if (me && !json_is_null(me) && (rc = want_type(me, JSON_ARRAY, p, err)) < 0)
        goto out;
    json_array_foreach(me, i, item)
    {
        char pi[PATH_MAX_LEN];
        json_t *expr;
        path_index(pi, p, i);
        if ((rc = convert_expression(&expr, item, pi, err)) < 0)
            goto out;
        json_array_append_new(exprs, expr);
    }
    *out = json_object();
    if (labels && json_object_size(labels) > 0)
        json_object_set(*out, "matchLabels", labels);
    if (json_array_size(exprs) > 0)
        json_object_set(*out, "matchExpressions", exprs);
out:
    json_decref(labels);
    json_decref(exprs);
    return rc;
}

static int get_bool(bool *out, const json_t *v, const char *path, struct error *err)
{
    if (yamljson_bool(out, v))
        return 0;
    return refuse(err, path, "%s must be a boolean (true or false), not %s", path,
                  json_is_string(v) ? json_string_value(v) : type_name(v));
}

/* metadata.name (an RFC 1123 label: lbipam's pool names) and metadata.labels. The rest of
 * metadata (namespace, annotations, uid, resourceVersion, …) is Kubernetes bookkeeping. */
static int convert_metadata(json_t *pool, const json_t *doc, struct error *err)
{
    const json_t *md = json_object_get(doc, "metadata"), *name, *labels;
    json_t *copy = NULL;
    int rc = 0;
    if (!md)
        return refuse(err, "metadata.name", "metadata.name is missing");
    if ((rc = want_type(md, JSON_OBJECT, "metadata", err)) < 0)
        return rc;
    name = json_object_get(md, "name");
    if (!name)
        return refuse(err, "metadata.name", "metadata.name is missing");
    if ((rc = want_type(name, JSON_STRING, "metadata.name", err)) < 0)
        return rc;
    if (!name_is_rfc1123_label(json_string_value(name)))
        return refuse(err, "metadata.name",
                      "metadata.name \"%s\" cannot be converted: lbipam pool names are RFC 1123 "
                      "labels (lower case letters, digits and '-', at most 63)",
                      json_string_value(name));
    json_object_set(pool, "name", (json_t *)name);
    labels = json_object_get(md, "labels");
    if (labels && !json_is_null(labels)) {
        if ((rc = string_map(&copy, labels, "metadata.labels", err)) < 0)
            return rc;
        if (json_object_size(copy) > 0)
            json_object_set(pool, "labels", copy);
        json_decref(copy);
    }
    return 0;
}

static int need_spec(const json_t **spec, const json_t *doc, const char *const *fields,
                     const char *what, struct error *err)
{
    int rc = 0;
    *spec = json_object_get(doc, "spec");
    if (!*spec)
        return refuse(err, "spec", "spec is missing");
    if ((rc = want_type(*spec, JSON_OBJECT, "spec", err)) < 0)
        return rc;
    return only_fields(*spec, "spec", fields, what, err);
}

/* ---- Cilium ---------------------------------------------------------------------------- */

static int cilium_block(json_t **out, const json_t *b, const char *path, struct error *err)
{
    static const char *const fields[] = {"cidr", "start", "stop", NULL};
    const json_t *cidr = json_object_get(b, "cidr"), *start = json_object_get(b, "start"),
                 *stop = json_object_get(b, "stop");
    char p[PATH_MAX_LEN];
    int rc = want_type(b, JSON_OBJECT, path, err);
    *out = NULL;
    if (rc == 0)
        rc = only_fields(b, path, fields, "a CiliumLoadBalancerIPPool block", err);
    if (rc < 0)
        return rc;
    if (cidr && (start || stop))
        return refuse(err, path, "%s has both cidr and start/stop: a block is one or the other",
                      path);
    if (!cidr && !start)
        return refuse(err, path, "%s has neither cidr nor start", path);
    if (stop && !start)
        return refuse(err, path, "%s has stop without start", path);
    *out = json_object();
    const char *const keys[] = {"cidr", "start", "stop"};
    const json_t *vals[] = {cidr, start, stop};
    for (size_t i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        path_join(p, path, keys[i]);
        if ((rc = want_type(vals[i], JSON_STRING, p, err)) < 0) {
            json_decref(*out);
            *out = NULL;
            return rc;
        }
        json_object_set(*out, keys[i], (json_t *)vals[i]);
    }
    return 0;
}

/* spec.blocks, and spec.cidrs: its deprecated v2alpha1 name (Cilium 1.13), same shape. */
static int cilium_blocks(json_t *pool, const json_t *spec, struct error *err)
{
    static const char *const names[] = {"blocks", "cidrs"};
    json_t *blocks = json_array(), *item, *b;
    size_t i;
    int rc = 0;
    for (size_t k = 0; k < 2; k++) {
        const json_t *list = json_object_get(spec, names[k]);
        char path[PATH_MAX_LEN];
        path_join(path, "spec", names[k]);
        if (!list || json_is_null(list))
            continue;
        if ((rc = want_type(list, JSON_ARRAY, path, err)) < 0)
            goto out;
        json_array_foreach(list, i, item)
        {
            char p[PATH_MAX_LEN];
            path_index(p, path, i);
            if ((rc = cilium_block(&b, item, p, err)) < 0)
                goto out;
            json_array_append_new(blocks, b);
        }
    }
    if (json_array_size(blocks) == 0) {
        rc = refuse(err, "spec.blocks",
                    "spec.blocks is empty: an lbipam pool needs at least one block");
        goto out;
    }
    json_object_set(pool, "blocks", blocks);
out:
    json_decref(blocks);
    return rc;
}

static int cilium_flags(json_t *pool, const json_t *spec, struct error *err)
{
    const json_t *disabled = json_object_get(spec, "disabled"),
                 *first_last = json_object_get(spec, "allowFirstLastIPs");
    bool b;
    int rc = 0;
    if (disabled && !json_is_null(disabled)) {
        if ((rc = get_bool(&b, disabled, "spec.disabled", err)) < 0)
            return rc;
        json_object_set_new(pool, "disabled", json_boolean(b));
    }
    /* Cilium spells it "Yes" / "No" (a string enum); a YAML 1.1 boolean is taken too. */
    if (first_last && !json_is_null(first_last)) {
        if (!yamljson_bool(&b, first_last))
            return refuse(err, "spec.allowFirstLastIPs",
                          "spec.allowFirstLastIPs must be \"Yes\" or \"No\", not %s",
                          json_is_string(first_last) ? json_string_value(first_last)
                                                     : type_name(first_last));
        json_object_set_new(pool, "allowFirstLastIPs", json_boolean(b));
    }
    return 0;
}

int convert_cilium_pool(json_t **out, const json_t *doc, struct error *err)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    static const char *const fields[] = {
        "blocks", "cidrs", "serviceSelector", "disabled", "allowFirstLastIPs", NULL};
    const json_t *spec = NULL, *sel;
    json_t *pool = json_object(), *selector = NULL;
    int rc = only_fields(doc, "", top, "CiliumLoadBalancerIPPool", err);
    *out = NULL;
    if (rc == 0)
        rc = convert_metadata(pool, doc, err);
    if (rc == 0)
        rc = need_spec(&spec, doc, fields, "CiliumLoadBalancerIPPool", err);
    if (rc == 0)
        rc = cilium_blocks(pool, spec, err);
    if (rc < 0)
        goto out;
    sel = json_object_get(spec, "serviceSelector");
    if (sel && !json_is_null(sel)) {
        if ((rc = convert_selector(&selector, sel, "spec.serviceSelector", err)) < 0)
            goto out;
        if (json_object_size(selector) > 0)
            json_object_set(pool, "serviceSelector", selector);
    }
    rc = cilium_flags(pool, spec, err);
out:
    json_decref(selector);
    if (rc < 0)
        json_decref(pool);
    else
        *out = pool;
    return rc;
}

/* ---- MetalLB --------------------------------------------------------------------------- */

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    while (isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

/* "a-b" (spaces around either end allowed, as MetalLB allows them). */
static int metallb_range(json_t **out, const char *text, const char *path, struct error *err)
{
    char *copy = xstrdup(text), *dash = strchr(copy, '-');
    struct netaddr a, b;
    struct error ignored;
    int rc = 0;
    *dash = '\0';
    char *start = copy, *stop = dash + 1;
    trim(start);
    trim(stop);
    if (netaddr_parse(&a, start, path, &ignored) < 0 ||
        netaddr_parse(&b, stop, path, &ignored) < 0) {
        rc = refuse(err, path, "%s \"%s\" is not a range of two IP addresses", path, text);
        goto out;
    }
    if (a.family != b.family) {
        rc = refuse(err, path, "%s \"%s\" mixes IPv4 and IPv6", path, text);
        goto out;
    }
    if (a.v > b.v) {
        rc = refuse(err, path, "%s \"%s\" starts after it stops", path, text);
        goto out;
    }
    if (a.v == b.v)
        *out = json_pack("{s:s}", "start", start);
    else
        *out = json_pack("{s:s,s:s}", "start", start, "stop", stop);
out:
    free(copy);
    return rc;
}

static int metallb_address(json_t **out, const json_t *v, const char *path, struct error *err)
{
    int rc = want_type(v, JSON_STRING, path, err);
    *out = NULL;
    if (rc < 0)
        return rc;
    const char *text = json_string_value(v);
    if (strchr(text, '/')) {
        char *copy = xstrdup(text);
        trim(copy);
        *out = json_pack("{s:s}", "cidr", copy);
        free(copy);
        return 0;
    }
    if (strchr(text, '-'))
        return metallb_range(out, text, path, err);
    return refuse(err, path,
                  "%s \"%s\" is neither a CIDR nor a range a-b (MetalLB writes one address as "
                  "a /32 or /128)",
                  path, text);
}

static int metallb_addresses(json_t *pool, const json_t *spec, struct error *err)
{
    const json_t *list = json_object_get(spec, "addresses"), *item;
    json_t *blocks = json_array(), *b;
    size_t i;
    int rc = 0;
    if (!list || json_is_null(list) || (json_is_array(list) && json_array_size(list) == 0)) {
        rc = refuse(err, "spec.addresses",
                    "spec.addresses is empty: an lbipam pool needs at least one block");
        goto out;
    }
    if ((rc = want_type(list, JSON_ARRAY, "spec.addresses", err)) < 0)
        goto out;
    json_array_foreach(list, i, item)
    {
        char p[PATH_MAX_LEN];
        path_index(p, "spec.addresses", i);
        if ((rc = metallb_address(&b, item, p, err)) < 0)
            goto out;
        json_array_append_new(blocks, b);
    }
    json_object_set(pool, "blocks", blocks);
out:
    json_decref(blocks);
    return rc;
}

static int metallb_priority(json_t *pool, const json_t *v, struct error *err)
{
    const char *path = "spec.serviceAllocation.priority";
    int rc = want_type(v, JSON_INTEGER, path, err);
    if (rc < 0)
        return rc;
    json_int_t p = json_integer_value(v);
    if (p < 0 || p >= CONVERT_METALLB_PRIORITY_BASE)
        return refuse(err, path,
                      "%s %lld cannot be converted: MetalLB tries priority 1 first and 0 last, "
                      "lbipam the highest first; lbipamctl maps p to %d - p and needs 0 <= p <= "
                      "%d",
                      path, (long long)p, CONVERT_METALLB_PRIORITY_BASE,
                      CONVERT_METALLB_PRIORITY_BASE - 1);
    if (p > 0)
        json_object_set_new(pool, "priority", json_integer(CONVERT_METALLB_PRIORITY_BASE - p));
    return 0;
}

/* serviceSelectors[0] AND namespace In namespaces: MetalLB's meaning when both are given. */
static int metallb_selector(json_t **out, const json_t *sa, struct error *err)
{
    const char *base = "spec.serviceAllocation";
    const json_t *sels = json_object_get(sa, "serviceSelectors"),
                 *nssel = json_object_get(sa, "namespaceSelectors"),
                 *ns = json_object_get(sa, "namespaces");
    json_t *namespaces = NULL;
    int rc = 0;
    *out = NULL;
    if (nssel && !json_is_null(nssel) && (!json_is_array(nssel) || json_array_size(nssel) > 0))
        return refuse(err, "spec.serviceAllocation.namespaceSelectors",
                      "spec.serviceAllocation.namespaceSelectors cannot be converted: lbipam has "
                      "no namespace labels (a serviceSelector sees the service's labels and its "
                      "namespace name); list the namespaces in "
                      "spec.serviceAllocation.namespaces instead");
    if (sels && !json_is_null(sels)) {
        if ((rc = want_type(sels, JSON_ARRAY, "spec.serviceAllocation.serviceSelectors", err)) < 0)
            return rc;
        if (json_array_size(sels) > 1)
            return refuse(err, "spec.serviceAllocation.serviceSelectors",
                          "spec.serviceAllocation.serviceSelectors has %zu selectors: MetalLB ORs "
                          "them, but an lbipam serviceSelector is one selector whose terms are "
                          "ANDed; merge them into one or split the pool",
                          json_array_size(sels));
        if (json_array_size(sels) == 1 &&
            (rc = convert_selector(out, json_array_get(sels, 0),
                                   "spec.serviceAllocation.serviceSelectors[0]", err)) < 0)
            return rc;
    }
    if (!*out)
        *out = json_object();
    if (ns && !json_is_null(ns)) {
        char p[PATH_MAX_LEN];
        path_join(p, base, "namespaces");
        if ((rc = string_list(&namespaces, ns, p, err)) < 0)
            goto out;
    }
    if (namespaces && json_array_size(namespaces) > 0) {
        json_t *exprs = json_object_get(*out, "matchExpressions");
        if (!exprs) {
            exprs = json_array();
            json_object_set_new(*out, "matchExpressions", exprs);
        }
        json_array_append_new(exprs, json_pack("{s:s,s:s,s:O}", "key", NS_LABEL, "operator", "In",
                                               "values", namespaces));
    }
out:
    json_decref(namespaces);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int metallb_allocation(json_t *pool, const json_t *spec, struct error *err)
{
    static const char *const fields[] = {"priority", "namespaces", "namespaceSelectors",
                                         "serviceSelectors", NULL};
    const json_t *sa = json_object_get(spec, "serviceAllocation"), *prio;
    json_t *selector = NULL;
    int rc = 0;
    if (!sa || json_is_null(sa))
        return 0;
    if ((rc = want_type(sa, JSON_OBJECT, "spec.serviceAllocation", err)) < 0)
        return rc;
    if ((rc = only_fields(sa, "spec.serviceAllocation", fields, "IPAddressPool", err)) < 0)
        return rc;
    if ((rc = metallb_selector(&selector, sa, err)) < 0)
        return rc;
    if (json_object_size(selector) > 0)
        json_object_set(pool, "serviceSelector", selector);
    json_decref(selector);
    prio = json_object_get(sa, "priority");
    if (prio && !json_is_null(prio))
        rc = metallb_priority(pool, prio, err);
    return rc;
}

static int metallb_flags(json_t *pool, const json_t *spec, struct error *err)
{
    static const char *const names[] = {"autoAssign", "avoidBuggyIPs"};
    int rc = 0;
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get(spec, names[i]);
        char path[PATH_MAX_LEN];
        bool b;
        if (!v || json_is_null(v))
            continue;
        path_join(path, "spec", names[i]);
        if ((rc = get_bool(&b, v, path, err)) < 0)
            return rc;
        json_object_set_new(pool, names[i], json_boolean(b));
    }
    /* MetalLB hands out the first and last address of a CIDR; say so explicitly. */
    json_object_set_new(pool, "allowFirstLastIPs", json_true());
    return 0;
}

int convert_metallb_pool(json_t **out, const json_t *doc, struct error *err)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
    static const char *const fields[] = {"addresses", "autoAssign", "avoidBuggyIPs",
                                         "serviceAllocation", NULL};
    const json_t *spec = NULL;
    json_t *pool = json_object();
    int rc = only_fields(doc, "", top, "IPAddressPool", err);
    *out = NULL;
    if (rc == 0)
        rc = convert_metadata(pool, doc, err);
    if (rc == 0)
        rc = need_spec(&spec, doc, fields, "IPAddressPool", err);
    if (rc == 0)
        rc = metallb_addresses(pool, spec, err);
    if (rc == 0)
        rc = metallb_allocation(pool, spec, err);
    if (rc == 0)
        rc = metallb_flags(pool, spec, err);
    if (rc < 0)
        json_decref(pool);
    else
        *out = pool;
    return rc;
}

/* ---- Our own objects and the dispatch -------------------------------------------------- */

static bool has_any(const json_t *doc, const char *const *fields)
{
    for (size_t i = 0; fields[i]; i++)
        if (json_object_get(doc, fields[i]))
            return true;
    return false;
}

/* YAML 1.1 spellings (autoAssign: no) become booleans; everything else is the server's to
 * check (it refuses unknown fields with their JSON pointer). */
static int own_object(json_t **out, enum manifest_kind kind, const json_t *doc, struct error *err)
{
    json_t *body = json_deep_copy(doc);
    int rc = 0;
    json_object_del(body, "kind");
    json_object_del(body, "apiVersion");
    for (size_t i = 0; kind == MANIFEST_POOL && pool_bool_fields[i]; i++) {
        json_t *v = json_object_get(body, pool_bool_fields[i]);
        bool b;
        if (v && json_is_string(v) && yamljson_bool(&b, v))
            json_object_set_new(body, pool_bool_fields[i], json_boolean(b));
    }
    const json_t *name = json_object_get(body, "name");
    if (!name) {
        rc = refuse(err, "name", "name is missing: apply needs the %s's name",
                    manifest_kind_name(kind));
        goto out;
    }
    if ((rc = want_type(name, JSON_STRING, "name", err)) < 0)
        goto out;
out:
    if (rc < 0)
        json_decref(body);
    else
        *out = body;
    return rc;
}

static int own_kind(enum manifest_kind *kind, const json_t *doc, struct error *err)
{
    const json_t *k = json_object_get(doc, "kind");
    if (k) {
        *kind = strcmp(json_string_value(k), "Pool") == 0 ? MANIFEST_POOL : MANIFEST_CLUSTER;
        return 0;
    }
    if (has_any(doc, pool_only_fields)) {
        *kind = MANIFEST_POOL;
        return 0;
    }
    if (has_any(doc, cluster_only_fields)) {
        *kind = MANIFEST_CLUSTER;
        return 0;
    }
    return refuse(err, "kind",
                  "cannot tell whether this is a Pool or a Cluster: add kind: Pool or kind: "
                  "Cluster");
}

static int check_api_version(const json_t *doc, const char *kind, const char *const *versions,
                             struct error *err)
{
    const json_t *v = json_object_get(doc, "apiVersion");
    int rc = 0;
    char list[128] = "";
    if (!v)
        return refuse(err, "apiVersion", "apiVersion is missing (%s is %s)", kind, versions[0]);
    if ((rc = want_type(v, JSON_STRING, "apiVersion", err)) < 0)
        return rc;
    if (in_list(json_string_value(v), versions))
        return 0;
    for (size_t i = 0; versions[i]; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " and " : "",
                 versions[i]);
    return refuse(err, "apiVersion", "%s of apiVersion %s is not supported (%s %s)", kind,
                  json_string_value(v), list, versions[1] ? "are" : "is");
}

int convert_object(struct manifest_object *out, const json_t *doc, struct error *err)
{
    static const char *const metallb_versions[] = {"metallb.io/v1beta1", NULL};
    static const char *const own_versions[] = {"lbipam.io/v1", NULL};
    const json_t *kind = json_object_get(doc, "kind");
    const char *k;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (!json_is_object(doc))
        return refuse(err, "", "a document must be a mapping (an object), not %s", type_name(doc));
    if (kind && (rc = want_type(kind, JSON_STRING, "kind", err)) < 0)
        return rc;
    k = kind ? json_string_value(kind) : "";
    out->kind = MANIFEST_POOL;
    if (strcmp(k, "CiliumLoadBalancerIPPool") == 0) {
        if ((rc = check_api_version(doc, k, cilium_versions, err)) == 0)
            rc = convert_cilium_pool(&out->body, doc, err);
    } else if (strcmp(k, "IPAddressPool") == 0) {
        if ((rc = check_api_version(doc, k, metallb_versions, err)) == 0)
            rc = convert_metallb_pool(&out->body, doc, err);
    } else if (!kind || strcmp(k, "Pool") == 0 || strcmp(k, "Cluster") == 0) {
        if (json_object_get(doc, "apiVersion"))
            rc = check_api_version(doc, kind ? k : "Pool", own_versions, err);
        if (rc == 0)
            rc = own_kind(&out->kind, doc, err);
        if (rc == 0)
            rc = own_object(&out->body, out->kind, doc, err);
    } else {
        return refuse(err, "kind",
                      "kind %s is not supported: lbipamctl applies Pool, Cluster, "
                      "CiliumLoadBalancerIPPool (cilium.io/v2alpha1, cilium.io/v2) and "
                      "IPAddressPool (metallb.io/v1beta1)",
                      k);
    }
    if (rc < 0)
        return rc;
    out->name = xstrdup(json_string_value(json_object_get(out->body, "name")));
    return 0;
}

const char *manifest_kind_name(enum manifest_kind kind)
{
    return kind == MANIFEST_POOL ? "pool" : "cluster";
}

/* "IPAddressPool first-pool" for messages about a document that failed. */
static void describe_doc(char *out, size_t cap, const json_t *doc)
{
    const json_t *kind = json_object_get(doc, "kind"), *md = json_object_get(doc, "metadata");
    const json_t *name = json_object_get(doc, "name");
    if (json_is_object(md))
        name = json_object_get(md, "name");
    snprintf(out, cap, "%s%s%s", json_is_string(kind) ? json_string_value(kind) : "",
             json_is_string(kind) && json_is_string(name) ? " " : "",
             json_is_string(name) ? json_string_value(name) : "");
}

static int add_object(struct manifest *m, const json_t *doc, struct error *err)
{
    struct manifest_object o;
    int rc = convert_object(&o, doc, err);
    if (rc < 0) {
        describe_doc(m->what, sizeof(m->what), doc);
        return rc;
    }
    m->items = xrealloc(m->items, (m->n + 1) * sizeof(*m->items));
    m->items[m->n++] = o;
    return 0;
}

/* A list: a JSON array, or an object whose only content is `items` (our own list replies,
 * kubectl's kind: List). */
static const json_t *list_items(const json_t *doc)
{
    if (json_is_array(doc))
        return doc;
    const json_t *items = json_object_get(doc, "items"), *kind = json_object_get(doc, "kind");
    if (!json_is_array(items))
        return NULL;
    if (kind && !(json_is_string(kind) && strcmp(json_string_value(kind), "List") == 0))
        return NULL;
    return items;
}

int manifest_convert(struct manifest *m, const json_t *docs, struct error *err)
{
    size_t i, j;
    const json_t *doc, *item;
    int rc = 0;
    json_array_foreach(docs, i, doc)
    {
        const json_t *items = list_items(doc);
        if (!items) {
            snprintf(m->where, sizeof(m->where), "document %zu", i + 1);
            if ((rc = add_object(m, doc, err)) < 0)
                return rc;
            continue;
        }
        json_array_foreach(items, j, item)
        {
            snprintf(m->where, sizeof(m->where), "document %zu, item %zu", i + 1, j + 1);
            if ((rc = add_object(m, item, err)) < 0)
                return rc;
        }
    }
    m->where[0] = '\0';
    if (m->n == 0)
        return error_set(err, ERR_INVALID, "not_convertible", NULL, "no object to apply");
    return 0;
}

void manifest_cleanup(struct manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].name);
        json_decref(m->items[i].body);
    }
    free(m->items);
    m->items = NULL;
    m->n = 0;
}
