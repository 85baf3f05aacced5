/* clusters.c - /v1/clusters and /v1/clusters/{name} (api.md §2). */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "lib/xalloc.h"

/* Keep in sync with openapi.yaml #/components/schemas/Cluster. status, createdAt and
 * updatedAt are read-only: accepted and ignored so that GET → edit → PUT works. */
static const char *const cluster_fields[] = {
    "name",        "labels", "description", "announcement", "routablePrefixes",
    "nodeSubnets", "status", "createdAt",   "updatedAt",    "checkIntervalSeconds",
    NULL};

static void cluster_input_init(struct cluster *c)
{
    memset(c, 0, sizeof(*c));
    labels_init(&c->labels);
    c->announcement = ANNOUNCE_NONE;
}

static void cluster_input_cleanup(struct cluster *c)
{
    free(c->description);
    labels_cleanup(&c->labels);
    free(c->routable);
    free(c->node_subnets);
}

static int parse_announcement(enum announcement *out, const char *text, struct error *err)
{
    static const struct {
        const char *name;
        enum announcement value;
    } names[] = {{"bgp", ANNOUNCE_BGP},
                 {"l2", ANNOUNCE_L2},
                 {"static", ANNOUNCE_STATIC},
                 {"none", ANNOUNCE_NONE}};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i].name) == 0) {
            *out = names[i].value;
            return 0;
        }
    }
    return error_set(err, ERR_INVALID, "invalid_value", "/announcement",
                     "announcement must be bgp, l2, static or none");
}

static int decode_cluster(struct cluster *c, const json_t *body, const char *url_name,
                          struct error *err)
{
    const char *description = "", *announcement = NULL;
    json_t *labels = NULL, *routable = NULL, *subnets = NULL;
    int rc = json_check_fields(body, "", cluster_fields, err);

    if (rc == 0)
        rc = json_decode_name(c->name, body, url_name, "cluster", err);
    if (rc == 0)
        rc = json_get_string(body, "", "description", API_STRING_MAX, &description, err);
    if (rc == 0)
        rc = json_get_object(body, "", "labels", &labels, err);
    if (rc == 0)
        rc = json_get_string(body, "", "announcement", API_STRING_MAX, &announcement, err);
    if (rc == 0)
        rc = json_get_array(body, "", "routablePrefixes", API_PREFIXES_MAX, &routable, err);
    if (rc == 0)
        rc = json_get_array(body, "", "nodeSubnets", API_PREFIXES_MAX, &subnets, err);
    if (rc == 0)
        rc = json_get_int(body, "", "checkIntervalSeconds", &c->check_interval_s, err);
    /* api.md §6: periodic checks at most every 10 s; 0 turns them off. */
    if (rc == 0 && c->check_interval_s != 0 &&
        (c->check_interval_s < 10 || c->check_interval_s > 86400))
        rc = error_set(err, ERR_INVALID, "invalid_value", "/checkIntervalSeconds",
                       "checkIntervalSeconds is 0 (off) or 10-86400");
    if (rc < 0)
        return rc;
    c->description = xstrdup(description);
    if (labels)
        rc = json_decode_labels(&c->labels, labels, "/labels", err);
    if (rc == 0 && announcement)
        rc = parse_announcement(&c->announcement, announcement, err);
    if (rc == 0 && routable)
        rc = json_decode_prefixes(&c->routable, &c->nroutable, routable, "/routablePrefixes", err);
    if (rc == 0 && subnets)
        rc =
            json_decode_prefixes(&c->node_subnets, &c->nnode_subnets, subnets, "/nodeSubnets", err);
    return rc;
}

/* Names in the URL that cannot be valid cannot exist either. */
static const char *name_param_or_reply(struct api_call *call)
{
    const char *name = call_param(call, "name");

    if (name && name_is_rfc1123_label(name))
        return name;
    reply_error(call, ERR_NOTFOUND, "not_found", NULL, "no cluster \"%.64s\"", name);
    return NULL;
}

static void reply_cluster(struct api_call *call, int status, const struct cluster *c)
{
    if (status == 201)
        reply_location(call, "/v1/clusters/%s", c->name);
    reply_etag(call, c->version);
    reply_json(call, status, render_cluster(c));
}

void api_clusters_list(struct api_call *call)
{
    struct api_page page;
    struct cluster_list list = {0};
    struct error err;
    json_t *items;

    if (list_query_or_reply(call, NULL, &page) < 0)
        return;
    if (store_cluster_list(call->st, &page.page, &list, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, render_cluster(list.items[i]));
    reply_list(call, items, list.next);
out:
    cluster_list_cleanup(&list);
}

void api_clusters_create(struct api_call *call)
{
    struct cluster in;
    struct cluster *out = NULL;
    struct error err;
    json_t *body = body_object_or_reply(call, false);

    cluster_input_init(&in);
    if (!body)
        goto out;
    if (decode_cluster(&in, body, NULL, &err) < 0 ||
        store_cluster_create(call->st, call->actor, &in, &out, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    reply_cluster(call, 201, out);
out:
    json_decref(body);
    cluster_input_cleanup(&in);
    cluster_free(out);
}

void api_clusters_get(struct api_call *call)
{
    const char *name = name_param_or_reply(call);
    struct cluster *out = NULL;
    struct error err;

    if (!name)
        return;
    if (store_cluster_get(call->st, name, &out, &err) < 0)
        reply_problem(call, &err);
    else
        reply_cluster(call, 200, out);
    cluster_free(out);
}

void api_clusters_replace(struct api_call *call)
{
    const char *name = name_param_or_reply(call);
    struct cluster in;
    struct cluster *out = NULL;
    struct error err;
    int64_t if_match;
    json_t *body = NULL;

    cluster_input_init(&in);
    if (!name || if_match_or_reply(call, &if_match) < 0)
        goto out;
    body = body_object_or_reply(call, false);
    if (!body)
        goto out;
    if (decode_cluster(&in, body, name, &err) < 0 ||
        store_cluster_replace(call->st, call->actor, &in, if_match, &out, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    reply_cluster(call, 200, out);
out:
    json_decref(body);
    cluster_input_cleanup(&in);
    cluster_free(out);
}

void api_clusters_delete(struct api_call *call)
{
    const char *name = name_param_or_reply(call);
    struct error err;
    int64_t if_match;

    if (!name || if_match_or_reply(call, &if_match) < 0)
        return;
    if (store_cluster_delete(call->st, call->actor, name, if_match, &err) < 0)
        reply_problem(call, &err);
    else
        reply_empty(call, 204);
}
