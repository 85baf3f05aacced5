/* kube.h - the few Kubernetes API calls the sync worker needs: call, list, watch.
 *
 * A `struct kube` holds the server, TLS material and the token source and is shared by every
 * thread; each thread makes its own `struct kube_conn` (one libcurl handle). Every call that
 * gets 401 re-reads the token file and tries once more, because projected tokens rotate.
 * Lists page with limit/continue and restart when a continue token expires (410); watches
 * stream through jsonsplit with a bounded document size. Nothing here knows about Services.
 */
#ifndef LBIPAM_KUBE_H
#define LBIPAM_KUBE_H

#include <jansson.h>

#include "clients/kube/http.h"
#include "clients/kube/kubeconfig.h"
#include "lib/error.h"

#define KUBE_LIST_LIMIT 500
#define KUBE_MAX_LIST_PAGE (64u << 20) /* one page of 500 large Services fits easily */
#define KUBE_MAX_OBJECT (4u << 20)     /* etcd refuses objects over ~1.5 MiB */
#define KUBE_CALL_TIMEOUT_MS 30000L

/* Returned by list and watch when the resourceVersion is too old (HTTP 410 or an ERROR
 * event with code 410): the caller must list again. Distinct from every enum err_code. */
#define KUBE_ERR_GONE (-100)

struct kube;
struct kube_conn;

/* Takes ownership of cfg. */
struct kube *kube_new(struct kube_config *cfg);
void kube_free(struct kube *k);
const char *kube_server(const struct kube *k);

struct kube_conn *kube_conn_new(struct kube *k);
void kube_conn_free(struct kube_conn *c);

/* One request to `path` (e.g. "/api/v1/services"). 0 when any response arrived (read
 * resp->status), ERR_UNAVAILABLE when none did. */
int kube_call(struct kube_conn *c, const char *method, const char *path, const char *content_type,
              const char *body, struct http_resp *resp, struct error *err);

/* The outcome of a failed list/watch for the caller's backoff. */
struct kube_fail {
    long status;      /* HTTP status, 0 when no response */
    long retry_after; /* seconds, -1 when absent */
};

typedef void (*kube_item_fn)(void *arg, json_t *item);

/* Lists every page of `path` (which has no query), handing each item to fn (borrowed).
 * *rv_out gets the list's resourceVersion (owned). On failure, items already handed out
 * belong to an incomplete list: the caller discards them. Returns 0, ERR_UNAVAILABLE
 * (transport, 429, 5xx and other statuses; see *fail) or ERR_TOO_LARGE. */
int kube_list(struct kube_conn *c, const char *path, kube_item_fn fn, void *arg, char **rv_out,
              struct kube_fail *fail, struct error *err);

/* Called for ADDED, MODIFIED, DELETED and BOOKMARK events; `object` is borrowed. */
typedef void (*kube_event_fn)(void *arg, const char *type, json_t *object);

/* Watches `path` from resourceVersion rv with bookmarks, for timeout_s seconds. Returns 0 on
 * a clean end of the stream (the server's timeout or should_stop), KUBE_ERR_GONE when rv
 * expired, ERR_UNAVAILABLE on anything else (a cut stream, 429, 5xx; see *fail). */
int kube_watch(struct kube_conn *c, const char *path, const char *rv, int timeout_s,
               kube_event_fn fn, int (*should_stop)(void *arg), void *arg, struct kube_fail *fail,
               struct error *err);

#endif
