/* addresses.c - GET /v1/addresses/{ip} (api.md §5): who holds an address. */
#include "api/api_int.h"

void api_addresses_get(struct api_call *call)
{
    const char *text = call_param(call, "ip");
    struct netaddr ip;
    struct address_info *out = NULL;
    struct reach_view view = {0};
    struct error err;
    json_t *obj;

    /* api.md §1: an address that is not one (or is IPv4-mapped) is 422 invalid_ip. */
    if (netaddr_parse(&ip, text ? text : "", NULL, &err) < 0 ||
        store_address_get(call->st, &ip, &out, &err) < 0 ||
        store_reach_view(call->st, &ip, 1, &view, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    /* api.md §6: the route analysis of the address and the latest check that probed it. */
    obj = render_address(out);
    json_object_set_new(obj, "route", render_route(&view.routes[0]));
    json_object_set_new(obj, "lastCheck", view.last ? render_check(view.last) : json_null());
    reply_json(call, 200, obj);
out:
    reach_view_cleanup(&view);
    address_info_free(out);
}
