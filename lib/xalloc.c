#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No allocation on this path: the message is formatted on the stack and written with one
 * write(2), then abort() so that a core dump shows who asked. */
static _Noreturn void oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof(msg), "lbipam: out of memory (allocating %zu bytes)\n", n);
    if (len > 0) {
        ssize_t w = write(2, msg, (size_t)len < sizeof(msg) ? (size_t)len : sizeof(msg) - 1);
        (void)w;
    }
    abort();
}

/* malloc(0) and realloc(p, 0) may return NULL; asking for one byte keeps "never NULL". */
void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        count = size = 1;
    void *p = calloc(count, size);
    if (!p)
        oom(size && count > SIZE_MAX / size ? SIZE_MAX : count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    if (len == SIZE_MAX)
        oom(len);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int len = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (len < 0)
        oom(0);
    return p;
}

void *xgrow(void *p, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : 1024;

    if (need <= *cap)
        return p;
    while (n < need)
        n *= 2;
    *cap = n;
    return xrealloc(p, n);
}
