/* apply's conversions: the documented Cilium and MetalLB examples (tests/ctl/fixtures/)
 * become exactly the expected Pool bodies, and what cannot be converted is refused with a
 * message that names the field. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/convert.h"
#include "clients/ctl/yamljson.h"
#include "fixture.h"

/* Parses and converts text; returns the bodies (an array) or NULL with *err filled. */
static json_t *convert_text(const char *text, struct manifest *m, struct error *err)
{
    json_t *docs = NULL, *bodies = NULL;
    if (yamljson_parse(&docs, text, strlen(text), err) < 0)
        return NULL;
    if (manifest_convert(m, docs, err) == 0) {
        bodies = json_array();
        for (size_t i = 0; i < m->n; i++)
            json_array_append(bodies, m->items[i].body);
    }
    json_decref(docs);
    return bodies;
}

static void assert_converts(const char *stem)
{
    char *name = xasprintf("%s.yaml", stem), *want_name = xasprintf("%s.want.json", stem);
    char *text = fixture_read(name, NULL), *want_text = fixture_read(want_name, NULL);
    cr_assert_not_null(text, "fixture %s is missing", name);
    cr_assert_not_null(want_text, "fixture %s is missing", want_name);
    json_error_t je;
    json_t *want = json_loads(want_text, 0, &je);
    cr_assert_not_null(want, "%s: %s", want_name, je.text);
    if (!json_is_array(want)) {
        json_t *one = json_pack("[o]", want);
        want = one;
    }
    struct manifest m = {0};
    struct error err = {0};
    json_t *got = convert_text(text, &m, &err);
    cr_assert_not_null(got, "%s refused: %s (field %s)", name, err.detail, err.field);
    char *got_s = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(2));
    char *want_s = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(2));
    cr_assert(json_equal(got, want), "%s converted to\n%s\nexpected\n%s", name, got_s, want_s);
    for (size_t i = 0; i < m.n; i++)
        cr_assert_str_eq(m.items[i].name,
                         json_string_value(json_object_get(json_array_get(want, i), "name")));
    free(got_s), free(want_s);
    json_decref(got), json_decref(want);
    manifest_cleanup(&m);
    free(text), free(want_text), free(name), free(want_name);
}

static void assert_refused_text(const char *text, const char *field, const char *detail)
{
    struct manifest m = {0};
    struct error err = {0};
    json_t *got = convert_text(text, &m, &err);
    cr_assert_null(got, "converted although it should be refused");
    cr_assert_eq(err.code, ERR_INVALID);
    cr_assert_str_eq(err.reason, "not_convertible");
    cr_assert_str_eq(err.field, field);
    cr_assert_str_eq(err.detail, detail);
    manifest_cleanup(&m);
}

static void assert_refused(const char *stem, const char *field, const char *detail)
{
    char *name = xasprintf("%s.yaml", stem), *text = fixture_read(name, NULL);
    cr_assert_not_null(text, "fixture %s is missing", name);
    assert_refused_text(text, field, detail);
    free(text), free(name);
}

/* ---- Cilium LB IPAM documentation ----------------------------------------------------- */

Test(cilium, documented_blue_pool_v2alpha1_converts_cidr_and_range_blocks)
{
    assert_converts("cilium_blue_pool_v2alpha1");
}

Test(cilium, documented_blue_pool_v2_converts_the_same)
{
    assert_converts("cilium_blue_pool_v2");
}

Test(cilium, documented_service_selectors_match_expressions_and_match_labels)
{
    assert_converts("cilium_service_selectors");
}

Test(cilium, documented_namespace_selector_label_keeps_its_meaning)
{
    assert_converts("cilium_namespace_selector");
}

Test(cilium, documented_disabled_pool_stays_disabled)
{
    assert_converts("cilium_disabled");
}

Test(cilium, allow_first_last_ips_quoted_no_becomes_false_and_labels_carry_over)
{
    assert_converts("cilium_allow_first_last_no");
}

Test(cilium, unquoted_yes_and_no_are_read_as_booleans_where_a_boolean_is_needed)
{
    assert_converts("cilium_allow_first_last_plain");
}

Test(cilium, deprecated_spec_cidrs_is_read_as_blocks)
{
    assert_converts("cilium_cidrs_deprecated");
}

Test(cilium, allow_first_last_ips_other_than_yes_no_is_refused)
{
    assert_refused("cilium_allow_first_last_bad", "spec.allowFirstLastIPs",
                   "spec.allowFirstLastIPs must be \"Yes\" or \"No\", not Maybe");
}

Test(cilium, unknown_spec_field_is_refused_not_dropped)
{
    assert_refused("cilium_unknown_field", "spec.serviceSelecter",
                   "spec.serviceSelecter cannot be converted: it is not a field of "
                   "CiliumLoadBalancerIPPool known to lbipamctl");
}

Test(cilium, selector_operator_lbipam_lacks_is_refused)
{
    assert_refused("cilium_bad_operator", "spec.serviceSelector.matchExpressions[0].operator",
                   "spec.serviceSelector.matchExpressions[0].operator \"Gt\" cannot be converted: "
                   "lbipam selectors know In, NotIn, Exists and DoesNotExist");
}

Test(cilium, unknown_api_version_is_refused)
{
    assert_refused("cilium_wrong_version", "apiVersion",
                   "CiliumLoadBalancerIPPool of apiVersion cilium.io/v1 is not supported "
                   "(cilium.io/v2alpha1 and cilium.io/v2 are)");
}

Test(cilium, block_with_cidr_and_start_is_refused)
{
    assert_refused_text("apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\n"
                        "metadata: {name: p}\n"
                        "spec:\n  blocks:\n  - {cidr: 10.0.0.0/24, start: 10.0.0.1}\n",
                        "spec.blocks[0]",
                        "spec.blocks[0] has both cidr and start/stop: a block is one or the "
                        "other");
}

Test(cilium, pool_without_blocks_is_refused)
{
    assert_refused_text("apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\n"
                        "metadata: {name: p}\nspec:\n  blocks: []\n",
                        "spec.blocks",
                        "spec.blocks is empty: an lbipam pool needs at least one block");
}

Test(cilium, name_that_is_not_an_rfc1123_label_is_refused)
{
    assert_refused_text("apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\n"
                        "metadata: {name: pool.example}\nspec:\n  blocks: [{cidr: 10.0.0.0/24}]\n",
                        "metadata.name",
                        "metadata.name \"pool.example\" cannot be converted: lbipam pool names are "
                        "RFC 1123 labels (lower case letters, digits and '-', at most 63)");
}

Test(cilium, label_value_that_yaml_reads_as_a_number_must_be_quoted)
{
    assert_refused_text("apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\n"
                        "metadata:\n  name: p\n  labels: {version: 2}\n"
                        "spec:\n  blocks: [{cidr: 10.0.0.0/24}]\n",
                        "metadata.labels.version",
                        "metadata.labels.version must be a string, not an integer (quote it in "
                        "YAML)");
}

Test(cilium, status_and_kubernetes_metadata_are_bookkeeping_not_pool_fields)
{
    const char *text = "apiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\n"
                       "metadata:\n  name: p\n  uid: 0d4c\n  resourceVersion: \"42\"\n"
                       "  annotations: {a: b}\n"
                       "spec:\n  blocks: [{cidr: 10.0.0.0/24}]\n"
                       "status:\n  conditions: []\n";
    struct manifest m = {0};
    struct error err = {0};
    json_t *got = convert_text(text, &m, &err);
    cr_assert_not_null(got, "%s", err.detail);
    json_t *want = json_pack("[{s:s,s:[{s:s}]}]", "name", "p", "blocks", "cidr", "10.0.0.0/24");
    cr_assert(json_equal(got, want));
    json_decref(got), json_decref(want);
    manifest_cleanup(&m);
}

/* ---- MetalLB documentation ------------------------------------------------------------ */

Test(metallb, documented_first_pool_converts_cidrs_and_ranges_of_both_families)
{
    assert_converts("metallb_first_pool");
}

Test(metallb, documented_cheap_and_expensive_pools_keep_auto_assign_false)
{
    assert_converts("metallb_cheap_expensive");
}

Test(metallb, documented_service_allocation_with_namespace_selectors_is_refused)
{
    assert_refused("metallb_ns_service_alloc", "spec.serviceAllocation.namespaceSelectors",
                   "spec.serviceAllocation.namespaceSelectors cannot be converted: lbipam has no "
                   "namespace labels (a serviceSelector sees the service's labels and its "
                   "namespace name); list the namespaces in spec.serviceAllocation.namespaces "
                   "instead");
}

Test(metallb, service_allocation_namespaces_and_selector_become_one_anded_selector)
{
    /* priority 50 (MetalLB: lower first) becomes 1000 - 50 = 950 (lbipam: higher first). */
    assert_converts("metallb_service_alloc_no_namespace_selectors");
}

Test(metallb, single_address_range_becomes_a_start_block_and_priority_1_is_tried_first)
{
    assert_converts("metallb_single_address_range");
}

Test(metallb, several_service_selectors_are_refused)
{
    assert_refused("metallb_two_service_selectors", "spec.serviceAllocation.serviceSelectors",
                   "spec.serviceAllocation.serviceSelectors has 2 selectors: MetalLB ORs them, but "
                   "an lbipam serviceSelector is one selector whose terms are ANDed; merge them "
                   "into one or split the pool");
}

Test(metallb, bare_ip_address_is_refused_as_metallb_refuses_it)
{
    assert_refused("metallb_bare_ip", "spec.addresses[0]",
                   "spec.addresses[0] \"192.168.50.1\" is neither a CIDR nor a range a-b "
                   "(MetalLB writes one address as a /32 or /128)");
}

Test(metallb, empty_namespace_selectors_and_service_selectors_convert_to_nothing)
{
    const char *text = "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                       "metadata: {name: p, namespace: metallb-system}\n"
                       "spec:\n  addresses: [10.1.0.0/24]\n"
                       "  serviceAllocation: {namespaceSelectors: [], serviceSelectors: []}\n";
    struct manifest m = {0};
    struct error err = {0};
    json_t *got = convert_text(text, &m, &err);
    cr_assert_not_null(got, "%s", err.detail);
    json_t *want = json_pack("[{s:s,s:[{s:s}],s:b}]", "name", "p", "blocks", "cidr", "10.1.0.0/24",
                             "allowFirstLastIPs", 1);
    cr_assert(json_equal(got, want));
    json_decref(got), json_decref(want);
    manifest_cleanup(&m);
}

Test(metallb, range_that_runs_backwards_is_refused)
{
    assert_refused_text("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                        "metadata: {name: p}\nspec:\n  addresses: [10.0.0.9-10.0.0.1]\n",
                        "spec.addresses[0]",
                        "spec.addresses[0] \"10.0.0.9-10.0.0.1\" starts after it stops");
}

Test(metallb, range_mixing_families_is_refused)
{
    assert_refused_text("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                        "metadata: {name: p}\nspec:\n  addresses: [\"10.0.0.1-2001:db8::1\"]\n",
                        "spec.addresses[0]",
                        "spec.addresses[0] \"10.0.0.1-2001:db8::1\" mixes IPv4 and IPv6");
}

Test(metallb, priority_beyond_the_mapping_is_refused)
{
    assert_refused_text("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                        "metadata: {name: p}\nspec:\n  addresses: [10.0.0.0/24]\n"
                        "  serviceAllocation: {priority: 1000}\n",
                        "spec.serviceAllocation.priority",
                        "spec.serviceAllocation.priority 1000 cannot be converted: MetalLB tries "
                        "priority 1 first and 0 last, lbipam the highest first; lbipamctl maps p "
                        "to 1000 - p and needs 0 <= p <= 999");
}

Test(metallb, unknown_service_allocation_field_is_refused)
{
    assert_refused_text("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                        "metadata: {name: p}\nspec:\n  addresses: [10.0.0.0/24]\n"
                        "  serviceAllocation: {nodeSelectors: []}\n",
                        "spec.serviceAllocation.nodeSelectors",
                        "spec.serviceAllocation.nodeSelectors cannot be converted: it is not a "
                        "field of IPAddressPool known to lbipamctl");
}

/* ---- our own objects and the dispatch ------------------------------------------------- */

Test(own, pool_and_cluster_documents_keep_their_fields_and_yaml_11_booleans_become_booleans)
{
    assert_converts("lbipam_pools");
}

Test(own, list_reply_of_get_o_json_applies_item_by_item)
{
    char *text = fixture_read("lbipam_list.json", NULL);
    struct manifest m = {0};
    struct error err = {0};
    json_t *got = convert_text(text, &m, &err);
    cr_assert_not_null(got, "%s", err.detail);
    cr_assert_eq(m.n, 2);
    cr_assert_eq(m.items[0].kind, MANIFEST_POOL);
    cr_assert_str_eq(m.items[0].name, "green");
    cr_assert_eq(m.items[1].kind, MANIFEST_CLUSTER);
    cr_assert_str_eq(m.items[1].name, "lab");
    cr_assert_null(json_object_get(m.items[1].body, "kind"));
    json_decref(got);
    manifest_cleanup(&m);
    free(text);
}

Test(own, document_that_is_neither_pool_nor_cluster_by_its_fields_is_refused)
{
    assert_refused_text("name: x\ndescription: what am I\n", "kind",
                        "cannot tell whether this is a Pool or a Cluster: add kind: Pool or "
                        "kind: Cluster");
}

Test(own, unsupported_kind_is_refused_naming_what_is_supported)
{
    assert_refused_text("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n", "kind",
                        "kind Service is not supported: lbipamctl applies Pool, Cluster, "
                        "CiliumLoadBalancerIPPool (cilium.io/v2alpha1, cilium.io/v2) and "
                        "IPAddressPool (metallb.io/v1beta1)");
}

Test(own, refusal_says_which_document_failed)
{
    const char *text = "kind: Pool\nname: a\nblocks: [{cidr: 10.0.0.0/24}]\n---\n"
                       "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
                       "metadata: {name: b}\nspec: {addresses: [10.0.1.1]}\n";
    struct manifest m = {0};
    struct error err = {0};
    cr_assert_null(convert_text(text, &m, &err));
    cr_assert_str_eq(m.where, "document 2");
    cr_assert_str_eq(m.what, "IPAddressPool b");
    manifest_cleanup(&m);
}

Test(own, empty_input_is_refused)
{
    struct manifest m = {0};
    struct error err = {0};
    cr_assert_null(convert_text("# nothing\n---\n", &m, &err));
    cr_assert_str_eq(err.detail, "no object to apply");
    manifest_cleanup(&m);
}
