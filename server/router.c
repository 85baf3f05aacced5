/* router.c - matches a request against the route table, segment by segment.
 *
 * The path arrives undecoded (see request.c), so "%2F" inside a parameter stays inside it;
 * each parameter is percent-decoded after the match. An IPv6 address such as 2001:db8::1 is
 * one segment like any other. HEAD is served by the GET route of the same path.
 */
#include "server/server_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "lib/xalloc.h"

#define ROUTER_TEMPLATE_MAX 128 /* longest route template, with room to spare */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int url_decode(char *s, bool plus_is_space)
{
    char *out = s;

    for (const char *in = s; *in; in++) {
        if (*in == '%') {
            int hi = hex_value(in[1]), lo = hi < 0 ? -1 : hex_value(in[2]);
            if (lo < 0 || (hi == 0 && lo == 0))
                return -1;
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else if (plus_is_space && *in == '+') {
            *out++ = ' ';
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return 0;
}

/* Copies n bytes of src to buf at *o as a C string; returns where it went. */
static char *buf_put(char *buf, size_t *o, const char *src, size_t n)
{
    char *dst = buf + *o;

    memcpy(dst, src, n);
    dst[n] = '\0';
    *o += n + 1;
    return dst;
}

/* buf has room for strlen(path) + ROUTER_TEMPLATE_MAX bytes: each parameter takes its
 * name (shorter than the template) and its value (shorter than the path) plus a NUL. */
static bool match_path(const char *tpl, const char *path, struct api_call *call, char *buf)
{
    size_t o = 0;

    call->nparams = 0;
    while (*tpl == '/' && *path == '/') {
        size_t tl = strcspn(++tpl, "/"), pl = strcspn(++path, "/");
        if (tl > 2 && tpl[0] == '{' && tpl[tl - 1] == '}') {
            struct api_kv *kv = &call->params[call->nparams];
            if (pl == 0 || call->nparams == API_PARAMS_MAX)
                return false;
            kv->key = buf_put(buf, &o, tpl + 1, tl - 2);
            kv->value = buf_put(buf, &o, path, pl);
            if (url_decode((char *)(uintptr_t)kv->value, false) < 0)
                return false;
            call->nparams++;
        } else if (tl != pl || memcmp(tpl, path, tl) != 0) {
            return false;
        }
        tpl += tl;
        path += pl;
    }
    return *tpl == '\0' && *path == '\0';
}

static void allow_add(char allow[API_ALLOW_MAX], const char *method)
{
    size_t n = strlen(allow);

    if (strstr(allow, method))
        return;
    snprintf(allow + n, API_ALLOW_MAX - n, "%s%s", n ? ", " : "", method);
}

enum router_result router_match(const char *method, const char *path, struct api_call *call,
                                char **buf, const struct route **route, char allow[API_ALLOW_MAX])
{
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    enum router_result result = ROUTER_NOT_FOUND;

    *buf = xmalloc(strlen(path) + ROUTER_TEMPLATE_MAX);
    *route = NULL;
    allow[0] = '\0';
    for (size_t i = 0; i < server_route_count; i++) {
        const struct route *r = &server_routes[i];
        assert(strlen(r->path) < ROUTER_TEMPLATE_MAX);
        if (!match_path(r->path, path, call, *buf))
            continue;
        allow_add(allow, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(allow, "HEAD");
        if (strcmp(r->method, want) == 0 && !*route)
            *route = r;
        result = ROUTER_BAD_METHOD;
    }
    if (!*route) {
        call->nparams = 0;
        return result;
    }
    /* Match again: a later row of the same path may have overwritten the parameters. */
    match_path((*route)->path, path, call, *buf);
    return ROUTER_FOUND;
}
