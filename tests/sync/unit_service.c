/* Which Services qualify and the request built from one (sync-worker.md's table). */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/sync/service.h"

static json_t *svc(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    cr_assert_not_null(j, "%s", e.text);
    return j;
}

static const struct sync_policy any = {.lb_class = SYNC_DEFAULT_CLASS};
static const struct sync_policy strict = {.lb_class = SYNC_DEFAULT_CLASS, .require_class = true};

Test(service, qualification_by_type_and_class)
{
    json_t *plain = svc("{\"spec\":{\"type\":\"LoadBalancer\"}}");
    json_t *ours = svc("{\"spec\":{\"type\":\"LoadBalancer\","
                       "\"loadBalancerClass\":\"lbipam.io/central\"}}");
    json_t *other = svc("{\"spec\":{\"type\":\"LoadBalancer\",\"loadBalancerClass\":\"x/y\"}}");
    json_t *cip = svc("{\"spec\":{\"type\":\"ClusterIP\"}}");
    cr_assert(svc_qualifies(plain, &any));
    cr_assert_not(svc_qualifies(plain, &strict));
    cr_assert(svc_qualifies(ours, &strict));
    cr_assert_not(svc_qualifies(other, &any));
    cr_assert_not(svc_qualifies(cip, &any));
    struct sync_policy custom = {.lb_class = "x/y"};
    cr_assert(svc_qualifies(other, &custom));
    cr_assert_not(svc_qualifies(ours, &custom));
    json_decref(plain), json_decref(ours), json_decref(other), json_decref(cip);
}

Test(service, request_table)
{
    json_t *s = svc("{\"metadata\":{\"namespace\":\"ns\",\"name\":\"web\","
                    " \"labels\":{\"color\":\"red\"},"
                    " \"annotations\":{\"metallb.io/loadBalancerIPs\":\" 10.0.0.2 , 10.0.0.1,,\","
                    "   \"io.cilium/lb-ipam-ips\":\"10.0.0.9\","
                    "   \"metallb.universe.tf/address-pool\":\"blue\","
                    "   \"metallb.io/allow-shared-ip\":\"dns\","
                    "   \"lbipam.cilium.io/sharing-cross-namespace\":\"a, b\"}},"
                    " \"spec\":{\"type\":\"LoadBalancer\",\"loadBalancerIP\":\"10.0.0.1\","
                    "  \"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\","
                    "  \"ports\":[{\"port\":53,\"protocol\":\"UDP\"},{\"port\":80}],"
                    "  \"externalTrafficPolicy\":\"Local\",\"selector\":{\"app\":\"dns\"}},"
                    " \"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.7\"}]}}}");
    json_t *rq = svc_request(s);
    json_t *want = svc("{\"labels\":{\"color\":\"red\"},\"ipFamilies\":[\"IPv4\"],"
                       "\"ipFamilyPolicy\":\"SingleStack\","
                       "\"requestedIPs\":[\"10.0.0.1\",\"10.0.0.9\"],"
                       "\"pool\":\"blue\",\"sharingKey\":\"dns\","
                       "\"sharingCrossNamespace\":[\"a\",\"b\"],"
                       "\"ports\":[{\"port\":53,\"protocol\":\"UDP\"},"
                       "           {\"port\":80,\"protocol\":\"TCP\"}],"
                       "\"externalTrafficPolicy\":\"Local\",\"podSelector\":{\"app\":\"dns\"},"
                       "\"preferredIPs\":[\"10.0.0.7\"],\"managedBy\":\"lbipam-sync\"}");
    char *got = json_dumps(rq, JSON_SORT_KEYS);
    cr_assert(json_equal(rq, want), "%s", got);
    free(got);
    json_decref(s), json_decref(rq), json_decref(want);
}

Test(service, lbipam_annotations_win_and_lists_dedupe)
{
    json_t *s = svc("{\"metadata\":{\"annotations\":{"
                    "\"lbipam.io/ips\":\"10.0.0.3,10.0.0.3, 10.0.0.4\","
                    "\"lbipam.cilium.io/ips\":\"10.9.9.9\","
                    "\"lbipam.io/pool\":\"mine\",\"metallb.io/address-pool\":\"theirs\","
                    "\"lbipam.io/sharing-key\":\"k\",\"io.cilium/lb-ipam-sharing-key\":\"c\","
                    "\"lbipam.io/sharing-cross-namespace\":\"*\"}},"
                    "\"spec\":{\"type\":\"LoadBalancer\"}}");
    json_t *rq = svc_request(s);
    json_t *want = svc("[\"10.0.0.3\",\"10.0.0.4\"]");
    cr_assert(json_equal(json_object_get(rq, "requestedIPs"), want));
    cr_assert_str_eq(json_string_value(json_object_get(rq, "pool")), "mine");
    cr_assert_str_eq(json_string_value(json_object_get(rq, "sharingKey")), "k");
    cr_assert_str_eq(
        json_string_value(json_array_get(json_object_get(rq, "sharingCrossNamespace"), 0)), "*");
    cr_assert_null(json_object_get(rq, "podSelector"));
    cr_assert_null(json_object_get(rq, "ipFamilies"));
    json_decref(s), json_decref(rq), json_decref(want);
}

Test(service, each_ips_annotation_name_is_read)
{
    static const char *const names[] = {"lbipam.io/ips", "lbipam.cilium.io/ips",
                                        "io.cilium/lb-ipam-ips", "metallb.io/loadBalancerIPs",
                                        "metallb.universe.tf/loadBalancerIPs"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *s = json_pack("{s:{s:{s:s}},s:{s:s}}", "metadata", "annotations", names[i],
                              "10.1.1.1", "spec", "type", "LoadBalancer");
        json_t *rq = svc_request(s);
        cr_assert_str_eq(json_string_value(json_array_get(json_object_get(rq, "requestedIPs"), 0)),
                         "10.1.1.1", "%s", names[i]);
        json_decref(s), json_decref(rq);
    }
}

Test(service, finalizer_and_condition_are_recognised)
{
    json_t *s = svc("{\"metadata\":{\"finalizers\":[\"x\",\"lbipam.io/release\"],"
                    "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
                    "\"status\":{\"conditions\":[{\"type\":\"other\"},"
                    "{\"type\":\"lbipam.io/IPAMRequestSatisfied\",\"status\":\"True\"}]}}");
    cr_assert(svc_has_finalizer(s));
    cr_assert(svc_being_deleted(s));
    cr_assert_str_eq(json_string_value(json_object_get(svc_condition(s), "status")), "True");
    json_decref(s);
}
