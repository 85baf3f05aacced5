/* cmd_get.c - get and describe: pools, clusters, allocations. */
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/ctl_int.h"
#include "clients/ctl/render.h"
#include "lib/xalloc.h"

enum resource { RES_POOLS, RES_CLUSTERS, RES_ALLOCATIONS };

struct resource_name {
    const char *plural, *singular, *path;
    enum resource res;
};

static const struct resource_name resources[] = {
    {"pools", "pool", "/v1/pools", RES_POOLS},
    {"clusters", "cluster", "/v1/clusters", RES_CLUSTERS},
    {"allocations", "allocation", "/v1/allocations", RES_ALLOCATIONS},
};

/* Accepts the plural, the singular, and the kubectl habit "pools NAME". */
static const struct resource_name *find_resource(const char *word, bool *plural)
{
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        if (strcmp(word, resources[i].plural) == 0 || strcmp(word, resources[i].singular) == 0) {
            *plural = strcmp(word, resources[i].plural) == 0;
            return &resources[i];
        }
    }
    return NULL;
}

static void render_items(struct ctl *c, enum resource res, const json_t *items)
{
    if (res == RES_POOLS)
        render_pools(c->out, items);
    else if (res == RES_CLUSTERS)
        render_clusters(c->out, items);
    else
        render_allocations(c->out, items);
}

/* The path of one object: /v1/pools/NAME or /v1/allocations/C/NS/SVC. */
static int object_path(char **out, const struct resource_name *r, const char *name,
                       struct error *err)
{
    int rc = 0;
    char *tail = NULL;
    if (r->res == RES_ALLOCATIONS)
        rc = ctl_identity_path(&tail, name, err);
    else
        tail = client_escape(name);
    if (rc == 0)
        *out = xasprintf("%s/%s", r->path, tail);
    free(tail);
    return rc;
}

static char *allocation_query(const struct args *a)
{
    static const char *const keys[] = {"cluster", "namespace", "pool"};
    char *q = xstrdup("");
    for (size_t i = 0; i < 3; i++) {
        const char *v = args_get(a, keys[i]);
        if (!v)
            continue;
        char *e = client_escape(v), *next = xasprintf("%s%s%s=%s", q, q[0] ? "&" : "", keys[i], e);
        free(e);
        free(q);
        q = next;
    }
    return q;
}

int cmd_get(struct ctl *c, const struct args *a, struct error *err)
{
    bool plural = false;
    const struct resource_name *r = find_resource(a->pos[0], &plural);
    json_t *v = NULL;
    char *path = NULL, *query = NULL;
    int rc = 0;
    if (!r)
        return ctl_usage(err, "get what? pools, clusters or allocations, not \"%s\"", a->pos[0]);
    if ((args_has(a, "cluster") || args_has(a, "namespace") || args_has(a, "pool")) &&
        (r->res != RES_ALLOCATIONS || a->npos > 1))
        return ctl_usage(err, "--cluster, --namespace and --pool filter get allocations only");
    if (a->npos == 1 && !plural)
        return ctl_usage(err, "get %s needs a name (or: get %s)", r->singular, r->plural);
    if (a->npos == 1) {
        query = r->res == RES_ALLOCATIONS ? allocation_query(a) : xstrdup("");
        rc = ctl_list(c, r->path, query, &v, err);
    } else if ((rc = object_path(&path, r, a->pos[1], err)) == 0) {
        rc = ctl_call(c, "GET", path, NULL, NULL, 0, &v, NULL, NULL, 0, err);
    }
    if (rc < 0)
        goto out;
    if (c->output == OUTPUT_JSON) {
        ctl_print_json(c, v);
    } else if (a->npos == 1) {
        render_items(c, r->res, json_object_get(v, "items"));
    } else {
        json_t *one = json_pack("[O]", v);
        render_items(c, r->res, one);
        json_decref(one);
    }
out:
    json_decref(v);
    free(path);
    free(query);
    return rc;
}

int cmd_describe(struct ctl *c, const struct args *a, struct error *err)
{
    bool plural = false;
    const struct resource_name *r = find_resource(a->pos[0], &plural);
    json_t *v = NULL, *allocs = NULL;
    char *path = NULL, *name = NULL, *query = NULL;
    int rc = 0;
    if (!r || r->res == RES_ALLOCATIONS)
        return ctl_usage(err, "describe pool NAME or cluster NAME, not \"%s\"", a->pos[0]);
    name = client_escape(a->pos[1]);
    path = xasprintf("%s/%s", r->path, name);
    if ((rc = ctl_call(c, "GET", path, NULL, NULL, 0, &v, NULL, NULL, 0, err)) < 0)
        goto out;
    if (c->output == OUTPUT_JSON) {
        ctl_print_json(c, v); /* the server's object, as it is */
        goto out;
    }
    query = xasprintf("%s=%s", r->res == RES_POOLS ? "pool" : "cluster", name);
    if ((rc = ctl_list(c, "/v1/allocations", query, &allocs, err)) < 0)
        goto out;
    if (r->res == RES_POOLS) {
        render_pool_describe(c->out, v, json_object_get(allocs, "items"));
    } else {
        render_cluster_describe(c->out, v, json_object_get(allocs, "items"));
    }
out:
    json_decref(v);
    json_decref(allocs);
    free(path);
    free(name);
    free(query);
    return rc;
}
