/* token.h - a bearer token that may live in a file which rotates under us.
 *
 * Kubernetes projected service-account tokens and the central API token are files that are
 * replaced while the process runs. A token source re-reads its file when the copy it holds is
 * older than a minute, and at once after the caller saw a 401 (token_source_invalidate). A
 * fixed token (kubeconfig `token:`) never changes. Thread-safe: the sync worker's threads
 * share one source per server.
 */
#ifndef LBIPAM_TOKEN_H
#define LBIPAM_TOKEN_H

#include <stddef.h>

#include "lib/error.h"

#define TOKEN_MAX 8192 /* JWTs of real clusters are ~1 KiB; bounded read */
#define TOKEN_REFRESH_SECONDS 60

struct token_source;

/* Exactly one of `path` and `fixed` may be set; both NULL means "send no token". */
struct token_source *token_source_new(const char *path, const char *fixed);
void token_source_free(struct token_source *ts);

/* Copies the current token (whitespace trimmed) into out, "" when there is none. Fails with
 * ERR_UNAVAILABLE when the file cannot be read and no earlier copy exists. */
int token_source_get(struct token_source *ts, char out[TOKEN_MAX], struct error *err);

/* Forces the next token_source_get to read the file again (after a 401). */
void token_source_invalidate(struct token_source *ts);

#endif
