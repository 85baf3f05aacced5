/* ctl.c - the calls every command makes (ctl_int.h). */
#include "clients/ctl/ctl_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define CTL_PAGE_LIMIT 500

int ctl_usage(struct error *err, const char *fmt, ...)
{
    char detail[ERROR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return error_set(err, ERR_BAD_REQUEST, "usage", NULL, "%s", detail);
}

int ctl_call(struct ctl *c, const char *method, const char *path, const json_t *body,
             const char *const *headers, long timeout_ms, json_t **out, long *status, char *etag,
             size_t etag_cap, struct error *err)
{
    struct client_resp resp;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    int rc = client_do(c->http, method, path, text, headers, timeout_ms, &resp, err);
    if (out)
        *out = NULL;
    if (rc < 0)
        goto out;
    if (status)
        *status = resp.status;
    if (resp.status >= 400) {
        rc = client_problem(&resp, method, path, err);
        goto out;
    }
    if (etag)
        snprintf(etag, etag_cap, "%s", resp.etag);
    if (out && resp.len > 0 && strstr(resp.content_type, "json")) {
        json_error_t je;
        *out = json_loads(resp.body, 0, &je);
        if (!*out)
            rc = error_set(err, ERR_INTERNAL, "invalid_reply", NULL,
                           "%s %s: the reply is not JSON: %s", method, path, je.text);
    }
out:
    client_resp_cleanup(&resp);
    free(text);
    return rc;
}

int ctl_list(struct ctl *c, const char *path, const char *query, json_t **out, struct error *err)
{
    int rc = 0;
    json_t *all = json_array(), *page = NULL;
    char *cursor = NULL;
    *out = NULL;
    for (;;) {
        char *url = xasprintf("%s?limit=%d%s%s%s%s", path, CTL_PAGE_LIMIT, query[0] ? "&" : "",
                              query, cursor ? "&cursor=" : "", cursor ? cursor : "");
        rc = ctl_call(c, "GET", url, NULL, NULL, 0, &page, NULL, NULL, 0, err);
        free(url);
        free(cursor);
        cursor = NULL;
        if (rc < 0)
            goto out;
        json_array_extend(all, json_object_get(page, "items"));
        const char *next = json_string_value(json_object_get(page, "nextCursor"));
        if (next)
            cursor = client_escape(next);
        json_decref(page);
        page = NULL;
        if (!cursor)
            break;
    }
    *out = json_pack("{s:O,s:n}", "items", all, "nextCursor");
out:
    json_decref(all);
    return rc;
}

void ctl_print_json(struct ctl *c, const json_t *v)
{
    json_dumpf(v, c->out, JSON_INDENT(2) | JSON_ENCODE_ANY);
    fputc('\n', c->out);
}

int ctl_identity_path(char **path, const char *identity, struct error *err)
{
    const char *s1 = strchr(identity, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    *path = NULL;
    if (!s2 || strchr(s2 + 1, '/') || s1 == identity || s2 == s1 + 1 || !s2[1])
        return ctl_usage(err, "\"%s\" is not CLUSTER/NAMESPACE/SERVICE", identity);
    char *parts[3] = {xstrndup(identity, (size_t)(s1 - identity)),
                      xstrndup(s1 + 1, (size_t)(s2 - s1 - 1)), xstrdup(s2 + 1)};
    char *esc[3];
    for (size_t i = 0; i < 3; i++)
        esc[i] = client_escape(parts[i]);
    *path = xasprintf("%s/%s/%s", esc[0], esc[1], esc[2]);
    for (size_t i = 0; i < 3; i++)
        free(parts[i]), free(esc[i]);
    return 0;
}
