/* main.c - lbipamd: flags, signals, and the server until SIGTERM or SIGINT.
 *
 * Exit status: 0 after a clean stop, 1 when the server cannot start, 2 on bad flags.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "server/backup.h"
#include "server/token_cli.h"
#include "server/server.h"

static const char usage[] =
    "usage: lbipamd [--listen HOST:PORT] [--db FILE] [--log-level LEVEL] [--max-batch N]\n"
    "       lbipamd backup [--db FILE] --to FILE   (online copy; see lbipamd backup --help)\n"
    "       lbipamd token create|list|revoke ...    (bearer tokens; see lbipamd token --help)\n"
    "\n"
    "The central authority for Kubernetes LoadBalancer IPs (HTTP/JSON API under /v1).\n"
    "\n"
    "  --listen HOST:PORT  address to serve on (default 127.0.0.1:8080);\n"
    "                      IPv6 in brackets: [::1]:8080, [::]:8080 for every address\n"
    "  --db FILE           SQLite database, created when missing (default ./lbipam.db)\n"
    "  --log-level LEVEL   debug, info, warn or error (default info)\n"
    "  --max-batch N       writes committed together, 1-64 (default 64: group commit);\n"
    "                      1 commits each write alone (slower; for benchmarks)\n"
    "  --tls-cert FILE     serve HTTPS with this PEM certificate (chain)...\n"
    "  --tls-key FILE      ...and this PEM private key\n"
    "  --metrics-auth      GET /metrics needs a reader token (default: open)\n"
    "  --event-retention D events older than D are purged: 90d, 12h, 3600s (default 90d)\n"
    "  --request-timeout S seconds a client has to send a whole request (default 30)\n"
    "  --help              show this text\n"
    "\n"
    "On a first start with no token, an admin token is written to admin.token beside the\n"
    "database (mode 0600); every /v1 request needs Authorization: Bearer <token>.\n";

struct flags {
    struct server_config cfg;
    enum log_level level;
};

__attribute__((format(printf, 1, 2))) static int bad_flag(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "lbipamd: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", usage);
    return 2;
}

static int parse_max_batch(int *out, const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || v < 1 || v > 64)
        return -1;
    *out = (int)v;
    return 0;
}

/* "90d", "12h", "30m", "3600s" or plain seconds, to milliseconds; -1 when malformed. */
static int parse_duration_ms(int64_t *out, const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    int64_t unit = 1000;

    if (!s[0] || s[0] == '-' || s[0] == '+' || end == s || v <= 0 || v > 100000000LL)
        return -1;
    if (*end == 'd')
        unit = 86400 * 1000LL;
    else if (*end == 'h')
        unit = 3600 * 1000LL;
    else if (*end == 'm')
        unit = 60 * 1000LL;
    else if (*end != 's' && *end != '\0')
        return -1;
    if (*end && end[1])
        return -1;
    *out = (int64_t)v * unit;
    return 0;
}

/* 0 to run, -1 after --help, or 2 (the exit status) on a bad flag. */
static int parse_flags(struct flags *f, int argc, char **argv)
{
    static const struct option options[] = {{"listen", required_argument, NULL, 'l'},
                                            {"db", required_argument, NULL, 'd'},
                                            {"log-level", required_argument, NULL, 'v'},
                                            {"max-batch", required_argument, NULL, 'b'},
                                            {"tls-cert", required_argument, NULL, 'C'},
                                            {"tls-key", required_argument, NULL, 'K'},
                                            {"metrics-auth", no_argument, NULL, 'M'},
                                            {"event-retention", required_argument, NULL, 'R'},
                                            {"request-timeout", required_argument, NULL, 'T'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* our own messages below */
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'l':
            f->cfg.listen = optarg;
            break;
        case 'd':
            f->cfg.db_path = optarg;
            break;
        case 'v':
            if (log_level_parse(&f->level, optarg) < 0)
                return bad_flag("--log-level must be debug, info, warn or error, not '%s'", optarg);
            break;
        case 'b':
            if (parse_max_batch(&f->cfg.max_batch, optarg) < 0)
                return bad_flag("--max-batch must be a number from 1 to 64, not '%s'", optarg);
            break;
        case 'C':
            f->cfg.tls_cert = optarg;
            break;
        case 'K':
            f->cfg.tls_key = optarg;
            break;
        case 'M':
            f->cfg.metrics_auth = true;
            break;
        case 'R':
            if (parse_duration_ms(&f->cfg.event_retention_ms, optarg) < 0)
                return bad_flag("--event-retention must be a duration such as 90d, 12h or 3600s, "
                                "not '%s'",
                                optarg);
            break;
        case 'T': {
            int64_t ms = 0;
            if (parse_duration_ms(&ms, optarg) < 0 || ms < 1000 || ms > 3600L * 1000)
                return bad_flag("--request-timeout must be 1 to 3600 seconds, not '%s'", optarg);
            f->cfg.request_timeout_s = (unsigned)(ms / 1000);
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return -1;
        case ':':
            return bad_flag("%s needs a value", argv[optind - 1]);
        default:
            return bad_flag("unknown flag '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_flag("unexpected argument '%s'", argv[optind]);
    return 0;
}

int main(int argc, char **argv)
{
    struct flags f = {.cfg = {.listen = "127.0.0.1:8080", .db_path = "./lbipam.db"},
                      .level = LOG_INFO};
    struct server *srv = NULL;
    struct error err;
    sigset_t stop;
    int rc, sig = 0;

    if (argc > 1 && strcmp(argv[1], "backup") == 0)
        return backup_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "token") == 0)
        return token_cli_main(argc - 1, argv + 1);
    rc = parse_flags(&f, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    log_set_level(f.level);
    /* Blocked before any thread starts, so every thread inherits the mask and only
     * sigwait below receives them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    error_clear(&err);
    if (server_start(&srv, &f.cfg, &err) < 0) {
        log_fields(LOG_ERROR, "cannot start", "reason", err.reason, "detail", err.detail, NULL);
        /* A --listen value that is not an address is a bad flag; the rest is a failure. */
        if (strcmp(err.reason, "invalid_listen") == 0)
            return bad_flag("--listen %s", err.detail);
        fprintf(stderr, "lbipamd: %s\n", err.detail);
        return 1;
    }
    sigwait(&stop, &sig);
    log_fields(LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    server_stop(srv);
    return 0;
}
