/* cmd_apply.c - apply -f (create or replace, kubectl-like) and delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/convert.h"
#include "clients/ctl/ctl_int.h"
#include "clients/ctl/yamljson.h"
#include "lib/xalloc.h"

#define APPLY_MAX_FILE (16u << 20)

static int read_all(char **out, size_t *len, const char *file, struct error *err)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    size_t cap = 65536, n = 0;
    char *buf;
    int rc = 0;
    *out = NULL;
    if (!f)
        return error_set(err, ERR_INVALID, "unreadable_file", NULL, "cannot open %s", file);
    buf = xmalloc(cap);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > APPLY_MAX_FILE) {
            rc = error_set(err, ERR_TOO_LARGE, "file_too_large", NULL, "%s is larger than %u bytes",
                           file, APPLY_MAX_FILE);
            break;
        }
        if (got == 0)
            break;
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    if (rc == 0 && ferror(f))
        rc = error_set(err, ERR_INVALID, "unreadable_file", NULL, "cannot read %s", file);
    if (f != stdin)
        fclose(f);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Create when missing (POST), else replace with If-Match (PUT). The server keeps the ETag
 * of a replace that changes nothing, which is how "unchanged" is told from "configured". */
static int apply_one(struct ctl *c, const struct manifest_object *o, json_t *results,
                     struct error *err)
{
    const char *kind = manifest_kind_name(o->kind);
    char *name = client_escape(o->name), *path = xasprintf("/v1/%ss/%s", kind, name);
    char before[128] = "", after[128] = "", *if_match = NULL;
    const char *verb = NULL;
    json_t *reply = NULL;
    long status = 0;
    int rc = ctl_call(c, "GET", path, NULL, NULL, 0, NULL, &status, before, sizeof(before), err);
    if (rc == ERR_NOTFOUND && status == 404 && strcmp(err->reason, "not_found") == 0) {
        char *coll = xasprintf("/v1/%ss", kind);
        rc = ctl_call(c, "POST", coll, o->body, NULL, 0, &reply, NULL, NULL, 0, err);
        free(coll);
        verb = "created";
    } else if (rc == 0) {
        if_match = xasprintf("If-Match: %s", before);
        const char *headers[] = {if_match, NULL};
        rc = ctl_call(c, "PUT", path, o->body, before[0] ? headers : NULL, 0, &reply, NULL, after,
                      sizeof(after), err);
        verb = before[0] && strcmp(before, after) == 0 ? "unchanged" : "configured";
    }
    if (rc < 0)
        goto out;
    if (c->output == OUTPUT_JSON)
        json_array_append(results, reply);
    else
        fprintf(c->out, "%s/%s %s\n", kind, o->name, verb);
out:
    json_decref(reply);
    free(if_match);
    free(path);
    free(name);
    return rc;
}

int cmd_apply(struct ctl *c, const struct args *a, struct error *err)
{
    const char *file = args_get(a, "filename");
    struct manifest m = {0};
    json_t *docs = NULL, *results = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (!file)
        return ctl_usage(err, "apply needs -f FILE (or -f - for stdin)");
    results = json_array();
    if ((rc = read_all(&text, &len, file, err)) < 0)
        goto out;
    if ((rc = yamljson_parse(&docs, text, len, err)) < 0)
        goto out;
    /* Everything is converted before anything is sent: a refusal applies nothing. */
    if ((rc = manifest_convert(&m, docs, err)) < 0) {
        fprintf(stderr, "%s: %s%s%s%s: nothing applied\n", file, m.where, m.what[0] ? " (" : "",
                m.what, m.what[0] ? ")" : "");
        goto out;
    }
    for (size_t i = 0; i < m.n && rc == 0; i++) {
        rc = apply_one(c, &m.items[i], results, err);
        if (rc < 0)
            fprintf(stderr, "%s: %s/%s not applied%s\n", file, manifest_kind_name(m.items[i].kind),
                    m.items[i].name, i + 1 < m.n ? " (nor anything after it)" : "");
    }
    if (rc == 0 && c->output == OUTPUT_JSON)
        ctl_print_json(c, json_array_size(results) == 1 ? json_array_get(results, 0) : results);
out:
    manifest_cleanup(&m);
    json_decref(docs);
    json_decref(results);
    free(text);
    return rc;
}

int cmd_delete(struct ctl *c, const struct args *a, struct error *err)
{
    const char *what = a->pos[0];
    bool force = args_has(a, "force");
    const char *kind = NULL;
    if (strcmp(what, "pool") == 0 || strcmp(what, "pools") == 0)
        kind = "pool";
    else if (strcmp(what, "cluster") == 0 || strcmp(what, "clusters") == 0)
        kind = "cluster";
    else
        return ctl_usage(err, "delete pool NAME or cluster NAME, not \"%s\"", what);
    if (force && strcmp(kind, "pool") != 0)
        return ctl_usage(err, "--force applies to pools only");
    char *name = client_escape(a->pos[1]);
    char *path = xasprintf("/v1/%ss/%s%s", kind, name, force ? "?force=true" : "");
    int rc = ctl_call(c, "DELETE", path, NULL, NULL, 0, NULL, NULL, NULL, 0, err);
    if (rc == 0)
        fprintf(c->out, "%s/%s deleted\n", kind, a->pos[1]);
    free(path);
    free(name);
    return rc;
}
