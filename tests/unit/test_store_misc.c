/* Opening and migrations, clusters, allocation lists, idempotency records. */
#include <sqlite3.h>

#include "test_store_fixture.h"

TestSuite(store, .init = store_setup, .fini = store_teardown);

/* ------------------------------------------------------------------ open, migrations */

static size_t read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "open %s", path);
    size_t cap = 1 << 16, n = 0;
    *out = xmalloc(cap);
    for (size_t got; (got = fread(*out + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap)
            *out = xrealloc(*out, cap *= 2);
    }
    fclose(f);
    return n;
}

Test(store, schema_version_is_applied_and_reopen_keeps_data)
{
    cr_assert_geq(store_schema_version(), 1);
    cr_assert(store_ready(st));
    cluster_create_ok("c1", NULL, NULL);
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    put_simple("c1", "ns", "a");
    store_close(st);
    struct store_options o = {.path = dbpath, .synchronous_normal = true, .read_connections = 2};
    struct error err = {0};
    cr_assert_eq(store_open(&st, &o, &err), 0, "%s", err.detail);
    cr_assert_eq(address_state("10.0.0.0", NULL), ADDRESS_ALLOCATED);
    cr_assert_str_eq(put_simple("c1", "ns", "b"), "10.0.0.1");
}

Test(store, newer_schema_is_refused_and_the_file_is_unchanged)
{
    cluster_create_ok("c1", NULL, NULL);
    store_close(st);
    st = NULL;
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    char sql[64];
    int newer = store_schema_version() + 41;
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", newer);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);

    char *before = NULL, *after = NULL;
    size_t nbefore = read_file(dbpath, &before);
    struct store_options o = {.path = dbpath};
    struct error err = {0};
    cr_assert_eq(store_open(&st, &o, &err), ERR_INTERNAL);
    cr_assert_null(st);
    cr_assert_str_eq(err.reason, "schema_too_new");
    char want[160];
    snprintf(want, sizeof(want),
             "database schema version %d is newer than this lbipamd (%d); upgrade lbipamd", newer,
             store_schema_version());
    cr_assert_str_eq(err.detail, want);
    size_t nafter = read_file(dbpath, &after);
    cr_assert_eq(nafter, nbefore);
    cr_assert(memcmp(before, after, nbefore) == 0, "the database file changed");
    free(before);
    free(after);
}

Test(store, missing_directory_is_store_unavailable)
{
    struct store *other = NULL;
    struct store_options o = {.path = "/nonexistent-dir-lbipam/x.db"};
    struct error err = {0};
    cr_assert_eq(store_open(&other, &o, &err), ERR_UNAVAILABLE);
    cr_assert_str_eq(err.reason, "store_unavailable");
    cr_assert_null(other);
}

/* -------------------------------------------------------------------------- clusters */

Test(store, cluster_lifecycle)
{
    struct cluster c = {0}, *out = NULL;
    struct error err = {0};
    snprintf(c.name, sizeof(c.name), "prod-eu-1");
    c.description = "Frankfurt";
    labels_init(&c.labels);
    labels_set(&c.labels, "region", "eu");
    c.announcement = ANNOUNCE_BGP;
    struct netprefix pfx[2];
    cr_assert_eq(netprefix_parse(&pfx[0], "10.0.0.0/16", NULL, &err), 0);
    cr_assert_eq(netprefix_parse(&pfx[1], "2001:db8:100::/48", NULL, &err), 0);
    c.routable = pfx;
    c.nroutable = 2;
    cr_assert_eq(store_cluster_create(st, "test", &c, &out, &err), 0, "%s", err.detail);
    cr_assert_eq(out->version, 1);
    cr_assert_eq(out->nroutable, 2);
    cr_assert_eq(out->routable[1].len, 48);
    cr_assert_str_eq(out->description, "Frankfurt");
    cluster_free(out);
    cr_assert_eq(store_cluster_create(st, "test", &c, &out, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "already_exists");

    /* identical replace: no new version */
    cr_assert_eq(store_cluster_replace(st, "test", &c, 1, &out, &err), 0, "%s", err.detail);
    cr_assert_eq(out->version, 1);
    cluster_free(out);
    c.announcement = ANNOUNCE_L2;
    cr_assert_eq(store_cluster_replace(st, "test", &c, 3, &out, &err), ERR_PRECONDITION);
    cr_assert_eq(store_cluster_replace(st, "test", &c, 1, &out, &err), 0, "%s", err.detail);
    cr_assert_eq(out->version, 2);
    cr_assert_eq(out->announcement, ANNOUNCE_L2);
    cluster_free(out);

    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    put_simple("prod-eu-1", "ns", "a");
    cr_assert_eq(store_cluster_get(st, "prod-eu-1", &out, &err), 0);
    cr_assert_eq(out->allocations, 1);
    cr_assert_eq(out->version, 2);
    cluster_free(out);
    cr_assert_eq(store_cluster_delete(st, "test", "prod-eu-1", -1, &err), ERR_CONFLICT);
    cr_assert_str_eq(err.reason, "cluster_in_use");
    delete_ok("prod-eu-1", "ns", "a");
    cr_assert_eq(store_cluster_delete(st, "test", "prod-eu-1", 2, &err), 0, "%s", err.detail);
    cr_assert_eq(store_cluster_get(st, "prod-eu-1", &out, &err), ERR_NOTFOUND);
    labels_cleanup(&c.labels);
}

Test(store, cluster_list_pages)
{
    const char *names[] = {"c", "a", "b"};
    for (int i = 0; i < 3; i++)
        cluster_create_ok(names[i], NULL, NULL);
    struct cluster_list l;
    struct error err = {0};
    struct store_page page = {.limit = 2};
    cr_assert_eq(store_cluster_list(st, &page, &l, &err), 0);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.items[0]->name, "a");
    cr_assert_str_eq(l.next, "b");
    cluster_list_cleanup(&l);
    page.after = "b";
    cr_assert_eq(store_cluster_list(st, &page, &l, &err), 0);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.items[0]->name, "c");
    cr_assert_str_eq(l.next, "");
    cluster_list_cleanup(&l);
}

/* ------------------------------------------------------------------ allocation lists */

static void put_full(const char *cluster, const char *ns, const char *svc, const char *pool,
                     const char *key, const char *managed_by)
{
    struct alloc_request rq;
    rq_init(&rq);
    rq.pool = pool ? xstrdup(pool) : NULL;
    rq.sharing_key = key ? xstrdup(key) : NULL;
    rq.managed_by = managed_by ? xstrdup(managed_by) : NULL;
    rq_port(&rq, (unsigned)(strlen(svc) * 7 + (unsigned char)svc[0]), "TCP");
    struct allocation *a = put_ok(cluster, ns, svc, &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);
}

static size_t list_all(const struct allocation_filter *f, int limit, char *keys, size_t cap)
{
    struct allocation_list l;
    struct error err = {0};
    char after[STORE_CURSOR_MAX] = "";
    struct store_page page = {.limit = limit, .after = after};
    size_t total = 0;
    keys[0] = '\0';
    for (int rounds = 0; rounds < 100; rounds++) {
        cr_assert_eq(store_allocation_list(st, f, &page, &l, &err), 0, "%s", err.detail);
        for (size_t i = 0; i < l.n; i++) {
            size_t len = strlen(keys);
            snprintf(keys + len, cap - len, "%s%s/%s/%s", total ? " " : "", l.items[i]->cluster,
                     l.items[i]->namespace, l.items[i]->service);
            total++;
        }
        snprintf(after, sizeof(after), "%s", l.next);
        allocation_list_cleanup(&l);
        if (!after[0])
            break;
    }
    return total;
}

Test(store, allocation_list_pages_and_filters)
{
    cluster_create_ok("c1", NULL, NULL);
    cluster_create_ok("c2", NULL, NULL);
    pool_create_ok(pool_new("blue", "10.0.0.0/24", NULL));
    pool_create_ok(pool_new("green", "10.0.1.0/24", "2001:db8::/64", NULL));
    put_full("c2", "ns", "a", NULL, NULL, NULL);
    put_full("c1", "ns", "b", NULL, "k", "lbipam-sync");
    put_full("c1", "ns", "a", "green", "k", NULL);
    put_full("c1", "kube", "z", NULL, NULL, "lbipam-sync");
    put_full("c1", "ns", "c", NULL, "k", NULL); /* shares with c1/ns/b */
    struct alloc_request rq;
    rq_init(&rq);
    rq.nfamilies = 1;
    rq.families[0] = NETADDR_V6;
    struct allocation *a = put_ok("c1", "v6", "a", &rq);
    allocation_free(a);
    alloc_request_cleanup(&rq);

    char keys[1024];
    cr_assert_eq(list_all(NULL, 2, keys, sizeof(keys)), 6);
    cr_assert_str_eq(keys, "c1/kube/z c1/ns/a c1/ns/b c1/ns/c c1/v6/a c2/ns/a");
    cr_assert_eq(list_all(NULL, 1000, keys, sizeof(keys)), 6);

    struct allocation_filter f = {.cluster = "c1", .namespace = "ns"};
    cr_assert_eq(list_all(&f, 1, keys, sizeof(keys)), 3);
    cr_assert_str_eq(keys, "c1/ns/a c1/ns/b c1/ns/c");
    f = (struct allocation_filter){.pool = "green"};
    cr_assert_eq(list_all(&f, 10, keys, sizeof(keys)), 2);
    cr_assert_str_eq(keys, "c1/ns/a c1/v6/a");
    f = (struct allocation_filter){.family = NETADDR_V6};
    cr_assert_eq(list_all(&f, 10, keys, sizeof(keys)), 1);
    f = (struct allocation_filter){.sharing_key = "k"};
    cr_assert_eq(list_all(&f, 10, keys, sizeof(keys)), 3);
    f = (struct allocation_filter){.managed_by = "lbipam-sync"};
    cr_assert_eq(list_all(&f, 10, keys, sizeof(keys)), 2);
    f = (struct allocation_filter){.has_ip = true, .ip = ip("10.0.0.1")};
    cr_assert_eq(list_all(&f, 10, keys, sizeof(keys)), 2);
    cr_assert_str_eq(keys, "c1/ns/b c1/ns/c");
    f = (struct allocation_filter){.pool = "nope"};
    cr_assert_eq(list_all(&f, 10, keys, sizeof(keys)), 0);

    struct allocation_list l;
    struct error err = {0};
    struct store_page page = {.limit = 10, .after = "garbage"};
    cr_assert_eq(store_allocation_list(st, NULL, &page, &l, &err), ERR_BAD_REQUEST);
    cr_assert_str_eq(err.reason, "invalid_cursor");
}

/* ---------------------------------------------------------------------- idempotency */

Test(store, idempotency_record_first_one_wins)
{
    struct idempotency_record r = {.status = 201,
                                   .content_type = "application/json",
                                   .location = "/v1/pools/blue",
                                   .body = "{\"name\":\"blue\"}"};
    snprintf(r.request_hash, sizeof(r.request_hash), "%064d", 1);
    struct idempotency_record *got = NULL;
    struct error err = {0};
    cr_assert_eq(store_idempotency_get(st, "tok POST /v1/pools", "k1", &got, &err), ERR_NOTFOUND);
    cr_assert_eq(store_idempotency_put(st, "tok POST /v1/pools", "k1", &r, &err), 0);
    struct idempotency_record r2 = r;
    r2.status = 409;
    r2.location = NULL;
    cr_assert_eq(store_idempotency_put(st, "tok POST /v1/pools", "k1", &r2, &err), 0);
    cr_assert_eq(store_idempotency_get(st, "tok POST /v1/pools", "k1", &got, &err), 0);
    cr_assert_eq(got->status, 201);
    cr_assert_str_eq(got->location, "/v1/pools/blue");
    cr_assert_str_eq(got->body, "{\"name\":\"blue\"}");
    cr_assert_str_eq(got->request_hash, r.request_hash);
    idempotency_record_free(got);
    /* another scope does not see it */
    cr_assert_eq(store_idempotency_get(st, "other POST /v1/pools", "k1", &got, &err), ERR_NOTFOUND);
}

/* ------------------------------------------------------------------------- full disk */

#include "store/store_int.h"

static int set_max_pages(struct conn *c, void *arg, struct error *err)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", *(int *)arg);
    int src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return src == SQLITE_OK ? 0 : db_fail(c, src, err);
}

static int page_count(struct conn *c, void *arg, struct error *err)
{
    (void)err;
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(c->db, "PRAGMA page_count", -1, &s, NULL);
    *(int *)arg = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    return 0;
}

Test(store, full_disk_is_store_unavailable_and_changes_nothing)
{
    cluster_create_ok("c1", NULL, NULL);
    pool_create_ok(pool_new("blue", "10.0.0.0/16", NULL));
    struct error err = {0};
    int pages = 0;
    cr_assert_eq(store_write(st, page_count, &pages, &err), 0);
    cr_assert_eq(store_write(st, set_max_pages, &pages, &err), 0);
    /* big descriptions fill the few free pages quickly */
    struct alloc_request rq;
    rq_init(&rq);
    rq.description = xcalloc(1, 3000);
    memset(rq.description, 'x', 2999);
    int rc = 0;
    char svc[32];
    int i = 0;
    for (; i < 1000 && rc == 0; i++) {
        struct allocation *a = NULL;
        snprintf(svc, sizeof(svc), "s%d", i);
        rc = put_rc("c1", "ns", svc, &rq, &a, &err);
        allocation_free(a);
    }
    cr_assert_eq(rc, ERR_UNAVAILABLE, "rc %d %s", rc, err.detail);
    cr_assert_str_eq(err.reason, "store_unavailable");
    cr_assert(strstr(err.detail, "full"), "%s", err.detail);
    cr_assert_not(store_ready(st));
    struct allocation *none = NULL;
    cr_assert_eq(store_allocation_get(st, "c1", "ns", svc, &none, &err), ERR_NOTFOUND);
    /* room again: writes work and readiness comes back */
    int roomy = 1 << 20;
    cr_assert_eq(store_write(st, set_max_pages, &roomy, &err), 0);
    struct allocation *a = put_ok("c1", "ns", svc, &rq);
    allocation_free(a);
    cr_assert(store_ready(st));
    alloc_request_cleanup(&rq);
}
