/* render.h - lbipamctl's human-readable output, from the server's JSON.
 *
 * Pure formatting to a FILE (no requests): tests feed JSON and read a memstream. Missing or
 * unexpected fields print as "-" rather than failing, so that a newer server's replies still
 * print. Keep in sync with openapi.yaml #/components/schemas/Pool, Cluster, Allocation,
 * Address (and api.md §6/§7 for checks, advertisements and events).
 */
#ifndef LBIPAM_CTL_RENDER_H
#define LBIPAM_CTL_RENDER_H

#include <jansson.h>
#include <stdio.h>

/* Tables of list items (arrays of objects). */
void render_pools(FILE *f, const json_t *items);
void render_clusters(FILE *f, const json_t *items);
void render_allocations(FILE *f, const json_t *items);
void render_address(FILE *f, const json_t *address);

/* describe: every field, blocks with their sizes, utilization per family, warnings, and the
 * pool's allocations (allocations may be NULL). */
void render_pool_describe(FILE *f, const json_t *pool, const json_t *allocations);
void render_cluster_describe(FILE *f, const json_t *cluster, const json_t *allocations);

void render_check(FILE *f, const json_t *check);
void render_advertisements(FILE *f, const json_t *adv);
/* One line per event: SEQ TIME ACTOR ACTION RESOURCE DATA(compact JSON). */
void render_event_line(FILE *f, const json_t *event);

/* kubectl's selector text: "color=red,tier in (web),!legacy"; "<none>" when empty. Caller
 * frees. */
char *render_selector(const json_t *selector);

#endif
