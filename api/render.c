/* render.c - store structs to the JSON shapes of api.md.
 *
 * Keep in sync with openapi.yaml #/components/schemas (Cluster, Pool, Allocation, Address).
 * Optional request fields are always rendered (null or empty when unset), so that clients
 * see one shape and a GET → edit → PUT round trip sends back what it received.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <time.h>

/* RFC 3339 UTC with the Z suffix; null for 0 (never). */
static json_t *render_time_text(store_time t, bool millis)
{
    time_t secs = (time_t)(t / 1000);
    struct tm tm;
    char buf[48];
    size_t n;

    if (t == 0 || !gmtime_r(&secs, &tm))
        return json_null();
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    if (millis)
        snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(t % 1000));
    else
        snprintf(buf + n, sizeof(buf) - n, "Z");
    return json_string(buf);
}

json_t *render_time(store_time t)
{
    return render_time_text(t, false);
}

json_t *render_time_ms(store_time t)
{
    return render_time_text(t, true);
}

json_t *render_labels(const struct labels *l)
{
    json_t *obj = json_object();

    for (size_t i = 0; i < l->n; i++)
        json_object_set_new(obj, l->items[i].key, json_string(l->items[i].value));
    return obj;
}

static json_t *render_expr(const struct selector_expr *e)
{
    json_t *obj = json_object();
    json_t *values = json_array();

    for (size_t i = 0; i < e->nvalues; i++)
        json_array_append_new(values, json_string(e->values[i]));
    json_object_set_new(obj, "key", json_string(e->key));
    json_object_set_new(obj, "operator", json_string(selector_op_name(e->op)));
    json_object_set_new(obj, "values", values);
    return obj;
}

json_t *render_selector(const struct selector *s)
{
    json_t *obj = json_object();
    json_t *exprs = json_array();

    for (size_t i = 0; i < s->nexprs; i++)
        json_array_append_new(exprs, render_expr(&s->exprs[i]));
    json_object_set_new(obj, "matchLabels", render_labels(&s->match_labels));
    json_object_set_new(obj, "matchExpressions", exprs);
    return obj;
}

json_t *render_ip(const struct netaddr *a)
{
    char buf[NETADDR_STRLEN];

    netaddr_format(buf, a);
    return json_string(buf);
}

json_t *render_prefixes(const struct netprefix *p, size_t n)
{
    json_t *arr = json_array();
    char buf[NETPREFIX_STRLEN];

    for (size_t i = 0; i < n; i++) {
        netprefix_format(buf, &p[i]);
        json_array_append_new(arr, json_string(buf));
    }
    return arr;
}

json_t *render_string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static const char *announcement_name(enum announcement a)
{
    switch (a) {
    case ANNOUNCE_BGP:
        return "bgp";
    case ANNOUNCE_L2:
        return "l2";
    case ANNOUNCE_STATIC:
        return "static";
    case ANNOUNCE_NONE:
        break;
    }
    return "none";
}

json_t *render_cluster(const struct cluster *c)
{
    json_t *obj = json_object();
    json_t *status = json_object();

    json_object_set_new(obj, "name", json_string(c->name));
    json_object_set_new(obj, "labels", render_labels(&c->labels));
    json_object_set_new(obj, "description", json_string(c->description ? c->description : ""));
    json_object_set_new(obj, "announcement", json_string(announcement_name(c->announcement)));
    json_object_set_new(obj, "routablePrefixes", render_prefixes(c->routable, c->nroutable));
    json_object_set_new(obj, "nodeSubnets", render_prefixes(c->node_subnets, c->nnode_subnets));
    json_object_set_new(obj, "checkIntervalSeconds", json_integer(c->check_interval_s));
    json_object_set_new(status, "allocations", json_integer(c->allocations));
    json_object_set_new(status, "lastSyncAt", render_time(c->last_sync_at));
    json_object_set_new(obj, "status", status);
    json_object_set_new(obj, "createdAt", render_time(c->created_at));
    json_object_set_new(obj, "updatedAt", render_time(c->updated_at));
    return obj;
}

/* A block is echoed in the form it was given (api.md §3). */
static json_t *render_block(const struct pool_block *b)
{
    json_t *obj = json_object();
    struct netaddr start = {.v = b->range.start, .family = b->range.family};
    struct netaddr stop = {.v = b->range.stop, .family = b->range.family};
    struct netprefix prefix = {
        .base = b->range.start, .len = b->prefix_len, .family = b->range.family};
    char buf[NETPREFIX_STRLEN];

    switch (b->form) {
    case BLOCK_CIDR:
        netprefix_format(buf, &prefix);
        json_object_set_new(obj, "cidr", json_string(buf));
        break;
    case BLOCK_RANGE:
        json_object_set_new(obj, "start", render_ip(&start));
        json_object_set_new(obj, "stop", render_ip(&stop));
        break;
    case BLOCK_SINGLE:
        json_object_set_new(obj, "start", render_ip(&start));
        break;
    }
    return obj;
}

static json_t *render_count(struct netcount c)
{
    char buf[NETCOUNT_STRLEN];

    netcount_format(buf, c);
    return json_string(buf);
}

static json_t *render_family_status(const struct pool_family_status *s)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "total", render_count(s->total));
    json_object_set_new(obj, "used", render_count(s->used));
    json_object_set_new(obj, "available", render_count(s->available));
    json_object_set_new(obj, "utilization", json_real(netcount_ratio(s->used, s->total)));
    return obj;
}

/* api.md §3: {"reason": "unroutable_block", "cluster", "uncovered": ranges, "detail"}. */
static json_t *render_warning(const struct pool *p, const struct pool_warning *w)
{
    json_t *obj = json_object();
    json_t *ranges = json_array();
    char buf[NETRANGE_STRLEN];

    for (size_t i = 0; i < w->nuncovered; i++) {
        netrange_format(buf, &w->uncovered[i]);
        json_array_append_new(ranges, json_string(buf));
    }
    json_object_set_new(obj, "reason", json_string("unroutable_block"));
    json_object_set_new(obj, "cluster", json_string(w->cluster));
    json_object_set_new(obj, "uncovered", ranges);
    json_object_set_new(obj, "detail",
                        json_sprintf("%zu range%s of %s %s not routed to %s", w->nuncovered,
                                     w->nuncovered == 1 ? "" : "s", p->name,
                                     w->nuncovered == 1 ? "is" : "are", w->cluster));
    return obj;
}

static json_t *render_pool_status(const struct pool *p)
{
    json_t *status = json_object();
    json_t *warnings = json_array();

    if (p->has_v4)
        json_object_set_new(status, "ipv4", render_family_status(&p->v4));
    if (p->has_v6)
        json_object_set_new(status, "ipv6", render_family_status(&p->v6));
    for (size_t i = 0; i < p->nwarnings; i++)
        json_array_append_new(warnings, render_warning(p, &p->warnings[i]));
    json_object_set_new(status, "warnings", warnings);
    return status;
}

json_t *render_pool(const struct pool *p)
{
    json_t *obj = json_object();
    json_t *blocks = json_array();

    for (size_t i = 0; i < p->nblocks; i++)
        json_array_append_new(blocks, render_block(&p->blocks[i]));
    json_object_set_new(obj, "name", json_string(p->name));
    json_object_set_new(obj, "description", json_string(p->description ? p->description : ""));
    json_object_set_new(obj, "labels", render_labels(&p->labels));
    json_object_set_new(obj, "blocks", blocks);
    json_object_set_new(obj, "serviceSelector", render_selector(&p->service_selector));
    json_object_set_new(obj, "clusterSelector", render_selector(&p->cluster_selector));
    json_object_set_new(obj, "priority", json_integer(p->priority));
    json_object_set_new(obj, "autoAssign", json_boolean(p->auto_assign));
    json_object_set_new(obj, "disabled", json_boolean(p->disabled));
    json_object_set_new(obj, "allowFirstLastIPs", json_boolean(p->allow_first_last_ips));
    json_object_set_new(obj, "avoidBuggyIPs", json_boolean(p->avoid_buggy_ips));
    json_object_set_new(obj, "status", render_pool_status(p));
    json_object_set_new(obj, "createdAt", render_time(p->created_at));
    json_object_set_new(obj, "updatedAt", render_time(p->updated_at));
    return obj;
}

static const char *policy_name(enum ip_family_policy p)
{
    switch (p) {
    case POLICY_PREFER_DUAL_STACK:
        return "PreferDualStack";
    case POLICY_REQUIRE_DUAL_STACK:
        return "RequireDualStack";
    case POLICY_SINGLE_STACK:
        break;
    }
    return "SingleStack";
}

static json_t *render_ips(const struct netaddr *ips, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_ip(&ips[i]));
    return arr;
}

static json_t *render_ports(const struct service_port *ports, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *port = json_object();
        json_object_set_new(port, "port", json_integer(ports[i].port));
        json_object_set_new(port, "protocol", json_string(ports[i].protocol));
        json_array_append_new(arr, port);
    }
    return arr;
}

static json_t *render_strings(char *const *items, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(items[i]));
    return arr;
}

/* The request part of an allocation, in the field order of api.md §4. */
static void render_alloc_request(json_t *obj, const struct alloc_request *rq)
{
    json_t *families = json_array();

    for (size_t i = 0; i < rq->nfamilies; i++)
        json_array_append_new(families, json_string(netaddr_family_name(rq->families[i])));
    json_object_set_new(obj, "labels", render_labels(&rq->labels));
    json_object_set_new(obj, "ipFamilies", families);
    json_object_set_new(obj, "ipFamilyPolicy", json_string(policy_name(rq->policy)));
    json_object_set_new(obj, "requestedIPs", render_ips(rq->requested, rq->nrequested));
    json_object_set_new(obj, "preferredIPs", render_ips(rq->preferred, rq->npreferred));
    json_object_set_new(obj, "pool", render_string_or_null(rq->pool));
    json_object_set_new(obj, "sharingKey", render_string_or_null(rq->sharing_key));
    json_object_set_new(obj, "sharingCrossNamespace",
                        render_strings(rq->cross_namespaces, rq->ncross_namespaces));
    json_object_set_new(obj, "ports", render_ports(rq->ports, rq->nports));
    json_object_set_new(
        obj, "externalTrafficPolicy",
        json_string(rq->external_traffic_policy ? rq->external_traffic_policy : "Cluster"));
    json_object_set_new(obj, "podSelector", render_labels(&rq->pod_selector));
    json_object_set_new(obj, "externalRef", render_string_or_null(rq->external_ref));
    json_object_set_new(obj, "managedBy", render_string_or_null(rq->managed_by));
    json_object_set_new(obj, "description", json_string(rq->description ? rq->description : ""));
}

json_t *render_allocation(const struct allocation *a)
{
    json_t *obj = json_object();
    json_t *addrs = json_array();
    json_t *cond = json_object();

    json_object_set_new(obj, "cluster", json_string(a->cluster));
    json_object_set_new(obj, "namespace", json_string(a->namespace));
    json_object_set_new(obj, "service", json_string(a->service));
    render_alloc_request(obj, &a->rq);
    for (size_t i = 0; i < a->naddrs; i++) {
        json_t *addr = json_object();
        json_object_set_new(addr, "ip", render_ip(&a->addrs[i].ip));
        json_object_set_new(addr, "family",
                            json_string(netaddr_family_name(a->addrs[i].ip.family)));
        json_object_set_new(addr, "pool", json_string(a->addrs[i].pool));
        json_array_append_new(addrs, addr);
    }
    json_object_set_new(obj, "addresses", addrs);
    json_object_set_new(cond, "status", json_string(a->condition.satisfied ? "True" : "False"));
    json_object_set_new(cond, "reason", json_string(a->condition.reason));
    json_object_set_new(cond, "message",
                        json_string(a->condition.message ? a->condition.message : ""));
    json_object_set_new(obj, "condition", cond);
    json_object_set_new(obj, "createdAt", render_time(a->created_at));
    json_object_set_new(obj, "updatedAt", render_time(a->updated_at));
    return obj;
}

static const char *address_state_name(enum address_state s)
{
    switch (s) {
    case ADDRESS_ALLOCATED:
        return "allocated";
    case ADDRESS_FREE:
        return "free";
    case ADDRESS_RESERVED:
        return "reserved";
    case ADDRESS_OUTSIDE:
        break;
    }
    return "outside";
}

json_t *render_address(const struct address_info *a)
{
    json_t *obj = json_object();
    json_t *holders = json_array();

    for (size_t i = 0; i < a->nholders; i++) {
        json_t *h = json_object();
        json_object_set_new(h, "cluster", json_string(a->holders[i].cluster));
        json_object_set_new(h, "namespace", json_string(a->holders[i].namespace));
        json_object_set_new(h, "service", json_string(a->holders[i].service));
        json_array_append_new(holders, h);
    }
    json_object_set_new(obj, "ip", render_ip(&a->ip));
    json_object_set_new(obj, "family", json_string(netaddr_family_name(a->ip.family)));
    json_object_set_new(obj, "pool", a->pool[0] ? json_string(a->pool) : json_null());
    json_object_set_new(obj, "state", json_string(address_state_name(a->state)));
    json_object_set_new(obj, "holders", holders);
    /* Reachability checks come with a later issue (api.md §6). */
    json_object_set_new(obj, "lastCheck", json_null());
    return obj;
}
