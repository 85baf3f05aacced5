/* cmd_alloc.c - allocate, release, who-has. */
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/ctl_int.h"
#include "clients/ctl/render.h"
#include "lib/xalloc.h"

#define ALLOC_MAX_REPEAT 64

/* "53/UDP" or "443" (TCP). */
static int parse_port(json_t **out, const char *text, struct error *err)
{
    char *end;
    long port = strtol(text, &end, 10);
    const char *proto = "TCP";
    *out = NULL;
    if (end == text || port < 1 || port > 65535 || (*end && *end != '/'))
        return ctl_usage(err, "--port %s: PORT[/TCP|UDP|SCTP] with 1 <= PORT <= 65535", text);
    if (*end == '/')
        proto = end + 1;
    if (strcmp(proto, "TCP") != 0 && strcmp(proto, "UDP") != 0 && strcmp(proto, "SCTP") != 0)
        return ctl_usage(err, "--port %s: the protocol is TCP, UDP or SCTP", text);
    *out = json_pack("{s:I,s:s}", "port", (json_int_t)port, "protocol", proto);
    return 0;
}

static int add_labels(json_t *body, const struct args *a, struct error *err)
{
    const char *v[ALLOC_MAX_REPEAT];
    size_t n = args_all(a, "label", v, ALLOC_MAX_REPEAT);
    json_t *labels = json_object();
    int rc = 0;
    for (size_t i = 0; i < n && i < ALLOC_MAX_REPEAT && rc == 0; i++) {
        const char *eq = strchr(v[i], '=');
        if (!eq || eq == v[i]) {
            rc = ctl_usage(err, "--label %s: KEY=VALUE", v[i]);
            break;
        }
        char *key = xstrndup(v[i], (size_t)(eq - v[i]));
        json_object_set_new(labels, key, json_string(eq + 1));
        free(key);
    }
    if (rc == 0 && n > 0)
        json_object_set(body, "labels", labels);
    json_decref(labels);
    return rc;
}

static int add_strings(json_t *body, const char *key, const struct args *a, const char *flag)
{
    const char *v[ALLOC_MAX_REPEAT];
    size_t n = args_all(a, flag, v, ALLOC_MAX_REPEAT);
    if (n == 0)
        return 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < ALLOC_MAX_REPEAT; i++)
        json_array_append_new(arr, json_string(v[i]));
    json_object_set_new(body, key, arr);
    return 0;
}

static int add_ports(json_t *body, const struct args *a, struct error *err)
{
    const char *v[ALLOC_MAX_REPEAT];
    size_t n = args_all(a, "port", v, ALLOC_MAX_REPEAT);
    json_t *ports = json_array(), *p;
    int rc = 0;
    for (size_t i = 0; i < n && i < ALLOC_MAX_REPEAT && rc == 0; i++)
        if ((rc = parse_port(&p, v[i], err)) == 0)
            json_array_append_new(ports, p);
    if (rc == 0 && n > 0)
        json_object_set(body, "ports", ports);
    json_decref(ports);
    return rc;
}

static int allocation_body(json_t **out, const struct args *a, struct error *err)
{
    static const char *const single[][2] = {{"pool", "pool"},
                                            {"sharing-key", "sharingKey"},
                                            {"external-ref", "externalRef"},
                                            {"description", "description"}};
    json_t *body = json_object();
    const char *ds = args_get(a, "dual-stack");
    int rc = add_labels(body, a, err);
    *out = NULL;
    if (rc == 0)
        rc = add_ports(body, a, err);
    if (rc == 0 && ds && strcmp(ds, "prefer") != 0 && strcmp(ds, "require") != 0)
        rc = ctl_usage(err, "--dual-stack %s: prefer or require", ds);
    if (rc < 0) {
        json_decref(body);
        return rc;
    }
    add_strings(body, "requestedIPs", a, "ip");
    add_strings(body, "ipFamilies", a, "family");
    if (ds)
        json_object_set_new(
            body, "ipFamilyPolicy",
            json_string(strcmp(ds, "prefer") == 0 ? "PreferDualStack" : "RequireDualStack"));
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
        if (args_get(a, single[i][0]))
            json_object_set_new(body, single[i][1], json_string(args_get(a, single[i][0])));
    *out = body;
    return 0;
}

int cmd_allocate(struct ctl *c, const struct args *a, struct error *err)
{
    char *tail = NULL, *path = NULL;
    json_t *body = NULL, *reply = NULL;
    long status = 0;
    int rc = ctl_identity_path(&tail, a->pos[0], err);
    if (rc == 0)
        rc = allocation_body(&body, a, err);
    if (rc < 0)
        goto out;
    path = xasprintf("/v1/allocations/%s", tail);
    if ((rc = ctl_call(c, "PUT", path, body, NULL, 0, &reply, &status, NULL, 0, err)) < 0)
        goto out;
    if (c->output == OUTPUT_JSON) {
        ctl_print_json(c, reply);
    } else {
        json_t *one = json_pack("[O]", reply);
        fprintf(c->out, "allocation/%s %s\n", a->pos[0], status == 201 ? "created" : "configured");
        render_allocations(c->out, one);
        json_decref(one);
    }
out:
    json_decref(body);
    json_decref(reply);
    free(path);
    free(tail);
    return rc;
}

int cmd_release(struct ctl *c, const struct args *a, struct error *err)
{
    char *tail = NULL, *path = NULL;
    int rc = ctl_identity_path(&tail, a->pos[0], err);
    if (rc < 0)
        return rc;
    path = xasprintf("/v1/allocations/%s", tail);
    rc = ctl_call(c, "DELETE", path, NULL, NULL, 0, NULL, NULL, NULL, 0, err);
    if (rc == 0)
        fprintf(c->out, "allocation/%s released\n", a->pos[0]);
    free(path);
    free(tail);
    return rc;
}

int cmd_who_has(struct ctl *c, const struct args *a, struct error *err)
{
    /* ':' is a plain path character: IPv6 text goes as it is; anything odd is escaped and
     * left to the server to refuse (invalid_ip). */
    const char *text = a->pos[0];
    char *ip = strspn(text, "0123456789abcdefABCDEF.:") == strlen(text) ? xstrdup(text)
                                                                        : client_escape(text);
    char *path = xasprintf("/v1/addresses/%s", ip);
    json_t *reply = NULL;
    int rc = ctl_call(c, "GET", path, NULL, NULL, 0, &reply, NULL, NULL, 0, err);
    if (rc == 0 && c->output == OUTPUT_JSON)
        ctl_print_json(c, reply);
    else if (rc == 0)
        render_address(c->out, reply);
    json_decref(reply);
    free(path);
    free(ip);
    return rc;
}
