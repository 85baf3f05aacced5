/* yamljson.h - YAML (or JSON) text to jansson values, for `lbipamctl apply -f`.
 *
 * Pure: text in, values out, no I/O. Every document of a multi-document stream becomes one
 * element of the returned array; empty documents are skipped (as kubectl does). Scalars are
 * resolved with the YAML 1.2 core schema: a quoted scalar (or one tagged !!str) is always a
 * string; a plain one is null (~, null, empty), a boolean (true/false in any case form), an
 * integer (decimal, 0x, 0o), a float, or else a string. YAML 1.1 spellings such as yes/no/on/off
 * therefore stay strings here: only a converter that knows a field needs a boolean reads them
 * as one (yamljson_bool), so that a label value `no` (Norway) is never turned into false.
 * Aliases are expanded (within a node budget); duplicate keys and non-scalar keys are refused.
 */
#ifndef LBIPAM_CTL_YAMLJSON_H
#define LBIPAM_CTL_YAMLJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

/* Parses text (len bytes; need not be NUL-terminated) into *out, a new array of documents.
 * Text that is a JSON value is parsed by jansson (exact integers, no YAML quirks). Fails with
 * ERR_INVALID, reason "invalid_yaml", and a detail with the line and column. */
int yamljson_parse(json_t **out, const char *text, size_t len, struct error *err);

/* Reads a value that must be a boolean: a JSON boolean, or a string spelled as a YAML 1.1
 * boolean (true/false/yes/no/on/off, lower, Title or UPPER case). Returns false when v is
 * anything else (then *out is untouched). */
bool yamljson_bool(bool *out, const json_t *v);

#endif
