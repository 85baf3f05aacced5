/* backup.c - `lbipamd backup --db FILE --to FILE`.
 *
 * Opens the database like lbipamd does (so a running lbipamd on the same file keeps writing:
 * WAL readers never wait for the writer) and copies one consistent snapshot of it: every
 * write acknowledged before the command started is in the copy.
 */
#include "server/backup.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/store.h"

static const char backup_usage[] =
    "usage: lbipamd backup [--db FILE] --to FILE\n"
    "\n"
    "Copies the database online (lbipamd may keep running and writing) into a new file that\n"
    "lbipamd can serve: one consistent snapshot, taken when the command starts.\n"
    "\n"
    "  --db FILE   the database to copy (default ./lbipam.db)\n"
    "  --to FILE   where to write the copy; must not exist\n"
    "  --help      show this text\n";

static int backup_bad_flag(const char *what, const char *arg)
{
    fprintf(stderr, "lbipamd backup: %s%s\n\n%s", what, arg ? arg : "", backup_usage);
    return 2;
}

int backup_main(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"to", required_argument, NULL, 't'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *db = "./lbipam.db", *to = NULL;
    struct store_options opts = {0};
    struct store *st = NULL;
    struct error err;
    int c, rc = 0;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'h':
            fputs(backup_usage, stdout);
            return 0;
        case ':':
            return backup_bad_flag("needs a value: ", argv[optind - 1]);
        default:
            return backup_bad_flag("unknown flag ", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return backup_bad_flag("unexpected argument ", argv[optind]);
    if (!to || !to[0])
        return backup_bad_flag("--to FILE is required", NULL);
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "lbipamd backup: no database at %s\n", db);
        return 1;
    }
    error_clear(&err);
    opts.path = db;
    opts.read_connections = 1;
    rc = store_open(&st, &opts, &err);
    if (rc == 0)
        rc = store_backup(st, to, &err);
    store_close(st);
    if (rc < 0) {
        fprintf(stderr, "lbipamd backup: %s\n", err.detail);
        return 1;
    }
    log_fields(LOG_INFO, "backup written", "db", db, "to", to, NULL);
    return 0;
}
