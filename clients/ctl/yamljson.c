#include "clients/ctl/yamljson.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/xalloc.h"

#define YJ_MAX_DEPTH 128
#define YJ_MAX_NODES 1000000 /* after alias expansion: a "billion laughs" stops here */

struct anchor {
    char *name;
    json_t *value;
    size_t nodes;
};

struct yj {
    yaml_parser_t parser;
    struct anchor *anchors;
    size_t nanchors;
    size_t nodes; /* materialized so far, aliases counted in full */
    struct error *err;
};

static int yaml_fail(struct yj *p, const yaml_mark_t *mark, const char *msg)
{
    return error_set(p->err, ERR_INVALID, "invalid_yaml", NULL,
                     "YAML error at line %zu, column %zu: %s", mark->line + 1, mark->column + 1,
                     msg);
}

static int next_event(struct yj *p, yaml_event_t *ev)
{
    if (yaml_parser_parse(&p->parser, ev))
        return 0;
    const yaml_parser_t *ps = &p->parser;
    const char *problem = ps->problem ? ps->problem : "malformed input";
    if (ps->context)
        return error_set(p->err, ERR_INVALID, "invalid_yaml", NULL,
                         "YAML error at line %zu, column %zu: %s %s", ps->problem_mark.line + 1,
                         ps->problem_mark.column + 1, problem, ps->context);
    return error_set(p->err, ERR_INVALID, "invalid_yaml", NULL,
                     "YAML error at line %zu, column %zu: %s", ps->problem_mark.line + 1,
                     ps->problem_mark.column + 1, problem);
}

static bool all_in(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return false;
    return true;
}

static bool is_one_of(const char *s, size_t n, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
            return true;
    return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? of the YAML 1.2 core schema. */
static bool is_core_float(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, exp++;
        if (exp == 0)
            return false;
    }
    return i == n;
}

/* An integer of the core schema: decimal, 0x hex or 0o octal. Sets *base and *skip. */
static bool is_core_int(const char *s, size_t n, int *base, size_t *skip)
{
    *base = 10, *skip = 0;
    if (n > 2 && s[0] == '0' && s[1] == 'x' && all_in(s + 2, n - 2, "0123456789abcdefABCDEF")) {
        *base = 16, *skip = 2;
        return true;
    }
    if (n > 2 && s[0] == '0' && s[1] == 'o' && all_in(s + 2, n - 2, "01234567")) {
        *base = 8, *skip = 2;
        return true;
    }
    return all_in(s, n, "0123456789") ||
           (n > 1 && (s[0] == '-' || s[0] == '+') && all_in(s + 1, n - 1, "0123456789"));
}

/* The value of an integer of the core schema that fits int64, else NULL (the caller keeps
 * the text: a JSON number would lose digits). */
static json_t *core_int(const char *s, size_t n, int base, size_t skip)
{
    char buf[64];
    if (n >= sizeof(buf))
        return NULL;
    memcpy(buf, s + skip, n - skip);
    buf[n - skip] = '\0';
    errno = 0;
    char *end;
    long long v = strtoll(buf, &end, base);
    if (errno || *end)
        return NULL;
    return json_integer(v);
}

/* The value of a plain scalar that is not a string, else NULL. */
static json_t *resolve_plain(const char *s, size_t n)
{
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (n == 0 || is_one_of(s, n, nulls))
        return json_null();
    if (is_one_of(s, n, trues))
        return json_true();
    if (is_one_of(s, n, falses))
        return json_false();
    int base;
    size_t skip;
    if (is_core_int(s, n, &base, &skip))
        return core_int(s, n, base, skip);
    if (is_core_float(s, n) && n < 64) {
        char buf[64];
        memcpy(buf, s, n);
        buf[n] = '\0';
        return json_real(strtod(buf, NULL));
    }
    /* .inf and .nan have no JSON form: they stay text, like every other plain scalar. */
    return NULL;
}

static int scalar_value(struct yj *p, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool as_string = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                     (tag && (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0));
    if (!as_string && (*out = resolve_plain(s, n)) != NULL)
        return 0;
    *out = json_stringn(s, n);
    if (!*out)
        return yaml_fail(p, &ev->start_mark, "a string that is not valid UTF-8");
    return 0;
}

static void anchors_free(struct yj *p)
{
    for (size_t i = 0; i < p->nanchors; i++) {
        free(p->anchors[i].name);
        json_decref(p->anchors[i].value);
    }
    free(p->anchors);
    p->anchors = NULL;
    p->nanchors = 0;
}

/* A later anchor of the same name replaces the earlier one (YAML 1.2 §3.2.2.2). */
static void anchor_add(struct yj *p, const char *name, json_t *value, size_t nodes)
{
    for (size_t i = 0; i < p->nanchors; i++) {
        if (strcmp(p->anchors[i].name, name) == 0) {
            json_decref(p->anchors[i].value);
            p->anchors[i].value = json_incref(value);
            p->anchors[i].nodes = nodes;
            return;
        }
    }
    p->anchors = xrealloc(p->anchors, (p->nanchors + 1) * sizeof(*p->anchors));
    p->anchors[p->nanchors++] = (struct anchor){xstrdup(name), json_incref(value), nodes};
}

static int alias_value(struct yj *p, const yaml_event_t *ev, json_t **out, size_t *nodes)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = p->nanchors; i-- > 0;) {
        if (strcmp(p->anchors[i].name, name) != 0)
            continue;
        if (p->anchors[i].nodes > YJ_MAX_NODES - p->nodes)
            return yaml_fail(p, &ev->start_mark, "aliases expand to more than 1000000 nodes");
        p->nodes += p->anchors[i].nodes;
        *nodes = p->anchors[i].nodes;
        *out = json_deep_copy(p->anchors[i].value);
        return 0;
    }
    char msg[320];
    snprintf(msg, sizeof(msg), "unknown alias *%.256s", name);
    return yaml_fail(p, &ev->start_mark, msg);
}

static int parse_node(struct yj *p, yaml_event_t *ev, int depth, json_t **out, size_t *nodes);

static int parse_sequence(struct yj *p, int depth, json_t *arr, size_t *nodes)
{
    int rc = 0;
    yaml_event_t ev;
    for (;;) {
        if ((rc = next_event(p, &ev)) < 0)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        json_t *item = NULL;
        size_t n = 0;
        rc = parse_node(p, &ev, depth + 1, &item, &n);
        if (rc < 0)
            return rc;
        *nodes += n;
        json_array_append_new(arr, item);
    }
}

static int parse_key(struct yj *p, yaml_event_t *ev, const json_t *obj, char **out)
{
    int rc = 0;
    if (ev->type != YAML_SCALAR_EVENT) {
        rc = yaml_fail(p, &ev->start_mark, "a mapping key must be a scalar");
        goto out;
    }
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (memchr(s, '\0', n)) {
        rc = yaml_fail(p, &ev->start_mark, "a mapping key contains a NUL byte");
        goto out;
    }
    if (json_object_get(obj, s)) {
        char msg[320];
        snprintf(msg, sizeof(msg), "duplicate key \"%.256s\"", s);
        rc = yaml_fail(p, &ev->start_mark, msg);
        goto out;
    }
    *out = xstrdup(s);
out:
    yaml_event_delete(ev);
    return rc;
}

static int parse_mapping(struct yj *p, int depth, json_t *obj, size_t *nodes)
{
    int rc = 0;
    yaml_event_t ev;
    for (;;) {
        char *key = NULL;
        if ((rc = next_event(p, &ev)) < 0)
            return rc;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if ((rc = parse_key(p, &ev, obj, &key)) < 0)
            return rc;
        json_t *value = NULL;
        size_t n = 0;
        if ((rc = next_event(p, &ev)) == 0)
            rc = parse_node(p, &ev, depth + 1, &value, &n);
        if (rc < 0) {
            free(key);
            return rc;
        }
        *nodes += n;
        json_object_set_new(obj, key, value);
        free(key);
    }
}

/* Consumes *ev (the node's first event) and the rest of the node. */
static int parse_node(struct yj *p, yaml_event_t *ev, int depth, json_t **out, size_t *nodes)
{
    int rc = 0;
    const char *anchor = NULL;
    *out = NULL;
    *nodes = 1;
    if (depth > YJ_MAX_DEPTH) {
        rc = yaml_fail(p, &ev->start_mark, "nesting deeper than 128 levels");
        goto out;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        rc = alias_value(p, ev, out, nodes);
        goto out;
    case YAML_SCALAR_EVENT:
        anchor = (const char *)ev->data.scalar.anchor;
        rc = scalar_value(p, ev, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = (const char *)ev->data.sequence_start.anchor;
        *out = json_array();
        rc = parse_sequence(p, depth, *out, nodes);
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = (const char *)ev->data.mapping_start.anchor;
        *out = json_object();
        rc = parse_mapping(p, depth, *out, nodes);
        break;
    default:
        rc = yaml_fail(p, &ev->start_mark, "unexpected event");
        goto out;
    }
    if (rc == 0 && ++p->nodes > YJ_MAX_NODES)
        rc = yaml_fail(p, &ev->start_mark, "more than 1000000 nodes");
    if (rc == 0 && anchor)
        anchor_add(p, anchor, *out, *nodes);
out:
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    yaml_event_delete(ev);
    return rc;
}

/* One document: DOCUMENT-START already consumed; reads the node and DOCUMENT-END. */
static int parse_document(struct yj *p, json_t *docs)
{
    int rc = 0;
    yaml_event_t ev;
    json_t *root = NULL;
    size_t nodes = 0;
    if ((rc = next_event(p, &ev)) < 0)
        return rc;
    if ((rc = parse_node(p, &ev, 0, &root, &nodes)) < 0)
        return rc;
    if ((rc = next_event(p, &ev)) < 0) {
        json_decref(root);
        return rc;
    }
    yaml_event_delete(&ev); /* DOCUMENT-END */
    anchors_free(p);        /* anchors do not cross documents */
    if (json_is_null(root))
        json_decref(root); /* an empty document, e.g. after a trailing "---" */
    else
        json_array_append_new(docs, root);
    return 0;
}

static int parse_yaml(json_t *docs, const char *text, size_t len, struct error *err)
{
    int rc = 0;
    struct yj p = {.err = err};
    yaml_event_t ev;
    if (!yaml_parser_initialize(&p.parser))
        return error_set(err, ERR_INTERNAL, "internal", NULL, "yaml_parser_initialize failed");
    yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
    for (;;) {
        if ((rc = next_event(&p, &ev)) < 0)
            goto out;
        yaml_event_type_t type = ev.type;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_DOCUMENT_START_EVENT && (rc = parse_document(&p, docs)) < 0)
            goto out;
    }
out:
    anchors_free(&p);
    yaml_parser_delete(&p.parser);
    return rc;
}

static size_t skip_space(const char *text, size_t len, size_t off)
{
    while (off < len && isspace((unsigned char)text[off]))
        off++;
    return off;
}

/* A stream of JSON values (one, or several one after another as `jq` prints them). Returns
 * 0, or -1 with the JSON error in *je. */
static int parse_json_stream(json_t *docs, const char *text, size_t len, json_error_t *je)
{
    size_t off = skip_space(text, len, 0);
    while (off < len) {
        json_t *v =
            json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, je);
        if (!v)
            return -1;
        json_array_append_new(docs, v);
        off = skip_space(text, len, off + (size_t)je->position);
    }
    return 0;
}

int yamljson_parse(json_t **out, const char *text, size_t len, struct error *err)
{
    int rc = 0;
    json_t *docs = json_array();
    size_t first = skip_space(text, len, 0);
    *out = NULL;
    if (first < len && (text[first] == '{' || text[first] == '[')) {
        json_error_t je;
        if (parse_json_stream(docs, text, len, &je) == 0)
            goto out;
        json_array_clear(docs);
        /* Not JSON after all, maybe a YAML flow collection ({name: x}); if YAML fails too,
         * the JSON error is the one that makes sense. */
        if (parse_yaml(docs, text, len, NULL) == 0)
            goto out;
        rc = error_set(err, ERR_INVALID, "invalid_json", NULL,
                       "JSON error at line %d, column %d: %s", je.line, je.column, je.text);
        goto out;
    }
    rc = parse_yaml(docs, text, len, err);
out:
    if (rc < 0)
        json_decref(docs);
    else
        *out = docs;
    return rc;
}

bool yamljson_bool(bool *out, const json_t *v)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON",  NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no",  "No",
                                     "NO",    "off",   "Off",   "OFF", NULL};
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (is_one_of(s, n, yes)) {
        *out = true;
        return true;
    }
    if (is_one_of(s, n, no)) {
        *out = false;
        return true;
    }
    return false;
}
