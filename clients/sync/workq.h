/* workq.h - a delaying work queue of keys with client-go's guarantees.
 *
 * A key is queued at most once (adding it again keeps the earlier due time and ORs the
 * flags), and is never handed to two workers at once: a key added while a worker holds it is
 * queued again when that worker calls workq_done. So many watch events for one Service cost
 * one reconcile, and reconciles of one Service never race. Thread-safe.
 */
#ifndef LBIPAM_WORKQ_H
#define LBIPAM_WORKQ_H

#include <stddef.h>

#define WORKQ_FORCE 1u /* reconcile even when nothing seems to have changed */

struct workq;

struct workq *workq_new(void);
void workq_free(struct workq *q);

/* Queues key to be handed out after delay seconds (0: now). */
void workq_add(struct workq *q, const char *key, double delay, unsigned flags);

/* Blocks for the next due key; *key is owned by the caller. Returns 0, or -1 after
 * workq_shutdown. */
int workq_get(struct workq *q, char **key, unsigned *flags);

/* Ends the hand-out of key (must follow every successful workq_get). */
void workq_done(struct workq *q, const char *key);

/* Wakes every blocked workq_get with -1; later adds are ignored. */
void workq_shutdown(struct workq *q);

/* Keys queued or being processed (for "all Services reconciled" checks and metrics). */
size_t workq_len(struct workq *q);

#endif
