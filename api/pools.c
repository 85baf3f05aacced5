/* pools.c - /v1/pools and /v1/pools/{name} (api.md §3).
 *
 * Each block is checked on its own here (syntax, family, order, host bits); what needs the
 * whole pool (blocks disjoint, 1–1024 of them) is store_pool_validate, and what needs the
 * other pools (pool_conflict, blocks_in_use) is the store's write transaction.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "lib/xalloc.h"

/* Keep in sync with openapi.yaml #/components/schemas/Pool. status, createdAt and updatedAt
 * are read-only: accepted and ignored so that GET → edit → PUT works. */
static const char *const pool_fields[] = {"name",
                                          "description",
                                          "labels",
                                          "blocks",
                                          "serviceSelector",
                                          "clusterSelector",
                                          "priority",
                                          "autoAssign",
                                          "disabled",
                                          "allowFirstLastIPs",
                                          "avoidBuggyIPs",
                                          "status",
                                          "createdAt",
                                          "updatedAt",
                                          NULL};

static const char *const block_fields[] = {"cidr", "start", "stop", NULL};

static void pool_input_init(struct pool *p)
{
    memset(p, 0, sizeof(*p));
    labels_init(&p->labels);
    selector_init(&p->service_selector);
    selector_init(&p->cluster_selector);
    p->auto_assign = true;
    p->allow_first_last_ips = true;
}

static void pool_input_cleanup(struct pool *p)
{
    free(p->description);
    labels_cleanup(&p->labels);
    free(p->blocks);
    selector_cleanup(&p->service_selector);
    selector_cleanup(&p->cluster_selector);
}

static int decode_cidr_block(struct pool_block *b, const char *cidr, const char *ptr,
                             struct error *err)
{
    struct netprefix prefix;
    char field[ERROR_FIELD_MAX];
    int rc;

    jptr_key(field, ptr, "cidr");
    rc = netprefix_parse(&prefix, cidr, field, err);
    if (rc < 0)
        return rc;
    b->form = BLOCK_CIDR;
    b->range = netprefix_range(&prefix);
    b->prefix_len = prefix.len;
    return 0;
}

static int decode_range_block(struct pool_block *b, const char *start, const char *stop,
                              const char *ptr, struct error *err)
{
    struct netaddr first, last;
    char field[ERROR_FIELD_MAX];
    int rc;

    jptr_key(field, ptr, "start");
    rc = netaddr_parse(&first, start, field, err);
    if (rc < 0)
        return rc;
    last = first;
    jptr_key(field, ptr, "stop");
    if (stop && (rc = netaddr_parse(&last, stop, field, err)) < 0)
        return rc;
    if (first.family != last.family)
        return error_set(err, ERR_INVALID, "mixed_families", field,
                         "start %s and stop %s are of different families", start, stop);
    if (first.v > last.v)
        return error_set(err, ERR_INVALID, "invalid_range", ptr, "start %s is after stop %s", start,
                         stop);
    b->form = stop ? BLOCK_RANGE : BLOCK_SINGLE;
    b->range = (struct netrange){.start = first.v, .stop = last.v, .family = first.family};
    return 0;
}

/* {"cidr"} | {"start", "stop"} | {"start"}. */
static int decode_block(struct pool_block *b, const json_t *v, const char *ptr, struct error *err)
{
    const char *cidr = NULL, *start = NULL, *stop = NULL;
    int rc;

    if (!json_is_object(v))
        return json_type_error(v, ptr, "an object", err);
    rc = json_check_fields(v, ptr, block_fields, err);
    if (rc == 0)
        rc = json_get_string(v, ptr, "cidr", API_STRING_MAX, &cidr, err);
    if (rc == 0)
        rc = json_get_string(v, ptr, "start", API_STRING_MAX, &start, err);
    if (rc == 0)
        rc = json_get_string(v, ptr, "stop", API_STRING_MAX, &stop, err);
    if (rc < 0)
        return rc;
    if (cidr && !start && !stop)
        return decode_cidr_block(b, cidr, ptr, err);
    if (start && !cidr)
        return decode_range_block(b, start, stop, ptr, err);
    return error_set(err, ERR_INVALID, "invalid_block", ptr,
                     "a block is {\"cidr\"}, {\"start\", \"stop\"} or {\"start\"} alone");
}

static int decode_blocks(struct pool *p, const json_t *blocks, struct error *err)
{
    char ptr[ERROR_FIELD_MAX];
    int rc = 0;

    p->blocks = xcalloc(json_array_size(blocks) + 1, sizeof(*p->blocks));
    for (size_t i = 0; i < json_array_size(blocks) && rc == 0; i++) {
        jptr_index(ptr, "/blocks", i);
        rc = decode_block(&p->blocks[i], json_array_get(blocks, i), ptr, err);
        if (rc == 0)
            p->nblocks++;
    }
    return rc;
}

static int decode_flags(struct pool *p, const json_t *body, struct error *err)
{
    int rc = json_get_int(body, "", "priority", &p->priority, err);

    if (rc == 0)
        rc = json_get_bool(body, "", "autoAssign", &p->auto_assign, err);
    if (rc == 0)
        rc = json_get_bool(body, "", "disabled", &p->disabled, err);
    if (rc == 0)
        rc = json_get_bool(body, "", "allowFirstLastIPs", &p->allow_first_last_ips, err);
    if (rc == 0)
        rc = json_get_bool(body, "", "avoidBuggyIPs", &p->avoid_buggy_ips, err);
    return rc;
}

static int decode_pool(struct pool *p, const json_t *body, const char *url_name, struct error *err)
{
    const char *description = "";
    json_t *labels = NULL, *blocks = NULL, *svc_sel = NULL, *cl_sel = NULL;
    int rc = json_check_fields(body, "", pool_fields, err);

    if (rc == 0)
        rc = json_decode_name(p->name, body, url_name, "pool", err);
    if (rc == 0)
        rc = json_get_string(body, "", "description", API_STRING_MAX, &description, err);
    if (rc == 0)
        rc = json_get_object(body, "", "labels", &labels, err);
    /* More than POOL_BLOCKS_MAX is refused by store_pool_validate with its own reason; the
     * body limit already bounds what is decoded. */
    if (rc == 0)
        rc = json_get_array(body, "", "blocks", (size_t)-1, &blocks, err);
    if (rc == 0)
        rc = json_get_object(body, "", "serviceSelector", &svc_sel, err);
    if (rc == 0)
        rc = json_get_object(body, "", "clusterSelector", &cl_sel, err);
    if (rc == 0)
        rc = decode_flags(p, body, err);
    if (rc < 0)
        return rc;
    p->description = xstrdup(description);
    if (labels)
        rc = json_decode_labels(&p->labels, labels, "/labels", err);
    if (rc == 0 && blocks)
        rc = decode_blocks(p, blocks, err);
    if (rc == 0 && svc_sel)
        rc = json_decode_selector(&p->service_selector, svc_sel, "/serviceSelector", err);
    if (rc == 0 && cl_sel)
        rc = json_decode_selector(&p->cluster_selector, cl_sel, "/clusterSelector", err);
    if (rc == 0)
        rc = store_pool_validate(p, err);
    return rc;
}

int api_pool_decode(struct pool *out, const json_t *body, struct error *err)
{
    pool_input_init(out);
    return decode_pool(out, body, NULL, err);
}

void api_pool_decoded_cleanup(struct pool *p)
{
    pool_input_cleanup(p);
}

/* Names in the URL that cannot be valid cannot exist either. */
static const char *name_param_or_reply(struct api_call *call)
{
    const char *name = call_param(call, "name");

    if (name && name_is_rfc1123_label(name))
        return name;
    reply_error(call, ERR_NOTFOUND, "not_found", NULL, "no pool \"%.64s\"", name);
    return NULL;
}

static void reply_pool(struct api_call *call, int status, const struct pool *p)
{
    if (status == 201)
        reply_location(call, "/v1/pools/%s", p->name);
    reply_etag(call, p->version);
    reply_json(call, status, render_pool(p));
}

void api_pools_list(struct api_call *call)
{
    struct api_page page;
    struct pool_list list = {0};
    struct error err;
    json_t *items;

    if (list_query_or_reply(call, NULL, &page) < 0)
        return;
    if (store_pool_list(call->st, &page.page, &list, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, render_pool(list.items[i]));
    reply_list(call, items, list.next);
out:
    pool_list_cleanup(&list);
}

void api_pools_create(struct api_call *call)
{
    struct pool in;
    struct pool *out = NULL;
    struct error err;
    json_t *body = body_object_or_reply(call, false);

    pool_input_init(&in);
    if (!body)
        goto out;
    if (decode_pool(&in, body, NULL, &err) < 0 ||
        store_pool_create(call->st, call->actor, &in, &out, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    reply_pool(call, 201, out);
out:
    json_decref(body);
    pool_input_cleanup(&in);
    pool_free(out);
}

void api_pools_get(struct api_call *call)
{
    const char *name = name_param_or_reply(call);
    struct pool *out = NULL;
    struct error err;

    if (!name)
        return;
    if (store_pool_get(call->st, name, &out, &err) < 0)
        reply_problem(call, &err);
    else
        reply_pool(call, 200, out);
    pool_free(out);
}

void api_pools_replace(struct api_call *call)
{
    const char *name = name_param_or_reply(call);
    struct pool in;
    struct pool *out = NULL;
    struct error err;
    int64_t if_match;
    json_t *body = NULL;

    pool_input_init(&in);
    if (!name || if_match_or_reply(call, &if_match) < 0)
        goto out;
    body = body_object_or_reply(call, false);
    if (!body)
        goto out;
    if (decode_pool(&in, body, name, &err) < 0 ||
        store_pool_replace(call->st, call->actor, &in, if_match, &out, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    reply_pool(call, 200, out);
out:
    json_decref(body);
    pool_input_cleanup(&in);
    pool_free(out);
}

static int parse_force_or_reply(struct api_call *call, bool *force)
{
    static const char *const allowed[] = {"force", NULL};
    const char *text = call_query(call, "force");

    *force = false;
    for (size_t i = 0; i < call->nquery; i++) {
        if (strcmp(call->query[i].key, allowed[0]) != 0) {
            reply_error(call, ERR_BAD_REQUEST, "unknown_query_parameter", call->query[i].key,
                        "unknown query parameter \"%.64s\"", call->query[i].key);
            return -1;
        }
    }
    if (!text || strcmp(text, "false") == 0)
        return 0;
    if (strcmp(text, "true") == 0 || text[0] == '\0') {
        *force = true;
        return 0;
    }
    reply_error(call, ERR_BAD_REQUEST, "invalid_query", "force", "force must be true or false");
    return -1;
}

void api_pools_delete(struct api_call *call)
{
    const char *name = name_param_or_reply(call);
    struct error err;
    int64_t if_match;
    bool force;

    if (!name || parse_force_or_reply(call, &force) < 0 || if_match_or_reply(call, &if_match) < 0)
        return;
    if (force && !call->caller_admin) {
        reply_error(call, ERR_BAD_REQUEST, "forbidden", "force",
                    "force=true releases other clusters' addresses: it needs an admin token");
        return;
    }
    if (store_pool_delete(call->st, call->actor, name, if_match, force, &err) < 0)
        reply_problem(call, &err);
    else
        reply_empty(call, 204);
}
