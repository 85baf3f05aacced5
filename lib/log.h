/* log.h - structured logs: one JSON object a line on stderr.
 *
 * {"time":"2026-11-28T10:00:00.123Z","level":"info","msg":"…", extra string fields…}.
 * Thread-safe (one write(2) per line). Messages below the configured level cost one compare.
 */
#ifndef LBIPAM_LOG_H
#define LBIPAM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug" | "info" | "warn" | "error"; returns 0 or -1. */
int log_level_parse(enum log_level *out, const char *name);
void log_set_level(enum log_level level);
/* Redirects output (default 2 = stderr); tests use it to capture lines. */
void log_set_fd(int fd);
int log_enabled(enum log_level level);

/* Logs msg with extra fields given as key, value string pairs ended by NULL:
 *   log_fields(LOG_INFO, "listening", "address", "127.0.0.1:8080", NULL);
 * Values are JSON-escaped; a NULL value is skipped. */
void log_fields(enum log_level level, const char *msg, ...) __attribute__((sentinel));

/* printf-style message without extra fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
