/* xalloc.h - allocation that never returns NULL.
 *
 * Out-of-memory policy: lbipamd cannot do anything useful without memory, so these abort
 * with a message instead of returning NULL; jansson is given the same functions
 * (json_set_alloc_funcs) so that no NULL check is needed anywhere.
 */
#ifndef LBIPAM_XALLOC_H
#define LBIPAM_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);
/* Returns p grown to hold at least `need` bytes, doubling its capacity *cap (from 1 KiB) so that
 * appending byte by byte stays amortised O(1). Callers enforce their own maximum first: every
 * growing buffer has one (STYLE.md). */
void *xgrow(void *p, size_t *cap, size_t need);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
