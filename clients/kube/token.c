#include "clients/kube/token.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"

struct token_source {
    pthread_mutex_t mu;
    char *path;
    char value[TOKEN_MAX];
    int have;
    time_t read_at;
};

struct token_source *token_source_new(const char *path, const char *fixed)
{
    struct token_source *ts = xcalloc(1, sizeof(*ts));
    pthread_mutex_init(&ts->mu, NULL);
    ts->path = xstrdup(path);
    if (fixed) {
        snprintf(ts->value, sizeof(ts->value), "%s", fixed);
        ts->have = 1;
    }
    return ts;
}

void token_source_free(struct token_source *ts)
{
    if (!ts)
        return;
    pthread_mutex_destroy(&ts->mu);
    free(ts->path);
    free(ts);
}

static time_t now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

/* Reads the file into ts->value; on failure keeps the previous value (a rotation in progress
 * may briefly leave no file) and reports the error only when there is nothing to fall back on. */
static int reload(struct token_source *ts, struct error *err)
{
    char buf[TOKEN_MAX];
    int rc = 0;
    FILE *f = fopen(ts->path, "re");
    if (!f) {
        rc = error_set(err, ERR_UNAVAILABLE, "token_unreadable", NULL, "cannot read token file %s",
                       ts->path);
        goto out;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    if (n == sizeof(buf) - 1 && fgetc(f) != EOF) {
        rc = error_set(err, ERR_TOO_LARGE, "token_too_large", NULL,
                       "token file %s is larger than %d bytes", ts->path, TOKEN_MAX - 1);
        goto out;
    }
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == '\t'))
        s[--len] = '\0';
    memcpy(ts->value, s, len + 1);
    ts->have = 1;
    ts->read_at = now_mono();
out:
    if (f)
        fclose(f);
    if (rc < 0 && ts->have) {
        ts->read_at = now_mono(); /* try again in a minute, keep using the old token */
        rc = 0;
    }
    return rc;
}

int token_source_get(struct token_source *ts, char out[TOKEN_MAX], struct error *err)
{
    int rc = 0;
    pthread_mutex_lock(&ts->mu);
    if (ts->path && (!ts->have || now_mono() - ts->read_at >= TOKEN_REFRESH_SECONDS))
        rc = reload(ts, err);
    if (rc == 0)
        memcpy(out, ts->value, TOKEN_MAX);
    pthread_mutex_unlock(&ts->mu);
    return rc;
}

void token_source_invalidate(struct token_source *ts)
{
    pthread_mutex_lock(&ts->mu);
    if (ts->path)
        ts->read_at = now_mono() - TOKEN_REFRESH_SECONDS;
    pthread_mutex_unlock(&ts->mu);
}
