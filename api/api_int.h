/* api_int.h - helpers shared by the resource files of api/: strict JSON decoding, rendering,
 * list paging and the If-Match header.
 *
 * Decoders never reply: they fill *err once (reason and JSON pointer of the field at fault)
 * and return its code, so that a handler can chain them and reply once. Helpers named
 * …_or_reply reply themselves on failure and return -1; the handler then just returns.
 * An absent optional field leaves *out untouched: callers set defaults first.
 */
#ifndef LBIPAM_API_INT_H
#define LBIPAM_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "lib/error.h"
#include "lib/labels.h"
#include "lib/netaddr.h"
#include "store/store.h"

#define API_LIST_LIMIT_DEFAULT 100
#define API_LIST_LIMIT_MAX 1000
#define API_STRING_MAX 4096   /* description and other free text, in bytes */
#define API_TOKEN_MAX 253     /* sharingKey, externalRef, managedBy */
#define API_PREFIXES_MAX 1024 /* routablePrefixes, nodeSubnets */
#define API_IPS_MAX 64        /* requestedIPs, preferredIPs */
#define API_ITEMS_MAX 64      /* ports, sharingCrossNamespace */

/* ------------------------------------------------------------------- decode.c */

/* Joins a JSON pointer and one key (escaped per RFC 6901) or one array index. */
void jptr_key(char out[ERROR_FIELD_MAX], const char *base, const char *key);
void jptr_index(char out[ERROR_FIELD_MAX], const char *base, size_t index);

/* ERR_BAD_REQUEST "unknown_field" for the first member of obj not in `known` (NULL-ended).
 * Read-only fields that are accepted and ignored belong in `known`. */
int json_check_fields(const json_t *obj, const char *ptr, const char *const known[],
                      struct error *err);

/* Typed members of obj. Absent: 0 and *out untouched. Wrong type: ERR_BAD_REQUEST
 * "invalid_type" naming ptr/key. A JSON null counts as absent only for json_get_nullable. */
int json_get_string(const json_t *obj, const char *ptr, const char *key, size_t max,
                    const char **out, struct error *err);
int json_get_nullable(const json_t *obj, const char *ptr, const char *key, size_t max,
                      const char **out, struct error *err);
int json_get_bool(const json_t *obj, const char *ptr, const char *key, bool *out,
                  struct error *err);
int json_get_int(const json_t *obj, const char *ptr, const char *key, int64_t *out,
                 struct error *err);
int json_get_array(const json_t *obj, const char *ptr, const char *key, size_t max, json_t **out,
                   struct error *err);
int json_get_object(const json_t *obj, const char *ptr, const char *key, json_t **out,
                    struct error *err);
/* ERR_BAD_REQUEST "invalid_type": field should have been `want` ("an object"). */
int json_type_error(const json_t *v, const char *field, const char *want, struct error *err);
/* One array element that must be a string. */
int json_item_string(const json_t *arr, const char *ptr, size_t index, const char **out,
                     struct error *err);

/* Kubernetes labels: an object of strings, then labels_validate. */
int json_decode_labels(struct labels *out, const json_t *obj, const char *ptr, struct error *err);
/* {"matchLabels": {…}, "matchExpressions": [{"key", "operator", "values"}]}, then
 * selector_validate. */
int json_decode_selector(struct selector *out, const json_t *obj, const char *ptr,
                         struct error *err);
/* An array of CIDR strings (netprefix_parse). *out is malloc'ed. */
int json_decode_prefixes(struct netprefix **out, size_t *n, const json_t *arr, const char *ptr,
                         struct error *err);
/* An array of IP strings (netaddr_parse). *out is malloc'ed. */
int json_decode_ips(struct netaddr **out, size_t *n, const json_t *arr, const char *ptr,
                    struct error *err);

/* Names of api.md §1, 422 "invalid_name". `what` goes into the detail ("pool name"). */
int check_label_name(const char *name, const char *field, const char *what, struct error *err);
int check_service_name(const char *name, const char *field, struct error *err);

/* The "name" member of a pool or cluster: required for POST (url_name NULL); for PUT the
 * URL's name, and a different one in the body is 422 "name_mismatch". */
int json_decode_name(char out[STORE_NAME_MAX], const json_t *body, const char *url_name,
                     const char *what, struct error *err);

/* The request body as an object: the parsed body, or, when the request had none and
 * `empty_ok`, an empty object (caller json_decref's it). NULL after replying 400. */
json_t *body_object_or_reply(struct api_call *call, bool empty_ok);

/* The request decoders of pools.c and allocations.c, exposed for the fuzz targets
 * (tests/fuzz). They initialize *out themselves; clean up with api_pool_decoded_cleanup /
 * alloc_request_cleanup whatever they returned. */
int api_pool_decode(struct pool *out, const json_t *body, struct error *err);
void api_pool_decoded_cleanup(struct pool *p);
int api_alloc_request_decode(struct alloc_request *out, const json_t *body, struct error *err);

/* ------------------------------------------------------------------- render.c */

json_t *render_time(store_time t); /* RFC 3339 UTC "…Z"; null for 0 */
/* The same with milliseconds, where several values share a second (events). */
json_t *render_time_ms(store_time t);
json_t *render_labels(const struct labels *l);
json_t *render_selector(const struct selector *s);
json_t *render_ip(const struct netaddr *a);
json_t *render_prefixes(const struct netprefix *p, size_t n);
json_t *render_string_or_null(const char *s);

json_t *render_cluster(const struct cluster *c);
json_t *render_pool(const struct pool *p);
json_t *render_allocation(const struct allocation *a);
json_t *render_address(const struct address_info *a);

/* checks.c: api.md §6 shapes, shared with the allocation and address views. */
json_t *render_check(const struct check *c);
json_t *render_route(const struct check_route *r);

/* ------------------------------------------------------------------- paging.c */

struct api_page {
    struct store_page page;
    char after[STORE_CURSOR_MAX]; /* decoded cursor, page.after points here */
};

/* Checks that every query argument is in `allowed` (NULL-ended; "limit" and "cursor" are
 * always allowed) and appears once, then parses limit and cursor. */
int list_query_or_reply(struct api_call *call, const char *const allowed[], struct api_page *out);
/* {"items": items, "nextCursor": encoded next | null}; steals items. */
void reply_list(struct api_call *call, json_t *items, const char *next);

/* If-Match: -1 when absent or "*", else the version it names. */
int if_match_or_reply(struct api_call *call, int64_t *out);

#endif
