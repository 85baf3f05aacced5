/* test_store_fixture.h - a fresh store in a temporary directory for each test, and small
 * builders for clusters, pools and allocation requests. Included by tests/unit/test_store_*.c
 * only; every helper is static inline so that a file may use any subset.
 */
#ifndef LBIPAM_TEST_STORE_FIXTURE_H
#define LBIPAM_TEST_STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "store/store.h"

static struct store *st;
static char tmpdir[PATH_MAX];
static char dbpath[PATH_MAX + 16];

static inline void fixture_dir(void)
{
    const char *base = getenv("LBIPAM_TEST_TMP");
    if (!base || !base[0])
        base = "/tmp";
    mkdir(base, 0700); /* the build's test-tmp may not exist yet */
    snprintf(tmpdir, sizeof(tmpdir), "%s/store-XXXXXX", base);
    cr_assert(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/lbipam.db", tmpdir);
}

static inline void fixture_rmdir(void)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[PATH_MAX + 32];
        snprintf(p, sizeof(p), "%s%s", dbpath, suffixes[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

static inline void store_setup(void)
{
    struct error err = {0};
    fixture_dir();
    struct store_options o = {.path = dbpath};
    int rc = store_open(&st, &o, &err);
    cr_assert_eq(rc, 0, "store_open: %s %s", err.reason, err.detail);
}

static inline void store_teardown(void)
{
    store_close(st);
    st = NULL;
    fixture_rmdir();
}

/* ------------------------------------------------------------------------ builders */

static inline struct netaddr ip(const char *text)
{
    struct netaddr a;
    struct error err;
    int rc = netaddr_parse(&a, text, NULL, &err);
    cr_assert_eq(rc, 0, "bad address %s in a test", text);
    return a;
}

static inline const char *ipstr(const struct netaddr *a)
{
    static __thread char buf[4][NETADDR_STRLEN];
    static __thread int i;
    i = (i + 1) % 4;
    netaddr_format(buf[i], a);
    return buf[i];
}

/* "10.0.0.0/24" (cidr), "10.0.0.5-10.0.0.9" (range) or "10.0.0.7" (single). */
static inline struct pool_block block(const char *text)
{
    struct pool_block b = {0};
    struct error err;
    char left[64];
    const char *dash = strchr(text, '-');
    if (strchr(text, '/')) {
        struct netprefix p;
        cr_assert_eq(netprefix_parse(&p, text, NULL, &err), 0, "bad prefix %s", text);
        b.form = BLOCK_CIDR;
        b.range = netprefix_range(&p);
        b.prefix_len = p.len;
    } else if (dash) {
        snprintf(left, sizeof(left), "%.*s", (int)(dash - text), text);
        struct netaddr a = ip(left), z = ip(dash + 1);
        b.form = BLOCK_RANGE;
        b.range = (struct netrange){.start = a.v, .stop = z.v, .family = a.family};
    } else {
        struct netaddr a = ip(text);
        b.form = BLOCK_SINGLE;
        b.range = (struct netrange){.start = a.v, .stop = a.v, .family = a.family};
    }
    return b;
}

/* A pool with default flags and the given blocks (NULL-terminated). */
static inline struct pool *pool_new(const char *name, ...)
{
    struct pool *p = xcalloc(1, sizeof(*p));
    va_list ap;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->description = xstrdup("");
    p->auto_assign = true;
    p->allow_first_last_ips = true;
    p->blocks = xcalloc(POOL_BLOCKS_MAX, sizeof(*p->blocks));
    va_start(ap, name);
    for (const char *t; (t = va_arg(ap, const char *));)
        p->blocks[p->nblocks++] = block(t);
    va_end(ap);
    return p;
}

static inline int pool_create_rc(struct pool *p, struct error *err)
{
    struct pool *out = NULL;
    int rc = store_pool_create(st, "test", p, &out, err);
    pool_free(out);
    return rc;
}

/* Creates the pool and frees the input. */
static inline void pool_create_ok(struct pool *p)
{
    struct error err = {0};
    int rc = pool_create_rc(p, &err);
    cr_assert_eq(rc, 0, "pool %s: %s: %s", p->name, err.reason, err.detail);
    pool_free(p);
}

static inline struct pool *pool_get_ok(const char *name)
{
    struct pool *p = NULL;
    struct error err = {0};
    cr_assert_eq(store_pool_get(st, name, &p, &err), 0, "pool get %s: %s", name, err.detail);
    return p;
}

static inline void count_is(struct netcount c, const char *want, const char *what)
{
    char text[NETCOUNT_STRLEN];
    netcount_format(text, c);
    cr_assert_str_eq(text, want, "%s is %s, want %s", what, text, want);
}

static inline void cluster_create_ok(const char *name, const char *label_key,
                                     const char *label_value)
{
    struct cluster c = {0};
    struct cluster *out = NULL;
    struct error err = {0};
    snprintf(c.name, sizeof(c.name), "%s", name);
    c.description = "";
    labels_init(&c.labels);
    if (label_key)
        labels_set(&c.labels, label_key, label_value);
    int rc = store_cluster_create(st, "test", &c, &out, &err);
    labels_cleanup(&c.labels);
    cluster_free(out);
    cr_assert_eq(rc, 0, "cluster %s: %s", name, err.detail);
}

/* An empty request (SingleStack IPv4). Clean up with alloc_request_cleanup. */
static inline void rq_init(struct alloc_request *rq)
{
    memset(rq, 0, sizeof(*rq));
    labels_init(&rq->labels);
    labels_init(&rq->pod_selector);
}

static inline void rq_request(struct alloc_request *rq, const char *addr)
{
    rq->requested = xrealloc(rq->requested, (rq->nrequested + 1) * sizeof(*rq->requested));
    rq->requested[rq->nrequested++] = ip(addr);
}

static inline void rq_prefer(struct alloc_request *rq, const char *addr)
{
    rq->preferred = xrealloc(rq->preferred, (rq->npreferred + 1) * sizeof(*rq->preferred));
    rq->preferred[rq->npreferred++] = ip(addr);
}

static inline void rq_port(struct alloc_request *rq, unsigned port, const char *proto)
{
    rq->ports = xrealloc(rq->ports, (rq->nports + 1) * sizeof(*rq->ports));
    rq->ports[rq->nports].port = (uint16_t)port;
    snprintf(rq->ports[rq->nports].protocol, sizeof(rq->ports[0].protocol), "%s", proto);
    rq->nports++;
}

static inline void rq_cross(struct alloc_request *rq, const char *ns)
{
    rq->cross_namespaces =
        xrealloc(rq->cross_namespaces, (rq->ncross_namespaces + 1) * sizeof(*rq->cross_namespaces));
    rq->cross_namespaces[rq->ncross_namespaces++] = xstrdup(ns);
}

static inline int put_rc(const char *cluster, const char *ns, const char *svc,
                         const struct alloc_request *rq, struct allocation **out, struct error *err)
{
    bool created;
    return store_allocation_put(st, "test", cluster, ns, svc, rq, -1, out, &created, err);
}

/* PUT that must succeed; returns the allocation (caller frees). */
static inline struct allocation *put_ok(const char *cluster, const char *ns, const char *svc,
                                        const struct alloc_request *rq)
{
    struct allocation *a = NULL;
    struct error err = {0};
    int rc = put_rc(cluster, ns, svc, rq, &a, &err);
    cr_assert_eq(rc, 0, "PUT %s/%s/%s: %s: %s", cluster, ns, svc, err.reason, err.detail);
    cr_assert_not_null(a);
    return a;
}

/* PUT of a plain SingleStack IPv4 request; returns the address as text. */
static inline const char *put_simple(const char *cluster, const char *ns, const char *svc)
{
    struct alloc_request rq;
    rq_init(&rq);
    struct allocation *a = put_ok(cluster, ns, svc, &rq);
    cr_assert_eq(a->naddrs, 1);
    const char *t = ipstr(&a->addrs[0].ip);
    allocation_free(a);
    alloc_request_cleanup(&rq);
    return t;
}

/* PUT that must fail with reason. */
static inline void put_fails(const char *cluster, const char *ns, const char *svc,
                             const struct alloc_request *rq, int code, const char *reason,
                             struct error *err)
{
    struct allocation *a = NULL;
    int rc = put_rc(cluster, ns, svc, rq, &a, err);
    cr_assert_eq(rc, code, "PUT %s/%s/%s: rc %d (%s: %s), want %d %s", cluster, ns, svc, rc,
                 err->reason, err->detail, code, reason);
    cr_assert_str_eq(err->reason, reason, "reason %s (%s), want %s", err->reason, err->detail,
                     reason);
    cr_assert_null(a);
}

static inline void delete_ok(const char *cluster, const char *ns, const char *svc)
{
    struct error err = {0};
    int rc = store_allocation_delete(st, "test", cluster, ns, svc, -1, &err);
    cr_assert_eq(rc, 0, "DELETE %s/%s/%s: %s", cluster, ns, svc, err.detail);
}

static inline enum address_state address_state(const char *addr, size_t *nholders)
{
    struct address_info *a = NULL;
    struct error err = {0};
    struct netaddr x = ip(addr);
    cr_assert_eq(store_address_get(st, &x, &a, &err), 0, "address %s: %s", addr, err.detail);
    enum address_state s = a->state;
    if (nholders)
        *nholders = a->nholders;
    address_info_free(a);
    return s;
}

#endif
