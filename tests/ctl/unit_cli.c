/* lbipamctl's flag parsing and table output, without a server. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/args.h"
#include "clients/ctl/render.h"

static const struct flag_spec globals[] = {
    {"server", FLAG_VALUE, 0, false, ""},
    {"output", FLAG_VALUE, 'o', false, ""},
    {NULL, 0, 0, false, NULL},
};
static const struct flag_spec check[] = {
    {"tcp", FLAG_VALUE, 0, true, ""},
    {"icmp", FLAG_SWITCH, 0, false, ""},
    {"wait", FLAG_OPTIONAL_NUMBER, 0, false, ""},
    {NULL, 0, 0, false, NULL},
};

static int parse(struct args *a, struct error *err, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return args_parse(a, argc, argv, globals, check, err);
}

Test(args, flags_anywhere_repeatable_values_and_short_forms)
{
    char *argv[] = {"127.0.0.1", "--tcp",    "80",     "-ojson", "--tcp=443",
                    "--server",  "http://x", "--icmp", NULL};
    struct args a;
    struct error err = {0};
    cr_assert_eq(parse(&a, &err, argv), 0, "%s", err.detail);
    cr_assert_eq(a.npos, 1);
    cr_assert_str_eq(a.pos[0], "127.0.0.1");
    const char *tcp[4];
    cr_assert_eq(args_all(&a, "tcp", tcp, 4), 2);
    cr_assert_str_eq(tcp[0], "80");
    cr_assert_str_eq(tcp[1], "443");
    cr_assert_str_eq(args_get(&a, "output"), "json");
    cr_assert_str_eq(args_get(&a, "server"), "http://x");
    cr_assert(args_has(&a, "icmp"));
}

Test(args, optional_number_takes_the_next_word_only_when_it_is_a_number)
{
    char *with[] = {"--wait", "10", "ip", NULL};
    char *without[] = {"--wait", "ip", NULL};
    struct args a;
    struct error err = {0};
    cr_assert_eq(parse(&a, &err, with), 0);
    cr_assert_str_eq(args_get(&a, "wait"), "10");
    cr_assert_eq(a.npos, 1);
    cr_assert_eq(parse(&a, &err, without), 0);
    cr_assert(args_has(&a, "wait"));
    cr_assert_null(args_get(&a, "wait"));
    cr_assert_str_eq(a.pos[0], "ip");
}

Test(args, usage_errors_name_the_flag)
{
    struct args a;
    struct error err = {0};
    char *unknown[] = {"--tpc", "80", NULL};
    cr_assert_lt(parse(&a, &err, unknown), 0);
    cr_assert_str_eq(err.reason, "usage");
    cr_assert_str_eq(err.detail, "unknown flag --tpc");
    char *missing[] = {"--server", NULL};
    cr_assert_lt(parse(&a, &err, missing), 0);
    cr_assert_str_eq(err.detail, "--server needs a value");
    char *twice[] = {"-o", "json", "-o", "table", NULL};
    cr_assert_lt(parse(&a, &err, twice), 0);
    cr_assert_str_eq(err.detail, "--output given more than once");
    char *value[] = {"--icmp=yes", NULL};
    cr_assert_lt(parse(&a, &err, value), 0);
    cr_assert_str_eq(err.detail, "--icmp takes no value");
}

Test(args, double_dash_ends_the_flags)
{
    char *argv[] = {"--", "-o", NULL};
    struct args a;
    struct error err = {0};
    cr_assert_eq(parse(&a, &err, argv), 0);
    cr_assert_eq(a.npos, 1);
    cr_assert_str_eq(a.pos[0], "-o");
}

static char *rendered(void (*fn)(FILE *, const json_t *), const char *json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_t *v = json_loads(json, 0, NULL);
    cr_assert_not_null(v);
    fn(f, v);
    fclose(f);
    json_decref(v);
    return buf;
}

Test(render, pools_one_row_per_family_aligned_with_flags)
{
    char *got = rendered(
        render_pools,
        "[{\"name\":\"blue\",\"priority\":0,\"autoAssign\":false,\"status\":{"
        "\"ipv4\":{\"total\":\"358\",\"used\":\"3\",\"available\":\"355\",\"utilization\":0.0084},"
        "\"ipv6\":{\"total\":\"18446744073709551616\",\"used\":\"0\","
        "\"available\":\"18446744073709551616\",\"utilization\":0},"
        "\"warnings\":[{\"reason\":\"unroutable_block\"}]}}]");
    cr_assert_str_eq(got,
                     "NAME   FAMILY   TOTAL                  USED   AVAILABLE              UTIL   "
                     "PRIORITY   FLAGS            WARNINGS\n"
                     "blue   IPv4     358                    3      355                    0.8%   "
                     "0          no-auto-assign   1\n"
                     "blue   IPv6     18446744073709551616   0      18446744073709551616   0.0%   "
                     "0          no-auto-assign   1\n");
    free(got);
}

Test(render, address_holders_joined)
{
    char *got = rendered(render_address,
                         "{\"ip\":\"10.0.10.7\",\"family\":\"IPv4\",\"pool\":\"blue\","
                         "\"state\":\"allocated\",\"holders\":[{\"cluster\":\"c\","
                         "\"namespace\":\"kube-system\",\"service\":\"dns\"},{\"cluster\":\"c\","
                         "\"namespace\":\"kube-system\",\"service\":\"dns-tcp\"}],"
                         "\"lastCheck\":null}");
    cr_assert_str_eq(
        got, "IP          FAMILY   STATE       POOL   HOLDERS                                   "
             "LAST-CHECK\n"
             "10.0.10.7   IPv4     allocated   blue   "
             "c/kube-system/dns,c/kube-system/dns-tcp   -\n");
    free(got);
}

Test(render, selector_text_as_kubectl_prints_it)
{
    json_t *sel = json_loads("{\"matchLabels\":{\"color\":\"red\"},\"matchExpressions\":["
                             "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"web\",\"api\"]},"
                             "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"},"
                             "{\"key\":\"team\",\"operator\":\"Exists\"},"
                             "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"dev\"]}]}",
                             0, NULL);
    char *text = render_selector(sel);
    cr_assert_str_eq(text, "color=red,tier in (web,api),!legacy,team,env notin (dev)");
    free(text);
    json_decref(sel);
    text = render_selector(NULL);
    cr_assert_str_eq(text, "<none>");
    free(text);
}

Test(render, event_line_with_compact_data)
{
    char *got = rendered(render_event_line,
                         "{\"seq\":7,\"time\":\"2026-11-28T10:00:00Z\",\"actor\":\"admin\","
                         "\"action\":\"pool.created\",\"resource\":\"pools/blue\","
                         "\"data\":{\"name\":\"blue\"}}");
    cr_assert_str_eq(got,
                     "7 2026-11-28T10:00:00Z admin pool.created pools/blue {\"name\":\"blue\"}\n");
    free(got);
}
