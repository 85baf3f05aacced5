/* YAML (and JSON) to jansson: scalar typing, documents, aliases, and clear errors. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/yamljson.h"

static json_t *parse_ok(const char *text)
{
    json_t *docs = NULL;
    struct error err = {0};
    int rc = yamljson_parse(&docs, text, strlen(text), &err);
    cr_assert_eq(rc, 0, "%s", err.detail);
    return docs;
}

static void assert_parses_to(const char *text, const char *want_json)
{
    json_t *docs = parse_ok(text), *want = json_loads(want_json, 0, NULL);
    cr_assert_not_null(want, "bad expectation %s", want_json);
    char *got = json_dumps(docs, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert(json_equal(docs, want), "got %s, want %s", got, want_json);
    free(got);
    json_decref(docs), json_decref(want);
}

static void assert_fails(const char *text, const char *reason, const char *detail)
{
    json_t *docs = NULL;
    struct error err = {0};
    cr_assert_lt(yamljson_parse(&docs, text, strlen(text), &err), 0);
    cr_assert_null(docs);
    cr_assert_str_eq(err.reason, reason);
    cr_assert_str_eq(err.detail, detail);
}

Test(yamljson, plain_scalars_follow_the_yaml_12_core_schema)
{
    assert_parses_to("a: true\nb: False\nc: 42\nd: -7\ne: 0x1F\nf: 0o17\ng: 1.5\nh: ~\ni: null\n"
                     "j:\nk: text\n",
                     "[{\"a\":true,\"b\":false,\"c\":42,\"d\":-7,\"e\":31,\"f\":15,\"g\":1.5,"
                     "\"h\":null,\"i\":null,\"j\":null,\"k\":\"text\"}]");
}

Test(yamljson, yaml_11_booleans_and_norway_stay_strings)
{
    assert_parses_to("a: yes\nb: No\nc: on\nd: OFF\ncountry: NO\ny: y\n",
                     "[{\"a\":\"yes\",\"b\":\"No\",\"c\":\"on\",\"d\":\"OFF\",\"country\":\"NO\","
                     "\"y\":\"y\"}]");
}

Test(yamljson, quoted_and_str_tagged_scalars_are_strings)
{
    assert_parses_to("a: \"true\"\nb: '42'\nc: !!str 7\nd: \"No\"\n",
                     "[{\"a\":\"true\",\"b\":\"42\",\"c\":\"7\",\"d\":\"No\"}]");
}

Test(yamljson, integer_too_large_for_int64_stays_text)
{
    assert_parses_to("n: 18446744073709551616\n", "[{\"n\":\"18446744073709551616\"}]");
}

Test(yamljson, several_documents_and_empty_ones_skipped)
{
    assert_parses_to("---\na: 1\n---\n---\n# only a comment\n---\n- x\n- y\n...\n",
                     "[{\"a\":1},[\"x\",\"y\"]]");
}

Test(yamljson, json_text_is_read_by_jansson_and_a_json_stream_too)
{
    assert_parses_to("{\"a\": 1, \"b\": [true, null]}\n{\"c\": \"d\"}",
                     "[{\"a\":1,\"b\":[true,null]},{\"c\":\"d\"}]");
}

Test(yamljson, yaml_flow_mapping_that_is_not_json_still_parses)
{
    assert_parses_to("{name: x, blocks: [{cidr: 10.0.0.0/24}]}",
                     "[{\"name\":\"x\",\"blocks\":[{\"cidr\":\"10.0.0.0/24\"}]}]");
}

Test(yamljson, aliases_are_expanded)
{
    assert_parses_to("base: &sel {color: red}\nother: *sel\n",
                     "[{\"base\":{\"color\":\"red\"},\"other\":{\"color\":\"red\"}}]");
}

Test(yamljson, alias_bomb_is_refused)
{
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert_fails(bomb, "invalid_yaml",
                 "YAML error at line 6, column 36: aliases expand to more than 1000000 nodes");
}

Test(yamljson, duplicate_key_is_refused_with_its_position)
{
    assert_fails("spec:\n  blocks: []\n  blocks: []\n", "invalid_yaml",
                 "YAML error at line 3, column 3: duplicate key \"blocks\"");
}

Test(yamljson, syntax_error_names_line_and_column)
{
    json_t *docs = NULL;
    struct error err = {0};
    const char *text = "a: 1\nb: [1, 2\n";
    cr_assert_lt(yamljson_parse(&docs, text, strlen(text), &err), 0);
    cr_assert_str_eq(err.reason, "invalid_yaml");
    cr_assert(strncmp(err.detail, "YAML error at line 3, column 1: ", 32) == 0, "%s", err.detail);
}

Test(yamljson, broken_json_reports_the_json_error)
{
    assert_fails("{\"a\": 1 \"b\": 2}", "invalid_json",
                 "JSON error at line 1, column 11: '}' expected near '\"b\"'");
}

Test(yamljson, bool_reader_takes_yaml_11_spellings_only_where_asked)
{
    bool b = false;
    json_t *v = json_string("No");
    cr_assert(yamljson_bool(&b, v) && !b);
    json_decref(v);
    v = json_string("YES");
    cr_assert(yamljson_bool(&b, v) && b);
    json_decref(v);
    v = json_string("y");
    cr_assert(!yamljson_bool(&b, v));
    json_decref(v);
    v = json_integer(1);
    cr_assert(!yamljson_bool(&b, v));
    json_decref(v);
    cr_assert(yamljson_bool(&b, json_false()) && !b);
}
