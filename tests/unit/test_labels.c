#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/labels.h"
#include "lib/xalloc.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Adds an expression; values end with NULL. */
static void add_expr(struct selector *s, const char *key, enum selector_op op, ...)
{
    s->exprs = xrealloc(s->exprs, (s->nexprs + 1) * sizeof(*s->exprs));
    struct selector_expr *e = &s->exprs[s->nexprs++];
    e->key = xstrdup(key);
    e->op = op;
    e->nvalues = 0;
    e->values = NULL;
    va_list ap;
    va_start(ap, op);
    for (const char *v; (v = va_arg(ap, const char *));) {
        e->values = xrealloc(e->values, (e->nvalues + 1) * sizeof(*e->values));
        e->values[e->nvalues++] = xstrdup(v);
    }
    va_end(ap);
}

static bool selectors_equal(const struct selector *a, const struct selector *b)
{
    if (!labels_equal(&a->match_labels, &b->match_labels) || a->nexprs != b->nexprs)
        return false;
    for (size_t i = 0; i < a->nexprs; i++) {
        const struct selector_expr *x = &a->exprs[i], *y = &b->exprs[i];
        if (strcmp(x->key, y->key) != 0 || x->op != y->op || x->nvalues != y->nvalues)
            return false;
        for (size_t j = 0; j < x->nvalues; j++) {
            if (strcmp(x->values[j], y->values[j]) != 0)
                return false;
        }
    }
    return true;
}

static void assert_label_error(const struct labels *l, const char *reason, const char *field)
{
    struct error err = {0};
    cr_assert_eq(labels_validate(l, "/labels", &err), ERR_INVALID);
    cr_assert_eq(err.code, ERR_INVALID);
    cr_assert_str_eq(err.reason, reason);
    cr_assert_str_eq(err.field, field);
    cr_assert_neq(err.detail[0], '\0');
}

static void assert_selector_error(const struct selector *s, const char *field)
{
    struct error err = {0};
    cr_assert_eq(selector_validate(s, "/serviceSelector", &err), ERR_INVALID);
    cr_assert_str_eq(err.reason, "invalid_selector");
    cr_assert_str_eq(err.field, field);
}

/* ---- labels ------------------------------------------------------------------------------- */

Test(labels, set_keeps_keys_sorted_and_unique)
{
    struct labels l;
    labels_init(&l);
    labels_set(&l, "tier", "web");
    labels_set(&l, "app", "shop");
    labels_set(&l, "env", "prod");
    labels_set(&l, "app", "cart");
    cr_assert_eq(l.n, 3);
    cr_assert_str_eq(l.items[0].key, "app");
    cr_assert_str_eq(l.items[0].value, "cart");
    cr_assert_str_eq(l.items[1].key, "env");
    cr_assert_str_eq(l.items[2].key, "tier");
    cr_assert_str_eq(labels_get(&l, "env"), "prod");
    cr_assert_null(labels_get(&l, "missing"));
    labels_cleanup(&l);
    cr_assert_eq(l.n, 0);
    labels_cleanup(&l); /* twice is harmless */
}

Test(labels, random_inserts_stay_sorted)
{
    uint64_t seed = 7;
    struct labels l;
    labels_init(&l);
    for (int i = 0; i < 500; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%u", (unsigned)(next_rand(&seed) % 200));
        labels_set(&l, key, key);
    }
    for (size_t i = 1; i < l.n; i++)
        cr_assert_lt(strcmp(l.items[i - 1].key, l.items[i].key), 0);
    for (size_t i = 0; i < l.n; i++)
        cr_assert_str_eq(labels_get(&l, l.items[i].key), l.items[i].key);
    labels_cleanup(&l);
}

Test(labels, copy_is_deep_and_equal)
{
    struct labels a, b;
    labels_init(&a);
    labels_set(&a, "x", "1");
    labels_set(&a, "y", "");
    labels_copy(&b, &a);
    cr_assert(labels_equal(&a, &b));
    labels_set(&b, "y", "2");
    cr_assert_not(labels_equal(&a, &b));
    cr_assert_str_eq(labels_get(&a, "y"), "");
    labels_set(&b, "y", "");
    labels_set(&b, "z", "");
    cr_assert_not(labels_equal(&a, &b));
    labels_cleanup(&a);
    labels_cleanup(&b);

    struct labels empty, empty2;
    labels_init(&empty);
    labels_copy(&empty2, &empty);
    cr_assert(labels_equal(&empty, &empty2));
    labels_cleanup(&empty2);
}

Test(labels, key_syntax_follows_kubernetes)
{
    char name63[64], name64[65], prefix253[300], prefix254[300], key[400];
    repeat(name63, 'n', 63);
    repeat(name64, 'n', 64);
    const char *ok[] = {"app",
                        "a",
                        "Z",
                        "A_b.c-D",
                        "app.kubernetes.io/name",
                        "lbipam.io/cluster",
                        "io.kubernetes.service.namespace",
                        "example.com/x",
                        "a/b",
                        "1-2.3/4",
                        name63};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        cr_assert(label_key_valid(ok[i]), "\"%s\" refused", ok[i]);
    const char *bad[] = {"",
                         "/a",
                         "a/",
                         "a/b/c",
                         "-a",
                         "a-",
                         "_a",
                         "a.",
                         "Example.com/x",
                         "ex_ample.com/x",
                         ".example/x",
                         "example./x",
                         "example..com/x",
                         "-ex.com/x",
                         "ex-.com/x",
                         "a b",
                         "a=b",
                         "a,b",
                         "a\nb",
                         "é",
                         name64};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(label_key_valid(bad[i]), "\"%s\" accepted", bad[i]);
    cr_assert_not(label_key_valid(NULL));

    /* prefix: a DNS subdomain of at most 253 characters */
    repeat(prefix253, 'p', 253);
    for (size_t i = 60; i < 253; i += 61)
        prefix253[i] = '.';
    repeat(prefix254, 'p', 254);
    for (size_t i = 60; i < 254; i += 61)
        prefix254[i] = '.';
    snprintf(key, sizeof(key), "%s/%s", prefix253, name63);
    cr_assert(label_key_valid(key));
    snprintf(key, sizeof(key), "%s/x", prefix254);
    cr_assert_not(label_key_valid(key));
    snprintf(key, sizeof(key), "%s/%s", "ex.com", name64);
    cr_assert_not(label_key_valid(key));
}

Test(labels, value_is_empty_or_a_name)
{
    char v63[64], v64[65];
    cr_assert(label_value_valid(""));
    cr_assert(label_value_valid("v1"));
    cr_assert(label_value_valid("A.b_c-D"));
    cr_assert(label_value_valid(repeat(v63, 'v', 63)));
    cr_assert_not(label_value_valid(repeat(v64, 'v', 64)));
    const char *bad[] = {"-v", "v-", ".v", "v_", "a b", "a/b", "a=b", " ", "\t"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(label_value_valid(bad[i]), "\"%s\" accepted", bad[i]);
    cr_assert_not(label_value_valid(NULL));
}

Test(labels, validate_accepts_good_labels)
{
    struct labels l;
    labels_init(&l);
    cr_assert_eq(labels_validate(&l, "/labels", NULL), 0);
    labels_set(&l, "region", "eu");
    labels_set(&l, "app.kubernetes.io/part-of", "");
    struct error err = {0};
    cr_assert_eq(labels_validate(&l, "/labels", &err), 0);
    labels_cleanup(&l);
}

Test(labels, invalid_key_field_is_escaped_json_pointer)
{
    struct labels l;
    labels_init(&l);
    labels_set(&l, "Bad.Prefix/x", "v");
    assert_label_error(&l, "invalid_label", "/labels/Bad.Prefix~1x");
    labels_cleanup(&l);

    labels_init(&l);
    labels_set(&l, "a~b", "v");
    assert_label_error(&l, "invalid_label", "/labels/a~0b");
    labels_cleanup(&l);

    labels_init(&l);
    labels_set(&l, "~/", "v");
    assert_label_error(&l, "invalid_label", "/labels/~0~1");
    labels_cleanup(&l);
}

Test(labels, invalid_value_names_its_key)
{
    struct labels l;
    labels_init(&l);
    labels_set(&l, "good", "ok");
    labels_set(&l, "app.io/tier", "-web");
    assert_label_error(&l, "invalid_label", "/labels/app.io~1tier");
    labels_cleanup(&l);
}

Test(labels, more_than_64_is_too_many_labels)
{
    struct labels l;
    labels_init(&l);
    for (int i = 0; i < LABELS_MAX; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        labels_set(&l, key, "v");
    }
    cr_assert_eq(labels_validate(&l, "/labels", NULL), 0);
    labels_set(&l, "one-more", "v");
    assert_label_error(&l, "too_many_labels", "/labels");
    labels_cleanup(&l);
}

Test(labels, very_long_bad_key_gives_bounded_field)
{
    char key[2000];
    repeat(key, '/', sizeof(key) - 1);
    struct labels l;
    labels_init(&l);
    labels_set(&l, key, "");
    struct error err = {0};
    cr_assert_eq(labels_validate(&l, "/labels", &err), ERR_INVALID);
    cr_assert_lt(strlen(err.field), ERROR_FIELD_MAX);
    cr_assert_eq(strncmp(err.field, "/labels/~1~1", 12), 0);
    labels_cleanup(&l);
}

/* ---- selectors ---------------------------------------------------------------------------- */

Test(selector, op_names_round_trip)
{
    enum selector_op ops[] = {SELECTOR_IN, SELECTOR_NOT_IN, SELECTOR_EXISTS,
                              SELECTOR_DOES_NOT_EXIST};
    const char *names[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    for (size_t i = 0; i < 4; i++) {
        enum selector_op op;
        cr_assert_str_eq(selector_op_name(ops[i]), names[i]);
        cr_assert_eq(selector_op_parse(&op, names[i]), 0);
        cr_assert_eq(op, ops[i]);
    }
    enum selector_op op;
    cr_assert_eq(selector_op_parse(&op, "in"), ERR_INVALID);
    cr_assert_eq(selector_op_parse(&op, "Equals"), ERR_INVALID);
    cr_assert_eq(selector_op_parse(&op, ""), ERR_INVALID);
    cr_assert_eq(selector_op_parse(&op, NULL), ERR_INVALID);
}

Test(selector, empty_selector_matches_everything)
{
    struct selector s;
    selector_init(&s);
    struct labels l;
    labels_init(&l);
    cr_assert(selector_is_empty(&s));
    cr_assert(selector_matches(&s, &l, NULL));
    cr_assert(selector_matches(&s, NULL, NULL));
    labels_set(&l, "a", "b");
    cr_assert(selector_matches(&s, &l, &l));
    labels_cleanup(&l);
    selector_cleanup(&s);
}

Test(selector, match_labels_need_equal_values)
{
    struct selector s;
    selector_init(&s);
    labels_set(&s.match_labels, "color", "red");
    labels_set(&s.match_labels, "size", "");
    cr_assert_not(selector_is_empty(&s));
    struct labels l;
    labels_init(&l);
    labels_set(&l, "color", "red");
    cr_assert_not(selector_matches(&s, &l, NULL)); /* size absent is not size="" */
    labels_set(&l, "size", "");
    cr_assert(selector_matches(&s, &l, NULL));
    labels_set(&l, "color", "blue");
    cr_assert_not(selector_matches(&s, &l, NULL));
    labels_cleanup(&l);
    selector_cleanup(&s);
}

Test(selector, in_needs_the_key_with_a_listed_value)
{
    struct selector s;
    selector_init(&s);
    add_expr(&s, "tier", SELECTOR_IN, "web", "api", NULL);
    struct labels l;
    labels_init(&l);
    cr_assert_not(selector_matches(&s, &l, NULL));
    labels_set(&l, "tier", "api");
    cr_assert(selector_matches(&s, &l, NULL));
    labels_set(&l, "tier", "db");
    cr_assert_not(selector_matches(&s, &l, NULL));
    labels_cleanup(&l);
    selector_cleanup(&s);
}

Test(selector, not_in_matches_absent_key_and_other_values)
{
    struct selector s;
    selector_init(&s);
    add_expr(&s, "tier", SELECTOR_NOT_IN, "db", NULL);
    struct labels l;
    labels_init(&l);
    cr_assert(selector_matches(&s, &l, NULL));
    labels_set(&l, "tier", "web");
    cr_assert(selector_matches(&s, &l, NULL));
    labels_set(&l, "tier", "db");
    cr_assert_not(selector_matches(&s, &l, NULL));
    labels_cleanup(&l);
    selector_cleanup(&s);
}

Test(selector, exists_and_does_not_exist_look_at_the_key_only)
{
    struct selector s, t;
    selector_init(&s);
    selector_init(&t);
    add_expr(&s, "gpu", SELECTOR_EXISTS, NULL);
    add_expr(&t, "gpu", SELECTOR_DOES_NOT_EXIST, NULL);
    struct labels l;
    labels_init(&l);
    cr_assert_not(selector_matches(&s, &l, NULL));
    cr_assert(selector_matches(&t, &l, NULL));
    labels_set(&l, "gpu", "");
    cr_assert(selector_matches(&s, &l, NULL));
    cr_assert_not(selector_matches(&t, &l, NULL));
    labels_cleanup(&l);
    selector_cleanup(&s);
    selector_cleanup(&t);
}

Test(selector, all_terms_are_anded)
{
    struct selector s;
    selector_init(&s);
    labels_set(&s.match_labels, "region", "eu");
    add_expr(&s, "tier", SELECTOR_IN, "web", NULL);
    add_expr(&s, "legacy", SELECTOR_DOES_NOT_EXIST, NULL);
    struct labels l;
    labels_init(&l);
    labels_set(&l, "region", "eu");
    labels_set(&l, "tier", "web");
    cr_assert(selector_matches(&s, &l, NULL));
    labels_set(&l, "legacy", "yes");
    cr_assert_not(selector_matches(&s, &l, NULL));
    labels_cleanup(&l);
    selector_cleanup(&s);
}

Test(selector, overrides_hide_base_values)
{
    struct selector s;
    selector_init(&s);
    labels_set(&s.match_labels, "io.kubernetes.service.namespace", "prod");
    struct labels base, over;
    labels_init(&base);
    labels_init(&over);
    /* a real label trying to pass as the synthetic one */
    labels_set(&base, "io.kubernetes.service.namespace", "prod");
    labels_set(&over, "io.kubernetes.service.namespace", "dev");
    cr_assert(selector_matches(&s, &base, NULL));
    cr_assert_not(selector_matches(&s, &base, &over));
    labels_set(&over, "io.kubernetes.service.namespace", "prod");
    labels_set(&base, "io.kubernetes.service.namespace", "dev");
    cr_assert(selector_matches(&s, &base, &over));
    cr_assert(selector_matches(&s, NULL, &over));

    /* overrides also feed expressions, and base keys they do not name still count */
    struct selector t;
    selector_init(&t);
    add_expr(&t, "lbipam.io/cluster", SELECTOR_IN, "prod-eu-1", NULL);
    add_expr(&t, "region", SELECTOR_EXISTS, NULL);
    labels_set(&over, "lbipam.io/cluster", "prod-eu-1");
    cr_assert_not(selector_matches(&t, &base, &over));
    labels_set(&base, "region", "eu");
    cr_assert(selector_matches(&t, &base, &over));
    labels_set(&base, "lbipam.io/cluster", "other");
    cr_assert(selector_matches(&t, &base, &over));

    labels_cleanup(&base);
    labels_cleanup(&over);
    selector_cleanup(&s);
    selector_cleanup(&t);
}

Test(selector, copy_is_deep)
{
    struct selector s, c;
    selector_init(&s);
    labels_set(&s.match_labels, "a", "b");
    add_expr(&s, "tier", SELECTOR_IN, "web", "api", NULL);
    add_expr(&s, "gpu", SELECTOR_EXISTS, NULL);
    selector_copy(&c, &s);
    cr_assert(selectors_equal(&s, &c));
    selector_cleanup(&s);
    cr_assert_str_eq(c.exprs[0].values[1], "api");
    selector_cleanup(&c);
}

Test(selector, validate_accepts_good_selector)
{
    struct selector s;
    selector_init(&s);
    cr_assert_eq(selector_validate(&s, "/serviceSelector", NULL), 0);
    labels_set(&s.match_labels, "color", "red");
    add_expr(&s, "tier", SELECTOR_NOT_IN, "db", "", NULL);
    add_expr(&s, "lbipam.io/cluster", SELECTOR_DOES_NOT_EXIST, NULL);
    cr_assert_eq(selector_validate(&s, "/serviceSelector", NULL), 0);
    selector_cleanup(&s);
}

Test(selector, bad_match_label_is_invalid_selector_at_its_key)
{
    struct selector s;
    selector_init(&s);
    labels_set(&s.match_labels, "Bad.Prefix/x", "v");
    assert_selector_error(&s, "/serviceSelector/matchLabels/Bad.Prefix~1x");
    selector_cleanup(&s);

    selector_init(&s);
    labels_set(&s.match_labels, "ok", "bad value");
    assert_selector_error(&s, "/serviceSelector/matchLabels/ok");
    selector_cleanup(&s);
}

Test(selector, operator_arity_is_checked)
{
    struct selector s;
    selector_init(&s);
    add_expr(&s, "tier", SELECTOR_IN, NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/0/values");
    selector_cleanup(&s);

    selector_init(&s);
    add_expr(&s, "ok", SELECTOR_EXISTS, NULL);
    add_expr(&s, "tier", SELECTOR_NOT_IN, NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/1/values");
    selector_cleanup(&s);

    selector_init(&s);
    add_expr(&s, "gpu", SELECTOR_EXISTS, "yes", NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/0/values");
    selector_cleanup(&s);

    selector_init(&s);
    add_expr(&s, "gpu", SELECTOR_DOES_NOT_EXIST, "yes", NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/0/values");
    selector_cleanup(&s);
}

Test(selector, bad_expression_parts_are_pointed_at)
{
    struct selector s;
    selector_init(&s);
    add_expr(&s, "-bad", SELECTOR_EXISTS, NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/0/key");
    selector_cleanup(&s);

    selector_init(&s);
    add_expr(&s, "tier", SELECTOR_IN, "web", "no good", NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/0/values/1");
    selector_cleanup(&s);

    selector_init(&s);
    add_expr(&s, "tier", (enum selector_op)99, NULL);
    assert_selector_error(&s, "/serviceSelector/matchExpressions/0/operator");
    cr_assert_not(selector_matches(&s, NULL, NULL)); /* an unknown operator selects nothing */
    selector_cleanup(&s);
}

/* ---- codec -------------------------------------------------------------------------------- */

static void assert_labels_round_trip(const struct labels *l)
{
    char *text = labels_encode(l);
    struct labels back;
    cr_assert_eq(labels_decode(&back, text), 0, "decode \"%s\"", text);
    cr_assert(labels_equal(l, &back), "\"%s\" did not round-trip", text);
    char *again = labels_encode(&back);
    cr_assert_str_eq(again, text);
    free(again);
    free(text);
    labels_cleanup(&back);
}

static void assert_selector_round_trip(const struct selector *s)
{
    char *text = selector_encode(s);
    struct selector back;
    cr_assert_eq(selector_decode(&back, text), 0, "decode \"%s\"", text);
    cr_assert(selectors_equal(s, &back), "\"%s\" did not round-trip", text);
    char *again = selector_encode(&back);
    cr_assert_str_eq(again, text);
    free(again);
    free(text);
    selector_cleanup(&back);
}

Test(codec, labels_encoding_is_readable_and_stable)
{
    struct labels l;
    labels_init(&l);
    char *text = labels_encode(&l);
    cr_assert_str_eq(text, "");
    free(text);
    labels_set(&l, "tier", "web");
    labels_set(&l, "app.kubernetes.io/name", "");
    text = labels_encode(&l);
    cr_assert_str_eq(text, "app.kubernetes.io/name=,tier=web");
    free(text);
    assert_labels_round_trip(&l);
    labels_cleanup(&l);
}

Test(codec, selector_encoding_is_readable_and_stable)
{
    struct selector s;
    selector_init(&s);
    char *text = selector_encode(&s);
    cr_assert_str_eq(text, "");
    free(text);
    labels_set(&s.match_labels, "color", "red");
    add_expr(&s, "tier", SELECTOR_IN, "web", "api", NULL);
    add_expr(&s, "gpu", SELECTOR_DOES_NOT_EXIST, NULL);
    text = selector_encode(&s);
    cr_assert_str_eq(text, "color=red;tier In web,api;gpu DoesNotExist");
    free(text);
    assert_selector_round_trip(&s);
    selector_cleanup(&s);
}

Test(codec, edge_shapes_round_trip)
{
    struct selector s;
    selector_init(&s);
    assert_selector_round_trip(&s);
    add_expr(&s, "k", SELECTOR_IN, NULL); /* invalid, but still exact */
    assert_selector_round_trip(&s);
    add_expr(&s, "", SELECTOR_NOT_IN, "", NULL);
    assert_selector_round_trip(&s);
    add_expr(&s, "x", SELECTOR_EXISTS, "", "", NULL);
    assert_selector_round_trip(&s);
    labels_set(&s.match_labels, "", "");
    assert_selector_round_trip(&s);
    selector_cleanup(&s);

    struct labels l;
    labels_init(&l);
    labels_set(&l, "", "");
    assert_labels_round_trip(&l);
    labels_set(&l, "=,; %\n\t~/", "%20%%;,= \x7f\x01");
    labels_set(&l, "\xc3\xa9t\xc3\xa9", "\xff\xfe");
    assert_labels_round_trip(&l);
    labels_cleanup(&l);
}

static char *random_string(uint64_t *seed)
{
    /* bytes 1..255, biased towards the delimiters and '%' */
    static const char special[] = "=,; %\n~/";
    size_t n = next_rand(seed) % 12;
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_rand(seed);
        s[i] = r % 3 == 0 ? special[(r >> 8) % (sizeof(special) - 1)] : (char)(1 + (r >> 8) % 255);
    }
    s[n] = '\0';
    return s;
}

Test(codec, random_labels_and_selectors_round_trip)
{
    uint64_t seed = 0xdecafbad;
    for (int round = 0; round < 300; round++) {
        struct selector s;
        selector_init(&s);
        size_t nl = next_rand(&seed) % 6;
        for (size_t i = 0; i < nl; i++) {
            char *k = random_string(&seed), *v = random_string(&seed);
            labels_set(&s.match_labels, k, v);
            free(k);
            free(v);
        }
        assert_labels_round_trip(&s.match_labels);

        size_t ne = next_rand(&seed) % 5;
        for (size_t i = 0; i < ne; i++) {
            char *k = random_string(&seed);
            add_expr(&s, k, (enum selector_op)(next_rand(&seed) % 4), NULL);
            free(k);
            struct selector_expr *e = &s.exprs[s.nexprs - 1];
            size_t nv = next_rand(&seed) % 4;
            e->values = nv ? xcalloc(nv, sizeof(*e->values)) : NULL;
            for (size_t j = 0; j < nv; j++)
                e->values[j] = random_string(&seed);
            e->nvalues = nv;
        }
        assert_selector_round_trip(&s);
        selector_cleanup(&s);
    }
}

Test(codec, garbage_decodes_to_internal_error)
{
    const char *labels_bad[] = {"a",       "a=b,",    "=,",    ",",     "a=b=c", "a=b;c=d",
                                "%",       "a%4=b",   "%00=",  "%zz=",  "%2c=",  "%41=b",
                                "b=1,a=2", "a=1,a=2", "a b=c", "a=b\n", "a=\x01"};
    for (size_t i = 0; i < sizeof(labels_bad) / sizeof(labels_bad[0]); i++) {
        struct labels l;
        cr_assert_eq(labels_decode(&l, labels_bad[i]), ERR_INTERNAL, "accepted \"%s\"",
                     labels_bad[i]);
        cr_assert_eq(l.n, 0);
    }
    struct labels l;
    cr_assert_eq(labels_decode(&l, NULL), ERR_INTERNAL);

    const char *sel_bad[] = {";",         ";k",          ";k ",        ";k Bogus",
                             ";k In a;",  "a=b;",        "a;k Exists", "a=b;k In a,b c",
                             ";k In a b", ";k Exists;;", ";k%3 In",    ";k In a%",
                             "x=y;k  In", ";k In\n"};
    for (size_t i = 0; i < sizeof(sel_bad) / sizeof(sel_bad[0]); i++) {
        struct selector s;
        cr_assert_eq(selector_decode(&s, sel_bad[i]), ERR_INTERNAL, "accepted \"%s\"", sel_bad[i]);
        cr_assert(selector_is_empty(&s));
    }
    struct selector s;
    cr_assert_eq(selector_decode(&s, NULL), ERR_INTERNAL);
}

Test(codec, random_bytes_never_crash_and_accepted_text_is_canonical)
{
    uint64_t seed = 1234567;
    static const char alphabet[] = "ab=,; %2C0F\x01InNotExistsDoesNotExist";
    for (int round = 0; round < 20000; round++) {
        char text[24];
        size_t n = next_rand(&seed) % sizeof(text);
        for (size_t i = 0; i < n; i++)
            text[i] = alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
        text[n] = '\0';

        struct labels l;
        int rc = labels_decode(&l, text);
        cr_assert(rc == 0 || rc == ERR_INTERNAL);
        if (rc == 0) {
            char *again = labels_encode(&l);
            cr_assert_str_eq(again, text);
            free(again);
        }
        labels_cleanup(&l);

        struct selector s;
        rc = selector_decode(&s, text);
        cr_assert(rc == 0 || rc == ERR_INTERNAL);
        if (rc == 0) {
            char *again = selector_encode(&s);
            cr_assert_str_eq(again, text);
            free(again);
        }
        selector_cleanup(&s);
    }
}
