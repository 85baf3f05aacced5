/* routes.c - every route lbipamd serves (router.h). Keep in sync with openapi.yaml:
 * tests/api/test_openapi_routes.c checks both directions. */
#include "server/server_int.h"

const struct route server_routes[] = {
    {.method = "GET", .path = "/healthz", .handler = api_health_get},
    {.method = "GET", .path = "/readyz", .handler = api_ready_get},
    {.method = "GET", .path = "/openapi.yaml", .handler = server_openapi_get},

    {.method = "GET", .path = "/v1/clusters", .handler = api_clusters_list},
    {.method = "POST", .path = "/v1/clusters", .handler = api_clusters_create},
    {.method = "GET", .path = "/v1/clusters/{name}", .handler = api_clusters_get},
    {.method = "PUT", .path = "/v1/clusters/{name}", .handler = api_clusters_replace},
    {.method = "DELETE", .path = "/v1/clusters/{name}", .handler = api_clusters_delete},

    {.method = "GET", .path = "/v1/pools", .handler = api_pools_list},
    {.method = "POST", .path = "/v1/pools", .handler = api_pools_create},
    {.method = "GET", .path = "/v1/pools/{name}", .handler = api_pools_get},
    {.method = "PUT", .path = "/v1/pools/{name}", .handler = api_pools_replace},
    {.method = "DELETE", .path = "/v1/pools/{name}", .handler = api_pools_delete},

    {.method = "GET", .path = "/v1/allocations", .handler = api_allocations_list},
    {.method = "GET",
     .path = "/v1/allocations/{cluster}/{namespace}/{service}",
     .handler = api_allocations_get},
    {.method = "PUT",
     .path = "/v1/allocations/{cluster}/{namespace}/{service}",
     .handler = api_allocations_put},
    {.method = "DELETE",
     .path = "/v1/allocations/{cluster}/{namespace}/{service}",
     .handler = api_allocations_delete},

    {.method = "GET", .path = "/v1/addresses/{ip}", .handler = api_addresses_get},
};

const size_t server_route_count = sizeof(server_routes) / sizeof(server_routes[0]);
