/* The watch splitter: documents split across chunks, several per chunk, limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "clients/kube/jsonsplit.h"

#define MAX_DOCS 16

struct seen {
    int n;
    char docs[MAX_DOCS][256];
};

static int collect(void *arg, const char *doc, size_t len)
{
    struct seen *s = arg;
    cr_assert(s->n < MAX_DOCS);
    cr_assert_eq(strlen(doc), len);
    snprintf(s->docs[s->n++], sizeof(s->docs[0]), "%s", doc);
    return 0;
}

static const char stream[] = "{\"type\":\"ADDED\",\"object\":{\"s\":\"a } \\\" { b\"}}\n"
                             "{\"type\":\"BOOKMARK\",\"object\":{\"l\":[1,{\"x\":[]}]}}"
                             "  {\"type\":\"DELETED\",\"object\":{}}\r\n";

Test(jsonsplit, whole_stream_in_one_chunk_yields_every_document)
{
    struct jsonsplit *js = jsonsplit_new(1024);
    struct seen s = {0};
    cr_assert_eq(jsonsplit_feed(js, stream, strlen(stream), collect, &s, NULL), 0);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.docs[0], "{\"type\":\"ADDED\",\"object\":{\"s\":\"a } \\\" { b\"}}");
    cr_assert_str_eq(s.docs[2], "{\"type\":\"DELETED\",\"object\":{}}");
    cr_assert_not(jsonsplit_pending(js));
    jsonsplit_free(js);
}

Test(jsonsplit, every_split_point_gives_the_same_documents)
{
    size_t len = strlen(stream);
    for (size_t cut1 = 0; cut1 <= len; cut1++) {
        for (size_t cut2 = cut1; cut2 <= len; cut2 += 7) {
            struct jsonsplit *js = jsonsplit_new(1024);
            struct seen s = {0};
            cr_assert_eq(jsonsplit_feed(js, stream, cut1, collect, &s, NULL), 0);
            cr_assert_eq(jsonsplit_feed(js, stream + cut1, cut2 - cut1, collect, &s, NULL), 0);
            cr_assert_eq(jsonsplit_feed(js, stream + cut2, len - cut2, collect, &s, NULL), 0);
            cr_assert_eq(s.n, 3, "cuts %zu %zu", cut1, cut2);
            cr_assert_str_eq(s.docs[0], "{\"type\":\"ADDED\",\"object\":{\"s\":\"a } \\\" { b\"}}");
            cr_assert_str_eq(s.docs[1],
                             "{\"type\":\"BOOKMARK\",\"object\":{\"l\":[1,{\"x\":[]}]}}");
            jsonsplit_free(js);
        }
    }
}

Test(jsonsplit, byte_by_byte_feeding_works)
{
    struct jsonsplit *js = jsonsplit_new(1024);
    struct seen s = {0};
    for (size_t i = 0; i < strlen(stream); i++)
        cr_assert_eq(jsonsplit_feed(js, stream + i, 1, collect, &s, NULL), 0);
    cr_assert_eq(s.n, 3);
    jsonsplit_free(js);
}

Test(jsonsplit, unfinished_document_is_pending)
{
    struct jsonsplit *js = jsonsplit_new(1024);
    struct seen s = {0};
    cr_assert_eq(jsonsplit_feed(js, "{\"a\":\"}", 7, collect, &s, NULL), 0);
    cr_assert_eq(s.n, 0);
    cr_assert(jsonsplit_pending(js));
    jsonsplit_free(js);
}

Test(jsonsplit, document_over_the_limit_is_too_large)
{
    struct jsonsplit *js = jsonsplit_new(16);
    struct seen s = {0};
    struct error err = {0};
    const char *big = "{\"aaaaaaaaaaaaaaaaaaaaa\":1}";
    cr_assert_eq(jsonsplit_feed(js, big, strlen(big), collect, &s, &err), ERR_TOO_LARGE);
    cr_assert_str_eq(err.reason, "document_too_large");
    /* reset: a fresh stream works again */
    cr_assert_eq(jsonsplit_feed(js, "{}", 2, collect, &s, NULL), 0);
    cr_assert_eq(s.n, 1);
    jsonsplit_free(js);
}

Test(jsonsplit, garbage_between_documents_is_refused)
{
    struct jsonsplit *js = jsonsplit_new(64);
    struct seen s = {0};
    cr_assert_eq(jsonsplit_feed(js, "{} x {}", 7, collect, &s, NULL), ERR_BAD_REQUEST);
    cr_assert_eq(s.n, 1);
    jsonsplit_free(js);
}

static int stop_at_first(void *arg, const char *doc, size_t len)
{
    (void)arg, (void)doc, (void)len;
    return -42;
}

Test(jsonsplit, callback_error_stops_the_feed)
{
    struct jsonsplit *js = jsonsplit_new(64);
    cr_assert_eq(jsonsplit_feed(js, "{}{}", 4, stop_at_first, NULL, NULL), -42);
    jsonsplit_free(js);
}
