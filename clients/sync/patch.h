/* patch.h - the writes lbipam-sync makes to a Service, computed without I/O.
 *
 * Each function returns the body of one PATCH (new reference), or NULL when the Service
 * already looks like that, so that nothing is written when nothing would change. Status
 * patches are strategic-merge (conditions merge by type, so other controllers' conditions
 * survive; ingress is replaced); finalizer patches are merge-patch with the whole list and the
 * resourceVersion they were computed from (a concurrent change is a 409, not a lost write).
 */
#ifndef LBIPAM_PATCH_H
#define LBIPAM_PATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/error.h"

#define PATCH_MESSAGE_MAX 1024

/* What the central server answered, reduced to what is mirrored. */
struct outcome {
    bool allocated; /* an allocation exists: ingress is (re)written, finalizer added */
    json_t *ips;    /* array of IP strings in server order (allocated only), owned */
    bool ok;        /* condition status True */
    char reason[ERROR_REASON_MAX];
    char message[PATCH_MESSAGE_MAX];
};

void outcome_cleanup(struct outcome *o);
void outcome_copy(struct outcome *dst, const struct outcome *src);

/* From a 2xx PUT response body: addresses[].ip and condition. 0 or ERR_INVALID. */
int outcome_from_allocation(struct outcome *o, json_t *alloc, struct error *err);
/* From a refusal: condition False with the server's reason and detail. */
void outcome_refused(struct outcome *o, const char *reason, const char *message);

/* Status patch toward o. `now` is RFC 3339, used only when the condition's status flips. */
json_t *patch_status(json_t *svc, const struct outcome *o, const char *now);
/* Status patch removing our condition and the ingress (a Service that stopped qualifying). */
json_t *patch_status_cleanup(json_t *svc);
/* Finalizer merge-patch adding (want) or removing our finalizer. */
json_t *patch_finalizer(json_t *svc, bool want);

/* Writes the current UTC time as RFC 3339 with a Z suffix. */
void rfc3339_now(char out[32]);

#endif
