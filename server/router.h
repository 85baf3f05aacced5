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

/* The least role a caller needs (api.md §9). Every row states one, so that a new route
 * cannot forget its check: the router enforces it before the handler runs. */
enum route_role {
    ROLE_PUBLIC,   /* no token: /healthz, /readyz, /metrics, /openapi.yaml, the dashboard */
    ROLE_READER,   /* every GET of /v1 */
    ROLE_OPERATOR, /* + allocations, reachability checks */
    ROLE_ADMIN     /* + clusters, pools, tokens, ?force=true */
};

struct route {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* OpenAPI template, e.g. "/v1/pools/{name}" */
    void (*handler)(struct api_call *call);
    enum route_role role;
};

extern const struct route server_routes[];
extern const size_t server_route_count;

#endif
