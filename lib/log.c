#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A line is built on the stack and written with one write(2), so lines of concurrent threads
 * never interleave and no lock is needed. Longer lines are cut (the string being written is
 * closed and "truncated":true added) so that every line stays one valid JSON object. */
#define LOG_LINE_MAX 8192
#define LOG_MSG_MAX 4096
/* Room always kept free for closing the line: "\"" + ",\"truncated\":true" + "}\n". */
#define LOG_RESERVE 24

static atomic_int log_level = LOG_INFO;
static atomic_int log_fd = 2;

static const char *const level_names[] = {
    [LOG_DEBUG] = "debug",
    [LOG_INFO] = "info",
    [LOG_WARN] = "warn",
    [LOG_ERROR] = "error",
};
#define LEVEL_COUNT (sizeof(level_names) / sizeof(level_names[0]))

int log_level_parse(enum log_level *out, const char *name)
{
    for (size_t i = 0; name && i < LEVEL_COUNT; i++) {
        if (strcmp(level_names[i], name) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(enum log_level level)
{
    atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

void log_set_fd(int fd)
{
    atomic_store_explicit(&log_fd, fd, memory_order_relaxed);
}

int log_enabled(enum log_level level)
{
    return (int)level >= atomic_load_explicit(&log_level, memory_order_relaxed);
}

struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool truncated;
};

/* Appends n raw bytes if they fit before the reserve; all or nothing. */
static bool line_put(struct line *l, const char *s, size_t n)
{
    if (l->truncated || l->len + n > LOG_LINE_MAX - LOG_RESERVE) {
        l->truncated = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF), or 0 when the bytes there are not one. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* Appends s as a JSON string. Control characters are escaped and bytes that are not UTF-8
 * become U+FFFD, so a line is valid JSON whatever a client sent. */
static bool line_put_string(struct line *l, const char *s)
{
    if (!line_put(l, "\"", 1))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p && !l->truncated;) {
        char esc[8];
        const char *out = esc;
        size_t n;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            n = 2;
        } else if (*p == '\n') {
            out = "\\n", n = 2;
        } else if (*p == '\r') {
            out = "\\r", n = 2;
        } else if (*p == '\t') {
            out = "\\t", n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
        } else if (*p < 0x80) {
            out = (const char *)p, n = 1;
        } else if ((n = utf8_seq_len(p)) > 0) {
            out = (const char *)p;
        } else {
            out = "\\ufffd", n = 6;
            if (line_put(l, out, n))
                p++;
            continue;
        }
        if (line_put(l, out, n))
            p += out == (const char *)p ? n : 1;
    }
    /* The reserve guarantees room for the closing quote even after a cut. */
    l->buf[l->len++] = '"';
    return true;
}

static void line_put_field(struct line *l, const char *key, const char *value)
{
    if (l->truncated)
        return;
    size_t mark = l->len;
    /* All of the key and at least the opening quote of the value, or nothing: never a key
     * without a value. A value cut short is kept (closed) so the line says what it could. */
    line_put(l, ",", 1);
    line_put_string(l, key);
    line_put(l, ":", 1);
    if (l->truncated) {
        l->len = mark;
        return;
    }
    if (!line_put_string(l, value))
        l->len = mark;
}

static void line_begin(struct line *l, enum log_level level, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    char when[40];

    l->len = 0;
    l->truncated = false;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);

    line_put(l, "{\"time\":\"", 9);
    line_put(l, when, strlen(when));
    line_put(l, "\",\"level\":", 10);
    line_put_string(l, (unsigned)level < LEVEL_COUNT ? level_names[level] : "unknown");
    line_put(l, ",\"msg\":", 7);
    line_put_string(l, msg ? msg : "");
}

static void line_end_and_write(struct line *l)
{
    static const char cut[] = ",\"truncated\":true";
    if (l->truncated) {
        memcpy(l->buf + l->len, cut, sizeof(cut) - 1);
        l->len += sizeof(cut) - 1;
    }
    l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';

    int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
    const char *p = l->buf;
    size_t left = l->len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* nowhere left to report it */
        p += w;
        left -= (size_t)w;
    }
}

void log_fields(enum log_level level, const char *msg, ...)
{
    if (!log_enabled(level))
        return;
    struct line l;
    line_begin(&l, level, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        if (value)
            line_put_field(&l, key, value);
    }
    va_end(ap);
    line_end_and_write(&l);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct line l;
    line_begin(&l, level, msg);
    line_end_and_write(&l);
}
