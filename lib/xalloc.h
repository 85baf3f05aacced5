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
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
