/* openapi.c - GET /openapi.yaml: the spec compiled into the binary (cmake/embed.cmake). */
#include "lib/embedded.h"
#include "server/server_int.h"

extern const struct embedded_file server_openapi[];

void server_openapi_get(struct api_call *call)
{
    reply_static(call, 200, "application/yaml", server_openapi[0].data, server_openapi[0].len);
}
