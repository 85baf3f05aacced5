/* metrics.h - what lbipamd counts, and GET /metrics in the Prometheus text format 0.0.4.
 *
 * Counters are process-wide and lock-free (C11 atomics), so any thread may bump them at any
 * time, before a server starts or after it stopped. Pool gauges are not counted: GET /metrics
 * reads them from the store when scraped, so they can never drift from the pools' status.
 * Label values come from bounded sets only (route templates, status codes, reasons named in
 * the code), never from request bytes.
 */
#ifndef LBIPAM_METRICS_H
#define LBIPAM_METRICS_H

#include <stdbool.h>

#include "api/api.h"
#include "server/router.h"

/* One finished HTTP request (request.c, completion callback). route is NULL when no row
 * served it (404, 405); a HEAD served by a GET row counts as that GET. A status outside
 * 100-599 (the client left before a reply) only counts in the duration histogram. */
void metrics_request_done(const struct route *route, const char *method, int status,
                          double seconds);

/* One PUT /v1/allocations/… that ran its handler: "satisfied", or the reason it was refused
 * or partly met ("no_pool", "out_of_ips", …). lbipam_allocations_total{outcome}. */
void metrics_allocation_outcome(const char *reason);

/* One reachability check finished: passed when every probe succeeded.
 * lbipam_reachability_checks_total{result="passed|failed"}. */
void metrics_check_finished(bool passed);

/* GET /metrics. */
void server_metrics_get(struct api_call *call);

#endif
