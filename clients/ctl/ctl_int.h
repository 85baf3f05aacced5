/* ctl_int.h - what the files of lbipamctl share: the session, the command table entry, and
 * the calls every command makes. Not a public contract: only clients/ctl/ includes it.
 *
 * Exit statuses: 0 success, 1 an error (the server's problem, a transport failure, a manifest
 * that cannot be converted), 2 a usage error (err.reason "usage").
 */
#ifndef LBIPAM_CTL_INT_H
#define LBIPAM_CTL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "clients/ctl/args.h"
#include "clients/ctl/client.h"
#include "lib/error.h"

enum ctl_output { OUTPUT_TABLE, OUTPUT_JSON };

struct ctl {
    struct client *http;
    enum ctl_output output;
    FILE *out; /* stdout */
};

struct command {
    const char *name;
    const char *synopsis; /* after "lbipamctl ": "get pools|pool NAME|…" */
    const char *help;     /* a few lines: what it does, what it prints */
    const struct flag_spec *flags;
    size_t min_pos, max_pos; /* positional arguments after the command name */
    int (*run)(struct ctl *c, const struct args *a, struct error *err);
};

/* Sets a usage error (exit status 2). */
int ctl_usage(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One call; a reply >= 400 becomes the server's problem in err. *out is the parsed JSON body
 * (NULL for 204 or a non-JSON body); etag/status when not NULL. body may be NULL. */
int ctl_call(struct ctl *c, const char *method, const char *path, const json_t *body,
             const char *const *headers, long timeout_ms, json_t **out, long *status, char *etag,
             size_t etag_cap, struct error *err);
/* GET of a list, following nextCursor to the end; *out = {"items": [all], "nextCursor": null}.
 * query is "" or "k=v&…" (escaped). */
int ctl_list(struct ctl *c, const char *path, const char *query, json_t **out, struct error *err);
/* Pretty JSON to c->out. */
void ctl_print_json(struct ctl *c, const json_t *v);

/* Splits "cluster/namespace/service" into escaped segments joined by '/' in *path (caller
 * frees); usage error otherwise. */
int ctl_identity_path(char **path, const char *identity, struct error *err);

/* The commands (cmd_*.c). */
int cmd_get(struct ctl *c, const struct args *a, struct error *err);
int cmd_describe(struct ctl *c, const struct args *a, struct error *err);
int cmd_apply(struct ctl *c, const struct args *a, struct error *err);
int cmd_delete(struct ctl *c, const struct args *a, struct error *err);
int cmd_allocate(struct ctl *c, const struct args *a, struct error *err);
int cmd_release(struct ctl *c, const struct args *a, struct error *err);
int cmd_who_has(struct ctl *c, const struct args *a, struct error *err);
int cmd_check(struct ctl *c, const struct args *a, struct error *err);
int cmd_advertisements(struct ctl *c, const struct args *a, struct error *err);
int cmd_events(struct ctl *c, const struct args *a, struct error *err);

#endif
