/* fixture.h - reading tests/ctl/fixtures/ from the unit tests: next to this file (found from
 * __FILE__, which CMake passes as an absolute path), or where LBIPAM_CTL_FIXTURES says. */
#ifndef LBIPAM_TESTS_CTL_FIXTURE_H
#define LBIPAM_TESTS_CTL_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static inline char *fixture_path(const char *name)
{
    const char *env = getenv("LBIPAM_CTL_FIXTURES");
    if (env && env[0])
        return xasprintf("%s/%s", env, name);
    const char *here = __FILE__, *slash = strrchr(here, '/');
    int dir = slash ? (int)(slash - here) : 1;
    return xasprintf("%.*s/fixtures/%s", dir, slash ? here : ".", name);
}

/* The whole file, NUL-terminated; NULL when it does not exist. */
static inline char *fixture_read(const char *name, size_t *len)
{
    char *path = fixture_path(name);
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = xmalloc(cap + 1);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = xrealloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

#endif
