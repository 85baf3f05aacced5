/* routes.c - every route lbipamd serves (router.h). Keep in sync with openapi.yaml:
 * tests/api/test_openapi_routes.c checks both directions. The role column is the whole
 * authorization policy of api.md §9 (the ?force=true admin rule is the one check a handler
 * makes itself, because it depends on a query argument). */
#include "server/server_int.h"
#include "server/metrics.h"
#include "server/ui.h"

#define ALLOCATION "/v1/allocations/{cluster}/{namespace}/{service}"

const struct route server_routes[] = {
    {"GET", "/healthz", api_health_get, ROLE_PUBLIC},
    {"GET", "/readyz", api_ready_get, ROLE_PUBLIC},
    {"GET", "/openapi.yaml", server_openapi_get, ROLE_PUBLIC},
    {"GET", "/metrics", server_metrics_get, ROLE_PUBLIC},
    {"GET", "/", server_ui_index, ROLE_PUBLIC},
    {"GET", "/ui/{file}", server_ui_file, ROLE_PUBLIC},

    {"GET", "/v1/clusters", api_clusters_list, ROLE_READER},
    {"POST", "/v1/clusters", api_clusters_create, ROLE_ADMIN},
    {"GET", "/v1/clusters/{name}", api_clusters_get, ROLE_READER},
    {"PUT", "/v1/clusters/{name}", api_clusters_replace, ROLE_ADMIN},
    {"DELETE", "/v1/clusters/{name}", api_clusters_delete, ROLE_ADMIN},
    {"GET", "/v1/clusters/{name}/advertisements", api_clusters_advertisements, ROLE_READER},

    {"GET", "/v1/pools", api_pools_list, ROLE_READER},
    {"POST", "/v1/pools", api_pools_create, ROLE_ADMIN},
    {"GET", "/v1/pools/{name}", api_pools_get, ROLE_READER},
    {"PUT", "/v1/pools/{name}", api_pools_replace, ROLE_ADMIN},
    {"DELETE", "/v1/pools/{name}", api_pools_delete, ROLE_ADMIN},

    {"GET", "/v1/allocations", api_allocations_list, ROLE_READER},
    {"GET", ALLOCATION, api_allocations_get, ROLE_READER},
    {"PUT", ALLOCATION, api_allocations_put, ROLE_OPERATOR},
    {"DELETE", ALLOCATION, api_allocations_delete, ROLE_OPERATOR},

    {"GET", "/v1/addresses/{ip}", api_addresses_get, ROLE_READER},

    {"POST", "/v1/reachability-checks", api_checks_create, ROLE_OPERATOR},
    {"GET", "/v1/reachability-checks", api_checks_list, ROLE_READER},
    {"GET", "/v1/reachability-checks/{id}", api_checks_get, ROLE_READER},

    {"POST", "/v1/tokens", api_tokens_create, ROLE_ADMIN},
    {"GET", "/v1/tokens", api_tokens_list, ROLE_ADMIN},
    {"DELETE", "/v1/tokens/{name}", api_tokens_delete, ROLE_ADMIN},

    {"GET", "/v1/events", api_events_list, ROLE_READER},
};

const size_t server_route_count = sizeof(server_routes) / sizeof(server_routes[0]);
