/* metrics.h - the worker's /healthz and /metrics listener (libmicrohttpd, own thread).
 *
 * /healthz answers 200 while the process serves; /metrics is Prometheus text of the
 * counters in struct sync_stats. Nothing else is served.
 */
#ifndef LBIPAM_SYNC_METRICS_H
#define LBIPAM_SYNC_METRICS_H

#include "clients/sync/worker.h"
#include "lib/error.h"

struct metrics;

/* listen is "HOST:PORT" or "[V6]:PORT". */
int metrics_start(struct metrics **out, const char *listen, struct sync_stats *stats,
                  struct error *err);
void metrics_stop(struct metrics *m);

#endif
