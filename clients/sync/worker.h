/* worker.h - the lbipam-sync control loop: list/watch Services, reconcile each with central.
 *
 * One watcher thread lists and watches Services into an in-memory cache and queues the keys
 * that changed; N reconcile threads take keys from a work queue (one Service is never
 * reconciled twice at once) and make the PUT / DELETE to central and the status / finalizer
 * PATCHes to Kubernetes. The cache is the only state, rebuilt from a list at every start:
 * nothing is persisted (the central server is the record). After every full list the
 * managed allocations of the cluster are garbage-collected.
 */
#ifndef LBIPAM_WORKER_H
#define LBIPAM_WORKER_H

#include <stdatomic.h>

#include "clients/kube/kube.h"
#include "clients/sync/central.h"
#include "clients/sync/service.h"
#include "lib/error.h"

struct sync_options {
    struct sync_policy policy;
    int resync_seconds; /* full list + GC period; 0 means 300 */
    int workers;        /* reconcile threads; 0 means 4 */
};

/* Counters for /metrics; monotonically increasing. */
struct sync_stats {
    atomic_long kube_lists;
    atomic_long kube_watches;
    atomic_long kube_gets;
    atomic_long kube_status_patches;
    atomic_long kube_finalizer_patches;
    atomic_long kube_errors;
    atomic_long watch_events;
    atomic_long relists;
    atomic_long central_puts;
    atomic_long central_releases;
    atomic_long central_lists;
    atomic_long central_errors;
    atomic_long refusals;
    atomic_long gc_releases;
    atomic_long reconciles;
    atomic_long synced; /* 1 once the first full list is in the cache */
    atomic_long services;
};

struct worker;

/* Borrows k and ce; they must outlive the worker. */
struct worker *worker_new(struct kube *k, struct central *ce, const struct sync_options *opts);
void worker_free(struct worker *w);

/* Runs until worker_stop; returns 0. */
int worker_run(struct worker *w);
/* Asks worker_run to return; safe from any thread (not from a signal handler). */
void worker_stop(struct worker *w);

struct sync_stats *worker_stats(struct worker *w);

#endif
