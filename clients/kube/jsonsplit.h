/* jsonsplit.h - cuts a byte stream of concatenated JSON documents into whole documents.
 *
 * A Kubernetes watch body is a chunked stream of JSON objects whose boundaries have nothing
 * to do with the chunk boundaries: one chunk may end inside a string, another may carry
 * several documents. The splitter tracks only nesting depth and string/escape state, so it
 * never parses a document twice; the caller parses each whole document it is handed. A
 * document larger than the limit is an error (bounded memory), never a silent truncation.
 * Only objects and arrays may appear at top level, separated by optional whitespace.
 */
#ifndef LBIPAM_JSONSPLIT_H
#define LBIPAM_JSONSPLIT_H

#include <stddef.h>

#include "lib/error.h"

struct jsonsplit;

/* Called once per complete document; `doc` is NUL-terminated and borrowed for the call.
 * A negative return stops jsonsplit_feed, which returns that value. */
typedef int (*jsonsplit_fn)(void *arg, const char *doc, size_t len);

struct jsonsplit *jsonsplit_new(size_t max_doc);
void jsonsplit_free(struct jsonsplit *js);

/* Feeds the next bytes of the stream. Returns 0, ERR_TOO_LARGE (a document passed max_doc),
 * ERR_BAD_REQUEST (a byte that cannot start a document), or the callback's negative value.
 * After an error the splitter is reset and must be fed a fresh stream. */
int jsonsplit_feed(struct jsonsplit *js, const char *data, size_t len, jsonsplit_fn fn, void *arg,
                   struct error *err);

/* True when bytes of an unfinished document are buffered (a stream that ends here was cut). */
int jsonsplit_pending(const struct jsonsplit *js);

#endif
