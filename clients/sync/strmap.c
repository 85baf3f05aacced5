#include "clients/sync/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct entry {
    struct entry *next;
    void *value;
    char key[]; /* flexible array: one allocation per entry */
};

struct strmap {
    struct entry **buckets;
    size_t nbuckets;
    size_t count;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = xcalloc(1, sizeof(*m));
    m->nbuckets = 64;
    m->buckets = xcalloc(m->nbuckets, sizeof(struct entry *));
    return m;
}

void strmap_free(struct strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct entry *e = m->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    free(m);
}

static struct entry **find(const struct strmap *m, const char *key)
{
    struct entry **pp = &m->buckets[hash(key) & (m->nbuckets - 1)];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct entry *e = *find(m, key);
    return e ? e->value : NULL;
}

static void grow(struct strmap *m)
{
    size_t n = m->nbuckets * 2;
    struct entry **b = xcalloc(n, sizeof(struct entry *));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct entry *e = m->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = hash(e->key) & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    struct entry **pp = find(m, key);
    if (*pp) {
        void *old = (*pp)->value;
        (*pp)->value = value;
        return old;
    }
    size_t len = strlen(key);
    struct entry *e = xmalloc(sizeof(*e) + len + 1);
    memcpy(e->key, key, len + 1);
    e->value = value;
    e->next = NULL;
    *pp = e;
    if (++m->count > m->nbuckets)
        grow(m);
    return NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
    struct entry **pp = find(m, key);
    struct entry *e = *pp;
    if (!e)
        return NULL;
    void *v = e->value;
    *pp = e->next;
    free(e);
    m->count--;
    return v;
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}

void strmap_each(const struct strmap *m, void (*fn)(void *arg, const char *key, void *value),
                 void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (struct entry *e = m->buckets[i]; e; e = e->next)
            fn(arg, e->key, e->value);
}
