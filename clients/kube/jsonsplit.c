#include "clients/kube/jsonsplit.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

/* Nesting deeper than this is refused: Kubernetes objects are a dozen levels at most, and the
 * bound keeps the depth counter meaningful for hostile input. */
#define JSONSPLIT_MAX_DEPTH 512

struct jsonsplit {
    size_t max_doc;
    char *buf;
    size_t len, cap;
    int depth;
    int in_string;
    int escape;
};

struct jsonsplit *jsonsplit_new(size_t max_doc)
{
    struct jsonsplit *js = xcalloc(1, sizeof(*js));
    js->max_doc = max_doc;
    return js;
}

void jsonsplit_free(struct jsonsplit *js)
{
    if (!js)
        return;
    free(js->buf);
    free(js);
}

int jsonsplit_pending(const struct jsonsplit *js)
{
    return js->len > 0;
}

static void reset(struct jsonsplit *js)
{
    js->len = 0;
    js->depth = 0;
    js->in_string = 0;
    js->escape = 0;
}

/* Appends with room for the terminating NUL; the limit counts document bytes only. */
static int append(struct jsonsplit *js, const char *p, size_t n, struct error *err)
{
    if (js->len + n > js->max_doc)
        return error_set(err, ERR_TOO_LARGE, "document_too_large", NULL,
                         "a streamed JSON document exceeds %zu bytes", js->max_doc);
    js->buf = xgrow(js->buf, &js->cap, js->len + n + 1);
    memcpy(js->buf + js->len, p, n);
    js->len += n;
    return 0;
}

/* Advances the lexical state over one byte of a document; returns 1 when it closed the
 * top-level value. */
static int step(struct jsonsplit *js, char c)
{
    if (js->in_string) {
        if (js->escape)
            js->escape = 0;
        else if (c == '\\')
            js->escape = 1;
        else if (c == '"')
            js->in_string = 0;
        return 0;
    }
    if (c == '"')
        js->in_string = 1;
    else if (c == '{' || c == '[')
        js->depth++;
    else if (c == '}' || c == ']')
        return --js->depth == 0;
    return 0;
}

int jsonsplit_feed(struct jsonsplit *js, const char *data, size_t len, jsonsplit_fn fn, void *arg,
                   struct error *err)
{
    int rc = 0;
    size_t i = 0;

    while (i < len) {
        if (js->len == 0) {
            char c = data[i];
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                i++;
                continue;
            }
            if (c != '{' && c != '[') {
                rc = error_set(err, ERR_BAD_REQUEST, "invalid_stream", NULL,
                               "byte 0x%02x cannot start a JSON document", (unsigned char)c);
                goto out;
            }
        }
        /* Scan as far as this chunk goes or the document ends, then copy the run at once. */
        size_t start = i;
        int done = 0;
        while (i < len && !done) {
            done = step(js, data[i]);
            i++;
            if (js->depth > JSONSPLIT_MAX_DEPTH) {
                rc = error_set(err, ERR_BAD_REQUEST, "invalid_stream", NULL,
                               "JSON nesting deeper than %d", JSONSPLIT_MAX_DEPTH);
                goto out;
            }
        }
        rc = append(js, data + start, i - start, err);
        if (rc < 0)
            goto out;
        if (done) {
            js->buf[js->len] = '\0';
            size_t n = js->len;
            js->len = 0;
            rc = fn(arg, js->buf, n);
            if (rc < 0)
                goto out;
        }
    }
out:
    if (rc < 0)
        reset(js);
    return rc;
}
