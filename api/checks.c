/* checks.c - /v1/reachability-checks (api.md §6): create, list, get.
 *
 * The handler stores a pending check and hands it to the probe scheduler; probes never run on
 * an HTTP thread. `Prefer: wait=N` (RFC 7240) only makes the handler wait for the scheduler's
 * signal before it reads the check back.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/names.h"
#include "lib/xalloc.h"

#define PREFER_WAIT_MAX_S 30

/* Keep in sync with openapi.yaml #/components/schemas/ReachabilityCheckRequest. */
static const char *const check_fields[] = {"target", "probes", "timeoutMs", NULL};
static const char *const target_fields[] = {"ip", "allocation", NULL};
static const char *const probe_fields[] = {"type", "port", "path", "expectStatus", NULL};

/* ------------------------------------------------------------------------------ render */

json_t *render_route(const struct check_route *r)
{
    json_t *obj = json_object();
    char prefix[NETPREFIX_STRLEN];

    json_object_set_new(obj, "ip", render_ip(&r->ip));
    json_object_set_new(obj, "verdict", json_string(route_verdict_name(r->r.verdict)));
    json_object_set_new(obj, "mechanism", json_string(route_mechanism_name(r->r.mechanism)));
    if (r->r.has_prefix) {
        netprefix_format(prefix, &r->r.prefix);
        json_object_set_new(obj, "matchedPrefix", json_string(prefix));
    } else {
        json_object_set_new(obj, "matchedPrefix", json_null());
    }
    json_object_set_new(obj, "detail", json_string(r->r.detail));
    return obj;
}

static json_t *render_result(const struct check_result *r)
{
    json_t *obj = json_object();
    bool web = strcmp(r->probe.type, "http") == 0 || strcmp(r->probe.type, "https") == 0;

    json_object_set_new(obj, "ip", render_ip(&r->ip));
    json_object_set_new(obj, "type", json_string(r->probe.type));
    json_object_set_new(obj, "port", r->probe.port ? json_integer(r->probe.port) : json_null());
    if (web) {
        json_object_set_new(obj, "path", json_string(r->probe.path ? r->probe.path : "/"));
        json_object_set_new(obj, "expectStatus", json_integer(r->probe.expect_status));
    }
    json_object_set_new(obj, "ok", r->done ? json_boolean(r->ok) : json_null());
    json_object_set_new(obj, "latencyMs",
                        r->done && r->ok ? json_real((double)r->latency_us / 1000.0) : json_null());
    json_object_set_new(obj, "error",
                        r->done && !r->ok && r->error ? json_string(r->error) : json_null());
    return obj;
}

json_t *render_check(const struct check *c)
{
    json_t *obj = json_object();
    json_t *target = json_object();
    json_t *routes = json_array();
    json_t *results = json_array();
    char id[24];

    snprintf(id, sizeof(id), "%" PRId64, c->id);
    if (c->target_allocation) {
        char alloc[3 * STORE_NAME_MAX];
        snprintf(alloc, sizeof(alloc), "%s/%s/%s", c->cluster, c->namespace, c->service);
        json_object_set_new(target, "allocation", json_string(alloc));
    } else
        json_object_set_new(target, "ip", render_ip(&c->target_ip));
    for (size_t i = 0; i < c->nroutes; i++)
        json_array_append_new(routes, render_route(&c->routes[i]));
    for (size_t i = 0; i < c->nresults; i++)
        json_array_append_new(results, render_result(&c->results[i]));
    json_object_set_new(obj, "id", json_string(id));
    json_object_set_new(obj, "state", json_string(check_state_name(c->state)));
    json_object_set_new(obj, "target", target);
    json_object_set_new(obj, "timeoutMs", json_integer(c->timeout_ms));
    json_object_set_new(obj, "periodic", json_boolean(c->periodic));
    json_object_set_new(obj, "routes", routes);
    json_object_set_new(obj, "results", results);
    json_object_set_new(obj, "createdAt", render_time(c->created_at));
    json_object_set_new(obj, "finishedAt", render_time(c->finished_at));
    return obj;
}

/* ------------------------------------------------------------------------------ decode */

/* "cluster/namespace/service" into the three names; the names must be valid ones. */
static int split_allocation(char cluster[STORE_NAME_MAX], char namespace[STORE_NAME_MAX],
                            char service[STORE_NAME_MAX], const char *text, const char *field,
                            struct error *err)
{
    const char *a = strchr(text, '/'), *b = a ? strchr(a + 1, '/') : NULL;

    if (!a || !b || strchr(b + 1, '/') || (size_t)(a - text) >= STORE_NAME_MAX ||
        (size_t)(b - a - 1) >= STORE_NAME_MAX || strlen(b + 1) >= STORE_NAME_MAX)
        return error_set(err, ERR_INVALID, "invalid_target", field,
                         "an allocation is named cluster/namespace/service");
    snprintf(cluster, STORE_NAME_MAX, "%.*s", (int)(a - text), text);
    snprintf(namespace, STORE_NAME_MAX, "%.*s", (int)(b - a - 1), a + 1);
    snprintf(service, STORE_NAME_MAX, "%s", b + 1);
    if (!name_is_rfc1123_label(cluster) || !name_is_rfc1123_label(namespace) ||
        !name_is_rfc1035_label(service))
        return error_set(err, ERR_INVALID, "invalid_target", field,
                         "%.200s is not cluster/namespace/service", text);
    return 0;
}

static int decode_target(struct check_request *rq, const json_t *body, struct error *err)
{
    json_t *target = NULL;
    const char *ip = NULL, *alloc = NULL;
    int rc = json_get_object(body, "", "target", &target, err);

    if (rc == 0 && !target)
        rc = error_set(err, ERR_INVALID, "missing_field", "/target",
                       "a check needs a target: {\"ip\": …} or {\"allocation\": …}");
    if (rc == 0)
        rc = json_check_fields(target, "/target", target_fields, err);
    if (rc == 0)
        rc = json_get_string(target, "/target", "ip", (size_t)NETADDR_STRLEN * 4, &ip, err);
    if (rc == 0)
        rc = json_get_string(target, "/target", "allocation", (size_t)4 * STORE_NAME_MAX, &alloc,
                             err);
    if (rc < 0)
        return rc;
    if (!ip == !alloc)
        return error_set(err, ERR_INVALID, "invalid_target", "/target",
                         "the target has exactly one of ip and allocation");
    if (ip)
        return netaddr_parse(&rq->ip, ip, "/target/ip", err);
    rq->target_allocation = true;
    return split_allocation(rq->cluster, rq->namespace, rq->service, alloc, "/target/allocation",
                            err);
}

static int decode_probe(struct check_probe *p, const json_t *obj, const char *ptr,
                        struct error *err)
{
    const char *type = NULL, *path = NULL;
    int64_t port = 0, expect = 200;
    char field[ERROR_FIELD_MAX];
    bool web;
    int rc = json_is_object(obj) ? 0 : json_type_error(obj, ptr, "an object", err);

    if (rc == 0)
        rc = json_check_fields(obj, ptr, probe_fields, err);
    if (rc == 0)
        rc = json_get_string(obj, ptr, "type", 16, &type, err);
    if (rc == 0)
        rc = json_get_int(obj, ptr, "port", &port, err);
    if (rc == 0)
        rc = json_get_string(obj, ptr, "path", CHECK_PATH_MAX, &path, err);
    if (rc == 0)
        rc = json_get_int(obj, ptr, "expectStatus", &expect, err);
    if (rc < 0)
        return rc;
    jptr_key(field, ptr, "type");
    if (!type || (strcmp(type, "tcp") != 0 && strcmp(type, "http") != 0 &&
                  strcmp(type, "https") != 0 && strcmp(type, "icmp") != 0))
        return error_set(err, ERR_INVALID, "invalid_probe", field,
                         "a probe's type is tcp, http, https or icmp");
    snprintf(p->type, sizeof(p->type), "%s", type);
    web = strcmp(type, "http") == 0 || strcmp(type, "https") == 0;
    jptr_key(field, ptr, "port");
    if (strcmp(type, "icmp") == 0 ? port != 0 : (port < 1 || port > 65535))
        return error_set(err, ERR_INVALID, "invalid_probe", field,
                         strcmp(type, "icmp") == 0 ? "an icmp probe has no port"
                                                   : "port must be 1-65535");
    p->port = (uint16_t)port;
    jptr_key(field, ptr, "path");
    if (path && (!web || path[0] != '/' || strpbrk(path, " \t\r\n#")))
        return error_set(err, ERR_INVALID, "invalid_probe", field,
                         "path belongs to http(s) probes and is an absolute path without spaces");
    jptr_key(field, ptr, "expectStatus");
    if (web && (expect < 100 || expect > 599))
        return error_set(err, ERR_INVALID, "invalid_probe", field, "expectStatus must be 100-599");
    if (web) {
        p->path = xstrdup(path ? path : "/");
        p->expect_status = (int)expect;
    }
    return 0;
}

static void check_request_cleanup(struct check_request *rq)
{
    for (size_t i = 0; i < rq->nprobes; i++)
        free(rq->probes[i].path);
    free(rq->probes);
}

static int decode_check(struct check_request *rq, const json_t *body, struct error *err)
{
    json_t *probes = NULL;
    int64_t timeout = CHECK_TIMEOUT_DEFAULT_MS;
    char ptr[ERROR_FIELD_MAX];
    int rc = json_check_fields(body, "", check_fields, err);

    if (rc == 0)
        rc = decode_target(rq, body, err);
    if (rc == 0)
        rc = json_get_array(body, "", "probes", CHECK_PROBES_MAX, &probes, err);
    if (rc == 0)
        rc = json_get_int(body, "", "timeoutMs", &timeout, err);
    if (rc == 0 && (timeout < 1 || timeout > CHECK_TIMEOUT_MAX_MS))
        rc = error_set(err, ERR_INVALID, "invalid_value", "/timeoutMs", "timeoutMs must be 1-%d",
                       CHECK_TIMEOUT_MAX_MS);
    rq->timeout_ms = (int)timeout;
    if (rc < 0 || !probes)
        return rc;
    rq->probes = xcalloc(json_array_size(probes) + 1, sizeof(*rq->probes));
    for (size_t i = 0; rc == 0 && i < json_array_size(probes); i++) {
        jptr_index(ptr, "/probes", i);
        rc = decode_probe(&rq->probes[i], json_array_get(probes, i), ptr, err);
        rq->nprobes++; /* counted even on failure: cleanup frees its path */
    }
    return rc;
}

/* RFC 7240 "Prefer: wait=N" (among other preferences): seconds, at most 30; 0 when absent. */
static int prefer_wait(const char *prefer)
{
    const char *p = prefer;
    long n;

    while (p && *p) {
        p += strspn(p, " \t,;");
        if (strncasecmp(p, "wait", 4) == 0) {
            const char *q = p + 4;
            q += strspn(q, " \t");
            if (*q == '=') {
                q++;
                q += strspn(q, " \t\"");
                if (isdigit((unsigned char)*q)) {
                    n = strtol(q, NULL, 10);
                    return n > PREFER_WAIT_MAX_S ? PREFER_WAIT_MAX_S : (int)n;
                }
            }
        }
        p += strcspn(p, ",;");
    }
    return 0;
}

/* ---------------------------------------------------------------------------- handlers */

/* A cluster-bound token runs checks only on its own cluster (api.md §9): the allocation it
 * names, or an IP that cluster holds. The router cannot tell (the target is in the body), so
 * this is the one place that decides, before anything is stored or probed. */
static int bound_cluster_allows(struct api_call *call, const struct check_request *rq,
                                struct error *err)
{
    const char *bound = call->bound_cluster;
    struct address_info *addr = NULL;
    bool own = false;
    int rc = 0;

    if (!bound)
        return 0;
    if (rq->target_allocation) {
        own = strcmp(rq->cluster, bound) == 0;
    } else {
        rc = store_address_get(call->st, &rq->ip, &addr, err);
        /* Holders of one address are always in one cluster (sharing rule 3). */
        own = rc == 0 && addr->nholders > 0 && strcmp(addr->holders[0].cluster, bound) == 0;
    }
    address_info_free(addr);
    if (rc < 0)
        return rc;
    if (!own)
        return error_set(err, ERR_BAD_REQUEST, "forbidden_cluster", "/target",
                         "token %s may only check addresses of cluster %s", call->actor, bound);
    return 0;
}

void api_checks_create(struct api_call *call)
{
    struct check_request rq;
    struct check *out = NULL, *done = NULL;
    struct error err;
    int wait = prefer_wait(call->prefer);
    json_t *body = body_object_or_reply(call, false);

    memset(&rq, 0, sizeof(rq));
    if (!body)
        goto out;
    if (decode_check(&rq, body, &err) < 0 || bound_cluster_allows(call, &rq, &err) < 0 ||
        store_check_create(call->st, call->actor, &rq, &out, &err) < 0 ||
        (call->prober && call->prober->submit(call->prober->ctx, out, call->actor, &err) < 0)) {
        reply_problem(call, &err);
        goto out;
    }
    if (wait > 0 && call->prober) {
        call->prober->wait(call->prober->ctx, out->id, wait * 1000);
        /* What the scheduler has recorded by now; the created check is the fallback. */
        if (store_check_get(call->st, out->id, &done, &err) < 0)
            done = NULL;
    }
    reply_location(call, "/v1/reachability-checks/%" PRId64, out->id);
    reply_json(call, 201, render_check(done ? done : out));
out:
    json_decref(body);
    check_request_cleanup(&rq);
    check_free(out);
    check_free(done);
}

static int id_param_or_reply(struct api_call *call, int64_t *id)
{
    const char *text = call_param(call, "id");
    size_t n = text ? strlen(text) : 0;

    if (n > 0 && n < 19 && strspn(text, "0123456789") == n) {
        *id = strtoll(text, NULL, 10);
        return 0;
    }
    reply_error(call, ERR_NOTFOUND, "not_found", NULL, "no reachability check %.64s",
                text ? text : "");
    return -1;
}

void api_checks_get(struct api_call *call)
{
    struct check *out = NULL;
    struct error err;
    int64_t id;

    if (id_param_or_reply(call, &id) < 0)
        return;
    if (store_check_get(call->st, id, &out, &err) < 0)
        reply_problem(call, &err);
    else
        reply_json(call, 200, render_check(out));
    check_free(out);
}

static const char *const list_filters[] = {"ip", "allocation", "state", NULL};

static int decode_filter(struct check_filter *f, const struct api_call *call, struct error *err)
{
    static const char *const states[] = {"pending", "running", "passed", "failed"};
    const char *ip = call_query(call, "ip"), *alloc = call_query(call, "allocation");
    const char *state = call_query(call, "state");
    int rc = 0;

    memset(f, 0, sizeof(*f));
    f->state = -1;
    if (ip) {
        rc = netaddr_parse(&f->ip, ip, "ip", err);
        f->has_ip = rc == 0;
    }
    if (rc == 0 && alloc) {
        rc = split_allocation(f->cluster, f->namespace, f->service, alloc, "allocation", err);
        f->has_allocation = rc == 0;
    }
    if (rc < 0 || !state)
        return rc;
    for (int i = 0; i < 4; i++) {
        if (strcmp(state, states[i]) == 0)
            f->state = i;
    }
    if (f->state < 0)
        rc = error_set(err, ERR_BAD_REQUEST, "invalid_query", "state",
                       "state is pending, running, passed or failed");
    return rc;
}

void api_checks_list(struct api_call *call)
{
    struct api_page page;
    struct check_filter filter;
    struct check_list list = {0};
    struct error err;
    json_t *items;

    if (list_query_or_reply(call, list_filters, &page) < 0)
        return;
    if (decode_filter(&filter, call, &err) < 0 ||
        store_check_list(call->st, &filter, &page.page, &list, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, render_check(list.items[i]));
    reply_list(call, items, list.next);
out:
    check_list_cleanup(&list);
}
