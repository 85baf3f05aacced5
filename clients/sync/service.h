/* service.h - what lbipam-sync reads from a Service object (pure, no I/O).
 *
 * Which Services qualify, the allocation request built from one (the table of
 * sync-worker.md, including the Cilium and MetalLB annotation names so that a cluster can
 * switch to lbipam without editing a Service), and the traces the worker leaves on a Service
 * (finalizer, condition) by which it recognises one it handled. Keep the annotation lists in
 * sync with sync-worker.md "The request built from a Service".
 */
#ifndef LBIPAM_SERVICE_H
#define LBIPAM_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#define SYNC_DEFAULT_CLASS "lbipam.io/central"
#define SYNC_FINALIZER "lbipam.io/release"
#define SYNC_CONDITION "lbipam.io/IPAMRequestSatisfied"
#define SYNC_MANAGED_BY "lbipam-sync"

struct sync_policy {
    const char *lb_class; /* --lb-class */
    bool require_class;   /* --require-class */
};

/* Borrowed strings of the object, "" when missing. */
const char *svc_namespace(json_t *svc);
const char *svc_name(json_t *svc);
const char *svc_resource_version(json_t *svc);

bool svc_qualifies(json_t *svc, const struct sync_policy *p);
bool svc_being_deleted(json_t *svc);
bool svc_has_finalizer(json_t *svc);
/* Our condition in status.conditions, borrowed, or NULL. */
json_t *svc_condition(json_t *svc);

/* The PUT body for /v1/allocations/{cluster}/{namespace}/{service}; new reference. */
json_t *svc_request(json_t *svc);

#endif
