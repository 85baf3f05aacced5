/* router.h - the route table: data, not code.
 *
 * Every route the daemon serves is one row of server_routes (server/routes.c). The router
 * alone answers 404, 405 (with Allow), 413, 415 and HEAD, so a handler only ever sees a
 * request for its own method and path. tests/api/test_openapi_routes.c checks that every row
 * is in openapi.yaml and every path of openapi.yaml has a row: keep them in sync.
 */
#ifndef LBIPAM_ROUTER_H
#define LBIPAM_ROUTER_H

#include <stddef.h>

struct api_call; /* api/api.h */

struct route {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* OpenAPI template, e.g. "/v1/pools/{name}" */
    void (*handler)(struct api_call *call);
};

extern const struct route server_routes[];
extern const size_t server_route_count;

#endif
