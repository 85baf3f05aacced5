/* token_cli.c - `lbipamd token create|list|revoke` (api.md §9).
 *
 * create prints the secret on stdout, alone on its line, and nothing else there: it is shown
 * once, so `TOKEN=$(lbipamd token create --name ci --role operator)` keeps it. The store only
 * ever receives the hash. The actor of the events these commands append is "lbipamd-cli".
 */
#include "server/token_cli.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "lib/log.h"
#include "lib/names.h"
#include "store/store.h"

#define CLI_ACTOR "lbipamd-cli"

static const char usage[] =
    "usage: lbipamd token create --name NAME --role reader|operator|admin [--cluster C]\n"
    "                            [--expires RFC3339] [--db FILE]\n"
    "       lbipamd token list [--db FILE]\n"
    "       lbipamd token revoke NAME [--db FILE]\n"
    "\n"
    "Manages bearer tokens in the database file (default ./lbipam.db), also while lbipamd\n"
    "runs. create prints the new token once on stdout; only its SHA-256 is stored.\n";

struct cli {
    const char *db, *name, *role, *cluster, *expires;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "lbipamd token: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", usage);
    return 2;
}

static int parse(struct cli *c, int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"name", required_argument, NULL, 'n'},
                                            {"role", required_argument, NULL, 'r'},
                                            {"cluster", required_argument, NULL, 'c'},
                                            {"expires", required_argument, NULL, 'e'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int o;

    opterr = 0;
    optind = 2; /* past "token" and the verb */
    while ((o = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (o) {
        case 'd':
            c->db = optarg;
            break;
        case 'n':
            c->name = optarg;
            break;
        case 'r':
            c->role = optarg;
            break;
        case 'c':
            c->cluster = optarg;
            break;
        case 'e':
            c->expires = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        case ':':
            return usage_error("%s needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown flag '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

static int open_db(struct store **st, const struct cli *c)
{
    struct store_options opts = {.path = c->db ? c->db : "./lbipam.db", .read_connections = 1};
    struct error err;

    if (store_open(st, &opts, &err) < 0) {
        fprintf(stderr, "lbipamd token: %s\n", err.detail);
        return 1;
    }
    return 0;
}

static int create(const struct cli *c)
{
    struct token_info t;
    char secret[API_TOKEN_TEXT_MAX];
    struct store *st = NULL;
    struct error err;
    int rc;

    memset(&t, 0, sizeof(t));
    if (!c->name || !name_is_rfc1123_label(c->name))
        return usage_error("--name must be an RFC 1123 label (a-z, 0-9, -; 1-63)");
    if (!c->role || api_role_parse(&t.role, c->role) < 0)
        return usage_error("--role must be reader, operator or admin");
    if (c->cluster && !name_is_rfc1123_label(c->cluster))
        return usage_error("--cluster must be a cluster name (an RFC 1123 label)");
    if (c->expires && api_time_parse(&t.expires_at, c->expires) < 0)
        return usage_error("--expires must be an RFC 3339 time such as 2027-01-01T00:00:00Z");
    snprintf(t.name, sizeof(t.name), "%s", c->name);
    snprintf(t.cluster, sizeof(t.cluster), "%s", c->cluster ? c->cluster : "");
    if (open_db(&st, c) != 0)
        return 1;
    rc = api_token_generate(secret, t.hash, &err);
    if (rc == 0)
        rc = store_token_create(st, CLI_ACTOR, &t, &err);
    if (rc == 0)
        printf("%s\n", secret);
    else
        fprintf(stderr, "lbipamd token: %s\n", err.detail);
    OPENSSL_cleanse(secret, sizeof(secret));
    store_close(st);
    return rc == 0 ? 0 : 1;
}

static void format_time(char out[32], int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (ms == 0 || !gmtime_r(&secs, &tm))
        snprintf(out, 32, "-");
    else
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list(const struct cli *c)
{
    struct store *st = NULL;
    struct token_list l = {0};
    struct store_page page = {.limit = 1000};
    char after[STORE_CURSOR_MAX] = "";
    struct error err;
    int rc = 0;

    if (open_db(&st, c) != 0)
        return 1;
    printf("%-24s %-9s %-24s %-21s %s\n", "NAME", "ROLE", "CLUSTER", "EXPIRES", "LAST USED");
    do {
        char exp[32], used[32];
        page.after = after;
        rc = store_token_list(st, &page, &l, &err);
        for (size_t i = 0; rc == 0 && i < l.n; i++) {
            format_time(exp, l.items[i].expires_at);
            format_time(used, l.items[i].last_used_at);
            printf("%-24s %-9s %-24s %-21s %s\n", l.items[i].name, api_role_name(l.items[i].role),
                   l.items[i].cluster[0] ? l.items[i].cluster : "-", exp, used);
        }
        snprintf(after, sizeof(after), "%s", rc == 0 ? l.next : "");
        token_list_cleanup(&l);
    } while (rc == 0 && after[0]);
    if (rc < 0)
        fprintf(stderr, "lbipamd token: %s\n", err.detail);
    store_close(st);
    return rc == 0 ? 0 : 1;
}

static int revoke(const struct cli *c, const char *name)
{
    struct store *st = NULL;
    struct error err;
    int rc;

    if (open_db(&st, c) != 0)
        return 1;
    rc = store_token_delete(st, CLI_ACTOR, name, &err);
    if (rc < 0)
        fprintf(stderr, "lbipamd token: %s\n", err.detail);
    store_close(st);
    return rc == 0 ? 0 : 1;
}

int token_cli_main(int argc, char **argv)
{
    struct cli c = {0};
    const char *verb = argc > 1 ? argv[1] : "";
    int rc;

    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(verb, "create") != 0 && strcmp(verb, "list") != 0 && strcmp(verb, "revoke") != 0)
        return usage_error("expected create, list or revoke");
    log_set_level(LOG_WARN); /* stdout is the token or the table; the store's info logs go */
    rc = parse(&c, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (strcmp(verb, "create") == 0) {
        if (optind < argc)
            return usage_error("unexpected argument '%s'", argv[optind]);
        return create(&c);
    }
    if (strcmp(verb, "list") == 0) {
        if (optind < argc)
            return usage_error("unexpected argument '%s'", argv[optind]);
        return list(&c);
    }
    if (optind + 1 != argc)
        return usage_error("revoke takes one token name");
    return revoke(&c, argv[optind]);
}
