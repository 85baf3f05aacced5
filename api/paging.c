/* paging.c - list queries (limit, cursor, unknown arguments) and If-Match.
 *
 * The store's cursor is opaque text; clients get it base64url-encoded (no padding), so it
 * survives a query string untouched and nobody is tempted to parse it.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* out must hold 4 * ceil(n / 3) + 1 bytes. */
static void cursor_encode(char *out, const unsigned char *in, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Decodes into out (cap bytes, NUL-terminated). -1 on a bad character, a bad length, a NUL
 * byte inside, or when it does not fit. */
static int cursor_decode(char *out, size_t cap, const char *in)
{
    size_t n = strlen(in), o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            out[o] = (char)((acc >> bits) & 0xff);
            if (out[o++] == '\0')
                return -1;
        }
    }
    out[o] = '\0';
    return 0;
}

static bool query_allowed(const char *key, const char *const allowed[])
{
    if (strcmp(key, "limit") == 0 || strcmp(key, "cursor") == 0)
        return true;
    for (size_t i = 0; allowed && allowed[i]; i++) {
        if (strcmp(key, allowed[i]) == 0)
            return true;
    }
    return false;
}

static int query_check(struct api_call *call, const char *const allowed[], struct error *err)
{
    for (size_t i = 0; i < call->nquery; i++) {
        const char *key = call->query[i].key;
        if (!query_allowed(key, allowed))
            return error_set(err, ERR_BAD_REQUEST, "unknown_query_parameter", key,
                             "unknown query parameter \"%.64s\"", key);
        if (call_query_count(call, key) > 1)
            return error_set(err, ERR_BAD_REQUEST, "invalid_query", key,
                             "query parameter \"%.64s\" is given more than once", key);
    }
    return 0;
}

static int parse_limit(int *out, const char *text, struct error *err)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = isdigit((unsigned char)text[0]) ? strtol(text, &end, 10) : -1;
    if (errno || !end || *end || v < 1 || v > API_LIST_LIMIT_MAX)
        return error_set(err, ERR_BAD_REQUEST, "invalid_query", "limit",
                         "limit must be an integer from 1 to %d", API_LIST_LIMIT_MAX);
    *out = (int)v;
    return 0;
}

int list_query_or_reply(struct api_call *call, const char *const allowed[], struct api_page *out)
{
    const char *limit = call_query(call, "limit");
    const char *cursor = call_query(call, "cursor");
    struct error err;
    int rc;

    memset(out, 0, sizeof(*out));
    out->page.limit = API_LIST_LIMIT_DEFAULT;
    out->page.after = out->after;
    rc = query_check(call, allowed, &err);
    if (rc == 0 && limit)
        rc = parse_limit(&out->page.limit, limit, &err);
    if (rc == 0 && cursor && cursor_decode(out->after, sizeof(out->after), cursor) < 0)
        rc = error_set(&err, ERR_BAD_REQUEST, "invalid_query", "cursor",
                       "cursor is not one this server handed out");
    if (rc < 0) {
        reply_problem(call, &err);
        return -1;
    }
    return 0;
}

void reply_list(struct api_call *call, json_t *items, const char *next)
{
    json_t *doc = json_object();
    char buf[(STORE_CURSOR_MAX + 2) / 3 * 4 + 1];

    json_object_set_new(doc, "items", items);
    if (next && next[0]) {
        cursor_encode(buf, (const unsigned char *)next, strlen(next));
        json_object_set_new(doc, "nextCursor", json_string(buf));
    } else {
        json_object_set_new(doc, "nextCursor", json_null());
    }
    reply_json(call, 200, doc);
}

/* Accepts "*", a quoted version ("\"12\"", what the ETag says) and, for people typing curl
 * commands, the bare number. Any other tag, a weak one included (RFC 9110 §13.1.1: If-Match
 * compares strongly), matches no version: 412. */
static int parse_if_match(int64_t *out, const char *text, struct error *err)
{
    char digits[24];
    size_t n;
    char *end = NULL;

    text += strspn(text, " \t");
    n = strcspn(text, " \t");
    if (n == 1 && text[0] == '*') {
        *out = -1;
        return 0;
    }
    if (n >= 2 && text[0] == '"' && text[n - 1] == '"') {
        text++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(digits) || strspn(text, "0123456789") != n)
        return error_set(err, ERR_PRECONDITION, "precondition_failed", NULL,
                         "If-Match matches no version of this resource");
    memcpy(digits, text, n);
    digits[n] = '\0';
    errno = 0;
    *out = strtoll(digits, &end, 10);
    if (errno)
        return error_set(err, ERR_PRECONDITION, "precondition_failed", NULL,
                         "If-Match matches no version of this resource");
    return 0;
}

int if_match_or_reply(struct api_call *call, int64_t *out)
{
    struct error err;

    *out = -1;
    if (!call->if_match)
        return 0;
    if (parse_if_match(out, call->if_match, &err) < 0) {
        reply_problem(call, &err);
        return -1;
    }
    return 0;
}
