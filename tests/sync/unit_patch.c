/* Patch computation: nothing written when nothing changes; the ipMode default; transitions. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/sync/patch.h"
#include "clients/sync/service.h"

static json_t *js(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    cr_assert_not_null(j, "%s", e.text);
    return j;
}

static void ok_outcome(struct outcome *o, const char *ip)
{
    json_t *alloc = json_pack("{s:[{s:s}],s:{s:s,s:s,s:s}}", "addresses", "ip", ip, "condition",
                              "status", "True", "reason", "satisfied", "message", "");
    cr_assert_eq(outcome_from_allocation(o, alloc, NULL), 0);
    json_decref(alloc);
}

Test(patch, fresh_service_gets_ingress_and_condition)
{
    json_t *s = js("{\"metadata\":{\"name\":\"a\"},\"status\":{\"loadBalancer\":{}}}");
    struct outcome o;
    ok_outcome(&o, "10.0.0.1");
    json_t *p = patch_status(s, &o, "2026-01-01T00:00:00Z");
    json_t *want = js("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\"}]},"
                      "\"conditions\":[{\"type\":\"lbipam.io/IPAMRequestSatisfied\","
                      "\"status\":\"True\",\"reason\":\"satisfied\",\"message\":\"\","
                      "\"observedGeneration\":0,"
                      "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}");
    char *got = json_dumps(p, JSON_SORT_KEYS);
    cr_assert(json_equal(p, want), "%s", got);
    free(got);
    json_decref(p), json_decref(want), json_decref(s);
    outcome_cleanup(&o);
}

Test(patch, ipmode_vip_default_compares_equal_so_nothing_is_written)
{
    json_t *s = js("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\","
                   "\"ipMode\":\"VIP\"}]},\"conditions\":[{\"type\":\"other\"},"
                   "{\"type\":\"lbipam.io/IPAMRequestSatisfied\",\"status\":\"True\","
                   "\"reason\":\"satisfied\",\"message\":\"\",\"observedGeneration\":0,"
                   "\"lastTransitionTime\":\"2025-01-01T00:00:00Z\"}]}}");
    struct outcome o;
    ok_outcome(&o, "10.0.0.1");
    cr_assert_null(patch_status(s, &o, "2026-01-01T00:00:00Z"));
    outcome_cleanup(&o);
    json_decref(s);
}

Test(patch, proxy_ipmode_or_other_order_is_a_change)
{
    json_t *s = js("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\","
                   "\"ipMode\":\"Proxy\"}]}}}");
    struct outcome o;
    ok_outcome(&o, "10.0.0.1");
    json_t *p = patch_status(s, &o, "t");
    cr_assert_not_null(p);
    json_decref(p);
    outcome_cleanup(&o);
    json_decref(s);
}

Test(patch, refusal_keeps_ingress_and_moves_transition_time_only_on_flip)
{
    json_t *s = js("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\"}]},"
                   "\"conditions\":[{\"type\":\"lbipam.io/IPAMRequestSatisfied\","
                   "\"status\":\"True\",\"reason\":\"satisfied\",\"message\":\"\","
                   "\"lastTransitionTime\":\"old\"}]}}");
    struct outcome o;
    outcome_refused(&o, "out_of_ips", "pool blue is full");
    json_t *p = patch_status(s, &o, "now");
    json_t *st = json_object_get(p, "status");
    cr_assert_null(json_object_get(st, "loadBalancer"));
    json_t *c = json_array_get(json_object_get(st, "conditions"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(c, "status")), "False");
    cr_assert_str_eq(json_string_value(json_object_get(c, "reason")), "out_of_ips");
    cr_assert_str_eq(json_string_value(json_object_get(c, "message")), "pool blue is full");
    cr_assert_str_eq(json_string_value(json_object_get(c, "lastTransitionTime")), "now");
    json_decref(p);
    outcome_cleanup(&o);

    /* same status, new message: the transition time stays */
    outcome_refused(&o, "satisfied", "x");
    o.ok = true;
    p = patch_status(s, &o, "now");
    c = json_array_get(json_object_get(json_object_get(p, "status"), "conditions"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(c, "lastTransitionTime")), "old");
    json_decref(p);
    outcome_cleanup(&o);
    json_decref(s);
}

Test(patch, finalizer_patch_carries_whole_list_and_resource_version)
{
    json_t *s = js("{\"metadata\":{\"resourceVersion\":\"42\",\"finalizers\":[\"a/b\"]}}");
    json_t *p = patch_finalizer(s, true);
    json_t *want = js("{\"metadata\":{\"finalizers\":[\"a/b\",\"lbipam.io/release\"],"
                      "\"resourceVersion\":\"42\"}}");
    cr_assert(json_equal(p, want));
    cr_assert_null(patch_finalizer(s, false));
    json_decref(p), json_decref(want), json_decref(s);

    s = js("{\"metadata\":{\"resourceVersion\":\"7\",\"finalizers\":[\"lbipam.io/release\"]}}");
    p = patch_finalizer(s, false);
    want = js("{\"metadata\":{\"finalizers\":[],\"resourceVersion\":\"7\"}}");
    cr_assert(json_equal(p, want));
    cr_assert_null(patch_finalizer(s, true));
    json_decref(p), json_decref(want), json_decref(s);
}

Test(patch, cleanup_deletes_condition_by_type_and_ingress)
{
    json_t *s = js("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\"}]},"
                   "\"conditions\":[{\"type\":\"lbipam.io/IPAMRequestSatisfied\"}]}}");
    json_t *p = patch_status_cleanup(s);
    json_t *want = js("{\"status\":{\"loadBalancer\":{\"ingress\":null},\"conditions\":"
                      "[{\"type\":\"lbipam.io/IPAMRequestSatisfied\",\"$patch\":\"delete\"}]}}");
    cr_assert(json_equal(p, want));
    json_decref(p), json_decref(want), json_decref(s);
    s = js("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\"}]}}}");
    cr_assert_null(patch_status_cleanup(s), "ingress of someone else is left alone");
    json_decref(s);
}
