/* decode.c - strict decoding of request bodies.
 *
 * api.md §1: an unknown field is a 400 naming its JSON pointer (a typo must never be ignored),
 * a value of the wrong JSON type is a 400 "invalid_type", and what is well-formed but wrong
 * (names, labels, addresses) is a 422 with the reason of the check that failed.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "lib/xalloc.h"

void jptr_key(char out[ERROR_FIELD_MAX], const char *base, const char *key)
{
    size_t n = (size_t)snprintf(out, ERROR_FIELD_MAX, "%s/", base);

    /* RFC 6901: "~" is written "~0" and "/" is written "~1". */
    for (const char *c = key; *c && n + 3 < ERROR_FIELD_MAX; c++) {
        if (*c == '~' || *c == '/') {
            out[n++] = '~';
            out[n++] = *c == '~' ? '0' : '1';
        } else {
            out[n++] = *c;
        }
    }
    if (n >= ERROR_FIELD_MAX)
        n = ERROR_FIELD_MAX - 1;
    out[n] = '\0';
}

void jptr_index(char out[ERROR_FIELD_MAX], const char *base, size_t index)
{
    /* A pointer too long to hold is cut: it only names the field in a problem. */
    if (snprintf(out, ERROR_FIELD_MAX, "%s/%zu", base, index) >= ERROR_FIELD_MAX)
        out[ERROR_FIELD_MAX - 1] = '\0';
}

static bool is_known(const char *key, const char *const known[])
{
    for (size_t i = 0; known[i]; i++) {
        if (strcmp(known[i], key) == 0)
            return true;
    }
    return false;
}

int json_check_fields(const json_t *obj, const char *ptr, const char *const known[],
                      struct error *err)
{
    const char *key;
    json_t *value;
    char field[ERROR_FIELD_MAX];

    /* jansson keeps insertion order, so the first unknown field of the text is named. */
    json_object_foreach((json_t *)(uintptr_t)obj, key, value)
    {
        (void)value;
        if (!is_known(key, known)) {
            jptr_key(field, ptr, key);
            return error_set(err, ERR_BAD_REQUEST, "unknown_field", field, "unknown field \"%s\"",
                             key);
        }
    }
    return 0;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

int json_type_error(const json_t *v, const char *field, const char *want, struct error *err)
{
    return error_set(err, ERR_BAD_REQUEST, "invalid_type", field, "%s must be %s, not %s", field,
                     want, json_type_name(v));
}

/* Looks key up; 1 when present, 0 when absent. */
static int member(const json_t *obj, const char *ptr, const char *key, json_t **v,
                  char field[ERROR_FIELD_MAX])
{
    *v = json_object_get(obj, key);
    jptr_key(field, ptr, key);
    return *v != NULL;
}

static int string_value(const json_t *v, const char *field, size_t max, const char **out,
                        struct error *err)
{
    if (!json_is_string(v))
        return json_type_error(v, field, "a string", err);
    if (json_string_length(v) > max)
        return error_set(err, ERR_INVALID, "invalid_value", field, "%s is longer than %zu bytes",
                         field, max);
    *out = json_string_value(v);
    return 0;
}

int json_get_string(const json_t *obj, const char *ptr, const char *key, size_t max,
                    const char **out, struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v;

    if (!member(obj, ptr, key, &v, field))
        return 0;
    return string_value(v, field, max, out, err);
}

int json_get_nullable(const json_t *obj, const char *ptr, const char *key, size_t max,
                      const char **out, struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v;

    if (!member(obj, ptr, key, &v, field) || json_is_null(v))
        return 0;
    return string_value(v, field, max, out, err);
}

int json_get_bool(const json_t *obj, const char *ptr, const char *key, bool *out, struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v;

    if (!member(obj, ptr, key, &v, field))
        return 0;
    if (!json_is_boolean(v))
        return json_type_error(v, field, "a boolean", err);
    *out = json_is_true(v);
    return 0;
}

int json_get_int(const json_t *obj, const char *ptr, const char *key, int64_t *out,
                 struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v;

    if (!member(obj, ptr, key, &v, field))
        return 0;
    if (!json_is_integer(v))
        return json_type_error(v, field, "an integer", err);
    *out = json_integer_value(v);
    return 0;
}

int json_get_array(const json_t *obj, const char *ptr, const char *key, size_t max, json_t **out,
                   struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v;

    if (!member(obj, ptr, key, &v, field))
        return 0;
    if (!json_is_array(v))
        return json_type_error(v, field, "an array", err);
    if (json_array_size(v) > max)
        return error_set(err, ERR_INVALID, "too_many_items", field,
                         "%s has %zu items; at most %zu are allowed", field, json_array_size(v),
                         max);
    *out = v;
    return 0;
}

int json_get_object(const json_t *obj, const char *ptr, const char *key, json_t **out,
                    struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v;

    if (!member(obj, ptr, key, &v, field))
        return 0;
    if (!json_is_object(v))
        return json_type_error(v, field, "an object", err);
    *out = v;
    return 0;
}

int json_item_string(const json_t *arr, const char *ptr, size_t index, const char **out,
                     struct error *err)
{
    char field[ERROR_FIELD_MAX];
    json_t *v = json_array_get(arr, index);

    jptr_index(field, ptr, index);
    return string_value(v, field, API_STRING_MAX, out, err);
}

int json_decode_labels(struct labels *out, const json_t *obj, const char *ptr, struct error *err)
{
    const char *key;
    json_t *value;
    char field[ERROR_FIELD_MAX];

    if (!json_is_object(obj))
        return json_type_error(obj, ptr, "an object of strings", err);
    /* Count first, so that a huge object is refused before anything is copied. */
    if (json_object_size(obj) > LABELS_MAX)
        return error_set(err, ERR_INVALID, "too_many_labels", ptr,
                         "%zu labels; at most %d are allowed", json_object_size(obj), LABELS_MAX);
    json_object_foreach((json_t *)(uintptr_t)obj, key, value)
    {
        if (!json_is_string(value)) {
            jptr_key(field, ptr, key);
            return json_type_error(value, field, "a string", err);
        }
        labels_set(out, key, json_string_value(value));
    }
    return labels_validate(out, ptr, err);
}

static const char *const expr_fields[] = {"key", "operator", "values", NULL};

static int decode_expr(struct selector_expr *out, const json_t *v, const char *ptr,
                       struct error *err)
{
    const char *key = NULL, *op = NULL;
    json_t *values = NULL;
    char field[ERROR_FIELD_MAX];
    int rc;

    if (!json_is_object(v))
        return json_type_error(v, ptr, "an object", err);
    rc = json_check_fields(v, ptr, expr_fields, err);
    if (rc == 0)
        rc = json_get_string(v, ptr, "key", API_STRING_MAX, &key, err);
    if (rc == 0)
        rc = json_get_string(v, ptr, "operator", API_STRING_MAX, &op, err);
    if (rc == 0)
        rc = json_get_array(v, ptr, "values", API_ITEMS_MAX, &values, err);
    if (rc < 0)
        return rc;
    jptr_key(field, ptr, key ? "operator" : "key");
    if (!key || !op)
        return error_set(err, ERR_INVALID, "invalid_selector", field,
                         "a match expression needs \"key\" and \"operator\"");
    if (selector_op_parse(&out->op, op) < 0)
        return error_set(err, ERR_INVALID, "invalid_selector", field,
                         "operator \"%s\" is not In, NotIn, Exists or DoesNotExist", op);
    out->key = xstrdup(key);
    if (!values)
        return 0;
    jptr_key(field, ptr, "values");
    out->values = xcalloc(json_array_size(values) + 1, sizeof(char *));
    for (size_t i = 0; i < json_array_size(values); i++) {
        const char *s = NULL;
        rc = json_item_string(values, field, i, &s, err);
        if (rc < 0)
            return rc;
        out->values[out->nvalues++] = xstrdup(s);
    }
    return 0;
}

static int decode_exprs(struct selector *out, const json_t *exprs, const char *ptr,
                        struct error *err)
{
    char field[ERROR_FIELD_MAX], expr_ptr[ERROR_FIELD_MAX];
    int rc = 0;

    jptr_key(field, ptr, "matchExpressions");
    out->exprs = xcalloc(json_array_size(exprs) + 1, sizeof(*out->exprs));
    for (size_t i = 0; i < json_array_size(exprs) && rc == 0; i++) {
        jptr_index(expr_ptr, field, i);
        /* Counted before decoding so that selector_cleanup frees a half-decoded one. */
        out->nexprs++;
        rc = decode_expr(&out->exprs[i], json_array_get(exprs, i), expr_ptr, err);
    }
    return rc;
}

static const char *const selector_fields[] = {"matchLabels", "matchExpressions", NULL};

int json_decode_selector(struct selector *out, const json_t *obj, const char *ptr,
                         struct error *err)
{
    json_t *labels = NULL, *exprs = NULL;
    char field[ERROR_FIELD_MAX];
    int rc;

    if (!json_is_object(obj))
        return json_type_error(obj, ptr, "an object", err);
    rc = json_check_fields(obj, ptr, selector_fields, err);
    if (rc == 0)
        rc = json_get_object(obj, ptr, "matchLabels", &labels, err);
    if (rc == 0)
        rc = json_get_array(obj, ptr, "matchExpressions", API_ITEMS_MAX, &exprs, err);
    if (rc == 0 && labels) {
        jptr_key(field, ptr, "matchLabels");
        rc = json_decode_labels(&out->match_labels, labels, field, err);
    }
    if (rc == 0 && exprs)
        rc = decode_exprs(out, exprs, ptr, err);
    if (rc == 0)
        rc = selector_validate(out, ptr, err);
    return rc;
}

int json_decode_prefixes(struct netprefix **out, size_t *n, const json_t *arr, const char *ptr,
                         struct error *err)
{
    char field[ERROR_FIELD_MAX];
    int rc = 0;

    *out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
        const char *s = NULL;
        jptr_index(field, ptr, i);
        rc = json_item_string(arr, ptr, i, &s, err);
        if (rc == 0)
            rc = netprefix_parse(&(*out)[i], s, field, err);
        if (rc == 0)
            (*n)++;
    }
    return rc;
}

int json_decode_ips(struct netaddr **out, size_t *n, const json_t *arr, const char *ptr,
                    struct error *err)
{
    char field[ERROR_FIELD_MAX];
    int rc = 0;

    *out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
        const char *s = NULL;
        jptr_index(field, ptr, i);
        rc = json_item_string(arr, ptr, i, &s, err);
        if (rc == 0)
            rc = netaddr_parse(&(*out)[i], s, field, err);
        if (rc == 0)
            (*n)++;
    }
    return rc;
}

int check_label_name(const char *name, const char *field, const char *what, struct error *err)
{
    if (name_is_rfc1123_label(name))
        return 0;
    return error_set(err, ERR_INVALID, "invalid_name", field,
                     "%s \"%.64s\" is not an RFC 1123 label: 1-63 characters of a-z, 0-9 and "
                     "'-', starting and ending with a letter or digit",
                     what, name);
}

int check_service_name(const char *name, const char *field, struct error *err)
{
    if (name_is_rfc1035_label(name))
        return 0;
    return error_set(err, ERR_INVALID, "invalid_name", field,
                     "service name \"%.64s\" is not an RFC 1035 label: 1-63 characters of "
                     "a-z, 0-9 and '-', starting with a letter and ending with a letter or "
                     "digit",
                     name);
}

int json_decode_name(char out[STORE_NAME_MAX], const json_t *body, const char *url_name,
                     const char *what, struct error *err)
{
    const char *name = NULL;
    char detail_what[32];
    int rc = json_get_string(body, "", "name", API_STRING_MAX, &name, err);

    if (rc < 0)
        return rc;
    if (url_name && name && strcmp(name, url_name) != 0)
        return error_set(err, ERR_INVALID, "name_mismatch", "/name",
                         "the body names %s \"%.64s\" but the URL names \"%s\"", what, name,
                         url_name);
    if (url_name)
        name = url_name;
    if (!name)
        return error_set(err, ERR_INVALID, "missing_field", "/name", "a %s needs a name", what);
    snprintf(detail_what, sizeof(detail_what), "%s name", what);
    rc = check_label_name(name, "/name", detail_what, err);
    if (rc == 0)
        snprintf(out, STORE_NAME_MAX, "%s", name);
    return rc;
}

json_t *body_object_or_reply(struct api_call *call, bool empty_ok)
{
    if (call->body)
        return json_incref(call->body);
    if (empty_ok)
        return json_object();
    reply_error(call, ERR_BAD_REQUEST, "invalid_json", NULL,
                "this request needs a JSON object as its body");
    return NULL;
}
