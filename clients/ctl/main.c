/* lbipamctl: the operator CLI of lbipamd. The commands are a table (data); each one parses
 * its flags with args.c and runs in its own cmd_*.c. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/ctl_int.h"
#include "lib/xalloc.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define TOKEN_MAX 8192

static const struct flag_spec global_flags[] = {
    {"server", FLAG_VALUE, 0, false,
     "--server URL          lbipamd base URL (env LBIPAM_SERVER, default " DEFAULT_SERVER ")"},
    {"token-file", FLAG_VALUE, 0, false,
     "--token-file FILE     bearer token file (else env LBIPAM_TOKEN, the token itself)"},
    {"output", FLAG_VALUE, 'o', false,
     "-o, --output FORMAT   table (default) or json (the server's JSON, pretty)"},
    {"help", FLAG_SWITCH, 'h', false, "-h, --help            this help"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec no_flags[] = {{NULL, 0, 0, false, NULL}};

static const struct flag_spec apply_flags[] = {
    {"filename", FLAG_VALUE, 'f', false,
     "-f, --filename FILE   manifest to apply; - reads stdin (required)"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec delete_flags[] = {
    {"force", FLAG_SWITCH, 0, false,
     "--force               delete a pool that holds allocations, releasing them"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec get_flags[] = {
    {"cluster", FLAG_VALUE, 0, false,
     "--cluster NAME        (get allocations) only this cluster's"},
    {"namespace", FLAG_VALUE, 0, false,
     "--namespace NS        (get allocations) only this namespace's"},
    {"pool", FLAG_VALUE, 0, false,
     "--pool NAME           (get allocations) only those holding an address of this pool"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec allocate_flags[] = {
    {"ip", FLAG_VALUE, 0, true,
     "--ip IP               request exactly this address (repeatable; all or none)"},
    {"pool", FLAG_VALUE, 0, false, "--pool NAME           take the address from this pool only"},
    {"label", FLAG_VALUE, 0, true,
     "--label KEY=VALUE     a label of the service, matched by serviceSelectors (repeatable)"},
    {"family", FLAG_VALUE, 0, true,
     "--family IPv4|IPv6    wanted family (repeatable, in order; default IPv4)"},
    {"dual-stack", FLAG_VALUE, 0, false,
     "--dual-stack prefer|require  PreferDualStack or RequireDualStack"},
    {"sharing-key", FLAG_VALUE, 0, false,
     "--sharing-key KEY     share the address with compatible services of this key"},
    {"port", FLAG_VALUE, 0, true,
     "--port PORT[/PROTO]   a port of the service, e.g. 53/UDP (repeatable; default TCP)"},
    {"external-ref", FLAG_VALUE, 0, false,
     "--external-ref TEXT   free text reference, e.g. a change ticket"},
    {"description", FLAG_VALUE, 0, false, "--description TEXT    free text"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec check_flags[] = {
    {"tcp", FLAG_VALUE, 0, true, "--tcp PORT            a TCP connect probe (repeatable)"},
    {"http", FLAG_VALUE, 0, true,
     "--http PORT[/PATH]    an HTTP GET probe expecting 200 (repeatable)"},
    {"icmp", FLAG_SWITCH, 0, false, "--icmp                an ICMP echo probe"},
    {"wait", FLAG_OPTIONAL_NUMBER, 0, false,
     "--wait [SECONDS]      wait for the result (default and at most 30 s)"},
    {"timeout", FLAG_VALUE, 0, false,
     "--timeout MS          per-probe timeout in milliseconds (server default 2000)"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec adv_flags[] = {
    {"format", FLAG_VALUE, 0, false,
     "--format bird         a BIRD 2 fragment (text) instead of the table"},
    {"scope", FLAG_VALUE, 0, false,
     "--scope allocated     (bird) the allocated /32 and /128 instead of the pools' prefixes"},
    {NULL, 0, 0, false, NULL},
};

static const struct flag_spec events_flags[] = {
    {"after", FLAG_VALUE, 0, false,
     "--after SEQ           only events after this sequence number (default 0)"},
    {"follow", FLAG_SWITCH, 0, false,
     "--follow              keep waiting for new events (long poll) until interrupted"},
    {NULL, 0, 0, false, NULL},
};

static const struct command commands[] = {
    {"get", "get pools|pool NAME|clusters|cluster NAME|allocations|allocation C/NS/SVC",
     "Lists pools (one row per address family, with utilization), clusters or allocations.",
     get_flags, 1, 2, cmd_get},
    {"describe", "describe pool NAME|cluster NAME",
     "Shows every field, the blocks with their sizes, utilization per family, warnings and the\n"
     "allocations of a pool (or of a cluster).",
     no_flags, 2, 2, cmd_describe},
    {"apply", "apply -f FILE|-",
     "Creates or replaces the pools and clusters of FILE: our own JSON or YAML (kind Pool or\n"
     "Cluster, one object, a list, or several YAML documents), CiliumLoadBalancerIPPool\n"
     "(cilium.io/v2alpha1, cilium.io/v2) or MetalLB IPAddressPool (metallb.io/v1beta1). What\n"
     "cannot be converted exactly is refused with the field's name, and nothing is applied.\n"
     "Prints pool/NAME created|configured|unchanged.",
     apply_flags, 0, 0, cmd_apply},
    {"delete", "delete pool NAME [--force] | delete cluster NAME",
     "Deletes a pool or a cluster. --force releases the pool's allocations instead of refusing.",
     delete_flags, 2, 2, cmd_delete},
    {"allocate", "allocate CLUSTER/NAMESPACE/SERVICE [flags]",
     "Allocates addresses for a service identity (PUT: the flags are the whole request; the\n"
     "same flags again change nothing, other flags reconcile the allocation).",
     allocate_flags, 1, 1, cmd_allocate},
    {"release", "release CLUSTER/NAMESPACE/SERVICE",
     "Releases every address of the allocation (a shared address stays with its other holders).",
     no_flags, 1, 1, cmd_release},
    {"who-has", "who-has IP", "Shows the state of an address and who holds it.", no_flags, 1, 1,
     cmd_who_has},
    {"check",
     "check IP|CLUSTER/NS/SVC [--tcp PORT]... [--http PORT[/PATH]]... [--icmp] [--wait [S]]",
     "Runs a reachability check (route analysis and probes) and prints its results. Exit\n"
     "status 1 when the check failed or did not finish within --wait.",
     check_flags, 1, 1, cmd_check},
    {"advertisements", "advertisements CLUSTER [--format bird] [--scope allocated]",
     "What the cluster must announce: its pools' prefixes and its allocated addresses.", adv_flags,
     1, 1, cmd_advertisements},
    {"events", "events [--after SEQ] [--follow]",
     "Prints the audit trail, one event a line (with -o json one JSON object a line).",
     events_flags, 0, 0, cmd_events},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_flags(FILE *f, const struct flag_spec *flags)
{
    for (const struct flag_spec *s = flags; s && s->name; s++)
        fprintf(f, "  %s\n", s->help);
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: lbipamctl COMMAND [ARGS] [FLAGS]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s\n", commands[i].synopsis);
    fprintf(f, "\nGlobal flags (anywhere on the line):\n");
    print_flags(f, global_flags);
    fprintf(f, "\nExit status: 0 success, 1 error, 2 usage error. "
               "'lbipamctl COMMAND --help' for more.\n");
}

static void usage_command(FILE *f, const struct command *cmd)
{
    fprintf(f, "usage: lbipamctl %s\n\n%s\n", cmd->synopsis, cmd->help);
    if (cmd->flags && cmd->flags[0].name) {
        fprintf(f, "\nFlags:\n");
        print_flags(f, cmd->flags);
    }
    fprintf(f, "\nGlobal flags:\n");
    print_flags(f, global_flags);
}

/* The first word that is neither a global flag nor its value. */
static int find_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-')
            return i;
        if (strcmp(w, "--server") == 0 || strcmp(w, "--token-file") == 0 || strcmp(w, "-o") == 0 ||
            strcmp(w, "--output") == 0)
            i++;
    }
    return -1;
}

static int read_token(char **out, const char *file, struct error *err)
{
    FILE *f = fopen(file, "r");
    char buf[TOKEN_MAX];
    size_t n;
    *out = NULL;
    if (!f)
        return error_set(err, ERR_INVALID, "token_file", NULL, "cannot read --token-file %s", file);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0 || strpbrk(buf, "\r\n"))
        return error_set(err, ERR_INVALID, "token_file", NULL,
                         "--token-file %s does not hold one token", file);
    *out = xstrdup(buf);
    return 0;
}

static int setup(struct ctl *c, const struct args *a, struct error *err)
{
    const char *server = args_get(a, "server"), *token_file = args_get(a, "token-file");
    const char *output = args_get(a, "output");
    char *token = NULL, *base;
    int rc = 0;
    if (!server)
        server = getenv("LBIPAM_SERVER");
    if (!server || !server[0])
        server = DEFAULT_SERVER;
    if (output && strcmp(output, "json") != 0 && strcmp(output, "table") != 0)
        return ctl_usage(err, "-o %s: the output is table or json", output);
    c->output = output && strcmp(output, "json") == 0 ? OUTPUT_JSON : OUTPUT_TABLE;
    if (token_file && (rc = read_token(&token, token_file, err)) < 0)
        return rc;
    if (!token_file && getenv("LBIPAM_TOKEN"))
        token = xstrdup(getenv("LBIPAM_TOKEN"));
    base = xstrdup(server);
    for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
        base[n - 1] = '\0';
    c->http = client_new(base, token);
    free(base);
    free(token);
    return 0;
}

static void print_error(const struct error *err)
{
    fprintf(stderr, "error: %s: %s", err->reason[0] ? err->reason : "error", err->detail);
    if (err->field[0])
        fprintf(stderr, " (field %s)", err->field);
    fputc('\n', stderr);
}

static const struct command *lookup(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    struct ctl c = {.out = stdout};
    struct error err = {0};
    struct args a;
    int rc = 0, at = find_command(argc, argv);
    const struct command *cmd = at > 0 ? lookup(argv[at]) : NULL;

    json_set_alloc_funcs(xmalloc, free);
    if (at < 0) {
        bool help = false;
        for (int i = 1; i < argc; i++)
            help = help || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
        usage_all(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    if (!cmd) {
        fprintf(stderr, "error: usage: unknown command \"%s\"\n\n", argv[at]);
        usage_all(stderr);
        return 2;
    }
    /* Global flags before the command are parsed with the rest: move the command out. */
    char **rest = xcalloc((size_t)argc, sizeof(*rest));
    int nrest = 0;
    for (int i = 1; i < argc; i++)
        if (i != at)
            rest[nrest++] = argv[i];
    rc = args_parse(&a, nrest, rest, global_flags, cmd->flags, &err);
    if (rc == 0 && args_has(&a, "help")) {
        usage_command(stdout, cmd);
        goto out;
    }
    if (rc == 0 && (a.npos < cmd->min_pos || a.npos > cmd->max_pos))
        rc = ctl_usage(&err, "%s takes %zu to %zu arguments, not %zu", cmd->name, cmd->min_pos,
                       cmd->max_pos, a.npos);
    if (rc == 0)
        rc = setup(&c, &a, &err);
    if (rc == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmd->run(&c, &a, &err);
        client_free(c.http);
        curl_global_cleanup();
    }
out:
    free(rest);
    fflush(stdout);
    if (rc >= 0)
        return 0;
    print_error(&err);
    if (strcmp(err.reason, "usage") == 0) {
        fputc('\n', stderr);
        usage_command(stderr, cmd);
        return 2;
    }
    return 1;
}
