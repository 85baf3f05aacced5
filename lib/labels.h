/* labels.h - Kubernetes-style labels and label selectors.
 *
 * Pure data and matching, no I/O. Syntax follows Kubernetes: keys are an optional DNS
 * subdomain prefix plus "/" plus a name of at most 63 characters ([A-Za-z0-9][-A-Za-z0-9_.]*
 * ending alphanumeric); values are empty or a name of the same form. An absent or empty
 * selector matches everything; all terms are ANDed. The text codec (…_encode/…_decode) is the
 * store's column format: stable, round-trips exactly, never parsed by anyone else.
 */
#ifndef LBIPAM_LABELS_H
#define LBIPAM_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define LABELS_MAX 64 /* per object; more is 422 too_many_labels (api.md §1) */

struct label {
    char *key;
    char *value;
};

/* Owned key/value pairs, unique keys, kept sorted by key. */
struct labels {
    size_t n;
    struct label *items;
};

enum selector_op { SELECTOR_IN, SELECTOR_NOT_IN, SELECTOR_EXISTS, SELECTOR_DOES_NOT_EXIST };

struct selector_expr {
    char *key;
    enum selector_op op;
    size_t nvalues;
    char **values;
};

struct selector {
    struct labels match_labels;
    size_t nexprs;
    struct selector_expr *exprs;
};

void labels_init(struct labels *l);
void labels_cleanup(struct labels *l);
/* Sets key to value (copies both), replacing an existing value. */
void labels_set(struct labels *l, const char *key, const char *value);
/* Borrowed value, valid until the labels change; NULL when absent. */
const char *labels_get(const struct labels *l, const char *key);
/* Deep copy. dst is overwritten as if uninitialized: clean it up first if it holds labels. */
void labels_copy(struct labels *dst, const struct labels *src);
bool labels_equal(const struct labels *a, const struct labels *b);

/* Checks syntax and count. Reasons: "invalid_label" (field = pointer to the bad key, e.g.
 * "/labels/a~1b"), "too_many_labels". `field` is the pointer of the labels object. */
int labels_validate(const struct labels *l, const char *field, struct error *err);
bool label_key_valid(const char *key);
bool label_value_valid(const char *value);

void selector_init(struct selector *s);
void selector_cleanup(struct selector *s);
void selector_copy(struct selector *dst, const struct selector *src); /* dst as labels_copy */
bool selector_is_empty(const struct selector *s);
const char *selector_op_name(enum selector_op op); /* "In", "NotIn", "Exists", "DoesNotExist" */
int selector_op_parse(enum selector_op *out, const char *name); /* 0 or ERR_INVALID */

/* Checks keys, values and operator arity (In/NotIn need values, Exists/DoesNotExist none).
 * Reason "invalid_selector"; `field` is the selector's pointer. */
int selector_validate(const struct selector *s, const char *field, struct error *err);

/* Matches labels `base` overlaid by `overrides` (may be NULL): a key present in overrides
 * hides the base value. Used for the synthetic labels of api.md §3. */
bool selector_matches(const struct selector *s, const struct labels *base,
                      const struct labels *overrides);

/* Store codec. Returned strings are owned by the caller (free()). decode returns 0, or
 * ERR_INTERNAL for text that was not produced by encode. decode initializes *out (do not pass
 * one that holds data); on failure *out is left empty, so cleanup is always safe. */
char *labels_encode(const struct labels *l);
int labels_decode(struct labels *out, const char *text);
char *selector_encode(const struct selector *s);
int selector_decode(struct selector *out, const char *text);

#endif
