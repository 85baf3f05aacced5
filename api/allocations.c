/* allocations.c - /v1/allocations and /v1/allocations/{cluster}/{namespace}/{service}
 * (api.md §4).
 *
 * api/ checks the syntax of the request; everything that needs state (pools, holders,
 * sharing, families) is decided by store_allocation_put inside its write transaction.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/names.h"
#include "lib/xalloc.h"

/* Keep in sync with openapi.yaml #/components/schemas/AllocationRequest. The read-only
 * fields an allocation is rendered with are accepted and ignored (GET → edit → PUT). */
static const char *const alloc_fields[] = {
    "labels", "ipFamilies", "ipFamilyPolicy", "requestedIPs", "preferredIPs", "pool", "sharingKey",
    "sharingCrossNamespace", "ports", "externalTrafficPolicy", "podSelector", "externalRef",
    "managedBy", "description",
    /* read-only */
    "cluster", "namespace", "service", "addresses", "condition", "status", "createdAt", "updatedAt",
    "routes", "lastCheck", NULL};

static const char *const port_fields[] = {"port", "protocol", NULL};

/* Finds text in names (NULL-ended); its index, or -1. */
static int lookup(const char *const names[], const char *text)
{
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], text) == 0)
            return i;
    }
    return -1;
}

static int decode_families(struct alloc_request *rq, const json_t *arr, struct error *err)
{
    static const char *const names[] = {"IPv4", "IPv6", NULL};
    static const int families[] = {NETADDR_V4, NETADDR_V6};
    char field[ERROR_FIELD_MAX];
    int rc = 0;

    for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
        const char *s = NULL;
        int k;
        jptr_index(field, "/ipFamilies", i);
        rc = json_item_string(arr, "/ipFamilies", i, &s, err);
        if (rc < 0)
            break;
        k = lookup(names, s);
        if (k < 0)
            rc = error_set(err, ERR_INVALID, "invalid_value", field,
                           "ipFamilies holds IPv4 and/or IPv6, not \"%.64s\"", s);
        else if (i == 1 && rq->families[0] == families[k])
            rc = error_set(err, ERR_INVALID, "invalid_value", field, "%s is listed twice", s);
        else
            rq->families[rq->nfamilies++] = families[k];
    }
    return rc;
}

static int decode_policy(struct alloc_request *rq, const char *text, struct error *err)
{
    static const char *const names[] = {"SingleStack", "PreferDualStack", "RequireDualStack", NULL};
    static const enum ip_family_policy values[] = {POLICY_SINGLE_STACK, POLICY_PREFER_DUAL_STACK,
                                                   POLICY_REQUIRE_DUAL_STACK};
    int k = lookup(names, text);

    if (k < 0)
        return error_set(err, ERR_INVALID, "invalid_value", "/ipFamilyPolicy",
                         "ipFamilyPolicy is SingleStack, PreferDualStack or RequireDualStack");
    rq->policy = values[k];
    return 0;
}

static int decode_port(struct service_port *out, const json_t *v, const char *ptr,
                       struct error *err)
{
    static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
    int64_t port = -1;
    const char *protocol = "TCP";
    char field[ERROR_FIELD_MAX];
    int rc;

    if (!json_is_object(v))
        return json_type_error(v, ptr, "an object", err);
    rc = json_check_fields(v, ptr, port_fields, err);
    if (rc == 0)
        rc = json_get_int(v, ptr, "port", &port, err);
    if (rc == 0)
        rc = json_get_string(v, ptr, "protocol", API_STRING_MAX, &protocol, err);
    if (rc < 0)
        return rc;
    jptr_key(field, ptr, "port");
    if (port < 1 || port > 65535)
        return error_set(err, ERR_INVALID, "invalid_value", field,
                         "a port is an integer from 1 to 65535");
    jptr_key(field, ptr, "protocol");
    if (lookup(protocols, protocol) < 0)
        return error_set(err, ERR_INVALID, "invalid_value", field,
                         "protocol is TCP, UDP or SCTP, not \"%.16s\"", protocol);
    out->port = (uint16_t)port;
    snprintf(out->protocol, sizeof(out->protocol), "%s", protocol);
    return 0;
}

static int decode_ports(struct alloc_request *rq, const json_t *arr, struct error *err)
{
    char ptr[ERROR_FIELD_MAX];
    int rc = 0;

    rq->ports = xcalloc(json_array_size(arr) + 1, sizeof(*rq->ports));
    for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
        jptr_index(ptr, "/ports", i);
        rc = decode_port(&rq->ports[i], json_array_get(arr, i), ptr, err);
        if (rc == 0)
            rq->nports++;
    }
    return rc;
}

static int decode_cross_namespaces(struct alloc_request *rq, const json_t *arr, struct error *err)
{
    char field[ERROR_FIELD_MAX];
    int rc = 0;

    rq->cross_namespaces = xcalloc(json_array_size(arr) + 1, sizeof(char *));
    for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
        const char *s = NULL;
        jptr_index(field, "/sharingCrossNamespace", i);
        rc = json_item_string(arr, "/sharingCrossNamespace", i, &s, err);
        if (rc == 0 && strcmp(s, "*") != 0)
            rc = check_label_name(s, field, "namespace", err);
        if (rc == 0)
            rq->cross_namespaces[rq->ncross_namespaces++] = xstrdup(s);
    }
    return rc;
}

/* The optional strings, each NULL when absent or null. */
static int decode_strings(struct alloc_request *rq, const json_t *body, struct error *err)
{
    const char *pool = NULL, *key = NULL, *ref = NULL, *managed = NULL, *desc = NULL;
    const char *etp = NULL;
    int rc = json_get_nullable(body, "", "pool", API_STRING_MAX, &pool, err);

    if (rc == 0)
        rc = json_get_nullable(body, "", "sharingKey", API_TOKEN_MAX, &key, err);
    if (rc == 0)
        rc = json_get_nullable(body, "", "externalRef", API_TOKEN_MAX, &ref, err);
    if (rc == 0)
        rc = json_get_nullable(body, "", "managedBy", API_TOKEN_MAX, &managed, err);
    if (rc == 0)
        rc = json_get_string(body, "", "description", API_STRING_MAX, &desc, err);
    if (rc == 0)
        rc = json_get_string(body, "", "externalTrafficPolicy", API_STRING_MAX, &etp, err);
    if (rc == 0 && pool)
        rc = check_label_name(pool, "/pool", "pool name", err);
    if (rc == 0 && key && !key[0])
        rc = error_set(err, ERR_INVALID, "invalid_value", "/sharingKey",
                       "sharingKey must not be empty; leave it out or null for no sharing");
    if (rc == 0 && etp && strcmp(etp, "Cluster") != 0 && strcmp(etp, "Local") != 0)
        rc = error_set(err, ERR_INVALID, "invalid_value", "/externalTrafficPolicy",
                       "externalTrafficPolicy is Cluster or Local");
    if (rc < 0)
        return rc;
    rq->pool = xstrdup(pool);
    rq->sharing_key = xstrdup(key);
    rq->external_ref = xstrdup(ref);
    rq->managed_by = xstrdup(managed);
    rq->description = xstrdup(desc);
    rq->external_traffic_policy = xstrdup(etp);
    return 0;
}

struct alloc_members {
    json_t *labels, *families, *requested, *preferred, *cross, *ports, *pod_selector;
    const char *policy;
};

static int get_members(struct alloc_members *m, const json_t *body, struct error *err)
{
    int rc = json_check_fields(body, "", alloc_fields, err);

    if (rc == 0)
        rc = json_get_object(body, "", "labels", &m->labels, err);
    if (rc == 0)
        rc = json_get_array(body, "", "ipFamilies", 2, &m->families, err);
    if (rc == 0)
        rc = json_get_string(body, "", "ipFamilyPolicy", API_STRING_MAX, &m->policy, err);
    if (rc == 0)
        rc = json_get_array(body, "", "requestedIPs", API_IPS_MAX, &m->requested, err);
    if (rc == 0)
        rc = json_get_array(body, "", "preferredIPs", API_IPS_MAX, &m->preferred, err);
    if (rc == 0)
        rc = json_get_array(body, "", "sharingCrossNamespace", API_ITEMS_MAX, &m->cross, err);
    if (rc == 0)
        rc = json_get_array(body, "", "ports", API_ITEMS_MAX, &m->ports, err);
    if (rc == 0)
        rc = json_get_object(body, "", "podSelector", &m->pod_selector, err);
    return rc;
}

static int decode_alloc_request(struct alloc_request *rq, const json_t *body, struct error *err)
{
    struct alloc_members m = {0};
    int rc = get_members(&m, body, err);

    if (rc == 0)
        rc = decode_strings(rq, body, err);
    if (rc == 0 && m.labels)
        rc = json_decode_labels(&rq->labels, m.labels, "/labels", err);
    if (rc == 0 && m.families)
        rc = decode_families(rq, m.families, err);
    if (rc == 0 && m.policy)
        rc = decode_policy(rq, m.policy, err);
    if (rc == 0 && m.requested)
        rc = json_decode_ips(&rq->requested, &rq->nrequested, m.requested, "/requestedIPs", err);
    if (rc == 0 && m.preferred)
        rc = json_decode_ips(&rq->preferred, &rq->npreferred, m.preferred, "/preferredIPs", err);
    if (rc == 0 && m.cross)
        rc = decode_cross_namespaces(rq, m.cross, err);
    if (rc == 0 && m.ports)
        rc = decode_ports(rq, m.ports, err);
    if (rc == 0 && m.pod_selector)
        rc = json_decode_labels(&rq->pod_selector, m.pod_selector, "/podSelector", err);
    return rc;
}

int api_alloc_request_decode(struct alloc_request *out, const json_t *body, struct error *err)
{
    memset(out, 0, sizeof(*out));
    labels_init(&out->labels);
    labels_init(&out->pod_selector);
    return decode_alloc_request(out, body, err);
}

struct identity {
    const char *cluster, *namespace, *service;
};

static int check_identity(const struct identity *id, struct error *err)
{
    int rc = check_label_name(id->cluster, NULL, "cluster name", err);

    if (rc == 0)
        rc = check_label_name(id->namespace, NULL, "namespace", err);
    if (rc == 0)
        rc = check_service_name(id->service, NULL, err);
    return rc;
}

/* The identity of the URL. For PUT an invalid name is 422 invalid_name; for GET and DELETE
 * it cannot exist, so it is 404. */
static int identity_or_reply(struct api_call *call, struct identity *id, bool writing)
{
    struct error err;
    int rc = error_set(&err, ERR_INVALID, "invalid_name", NULL, "the URL names no service");

    id->cluster = call_param(call, "cluster");
    id->namespace = call_param(call, "namespace");
    id->service = call_param(call, "service");
    if (id->cluster && id->namespace && id->service)
        rc = check_identity(id, &err);
    if (rc == 0)
        return 0;
    if (writing)
        reply_problem(call, &err);
    else
        reply_error(call, ERR_NOTFOUND, "not_found", NULL, "no such allocation");
    return -1;
}

static void reply_allocation(struct api_call *call, int status, const struct allocation *a)
{
    if (status == 201)
        reply_location(call, "/v1/allocations/%s/%s/%s", a->cluster, a->namespace, a->service);
    reply_etag(call, a->version);
    reply_json(call, status, render_allocation(a));
}

/* GET of one allocation adds the reachability of api.md §6: the route of every address and
 * the latest check that probed one of them. */
static void reply_allocation_reach(struct api_call *call, const struct allocation *a)
{
    struct netaddr *ips = xcalloc(a->naddrs ? a->naddrs : 1, sizeof(*ips));
    struct reach_view view = {0};
    struct error err;
    json_t *obj, *routes;

    for (size_t i = 0; i < a->naddrs; i++)
        ips[i] = a->addrs[i].ip;
    if (store_reach_view(call->st, ips, a->naddrs, &view, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    obj = render_allocation(a);
    routes = json_array();
    for (size_t i = 0; i < view.nroutes; i++)
        json_array_append_new(routes, render_route(&view.routes[i]));
    json_object_set_new(obj, "routes", routes);
    json_object_set_new(obj, "lastCheck", view.last ? render_check(view.last) : json_null());
    reply_etag(call, a->version);
    reply_json(call, 200, obj);
out:
    reach_view_cleanup(&view);
    free(ips);
}

void api_allocations_put(struct api_call *call)
{
    struct identity id;
    struct alloc_request rq;
    struct allocation *out = NULL;
    struct error err;
    int64_t if_match;
    bool created = false;
    json_t *body = NULL;

    memset(&rq, 0, sizeof(rq));
    labels_init(&rq.labels);
    labels_init(&rq.pod_selector);
    if (identity_or_reply(call, &id, true) < 0 || if_match_or_reply(call, &if_match) < 0)
        goto out;
    /* Every field is optional: no body at all asks for one address with the defaults. */
    body = body_object_or_reply(call, true);
    if (!body)
        goto out;
    if (decode_alloc_request(&rq, body, &err) < 0 ||
        store_allocation_put(call->st, call->actor, id.cluster, id.namespace, id.service, &rq,
                             if_match, &out, &created, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    reply_allocation(call, created ? 201 : 200, out);
    /* "satisfied", or why a wanted family is missing (PreferDualStack) */
    snprintf(call->reply.outcome, sizeof(call->reply.outcome), "%s", out->condition.reason);
out:
    json_decref(body);
    alloc_request_cleanup(&rq);
    allocation_free(out);
}

void api_allocations_get(struct api_call *call)
{
    struct identity id;
    struct allocation *out = NULL;
    struct error err;

    if (identity_or_reply(call, &id, false) < 0)
        return;
    if (store_allocation_get(call->st, id.cluster, id.namespace, id.service, &out, &err) < 0)
        reply_problem(call, &err);
    else
        reply_allocation_reach(call, out);
    allocation_free(out);
}

void api_allocations_delete(struct api_call *call)
{
    struct identity id;
    struct error err;
    int64_t if_match;

    if (identity_or_reply(call, &id, false) < 0 || if_match_or_reply(call, &if_match) < 0)
        return;
    if (store_allocation_delete(call->st, call->actor, id.cluster, id.namespace, id.service,
                                if_match, &err) < 0)
        reply_problem(call, &err);
    else
        reply_empty(call, 204);
}

static const char *const list_filters[] = {"cluster",    "namespace",   "pool",      "ip", "family",
                                           "sharingKey", "externalRef", "managedBy", NULL};

static int decode_filter(struct allocation_filter *f, const struct api_call *call,
                         struct error *err)
{
    const char *ip = call_query(call, "ip");
    const char *family = call_query(call, "family");

    memset(f, 0, sizeof(*f));
    f->cluster = call_query(call, "cluster");
    f->namespace = call_query(call, "namespace");
    f->pool = call_query(call, "pool");
    f->sharing_key = call_query(call, "sharingKey");
    f->external_ref = call_query(call, "externalRef");
    f->managed_by = call_query(call, "managedBy");
    if (ip) {
        int rc = netaddr_parse(&f->ip, ip, "ip", err);
        if (rc < 0)
            return rc;
        f->has_ip = true;
    }
    if (!family)
        return 0;
    if (strcmp(family, "IPv4") == 0)
        f->family = NETADDR_V4;
    else if (strcmp(family, "IPv6") == 0)
        f->family = NETADDR_V6;
    else
        return error_set(err, ERR_BAD_REQUEST, "invalid_query", "family", "family is IPv4 or IPv6");
    return 0;
}

void api_allocations_list(struct api_call *call)
{
    struct api_page page;
    struct allocation_filter filter;
    struct allocation_list list = {0};
    struct error err;
    json_t *items;

    if (list_query_or_reply(call, list_filters, &page) < 0)
        return;
    if (decode_filter(&filter, call, &err) < 0 ||
        store_allocation_list(call->st, &filter, &page.page, &list, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, render_allocation(list.items[i]));
    reply_list(call, items, list.next);
out:
    allocation_list_cleanup(&list);
}
