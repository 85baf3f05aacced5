/* cmd_check.c - check (reachability checks, api.md §6) and advertisements. */
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/ctl_int.h"
#include "clients/ctl/render.h"
#include "lib/xalloc.h"

#define CHECK_MAX_WAIT 30
#define CHECK_MAX_PROBES 64

static int parse_port_number(long *out, const char *text, const char *flag, const char **rest,
                             struct error *err)
{
    char *end;
    long port = strtol(text, &end, 10);
    *out = 0;
    *rest = "";
    if (end == text || port < 1 || port > 65535 || (*end && *end != '/'))
        return ctl_usage(err, "--%s %s: a port between 1 and 65535", flag, text);
    *out = port;
    *rest = end;
    return 0;
}

static int add_probes(json_t *probes, const struct args *a, const char *type, struct error *err)
{
    const char *v[CHECK_MAX_PROBES];
    size_t n = args_all(a, type, v, CHECK_MAX_PROBES);
    int rc = 0;
    for (size_t i = 0; i < n && i < CHECK_MAX_PROBES && rc == 0; i++) {
        long port;
        const char *rest;
        if ((rc = parse_port_number(&port, v[i], type, &rest, err)) < 0)
            break;
        if (*rest && strcmp(type, "tcp") == 0) {
            rc = ctl_usage(err, "--tcp %s: a port number", v[i]);
            break;
        }
        json_t *p = json_pack("{s:s,s:I}", "type", type, "port", (json_int_t)port);
        if (*rest)
            json_object_set_new(p, "path", json_string(rest));
        json_array_append_new(probes, p);
    }
    return rc;
}

static int check_body(json_t **out, const struct args *a, struct error *err)
{
    const char *target = a->pos[0], *timeout = args_get(a, "timeout");
    json_t *body = json_object(), *probes = json_array();
    int rc = add_probes(probes, a, "tcp", err);
    *out = NULL;
    if (rc == 0)
        rc = add_probes(probes, a, "http", err);
    if (rc == 0 && timeout) {
        char *end;
        long ms = strtol(timeout, &end, 10);
        if (end == timeout || *end || ms < 1)
            rc = ctl_usage(err, "--timeout %s: milliseconds", timeout);
        else
            json_object_set_new(body, "timeoutMs", json_integer(ms));
    }
    if (rc < 0) {
        json_decref(body);
        json_decref(probes);
        return rc;
    }
    if (args_has(a, "icmp"))
        json_array_append_new(probes, json_pack("{s:s}", "type", "icmp"));
    json_object_set_new(body, "target",
                        json_pack("{s:s}", strchr(target, '/') ? "allocation" : "ip", target));
    if (json_array_size(probes) > 0)
        json_object_set(body, "probes", probes);
    json_decref(probes);
    *out = body;
    return 0;
}

static int wait_seconds(long *out, const struct args *a, struct error *err)
{
    const char *w = args_get(a, "wait");
    *out = 0;
    if (!args_has(a, "wait"))
        return 0;
    *out = w ? strtol(w, NULL, 10) : CHECK_MAX_WAIT;
    if (*out < 1 || *out > CHECK_MAX_WAIT)
        return ctl_usage(err, "--wait %s: between 1 and %d seconds", w, CHECK_MAX_WAIT);
    return 0;
}

/* Exit status 1 for a finished check that failed, or one still running after --wait. */
static int check_outcome(const json_t *check, long wait, struct error *err)
{
    const char *state = json_string_value(json_object_get(check, "state"));
    const char *id = json_string_value(json_object_get(check, "id"));
    size_t i, failed = 0;
    json_t *r;
    if (!state)
        state = "unknown";
    if (!id)
        id = "?";
    json_array_foreach(json_object_get(check, "results"), i, r)
    {
        if (!json_is_true(json_object_get(r, "ok")))
            failed++;
    }
    if (strcmp(state, "failed") == 0)
        return error_set(err, ERR_CONFLICT, "check_failed", NULL,
                         "check %s failed: %zu of %zu probes failed", id, failed,
                         json_array_size(json_object_get(check, "results")));
    if (wait > 0 && strcmp(state, "passed") != 0)
        return error_set(err, ERR_UNAVAILABLE, "check_unfinished", NULL,
                         "check %s is still %s after %ld s", id, state, wait);
    return 0;
}

int cmd_check(struct ctl *c, const struct args *a, struct error *err)
{
    json_t *body = NULL, *reply = NULL;
    char *prefer = NULL;
    long wait = 0;
    int rc = wait_seconds(&wait, a, err);
    if (rc == 0)
        rc = check_body(&body, a, err);
    if (rc < 0)
        goto out;
    prefer = xasprintf("Prefer: wait=%ld", wait);
    const char *headers[] = {prefer, NULL};
    rc = ctl_call(c, "POST", "/v1/reachability-checks", body, wait > 0 ? headers : NULL,
                  (wait + 15) * 1000, &reply, NULL, NULL, 0, err);
    if (rc < 0)
        goto out;
    if (c->output == OUTPUT_JSON)
        ctl_print_json(c, reply);
    else
        render_check(c->out, reply);
    rc = check_outcome(reply, wait, err);
out:
    json_decref(body);
    json_decref(reply);
    free(prefer);
    return rc;
}

int cmd_advertisements(struct ctl *c, const struct args *a, struct error *err)
{
    const char *format = args_get(a, "format"), *scope = args_get(a, "scope");
    struct client_resp resp = {0};
    json_t *adv = NULL;
    char *name = NULL, *path = NULL;
    int rc = 0;
    if (format && strcmp(format, "bird") != 0)
        return ctl_usage(err, "--format %s: the only format is bird", format);
    if (scope && strcmp(scope, "allocated") != 0)
        return ctl_usage(err, "--scope %s: the only scope is allocated", scope);
    name = client_escape(a->pos[0]);
    path = xasprintf("/v1/clusters/%s/advertisements%s%s%s%s", name, format || scope ? "?" : "",
                     format ? "format=bird" : "", format && scope ? "&" : "",
                     scope ? "scope=allocated" : "");
    if ((rc = client_do(c->http, "GET", path, NULL, NULL, 0, &resp, err)) < 0)
        goto out;
    if (resp.status >= 400) {
        rc = client_problem(&resp, "GET", path, err);
        goto out;
    }
    if (format || c->output == OUTPUT_JSON) {
        fputs(resp.body, c->out); /* BIRD text, or the server's JSON as it came */
        if (resp.len > 0 && resp.body[resp.len - 1] != '\n')
            fputc('\n', c->out);
        goto out;
    }
    adv = json_loads(resp.body, 0, NULL);
    if (!adv) {
        rc = error_set(err, ERR_INTERNAL, "invalid_reply", NULL, "GET %s: the reply is not JSON",
                       path);
        goto out;
    }
    render_advertisements(c->out, adv);
out:
    json_decref(adv);
    client_resp_cleanup(&resp);
    free(path);
    free(name);
    return rc;
}
