#include "clients/ctl/render.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clients/ctl/table.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"

/* A growing string for joined cells. */
struct sb {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sb *b, const char *text)
{
    size_t n = strlen(text);
    if (b->len + n + 1 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        while (b->cap < b->len + n + 1)
            b->cap *= 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
}

static void sb_sep(struct sb *b, const char *sep, const char *text)
{
    if (b->len > 0)
        sb_add(b, sep);
    sb_add(b, text);
}

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && s[0] ? s : "-";
}

/* A value of any type as cell text: strings as they are, numbers and booleans printed. */
static void cell_of(char *out, size_t cap, const json_t *v)
{
    if (json_is_string(v))
        snprintf(out, cap, "%s", json_string_value(v)[0] ? json_string_value(v) : "-");
    else if (json_is_integer(v))
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, cap, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, cap, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(out, cap, "-");
}

static char *join_strings(const json_t *arr, const char *sep)
{
    struct sb b = {0};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v))
            sb_sep(&b, sep, json_string_value(v));
    }
    if (!b.s)
        sb_add(&b, "-");
    return b.s;
}

static void percent(char *out, size_t cap, const json_t *util)
{
    if (json_is_number(util))
        snprintf(out, cap, "%.1f%%", 100.0 * json_number_value(util));
    else
        snprintf(out, cap, "-");
}

static bool flag(const json_t *obj, const char *key, bool dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static char *pool_flags(const json_t *pool)
{
    struct sb b = {0};
    if (flag(pool, "disabled", false))
        sb_sep(&b, ",", "disabled");
    if (!flag(pool, "autoAssign", true))
        sb_sep(&b, ",", "no-auto-assign");
    if (!flag(pool, "allowFirstLastIPs", true))
        sb_sep(&b, ",", "reserve-first-last");
    if (flag(pool, "avoidBuggyIPs", false))
        sb_sep(&b, ",", "avoid-buggy-ips");
    if (!b.s)
        sb_add(&b, "-");
    return b.s;
}

static const char *const family_keys[] = {"ipv4", "ipv6"};
static const char *const family_names[] = {"IPv4", "IPv6"};

void render_pools(FILE *f, const json_t *items)
{
    static const char *const h[] = {"NAME", "FAMILY",   "TOTAL", "USED",    "AVAILABLE",
                                    "UTIL", "PRIORITY", "FLAGS", "WARNINGS"};
    struct table *t = table_new(9, h);
    size_t i;
    json_t *pool;
    json_array_foreach(items, i, pool)
    {
        const json_t *status = json_object_get(pool, "status");
        char prio[32], util[32], warnings[32];
        char *flags = pool_flags(pool);
        bool any = false;
        cell_of(prio, sizeof(prio), json_object_get(pool, "priority"));
        snprintf(warnings, sizeof(warnings), "%zu",
                 json_array_size(json_object_get(status, "warnings")));
        for (size_t k = 0; k < 2; k++) {
            const json_t *fs = json_object_get(status, family_keys[k]);
            if (!fs)
                continue;
            any = true;
            percent(util, sizeof(util), json_object_get(fs, "utilization"));
            const char *row[] = {str(pool, "name"),
                                 family_names[k],
                                 str(fs, "total"),
                                 str(fs, "used"),
                                 str(fs, "available"),
                                 util,
                                 prio,
                                 flags,
                                 warnings};
            table_add(t, row);
        }
        if (!any) {
            const char *row[] = {str(pool, "name"), "-", "-", "-", "-", "-", prio, flags, warnings};
            table_add(t, row);
        }
        free(flags);
    }
    table_print(t, f);
    table_free(t);
}

void render_clusters(FILE *f, const json_t *items)
{
    static const char *const h[] = {
        "NAME", "ANNOUNCEMENT", "ALLOCATIONS", "ROUTABLE-PREFIXES", "NODE-SUBNETS", "LAST-SYNC"};
    struct table *t = table_new(6, h);
    size_t i;
    json_t *cl;
    json_array_foreach(items, i, cl)
    {
        const json_t *status = json_object_get(cl, "status");
        char allocs[32];
        char *prefixes = join_strings(json_object_get(cl, "routablePrefixes"), ",");
        char *subnets = join_strings(json_object_get(cl, "nodeSubnets"), ",");
        cell_of(allocs, sizeof(allocs), json_object_get(status, "allocations"));
        const char *row[] = {str(cl, "name"), str(cl, "announcement"),  allocs, prefixes,
                             subnets,         str(status, "lastSyncAt")};
        table_add(t, row);
        free(prefixes);
        free(subnets);
    }
    table_print(t, f);
    table_free(t);
}

/* "10.0.10.1,2001:db8::1" and the distinct pools "blue,green". */
static void allocation_cells(const json_t *alloc, char **ips, char **pools)
{
    struct sb a = {0}, p = {0};
    size_t i;
    json_t *addr;
    json_array_foreach(json_object_get(alloc, "addresses"), i, addr)
    {
        const char *pool = str(addr, "pool");
        sb_sep(&a, ",", str(addr, "ip"));
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen =
                seen || strcmp(str(json_array_get(json_object_get(alloc, "addresses"), j), "pool"),
                               pool) == 0;
        if (!seen)
            sb_sep(&p, ",", pool);
    }
    if (!a.s)
        sb_add(&a, "-");
    if (!p.s)
        sb_add(&p, "-");
    *ips = a.s;
    *pools = p.s;
}

static void condition_cell(char *out, size_t cap, const json_t *alloc)
{
    const json_t *cond = json_object_get(alloc, "condition");
    const char *status = json_string_value(json_object_get(cond, "status"));
    if (status && strcmp(status, "True") != 0)
        snprintf(out, cap, "%s (%s)", str(cond, "reason"), "not satisfied");
    else
        snprintf(out, cap, "%s", str(cond, "reason"));
}

static void allocations_table(FILE *f, const json_t *items, int indent)
{
    static const char *const h[] = {"CLUSTER",   "NAMESPACE", "SERVICE",
                                    "ADDRESSES", "POOL",      "CONDITION"};
    struct table *t = table_new(6, h);
    size_t i;
    json_t *alloc;
    json_array_foreach(items, i, alloc)
    {
        char *ips, *pools, cond[128];
        allocation_cells(alloc, &ips, &pools);
        condition_cell(cond, sizeof(cond), alloc);
        const char *row[] = {str(alloc, "cluster"),
                             str(alloc, "namespace"),
                             str(alloc, "service"),
                             ips,
                             pools,
                             cond};
        table_add(t, row);
        free(ips);
        free(pools);
    }
    table_print_indented(t, f, indent);
    table_free(t);
}

void render_allocations(FILE *f, const json_t *items)
{
    allocations_table(f, items, 0);
}

void render_address(FILE *f, const json_t *address)
{
    static const char *const h[] = {"IP", "FAMILY", "STATE", "POOL", "HOLDERS", "LAST-CHECK"};
    struct table *t = table_new(6, h);
    struct sb holders = {0};
    size_t i;
    json_t *hd;
    const json_t *last = json_object_get(address, "lastCheck");
    json_array_foreach(json_object_get(address, "holders"), i, hd)
    {
        char id[3 * 64 + 3];
        snprintf(id, sizeof(id), "%s/%s/%s", str(hd, "cluster"), str(hd, "namespace"),
                 str(hd, "service"));
        sb_sep(&holders, ",", id);
    }
    const char *row[] = {
        str(address, "ip"),          str(address, "family"),
        str(address, "state"),       str(address, "pool"),
        holders.s ? holders.s : "-", json_is_object(last) ? str(last, "state") : "-"};
    table_add(t, row);
    table_print(t, f);
    table_free(t);
    free(holders.s);
}

/* ---- describe -------------------------------------------------------------------------- */

static void expr_text(struct sb *b, const json_t *e)
{
    const char *op = str(e, "operator"), *key = str(e, "key");
    char *values = join_strings(json_object_get(e, "values"), ",");
    char *text;
    if (strcmp(op, "Exists") == 0)
        text = xstrdup(key);
    else if (strcmp(op, "DoesNotExist") == 0)
        text = xasprintf("!%s", key);
    else
        text = xasprintf("%s %s (%s)", key, strcmp(op, "In") == 0 ? "in" : "notin", values);
    sb_sep(b, ",", text);
    free(text);
    free(values);
}

char *render_selector(const json_t *selector)
{
    struct sb b = {0};
    const char *key;
    json_t *v;
    size_t i;
    json_object_foreach((json_t *)json_object_get(selector, "matchLabels"), key, v)
    {
        char *text = xasprintf("%s=%s", key, json_is_string(v) ? json_string_value(v) : "?");
        sb_sep(&b, ",", text);
        free(text);
    }
    json_array_foreach(json_object_get(selector, "matchExpressions"), i, v)
    {
        expr_text(&b, v);
    }
    if (!b.s)
        sb_add(&b, "<none>");
    return b.s;
}

static char *labels_text(const json_t *labels)
{
    struct sb b = {0};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)labels, key, v)
    {
        char *text = xasprintf("%s=%s", key, json_is_string(v) ? json_string_value(v) : "?");
        sb_sep(&b, ",", text);
        free(text);
    }
    if (!b.s)
        sb_add(&b, "<none>");
    return b.s;
}

static void field_line(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%-22s%s\n", name, value && value[0] ? value : "-");
}

static void field_value(FILE *f, const char *name, const json_t *v)
{
    char cell[256];
    cell_of(cell, sizeof(cell), v);
    field_line(f, name, cell);
}

/* One block: its text, family and exact size, computed with lib/netaddr. */
static void block_row(struct table *t, const json_t *b)
{
    const char *cidr = json_string_value(json_object_get(b, "cidr"));
    const char *start = json_string_value(json_object_get(b, "start"));
    const char *stop = json_string_value(json_object_get(b, "stop"));
    struct netrange r = {0};
    struct netprefix p;
    struct netaddr a = {0}, z = {0};
    char text[NETRANGE_STRLEN + NETPREFIX_STRLEN], size[NETCOUNT_STRLEN] = "-";
    const char *family = "-";
    bool ok = false;
    if (cidr) {
        snprintf(text, sizeof(text), "%s", cidr);
        if ((ok = netprefix_parse(&p, cidr, "", NULL) == 0))
            r = netprefix_range(&p);
    } else if (start) {
        snprintf(text, sizeof(text), "%s%s%s", start, stop ? "-" : "", stop ? stop : "");
        ok = netaddr_parse(&a, start, "", NULL) == 0 &&
             netaddr_parse(&z, stop ? stop : start, "", NULL) == 0;
        r = (struct netrange){.start = a.v, .stop = z.v, .family = a.family};
    } else {
        snprintf(text, sizeof(text), "-");
    }
    if (ok) {
        netcount_format(size, netrange_size(&r));
        family = netaddr_family_name(r.family);
    }
    const char *row[] = {text, family, size};
    table_add(t, row);
}

static void print_blocks(FILE *f, const json_t *blocks)
{
    static const char *const h[] = {"BLOCK", "FAMILY", "ADDRESSES"};
    struct table *t = table_new(3, h);
    size_t i;
    json_t *b;
    json_array_foreach(blocks, i, b)
    {
        block_row(t, b);
    }
    fprintf(f, "Blocks:\n");
    table_print_indented(t, f, 2);
    table_free(t);
}

static void print_utilization(FILE *f, const json_t *status)
{
    static const char *const h[] = {"FAMILY", "TOTAL", "USED", "AVAILABLE", "UTIL"};
    struct table *t = table_new(5, h);
    for (size_t k = 0; k < 2; k++) {
        const json_t *fs = json_object_get(status, family_keys[k]);
        char util[32];
        if (!fs)
            continue;
        percent(util, sizeof(util), json_object_get(fs, "utilization"));
        const char *row[] = {family_names[k], str(fs, "total"), str(fs, "used"),
                             str(fs, "available"), util};
        table_add(t, row);
    }
    fprintf(f, "Utilization:\n");
    table_print_indented(t, f, 2);
    table_free(t);
}

static void print_warnings(FILE *f, const json_t *warnings)
{
    size_t i;
    json_t *w;
    if (json_array_size(warnings) == 0) {
        field_line(f, "Warnings:", "<none>");
        return;
    }
    fprintf(f, "Warnings:\n");
    json_array_foreach(warnings, i, w)
    {
        char *uncovered = join_strings(json_object_get(w, "uncovered"), ", ");
        fprintf(f, "  %s: %s\n    cluster %s, uncovered: %s\n", str(w, "reason"), str(w, "detail"),
                str(w, "cluster"), uncovered);
        free(uncovered);
    }
}

static void print_allocations(FILE *f, const json_t *allocations)
{
    if (!allocations)
        return;
    if (json_array_size(allocations) == 0) {
        field_line(f, "Allocations:", "<none>");
        return;
    }
    fprintf(f, "Allocations:\n");
    allocations_table(f, allocations, 2);
}

void render_pool_describe(FILE *f, const json_t *pool, const json_t *allocations)
{
    const json_t *status = json_object_get(pool, "status");
    char *labels = labels_text(json_object_get(pool, "labels"));
    char *svc = render_selector(json_object_get(pool, "serviceSelector"));
    char *cl = render_selector(json_object_get(pool, "clusterSelector"));
    field_line(f, "Name:", str(pool, "name"));
    field_line(f, "Description:", str(pool, "description"));
    field_line(f, "Labels:", labels);
    field_value(f, "Priority:", json_object_get(pool, "priority"));
    field_value(f, "Auto assign:", json_object_get(pool, "autoAssign"));
    field_value(f, "Disabled:", json_object_get(pool, "disabled"));
    field_value(f, "Allow first/last IPs:", json_object_get(pool, "allowFirstLastIPs"));
    field_value(f, "Avoid buggy IPs:", json_object_get(pool, "avoidBuggyIPs"));
    field_line(f, "Service selector:", svc);
    field_line(f, "Cluster selector:", cl);
    field_line(f, "Created:", str(pool, "createdAt"));
    field_line(f, "Updated:", str(pool, "updatedAt"));
    print_blocks(f, json_object_get(pool, "blocks"));
    print_utilization(f, status);
    print_warnings(f, json_object_get(status, "warnings"));
    print_allocations(f, allocations);
    free(labels);
    free(svc);
    free(cl);
}

void render_cluster_describe(FILE *f, const json_t *cluster, const json_t *allocations)
{
    const json_t *status = json_object_get(cluster, "status");
    char *labels = labels_text(json_object_get(cluster, "labels"));
    char *prefixes = join_strings(json_object_get(cluster, "routablePrefixes"), ", ");
    char *subnets = join_strings(json_object_get(cluster, "nodeSubnets"), ", ");
    field_line(f, "Name:", str(cluster, "name"));
    field_line(f, "Description:", str(cluster, "description"));
    field_line(f, "Labels:", labels);
    field_line(f, "Announcement:", str(cluster, "announcement"));
    field_line(f, "Routable prefixes:", prefixes);
    field_line(f, "Node subnets:", subnets);
    field_value(f, "Allocations count:", json_object_get(status, "allocations"));
    field_line(f, "Last sync:", str(status, "lastSyncAt"));
    field_line(f, "Created:", str(cluster, "createdAt"));
    field_line(f, "Updated:", str(cluster, "updatedAt"));
    print_allocations(f, allocations);
    free(labels);
    free(prefixes);
    free(subnets);
}

/* ---- checks, advertisements, events ---------------------------------------------------- */

static void print_routes(FILE *f, const json_t *routes)
{
    static const char *const h[] = {"IP", "VERDICT", "MECHANISM", "MATCHED-PREFIX", "DETAIL"};
    struct table *t = table_new(5, h);
    size_t i;
    json_t *r;
    json_array_foreach(routes, i, r)
    {
        const char *row[] = {str(r, "ip"), str(r, "verdict"), str(r, "mechanism"),
                             str(r, "matchedPrefix"), str(r, "detail")};
        table_add(t, row);
    }
    table_print(t, f);
    table_free(t);
}

static void print_results(FILE *f, const json_t *results)
{
    static const char *const h[] = {"IP", "PROBE", "PORT", "OK", "LATENCY", "ERROR"};
    struct table *t = table_new(6, h);
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
    {
        char port[64], ok[8], latency[64];
        const json_t *lat = json_object_get(r, "latencyMs");
        cell_of(port, sizeof(port), json_object_get(r, "port"));
        const char *path = json_string_value(json_object_get(r, "path"));
        if (path && strcmp(port, "-") != 0)
            snprintf(port + strlen(port), sizeof(port) - strlen(port), "%s", path);
        snprintf(ok, sizeof(ok), "%s", flag(r, "ok", false) ? "yes" : "no");
        if (json_is_number(lat))
            snprintf(latency, sizeof(latency), "%.1fms", json_number_value(lat));
        else
            snprintf(latency, sizeof(latency), "-");
        const char *row[] = {str(r, "ip"), str(r, "type"), port, ok, latency, str(r, "error")};
        table_add(t, row);
    }
    table_print(t, f);
    table_free(t);
}

void render_check(FILE *f, const json_t *check)
{
    const json_t *target = json_object_get(check, "target");
    const char *what = json_string_value(json_object_get(target, "ip"));
    if (!what)
        what = str(target, "allocation");
    fprintf(f, "check %s: %s (target %s)\n", str(check, "id"), str(check, "state"), what);
    if (json_array_size(json_object_get(check, "routes")) > 0) {
        fprintf(f, "\n");
        print_routes(f, json_object_get(check, "routes"));
    }
    if (json_array_size(json_object_get(check, "results")) > 0) {
        fprintf(f, "\n");
        print_results(f, json_object_get(check, "results"));
    }
}

void render_advertisements(FILE *f, const json_t *adv)
{
    static const char *const h[] = {"KIND", "VALUE"};
    struct table *t = table_new(2, h);
    static const char *const lists[] = {"prefixes", "addresses"};
    static const char *const kinds[] = {"prefix", "address"};
    fprintf(f, "cluster %s (announcement %s)\n\n", str(adv, "cluster"), str(adv, "announcement"));
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(adv, lists[k]), i, v)
        {
            const char *row[] = {kinds[k], json_is_string(v) ? json_string_value(v) : "-"};
            table_add(t, row);
        }
    }
    table_print(t, f);
    table_free(t);
}

void render_event_line(FILE *f, const json_t *event)
{
    char seq[64], resource[512];
    const json_t *res = json_object_get(event, "resource"), *data = json_object_get(event, "data");
    cell_of(seq, sizeof(seq), json_object_get(event, "seq"));
    if (json_is_object(res) || json_is_array(res)) {
        char *s = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(resource, sizeof(resource), "%s", s);
        free(s);
    } else {
        cell_of(resource, sizeof(resource), res);
    }
    fprintf(f, "%s %s %s %s %s", seq, str(event, "time"), str(event, "actor"), str(event, "action"),
            resource);
    if (data && !json_is_null(data)) {
        char *s = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fprintf(f, " %s", s);
        free(s);
    }
    fprintf(f, "\n");
}
