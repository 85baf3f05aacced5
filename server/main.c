/* main.c - lbipamd: flags, signals, and the server until SIGTERM or SIGINT.
 *
 * Exit status: 0 after a clean stop, 1 when the server cannot start, 2 on bad flags.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "server/server.h"

static const char usage[] =
    "usage: lbipamd [--listen HOST:PORT] [--db FILE] [--log-level LEVEL]\n"
    "\n"
    "The central authority for Kubernetes LoadBalancer IPs (HTTP/JSON API under /v1).\n"
    "\n"
    "  --listen HOST:PORT  address to serve on (default 127.0.0.1:8080);\n"
    "                      IPv6 in brackets: [::1]:8080, [::]:8080 for every address\n"
    "  --db FILE           SQLite database, created when missing (default ./lbipam.db)\n"
    "  --log-level LEVEL   debug, info, warn or error (default info)\n"
    "  --help              show this text\n";

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

/* 0 to run, -1 after --help, or 2 (the exit status) on a bad flag. */
static int parse_flags(struct flags *f, int argc, char **argv)
{
    static const struct option options[] = {{"listen", required_argument, NULL, 'l'},
                                            {"db", required_argument, NULL, 'd'},
                                            {"log-level", required_argument, NULL, 'v'},
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
    int rc = parse_flags(&f, argc, argv), sig = 0;

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
