/* central.h - the calls lbipam-sync makes to the central lbipamd (api.md §4).
 *
 * Outcomes are sorted into what the worker must do: 0 (mirror the answer), a refusal
 * (ERR_CONFLICT / ERR_INVALID / ERR_NOTFOUND with the server's `reason` and `detail` in err:
 * mirror as condition False and retry later), or ERR_UNAVAILABLE (no answer, 5xx, 429, or a
 * 401/403 that says our token is wrong: change nothing in the cluster, retry). One `struct
 * central` is shared; each thread has its own `struct central_conn`.
 */
#ifndef LBIPAM_CENTRAL_H
#define LBIPAM_CENTRAL_H

#include <jansson.h>

#include "lib/error.h"

#define CENTRAL_TIMEOUT_MS 30000L
#define CENTRAL_MAX_BODY (8u << 20)

struct central;
struct central_conn;

/* base_url like "http://127.0.0.1:8080"; token_file may be NULL. */
struct central *central_new(const char *base_url, const char *token_file, const char *cluster);
void central_free(struct central *ce);

struct central_conn *central_conn_new(struct central *ce);
void central_conn_free(struct central_conn *c);

/* PUT the request; *out gets the allocation body (owned) on success. */
int central_put(struct central_conn *c, const char *ns, const char *name, json_t *body,
                json_t **out, long *retry_after, struct error *err);

/* DELETE; a 404 (nothing to release) counts as success. */
int central_release(struct central_conn *c, const char *ns, const char *name, long *retry_after,
                    struct error *err);

typedef void (*central_alloc_fn)(void *arg, const char *ns, const char *name);

/* Every allocation of the cluster with managedBy=lbipam-sync, all pages. */
int central_list_managed(struct central_conn *c, central_alloc_fn fn, void *arg, struct error *err);

#endif
