#include "lib/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define LABEL_NAME_MAX 63
#define LABEL_PREFIX_MAX 253
/* How much of a bad key or value an error detail quotes. */
#define QUOTE_MAX 80

/* ---- labels ------------------------------------------------------------------------------ */

void labels_init(struct labels *l)
{
    l->n = 0;
    l->items = NULL;
}

void labels_cleanup(struct labels *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    labels_init(l);
}

/* Index of key, or of where it would be inserted (*found false). Items are sorted by strcmp. */
static size_t labels_find(const struct labels *l, const char *key, bool *found)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->items[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

void labels_set(struct labels *l, const char *key, const char *value)
{
    bool found;
    size_t i = labels_find(l, key, &found);
    char *v = xstrdup(value ? value : "");
    if (found) {
        free(l->items[i].value);
        l->items[i].value = v;
        return;
    }
    l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
    memmove(&l->items[i + 1], &l->items[i], (l->n - i) * sizeof(*l->items));
    l->items[i].key = xstrdup(key);
    l->items[i].value = v;
    l->n++;
}

const char *labels_get(const struct labels *l, const char *key)
{
    bool found;
    size_t i = labels_find(l, key, &found);
    return found ? l->items[i].value : NULL;
}

void labels_copy(struct labels *dst, const struct labels *src)
{
    labels_init(dst);
    if (src->n == 0)
        return;
    dst->items = xcalloc(src->n, sizeof(*dst->items));
    for (size_t i = 0; i < src->n; i++) {
        dst->items[i].key = xstrdup(src->items[i].key);
        dst->items[i].value = xstrdup(src->items[i].value);
    }
    dst->n = src->n;
}

bool labels_equal(const struct labels *a, const struct labels *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->items[i].key, b->items[i].key) != 0 ||
            strcmp(a->items[i].value, b->items[i].value) != 0)
            return false;
    }
    return true;
}

/* ---- syntax -------------------------------------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, 1..63 (Kubernetes qualified name, name part). */
static bool is_label_name(const char *s, size_t len)
{
    if (len == 0 || len > LABEL_NAME_MAX)
        return false;
    if (!is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    }
    return true;
}

/* DNS-1123 subdomain: dot-separated [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 253 in all. Like
 * Kubernetes (IsDNS1123Subdomain) only the total length is bounded, not each part, so that a
 * label the Kubernetes API accepted is never refused here. */
static bool is_dns_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > LABEL_PREFIX_MAX)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!is_lower_alnum(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        /* s[start..i) is one part: non-empty, alphanumeric at both ends. */
        if (i == start || !is_lower_alnum(s[start]) || !is_lower_alnum(s[i - 1]))
            return false;
        start = i + 1;
    }
    return true;
}

bool label_key_valid(const char *key)
{
    if (!key)
        return false;
    const char *slash = strchr(key, '/');
    if (!slash)
        return is_label_name(key, strlen(key));
    if (strchr(slash + 1, '/'))
        return false;
    return is_dns_subdomain(key, (size_t)(slash - key)) &&
           is_label_name(slash + 1, strlen(slash + 1));
}

bool label_value_valid(const char *value)
{
    if (!value)
        return false;
    size_t len = strlen(value);
    return len == 0 || is_label_name(value, len);
}

/* Appends "/" + the RFC 6901 escape of token ('~' -> "~0", '/' -> "~1") to the pointer in
 * out, truncating at the size of a field (the detail still names the whole key). */
static void pointer_append(char out[ERROR_FIELD_MAX], const char *token)
{
    size_t pos = strlen(out);
    const size_t cap = ERROR_FIELD_MAX - 1;
    if (pos < cap)
        out[pos++] = '/';
    for (const char *p = token; *p && pos < cap; p++) {
        if (*p == '~' || *p == '/') {
            if (pos + 2 > cap)
                break;
            out[pos++] = '~';
            out[pos++] = *p == '~' ? '0' : '1';
        } else {
            out[pos++] = *p;
        }
    }
    out[pos] = '\0';
}

static void pointer_init(char out[ERROR_FIELD_MAX], const char *base)
{
    size_t len = base ? strnlen(base, ERROR_FIELD_MAX - 1) : 0;
    if (len)
        memcpy(out, base, len);
    out[len] = '\0';
}

/* Why a key is invalid, for the detail. */
static const char *key_problem(const char *key)
{
    const char *slash = strchr(key, '/');
    const char *name = slash ? slash + 1 : key;
    if (slash && strchr(name, '/'))
        return "a key has at most one '/'";
    if (slash && !is_dns_subdomain(key, (size_t)(slash - key)))
        return "the prefix must be a DNS subdomain (lowercase alphanumerics, '-' and '.', at "
               "most 253 characters)";
    if (*name == '\0')
        return "the name part is empty";
    if (strlen(name) > LABEL_NAME_MAX)
        return "the name part is longer than 63 characters";
    return "the name part must be alphanumerics, '-', '_' or '.', starting and ending with an "
           "alphanumeric";
}

static const char *value_problem(const char *value)
{
    if (strlen(value) > LABEL_NAME_MAX)
        return "a value is at most 63 characters";
    return "a value must be empty or alphanumerics, '-', '_' or '.', starting and ending with an "
           "alphanumeric";
}

int labels_validate(const struct labels *l, const char *field, struct error *err)
{
    if (l->n > LABELS_MAX)
        return error_set(err, ERR_INVALID, "too_many_labels", field,
                         "%zu labels; an object has at most %d", l->n, LABELS_MAX);
    for (size_t i = 0; i < l->n; i++) {
        const struct label *it = &l->items[i];
        char ptr[ERROR_FIELD_MAX];
        if (!label_key_valid(it->key)) {
            pointer_init(ptr, field);
            pointer_append(ptr, it->key);
            return error_set(err, ERR_INVALID, "invalid_label", ptr,
                             "label key \"%.*s\" is invalid: %s", QUOTE_MAX, it->key,
                             key_problem(it->key));
        }
        if (!label_value_valid(it->value)) {
            pointer_init(ptr, field);
            pointer_append(ptr, it->key);
            return error_set(err, ERR_INVALID, "invalid_label", ptr,
                             "value \"%.*s\" of label %s is invalid: %s", QUOTE_MAX, it->value,
                             it->key, value_problem(it->value));
        }
    }
    return 0;
}

/* ---- selectors ----------------------------------------------------------------------------- */

static const char *const op_names[] = {
    [SELECTOR_IN] = "In",
    [SELECTOR_NOT_IN] = "NotIn",
    [SELECTOR_EXISTS] = "Exists",
    [SELECTOR_DOES_NOT_EXIST] = "DoesNotExist",
};
#define OP_COUNT (sizeof(op_names) / sizeof(op_names[0]))

void selector_init(struct selector *s)
{
    labels_init(&s->match_labels);
    s->nexprs = 0;
    s->exprs = NULL;
}

static void expr_cleanup(struct selector_expr *e)
{
    free(e->key);
    for (size_t j = 0; j < e->nvalues; j++)
        free(e->values[j]);
    free(e->values);
}

void selector_cleanup(struct selector *s)
{
    labels_cleanup(&s->match_labels);
    for (size_t i = 0; i < s->nexprs; i++)
        expr_cleanup(&s->exprs[i]);
    free(s->exprs);
    selector_init(s);
}

void selector_copy(struct selector *dst, const struct selector *src)
{
    selector_init(dst);
    labels_copy(&dst->match_labels, &src->match_labels);
    if (src->nexprs == 0)
        return;
    dst->exprs = xcalloc(src->nexprs, sizeof(*dst->exprs));
    for (size_t i = 0; i < src->nexprs; i++) {
        const struct selector_expr *e = &src->exprs[i];
        struct selector_expr *d = &dst->exprs[i];
        d->key = xstrdup(e->key);
        d->op = e->op;
        d->nvalues = e->nvalues;
        d->values = e->nvalues ? xcalloc(e->nvalues, sizeof(*d->values)) : NULL;
        for (size_t j = 0; j < e->nvalues; j++)
            d->values[j] = xstrdup(e->values[j]);
    }
    dst->nexprs = src->nexprs;
}

bool selector_is_empty(const struct selector *s)
{
    return s->match_labels.n == 0 && s->nexprs == 0;
}

const char *selector_op_name(enum selector_op op)
{
    if ((unsigned)op >= OP_COUNT)
        return "?";
    return op_names[op];
}

int selector_op_parse(enum selector_op *out, const char *name)
{
    for (size_t i = 0; name && i < OP_COUNT; i++) {
        if (strcmp(op_names[i], name) == 0) {
            *out = (enum selector_op)i;
            return 0;
        }
    }
    return ERR_INVALID;
}

static bool op_takes_values(enum selector_op op)
{
    return op == SELECTOR_IN || op == SELECTOR_NOT_IN;
}

int selector_validate(const struct selector *s, const char *field, struct error *err)
{
    char ptr[ERROR_FIELD_MAX];
    char idx[24];

    for (size_t i = 0; i < s->match_labels.n; i++) {
        const struct label *it = &s->match_labels.items[i];
        bool key_ok = label_key_valid(it->key);
        if (key_ok && label_value_valid(it->value))
            continue;
        pointer_init(ptr, field);
        pointer_append(ptr, "matchLabels");
        pointer_append(ptr, it->key);
        if (!key_ok)
            return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                             "label key \"%.*s\" is invalid: %s", QUOTE_MAX, it->key,
                             key_problem(it->key));
        return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                         "value \"%.*s\" of label %s is invalid: %s", QUOTE_MAX, it->value, it->key,
                         value_problem(it->value));
    }

    for (size_t i = 0; i < s->nexprs; i++) {
        const struct selector_expr *e = &s->exprs[i];
        pointer_init(ptr, field);
        pointer_append(ptr, "matchExpressions");
        snprintf(idx, sizeof(idx), "%zu", i);
        pointer_append(ptr, idx);

        if (!label_key_valid(e->key)) {
            pointer_append(ptr, "key");
            return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                             "label key \"%.*s\" is invalid: %s", QUOTE_MAX, e->key ? e->key : "",
                             key_problem(e->key ? e->key : ""));
        }
        if ((unsigned)e->op >= OP_COUNT) {
            pointer_append(ptr, "operator");
            return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                             "operator must be In, NotIn, Exists or DoesNotExist");
        }
        if (op_takes_values(e->op) && e->nvalues == 0) {
            pointer_append(ptr, "values");
            return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                             "operator %s needs at least one value", op_names[e->op]);
        }
        if (!op_takes_values(e->op) && e->nvalues != 0) {
            pointer_append(ptr, "values");
            return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                             "operator %s takes no values", op_names[e->op]);
        }
        for (size_t j = 0; j < e->nvalues; j++) {
            if (label_value_valid(e->values[j]))
                continue;
            pointer_append(ptr, "values");
            snprintf(idx, sizeof(idx), "%zu", j);
            pointer_append(ptr, idx);
            return error_set(err, ERR_INVALID, "invalid_selector", ptr,
                             "value \"%.*s\" is invalid: %s", QUOTE_MAX,
                             e->values[j] ? e->values[j] : "",
                             value_problem(e->values[j] ? e->values[j] : ""));
        }
    }
    return 0;
}

static const char *lookup(const struct labels *base, const struct labels *overrides,
                          const char *key)
{
    const char *v = overrides ? labels_get(overrides, key) : NULL;
    if (v)
        return v;
    return base ? labels_get(base, key) : NULL;
}

static bool value_in(const struct selector_expr *e, const char *v)
{
    for (size_t j = 0; j < e->nvalues; j++) {
        if (strcmp(e->values[j], v) == 0)
            return true;
    }
    return false;
}

bool selector_matches(const struct selector *s, const struct labels *base,
                      const struct labels *overrides)
{
    for (size_t i = 0; i < s->match_labels.n; i++) {
        const char *v = lookup(base, overrides, s->match_labels.items[i].key);
        if (!v || strcmp(v, s->match_labels.items[i].value) != 0)
            return false;
    }
    for (size_t i = 0; i < s->nexprs; i++) {
        const struct selector_expr *e = &s->exprs[i];
        const char *v = lookup(base, overrides, e->key);
        bool ok;
        switch (e->op) {
        case SELECTOR_IN:
            ok = v && value_in(e, v);
            break;
        case SELECTOR_NOT_IN: /* Kubernetes: an absent key is "not in" */
            ok = !v || !value_in(e, v);
            break;
        case SELECTOR_EXISTS:
            ok = v != NULL;
            break;
        case SELECTOR_DOES_NOT_EXIST:
            ok = v == NULL;
            break;
        default: /* selector_validate refuses it; an unknown operator selects nothing */
            ok = false;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- store codec ----------------------------------------------------------------------------
 *
 * labels:    key=value,key=value            ("" for none)
 * selector:  <labels>;key Op;key Op v1,v2   (the labels part may be empty; ";" before each
 *                                            expression; no third part when there are no
 *                                            values, so In with zero values round-trips too)
 * Every string is percent-escaped (%XX, uppercase hex) for '%', the delimiters "=,; ", and
 * bytes 0x00-0x20 and 0x7f, so any key or value round-trips, valid or not. Keep the grammar
 * stable: it is what the store's columns hold.
 */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_putc(struct sbuf *b, char c)
{
    if (b->len + 2 > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->p = xrealloc(b->p, b->cap);
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

static bool needs_escape(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '%' || c == '=' || c == ',' || c == ';';
}

static void sb_put_escaped(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (needs_escape(*p)) {
            sb_putc(b, '%');
            sb_putc(b, hex[*p >> 4]);
            sb_putc(b, hex[*p & 0xf]);
        } else {
            sb_putc(b, (char)*p);
        }
    }
}

static char *sb_finish(struct sbuf *b)
{
    if (!b->p)
        return xstrdup("");
    return b->p;
}

static void encode_labels(struct sbuf *b, const struct labels *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            sb_putc(b, ',');
        sb_put_escaped(b, l->items[i].key);
        sb_putc(b, '=');
        sb_put_escaped(b, l->items[i].value);
    }
}

char *labels_encode(const struct labels *l)
{
    struct sbuf b = {0};
    encode_labels(&b, l);
    return sb_finish(&b);
}

char *selector_encode(const struct selector *s)
{
    struct sbuf b = {0};
    encode_labels(&b, &s->match_labels);
    for (size_t i = 0; i < s->nexprs; i++) {
        const struct selector_expr *e = &s->exprs[i];
        sb_putc(&b, ';');
        sb_put_escaped(&b, e->key);
        sb_putc(&b, ' ');
        sb_put_escaped(&b, selector_op_name(e->op));
        if (e->nvalues == 0)
            continue;
        sb_putc(&b, ' ');
        for (size_t j = 0; j < e->nvalues; j++) {
            if (j)
                sb_putc(&b, ',');
            sb_put_escaped(&b, e->values[j]);
        }
    }
    return sb_finish(&b);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads one escaped string at *p up to (not including) the first raw delimiter of `stops`
 * or the end of the text; *out is owned by the caller. Refuses what encode never writes:
 * bad or needless escapes, %00, and raw bytes that must be escaped. */
static int read_token(const char **p, const char *stops, char **out)
{
    struct sbuf b = {0};
    const char *s = *p;
    int rc = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (strchr(stops, (char)c))
            break;
        if (c == '%') {
            int hi = hex_digit(s[1]);
            int lo = hi < 0 ? -1 : hex_digit(s[2]);
            /* only what encode escapes, so that decode(text) re-encodes to text */
            if (lo < 0 || (hi == 0 && lo == 0) || !needs_escape((unsigned char)(hi << 4 | lo))) {
                rc = ERR_INTERNAL;
                goto out;
            }
            sb_putc(&b, (char)(hi << 4 | lo));
            s += 2;
            continue;
        }
        if (needs_escape(c)) {
            rc = ERR_INTERNAL;
            goto out;
        }
        sb_putc(&b, (char)c);
    }
    *p = s;
out:
    if (rc < 0) {
        free(b.p);
        return rc;
    }
    *out = sb_finish(&b);
    return 0;
}

/* Labels up to the end of the text, or of the selector's labels part (a raw ';'), leaving
 * *p on the terminator. */
static bool labels_end(char c, bool in_selector)
{
    return c == '\0' || (in_selector && c == ';');
}

static int decode_labels(struct labels *out, const char **p, bool in_selector)
{
    const char *s = *p;
    char *key = NULL, *value = NULL;
    int rc = 0;
    if (labels_end(*s, in_selector))
        goto out;
    for (;;) {
        rc = read_token(&s, "=", &key);
        if (rc < 0)
            goto out;
        if (*s != '=') {
            rc = ERR_INTERNAL;
            goto out;
        }
        s++;
        rc = read_token(&s, ",;", &value);
        if (rc < 0)
            goto out;
        /* encode writes unique keys in order; anything else was not written by it */
        if (out->n > 0 && strcmp(out->items[out->n - 1].key, key) >= 0) {
            rc = ERR_INTERNAL;
            goto out;
        }
        labels_set(out, key, value);
        free(key);
        free(value);
        key = value = NULL;
        if (*s != ',')
            break;
        s++;
    }
    if (!labels_end(*s, in_selector))
        rc = ERR_INTERNAL;
out:
    free(key);
    free(value);
    *p = s;
    return rc;
}

int labels_decode(struct labels *out, const char *text)
{
    labels_init(out);
    if (!text)
        return ERR_INTERNAL;
    int rc = decode_labels(out, &text, false);
    if (rc < 0)
        labels_cleanup(out);
    return rc;
}

/* One expression "key Op[ v1,v2]" at *p, ending at ';' or the end of the text. */
static int decode_expr(struct selector_expr *e, const char **p)
{
    const char *s = *p;
    char *op = NULL, *v = NULL;
    size_t cap = 0;
    int rc = read_token(&s, " ", &e->key);
    if (rc < 0)
        goto out;
    if (*s != ' ') {
        rc = ERR_INTERNAL;
        goto out;
    }
    s++;
    rc = read_token(&s, " ;", &op);
    if (rc < 0)
        goto out;
    if (selector_op_parse(&e->op, op) < 0) {
        rc = ERR_INTERNAL;
        goto out;
    }
    if (*s == ' ') {
        do {
            s++;
            rc = read_token(&s, ",;", &v);
            if (rc < 0)
                goto out;
            if (e->nvalues == cap) {
                cap = cap ? 2 * cap : 4;
                e->values = xrealloc(e->values, cap * sizeof(*e->values));
            }
            e->values[e->nvalues++] = v;
            v = NULL;
        } while (*s == ',');
    }
    if (*s != ';' && *s != '\0')
        rc = ERR_INTERNAL;
out:
    free(op);
    *p = s;
    return rc;
}

int selector_decode(struct selector *out, const char *text)
{
    selector_init(out);
    if (!text)
        return ERR_INTERNAL;
    const char *s = text;
    size_t cap = 0;
    int rc = decode_labels(&out->match_labels, &s, true);
    while (rc == 0 && *s == ';') {
        s++;
        if (out->nexprs == cap) {
            cap = cap ? 2 * cap : 4;
            out->exprs = xrealloc(out->exprs, cap * sizeof(*out->exprs));
        }
        struct selector_expr *e = &out->exprs[out->nexprs++];
        memset(e, 0, sizeof(*e));
        rc = decode_expr(e, &s);
    }
    if (rc < 0)
        selector_cleanup(out);
    return rc;
}
