/* convert.h - what `lbipamctl apply -f` reads, turned into lbipam request bodies.
 *
 * Pure functions (no I/O): parsed documents in, Pool/Cluster bodies out. Accepted: our own
 * Pool and Cluster objects (JSON or YAML, `kind:` optional), lists of them (`{"items": [...]}`,
 * as `get -o json` prints, or a JSON array), CiliumLoadBalancerIPPool (cilium.io/v2alpha1 and
 * cilium.io/v2) and MetalLB IPAddressPool (metallb.io/v1beta1). Whatever cannot be converted
 * exactly is refused with ERR_INVALID, reason "not_convertible", `field` = the path of the
 * offending field in the manifest (spec.serviceAllocation.namespaceSelectors) and a detail
 * that names it and says why. Nothing is ever dropped silently; the only parts left out are
 * Kubernetes bookkeeping (metadata other than name and labels, and `status`).
 *
 * Keep in sync with openapi.yaml #/components/schemas/Pool and #/components/schemas/Cluster.
 */
#ifndef LBIPAM_CTL_CONVERT_H
#define LBIPAM_CTL_CONVERT_H

#include <jansson.h>
#include <stddef.h>

#include "lib/error.h"

/* MetalLB tries priority 1 first and 0 (unset) last; lbipam tries the highest first, default
 * 0. A MetalLB priority p in 1..999 becomes lbipam priority 1000 - p; 0 stays 0. */
#define CONVERT_METALLB_PRIORITY_BASE 1000

enum manifest_kind { MANIFEST_POOL, MANIFEST_CLUSTER };

struct manifest_object {
    enum manifest_kind kind;
    char *name;   /* owned */
    json_t *body; /* owned: the body for POST /v1/{pools,clusters} or PUT …/{name} */
};

struct manifest {
    size_t n;
    struct manifest_object *items;
    /* When manifest_convert fails: which document ("document 2", "document 1, item 3") and,
     * when known, what it is ("IPAddressPool first-pool"); empty otherwise. */
    char where[64];
    char what[160];
};

/* "pool" / "cluster": the resource word of kubectl-like output (pool/blue created). */
const char *manifest_kind_name(enum manifest_kind kind);

/* Converts every document of docs (an array, as yamljson_parse returns) into m, which the
 * caller initializes with {0} and always cleans up. */
int manifest_convert(struct manifest *m, const json_t *docs, struct error *err);
void manifest_cleanup(struct manifest *m);

/* One object (not a list). *out is the request body; kind and name are derived from it. */
int convert_object(struct manifest_object *out, const json_t *doc, struct error *err);

/* The converters on their own: doc is one manifest of that kind; *out a new Pool body. */
int convert_cilium_pool(json_t **out, const json_t *doc, struct error *err);
int convert_metallb_pool(json_t **out, const json_t *doc, struct error *err);

#endif
