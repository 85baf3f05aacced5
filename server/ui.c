/* ui.c - GET / and GET /ui/{file}: the dashboard's files, compiled in from ui/. */
#include "server/ui.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/embedded.h"

extern const struct embedded_file server_ui[]; /* the files of ui/, by base name */

struct media_type {
    const char *ext;
    const char *type;
};

/* Keep in sync with the kinds of file in ui/: an unlisted one is served as bytes. */
static const struct media_type media_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static const char *media_type_of(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++) {
        size_t e = strlen(media_types[i].ext);
        if (n > e && strcmp(name + n - e, media_types[i].ext) == 0)
            return media_types[i].type;
    }
    return "application/octet-stream";
}

static const struct embedded_file *ui_find(const char *name)
{
    for (const struct embedded_file *f = server_ui; f->name; f++) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

/* A strong validator from the bytes (FNV-1a 64): it changes with the binary's copy. */
static void ui_etag(char out[API_ETAG_MAX], const struct embedded_file *f)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < f->len; i++) {
        h ^= (unsigned char)f->data[i];
        h *= 0x100000001b3u;
    }
    snprintf(out, API_ETAG_MAX, "\"%016" PRIx64 "\"", h);
}

/* If-None-Match holds our tag (or "*"): the copy the browser has is current. Weak
 * comparison, as RFC 9110 §13.1.2 asks for If-None-Match. */
static bool not_modified(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return false;
    return strcmp(if_none_match, "*") == 0 || strstr(if_none_match, etag) != NULL;
}

static void ui_serve(struct api_call *call, const char *name)
{
    const struct embedded_file *f = ui_find(name);
    char etag[API_ETAG_MAX];

    if (!f) {
        reply_error(call, ERR_NOTFOUND, "not_found", NULL, "the dashboard has no file %.100s",
                    name);
        return;
    }
    ui_etag(etag, f);
    if (not_modified(call->if_none_match, etag))
        reply_empty(call, 304);
    else
        reply_static(call, 200, media_type_of(name), f->data, f->len);
    memcpy(call->reply.etag, etag, sizeof(etag));
    /* Revalidate every time: a 304 is cheap, and an upgrade shows at the next load. */
    call->reply.cache_control = "no-cache";
}

void server_ui_index(struct api_call *call)
{
    ui_serve(call, "index.html");
}

void server_ui_file(struct api_call *call)
{
    ui_serve(call, call_param(call, "file"));
}
