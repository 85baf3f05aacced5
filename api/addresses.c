/* addresses.c - GET /v1/addresses/{ip} (api.md §5): who holds an address. */
#include "api/api_int.h"

void api_addresses_get(struct api_call *call)
{
    const char *text = call_param(call, "ip");
    struct netaddr ip;
    struct address_info *out = NULL;
    struct error err;

    /* api.md §1: an address that is not one (or is IPv4-mapped) is 422 invalid_ip. */
    if (netaddr_parse(&ip, text ? text : "", NULL, &err) < 0 ||
        store_address_get(call->st, &ip, &out, &err) < 0)
        reply_problem(call, &err);
    else
        reply_json(call, 200, render_address(out));
    address_info_free(out);
}
