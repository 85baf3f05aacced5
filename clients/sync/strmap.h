/* strmap.h - a string-keyed hash map of borrowed void pointers.
 *
 * The worker keys Services by "namespace/name"; tens of thousands of them must be found in
 * O(1). Keys are copied; values belong to the caller. Not thread-safe: the owner locks.
 */
#ifndef LBIPAM_STRMAP_H
#define LBIPAM_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map and its keys, not the values. */
void strmap_free(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Sets key to value (value != NULL); returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);
/* Calls fn for every entry; fn must not change the map. */
void strmap_each(const struct strmap *m, void (*fn)(void *arg, const char *key, void *value),
                 void *arg);

#endif
