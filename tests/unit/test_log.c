#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"

/* Each test runs in its own process (Criterion), so redirecting the log fd is private. */
static FILE *capture;

static void capture_start(void)
{
    capture = tmpfile();
    cr_assert_not_null(capture);
    log_set_fd(fileno(capture));
    log_set_level(LOG_DEBUG);
}

/* Everything logged so far; the caller frees it. */
static char *captured(void)
{
    long n = lseek(fileno(capture), 0, SEEK_END);
    cr_assert_geq(n, 0);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(pread(fileno(capture), buf, (size_t)n, 0), n);
    buf[n] = '\0';
    return buf;
}

static void capture_stop(void)
{
    log_set_fd(2);
    fclose(capture);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
static bool is_rfc3339_ms_utc(const char *s)
{
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
            return false;
    }
    return true;
}

TestSuite(log, .init = capture_start, .fini = capture_stop);

Test(log, line_is_one_json_object_with_time_level_msg)
{
    log_fields(LOG_INFO, "listening", "address", "127.0.0.1:8080", NULL);
    char *out = captured();
    const char *prefix = "{\"time\":\"";
    cr_assert_eq(strncmp(out, prefix, strlen(prefix)), 0, "%s", out);
    cr_assert(is_rfc3339_ms_utc(out + strlen(prefix)), "%s", out);
    const char *rest = out + strlen(prefix) + 24;
    cr_assert_str_eq(
        rest, "\",\"level\":\"info\",\"msg\":\"listening\",\"address\":\"127.0.0.1:8080\"}\n");
    free(out);
}

Test(log, strings_are_json_escaped)
{
    log_fields(LOG_WARN, "q\"b\\n\nt\tr\r", "ctl", "\x01\x1f\x7f", "k\"ey", "v", NULL);
    char *out = captured();
    cr_assert_not_null(strstr(out, "\"level\":\"warn\",\"msg\":\"q\\\"b\\\\n\\nt\\tr\\r\""), "%s",
                       out);
    cr_assert_not_null(strstr(out, "\"ctl\":\"\\u0001\\u001f\\u007f\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"k\\\"ey\":\"v\""), "%s", out);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line only");
    free(out);
}

Test(log, invalid_utf8_becomes_replacement_and_valid_utf8_is_kept)
{
    log_fields(LOG_INFO, "m", "ok", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad",
               "a\xff"
               "b\xc3(\xed\xa0\x80\xc0\xaf\xe2\x82",
               NULL);
    char *out = captured();
    cr_assert_not_null(strstr(out, "\"ok\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""), "%s",
                       out);
    /* 0xff; 0xc3 before '('; a surrogate (3 bytes); an overlong (2); a cut sequence (2) */
    cr_assert_not_null(strstr(out, "\"bad\":\"a\\ufffdb\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd"
                                   "\\ufffd\\ufffd\\ufffd\""),
                       "%s", out);
    free(out);
}

Test(log, null_values_are_skipped)
{
    log_fields(LOG_ERROR, "m", "a", NULL, "b", "2", NULL);
    char *out = captured();
    cr_assert_null(strstr(out, "\"a\""));
    cr_assert_not_null(strstr(out, "\"level\":\"error\",\"msg\":\"m\",\"b\":\"2\"}\n"), "%s", out);
    free(out);
}

Test(log, messages_below_level_are_dropped)
{
    log_set_level(LOG_WARN);
    cr_assert_not(log_enabled(LOG_INFO));
    cr_assert(log_enabled(LOG_ERROR));
    log_fields(LOG_INFO, "quiet", NULL);
    log_msg(LOG_DEBUG, "quiet %d", 1);
    log_msg(LOG_ERROR, "loud %d%%", 2);
    char *out = captured();
    cr_assert_null(strstr(out, "quiet"));
    cr_assert_not_null(strstr(out, "\"msg\":\"loud 2%\"}\n"), "%s", out);
    free(out);
}

Test(log, level_names_parse)
{
    enum log_level l;
    cr_assert_eq(log_level_parse(&l, "debug"), 0);
    cr_assert_eq(l, LOG_DEBUG);
    cr_assert_eq(log_level_parse(&l, "info"), 0);
    cr_assert_eq(l, LOG_INFO);
    cr_assert_eq(log_level_parse(&l, "warn"), 0);
    cr_assert_eq(l, LOG_WARN);
    cr_assert_eq(log_level_parse(&l, "error"), 0);
    cr_assert_eq(l, LOG_ERROR);
    cr_assert_eq(log_level_parse(&l, "INFO"), -1);
    cr_assert_eq(log_level_parse(&l, "warning"), -1);
    cr_assert_eq(log_level_parse(&l, NULL), -1);
}

Test(log, huge_values_are_cut_and_the_line_stays_valid)
{
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, '"', n); /* every byte doubles when escaped */
    big[n] = '\0';
    log_fields(LOG_INFO, "big", "first", "kept", "v", big, "after", "dropped", NULL);
    char *out = captured();
    size_t len = strlen(out);
    cr_assert_leq(len, 8192);
    cr_assert_eq(strchr(out, '\n'), out + len - 1, "one line only");
    const char *tail = "\",\"truncated\":true}\n";
    cr_assert_str_eq(out + len - strlen(tail), tail, "%s", out + len - 40);
    cr_assert_not_null(strstr(out, "\"first\":\"kept\""));
    cr_assert_null(strstr(out, "after"));
    /* the cut never splits an escape: the character before the closing quote is an
     * escaped quote, so the string ends with \" followed by the real quote */
    cr_assert_eq(out[len - strlen(tail) - 1], '"');
    cr_assert_eq(out[len - strlen(tail) - 2], '\\');
    free(big);
    free(out);
}

Test(log, long_printf_message_is_bounded)
{
    char big[10000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_msg(LOG_INFO, "%s", big);
    char *out = captured();
    cr_assert_leq(strlen(out), 8192);
    cr_assert_eq(out[strlen(out) - 2], '}');
    free(out);
}

#define THREADS 8
#define LINES 500

static void *writer(void *arg)
{
    char id[8];
    snprintf(id, sizeof(id), "%d", (int)(intptr_t)arg);
    for (int i = 0; i < LINES; i++)
        log_fields(LOG_INFO, "concurrent", "thread", id, "pad",
                   "0123456789012345678901234567890123456789012345678901234567890123456789", NULL);
    return NULL;
}

Test(log, concurrent_lines_never_interleave)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *out = captured();
    int lines = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        cr_assert_eq(strncmp(line, "{\"time\":\"", 9), 0, "%s", line);
        cr_assert_eq(nl[-1], '}', "%s", line);
        cr_assert_not_null(strstr(line, "\"msg\":\"concurrent\",\"thread\":\""), "%s", line);
        lines++;
    }
    cr_assert_eq(lines, THREADS * LINES);
    free(out);
}
