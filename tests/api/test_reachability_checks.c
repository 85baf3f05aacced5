/* Reachability checks (api.md §6): probes against loopback only. Each test starts what it
 * probes itself on 127.0.0.1 (a tiny HTTP responder, a server that never answers), and the
 * test pools live in 127.0.0.0/8. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/api/harness.h"

HARNESS_SUITE(reachability_checks);

/* ------------------------------------------------------------- loopback peers we control */

struct peer {
    int fd;
    unsigned port;
    int status; /* HTTP status to answer; 0: accept and never answer */
    pthread_t thread;
};

static int listen_loopback(unsigned *port, int backlog)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    cr_assert(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    cr_assert(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    cr_assert(listen(fd, backlog) == 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    *port = ntohs(sin.sin_port);
    return fd;
}

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    for (;;) {
        int c = accept(p->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[2048];
        if (p->status == 0)
            continue; /* keep it open, say nothing: the client must time out */
        (void)!read(c, buf, sizeof(buf));
        char reply[128];
        int n = snprintf(reply, sizeof(reply),
                         "HTTP/1.1 %d Test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                         p->status);
        (void)!write(c, reply, (size_t)n);
        close(c);
    }
}

/* A responder on 127.0.0.1 answering every request with `status` (0: never answers). The
 * process ends with the test, which closes everything. */
static unsigned peer_start(int status)
{
    struct peer *p = calloc(1, sizeof(*p));
    p->status = status;
    p->fd = listen_loopback(&p->port, 64);
    pthread_create(&p->thread, NULL, peer_main, p);
    pthread_detach(p->thread);
    return p->port;
}

/* A loopback port nobody listens on. */
static unsigned closed_port(void)
{
    unsigned port;
    int fd = listen_loopback(&port, 1);
    close(fd);
    return port;
}

static void lab_setup(const char *ports_json)
{
    struct resp *r =
        http("POST", "/v1/clusters",
             "{'name':'lab','announcement':'bgp','routablePrefixes':['127.0.0.0/25']}");
    assert_status(r, 201);
    pool_create("{'name':'lo','blocks':[{'cidr':'127.0.0.0/24'}]}");
    assert_str(NULL,
               alloc_ip("lab/default/api", S("{'requestedIPs':['127.0.0.1'],'ports':%s}",
                                             ports_json ? ports_json : "[]")),
               "127.0.0.1");
}

static struct resp *check_wait(const char *body)
{
    struct resp *r = http("POST", "/v1/reachability-checks", body, "Prefer: wait=10");
    assert_status(r, 201);
    return r;
}

/* --------------------------------------------------------------------------- the tests */

Test(reachability_checks, closed_port_fails_with_connection_refused)
{
    lab_setup(NULL);
    unsigned port = closed_port();
    struct resp *r =
        check_wait(S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp','port':%u}]}", port));
    assert_true(r, r->location && strstr(r->location, "/v1/reachability-checks/"), "Location");
    assert_str(r, jstr(r->json, "/state"), "failed");
    assert_str(r, jstr(r->json, "/results/0/type"), "tcp");
    assert_true(r, json_is_false(jget(r->json, "/results/0/ok")), "ok false");
    assert_str(r, jstr(r->json, "/results/0/error"), "connection refused");
    assert_true(r, jis_null(r->json, "/results/0/latencyMs"), "no latency");
    assert_str(r, jstr(r->json, "/routes/0/verdict"), "routable");
    assert_str(r, jstr(r->json, "/routes/0/matchedPrefix"), "127.0.0.0/25");
    assert_true(r, !jis_null(r->json, "/finishedAt"), "finishedAt set");
}

Test(reachability_checks, http_status_mismatch_names_both_codes)
{
    lab_setup(NULL);
    unsigned port = peer_start(503);
    struct resp *r = check_wait(S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'http',"
                                  "'port':%u,'path':'/healthz','expectStatus':200}]}",
                                  port));
    assert_str(r, jstr(r->json, "/state"), "failed");
    assert_str(r, jstr(r->json, "/results/0/error"), "expected status 200, got 503");
    assert_str(r, jstr(r->json, "/results/0/path"), "/healthz");
    /* the same responder passes when 503 is what is expected */
    r = check_wait(S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'http','port':%u,"
                     "'expectStatus':503},{'type':'tcp','port':%u}]}",
                     port, port));
    assert_str(r, jstr(r->json, "/state"), "passed");
    assert_true(r, json_is_number(jget(r->json, "/results/0/latencyMs")), "latency measured");
}

Test(reachability_checks, a_silent_peer_times_out_within_the_bound)
{
    lab_setup(NULL);
    unsigned port = peer_start(0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct resp *r = check_wait(S("{'target':{'ip':'127.0.0.1'},'timeoutMs':300,"
                                  "'probes':[{'type':'http','port':%u}]}",
                                  port));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_str(r, jstr(r->json, "/state"), "failed");
    assert_str(r, jstr(r->json, "/results/0/error"), "timeout: no answer within 300 ms");
    /* the 300 ms probe timeout ended it, not the 10 s Prefer: wait (bound generous: CI is
     * shared and noisy) */
    assert_true(r, ms < 8000, "answered after %.0f ms", ms);
}

Test(reachability_checks, icmp_to_loopback_passes_or_names_the_privilege)
{
    lab_setup(NULL);
    struct resp *r =
        check_wait("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'icmp'}],'timeoutMs':1000}");
    const char *err = jstr(r->json, "/results/0/error");
    if (json_is_true(jget(r->json, "/results/0/ok")))
        assert_str(r, jstr(r->json, "/state"), "passed");
    else
        assert_str(r, err, "icmp needs CAP_NET_RAW");
}

Test(reachability_checks, without_prefer_the_check_is_pending_and_finishes_later)
{
    lab_setup(NULL);
    unsigned port = peer_start(200);
    struct resp *r =
        http("POST", "/v1/reachability-checks",
             S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp','port':%u}]}", port));
    assert_status(r, 201);
    assert_str(r, jstr(r->json, "/state"), "pending");
    assert_true(r, jis_null(r->json, "/results/0/ok"), "no result yet");
    const char *loc = r->location;
    for (int i = 0; i < 100; i++) {
        r = http("GET", loc, NULL);
        assert_status(r, 200);
        if (strcmp(jstr(r->json, "/state"), "passed") == 0)
            break;
        usleep(50 * 1000);
    }
    assert_str(r, jstr(r->json, "/state"), "passed");
}

Test(reachability_checks, default_probes_follow_the_allocation_ports)
{
    unsigned port = peer_start(200);
    lab_setup(S("[{'port':%u,'protocol':'TCP'},{'port':53,'protocol':'UDP'}]", port));
    struct resp *r = check_wait("{'target':{'allocation':'lab/default/api'}}");
    assert_str(r, jstr(r->json, "/target/allocation"), "lab/default/api");
    assert_true(r, jlen(r->json, "/results") == 1, "one tcp probe (UDP ports are not probed)");
    assert_str(r, jstr(r->json, "/results/0/type"), "tcp");
    assert_true(r, jint(r->json, "/results/0/port", 0) == port, "the allocation's TCP port");
    assert_str(r, jstr(r->json, "/state"), "passed");
    /* no TCP port: icmp */
    assert_status(alloc_put("lab/default/dns", "{'requestedIPs':['127.0.0.2']}"), 201);
    r = check_wait("{'target':{'allocation':'lab/default/dns'}}");
    assert_str(r, jstr(r->json, "/results/0/type"), "icmp");

    /* the latest check shows on the allocation and address views */
    r = http("GET", "/v1/allocations/lab/default/dns", NULL);
    assert_true(r, jget(r->json, "/lastCheck/id") != NULL, "allocation lastCheck");
    assert_str(r, jstr(r->json, "/lastCheck/target/allocation"), "lab/default/dns");
    r = address_get("127.0.0.1");
    assert_str(r, jstr(r->json, "/lastCheck/target/allocation"), "lab/default/api");
    assert_str(r, jstr(r->json, "/route/verdict"), "routable");
}

Test(reachability_checks, targets_outside_pools_and_unknown_allocations_are_refused)
{
    lab_setup(NULL);
    struct resp *r = http("POST", "/v1/reachability-checks", "{'target':{'ip':'192.0.2.1'}}");
    assert_problem_field(r, 422, "target_outside_pools", "/target/ip");
    r = http("POST", "/v1/reachability-checks", "{'target':{'allocation':'lab/default/nope'}}");
    assert_problem(r, 422, "unknown_target");
    r = http("POST", "/v1/reachability-checks", "{'target':{'ip':'127.0.0.1'},'timeoutMs':30001}");
    assert_problem_field(r, 422, "invalid_value", "/timeoutMs");
    r = http("POST", "/v1/reachability-checks",
             "{'target':{'ip':'127.0.0.1'},'probes':[{'type':'udp','port':1}]}");
    assert_problem_field(r, 422, "invalid_probe", "/probes/0/type");
    r = http("POST", "/v1/reachability-checks",
             "{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp'}]}");
    assert_problem_field(r, 422, "invalid_probe", "/probes/0/port");
    r = http("POST", "/v1/reachability-checks", "{'target':{'ip':'127.0.0.1'},'probs':[]}");
    assert_problem_field(r, 400, "unknown_field", "/probs");
    r = http("GET", "/v1/reachability-checks/999", NULL);
    assert_problem(r, 404, "not_found");
}

Test(reachability_checks, list_filters_and_pages_by_creation)
{
    lab_setup(NULL);
    unsigned closed = closed_port(), open = peer_start(200);
    assert_status(alloc_put("lab/default/b", "{'requestedIPs':['127.0.0.2']}"), 201);
    check_wait(S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp','port':%u}]}", closed));
    check_wait(S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp','port':%u}]}", open));
    check_wait(
        S("{'target':{'allocation':'lab/default/b'},'probes':[{'type':'tcp','port':%u}]}", open));
    json_t *all = list_all("reachability-checks", "", 1);
    cr_assert_eq(json_array_size(all), 3);
    cr_assert_str_eq(jstr(all, "/0/id"), "1");
    cr_assert_str_eq(jstr(all, "/2/id"), "3");
    /* the responder listens on 127.0.0.1 only: the check of 127.0.0.2 fails */
    cr_assert_eq(json_array_size(list_all("reachability-checks", "ip=127.0.0.1", 100)), 2);
    cr_assert_eq(json_array_size(list_all("reachability-checks", "ip=127.0.0.2", 100)), 1);
    cr_assert_eq(json_array_size(list_all("reachability-checks", "state=failed", 100)), 2);
    cr_assert_eq(json_array_size(list_all("reachability-checks", "state=passed", 100)), 1);
    json_t *a = list_all("reachability-checks", "allocation=lab%2Fdefault%2Fb", 100);
    cr_assert_eq(json_array_size(a), 1);
    cr_assert_str_eq(jstr(a, "/0/id"), "3");
    struct resp *r = http("GET", "/v1/reachability-checks?state=done", NULL);
    assert_problem(r, 400, "invalid_query");
}

Test(reachability_checks, periodic_checks_show_on_the_allocation, .timeout = 60)
{
    unsigned port = peer_start(200);
    struct resp *r = http("POST", "/v1/clusters",
                          "{'name':'lab','announcement':'bgp','routablePrefixes':['127.0.0.0/25'],"
                          "'checkIntervalSeconds':10}");
    assert_status(r, 201);
    pool_create("{'name':'lo','blocks':[{'cidr':'127.0.0.0/24'}]}");
    alloc_ip("lab/default/api",
             S("{'requestedIPs':['127.0.0.1'],'ports':[{'port':%u,'protocol':'TCP'}]}", port));
    for (int i = 0; i < 100; i++) {
        r = http("GET", "/v1/allocations/lab/default/api", NULL);
        if (!jis_null(r->json, "/lastCheck") &&
            strcmp(jstr(r->json, "/lastCheck/state"), "passed") == 0)
            break;
        usleep(100 * 1000);
    }
    assert_str(r, jstr(r->json, "/lastCheck/state"), "passed");
    assert_true(r, json_is_true(jget(r->json, "/lastCheck/periodic")), "made by the scheduler");
}

/* ---------------------------------------------- 200 concurrent checks and API latency */

#define CHECKS 200
#define CHECKERS 20
#define SLOW_TIMEOUT_MS 1000

/* Three kinds of checks, round robin: a closed port (refused at once), an answering HTTP
 * responder, and a silent one that holds a probe worker for its whole timeout. */
struct load {
    const char *bodies[3];
    char ids[CHECKS][24];
    atomic_int created, http_errors;
    atomic_bool done;
    double lat[20000];
    atomic_int nlat;
};

static void *checker(void *arg)
{
    struct load *l = arg;
    struct hclient *c = hclient_new();
    for (;;) {
        int i = atomic_fetch_add(&l->created, 1);
        if (i >= CHECKS)
            break;
        struct resp *r = http_c(c, "POST", "/v1/reachability-checks", l->bodies[i % 3]);
        if (r->status != 201 || !jstr(r->json, "/id"))
            atomic_fetch_add(&l->http_errors, 1);
        else
            snprintf(l->ids[i], sizeof(l->ids[i]), "%s", jstr(r->json, "/id"));
    }
    hclient_free(c);
    return NULL;
}

static void *reader(void *arg)
{
    struct load *l = arg;
    struct hclient *c = hclient_new();
    while (!atomic_load(&l->done)) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct resp *r = http_c(c, "GET", "/v1/allocations/lab/default/api", NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int n = atomic_fetch_add(&l->nlat, 1);
        if (r->status != 200)
            atomic_fetch_add(&l->http_errors, 1);
        if (n < 20000)
            l->lat[n] =
                (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        usleep(2000);
    }
    hclient_free(c);
    return NULL;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(reachability_checks, two_hundred_concurrent_checks_do_not_block_the_api, .timeout = 120)
{
    static struct load l;
    pthread_t t[CHECKERS], rd;
    struct timespec t0;
    unsigned open = peer_start(200), closed = closed_port(), silent = peer_start(0);
    double created_s, finished_s = 0;
    json_t *failed = NULL, *passed = NULL;

    lab_setup(NULL);
    l.bodies[0] = S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp','port':%u}]}", closed);
    l.bodies[1] = S("{'target':{'ip':'127.0.0.1'},'probes':[{'type':'tcp','port':%u},"
                    "{'type':'http','port':%u}]}",
                    open, open);
    l.bodies[2] = S("{'target':{'ip':'127.0.0.1'},'timeoutMs':%d,'probes':[{'type':'http',"
                    "'port':%u}]}",
                    SLOW_TIMEOUT_MS, silent);
    pthread_create(&rd, NULL, reader, &l);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < CHECKERS; i++)
        pthread_create(&t[i], NULL, checker, &l);
    for (int i = 0; i < CHECKERS; i++)
        pthread_join(t[i], NULL);
    created_s = since(&t0);
    /* every check finishes: none pending or running is left */
    for (int i = 0; i < 600; i++) {
        failed = list_all("reachability-checks", "state=failed", 1000);
        passed = list_all("reachability-checks", "state=passed", 1000);
        if (json_array_size(failed) + json_array_size(passed) == CHECKS) {
            finished_s = since(&t0);
            break;
        }
        usleep(50 * 1000);
    }
    atomic_store(&l.done, true);
    pthread_join(rd, NULL);
    int n = atomic_load(&l.nlat) < 20000 ? atomic_load(&l.nlat) : 20000;
    qsort(l.lat, (size_t)n, sizeof(double), dcmp);
    printf("bench reachability: %d concurrent checks (1/3 refused, 1/3 http 200, 1/3 silent "
           "peer with timeoutMs %d) created in %.2f s by %d clients, all finished after %.2f s; "
           "API GET during the run: n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n",
           CHECKS, SLOW_TIMEOUT_MS, created_s, CHECKERS, finished_s, n, n ? l.lat[n / 2] : 0.0,
           n ? l.lat[(size_t)(n * 99) / 100] : 0.0, n ? l.lat[n - 1] : 0.0);
    fflush(stdout);
    cr_assert_eq(atomic_load(&l.http_errors), 0, "every API request answered");
    cr_assert(finished_s > 0, "every check finished (%zu failed + %zu passed of %d)",
              json_array_size(failed), json_array_size(passed), CHECKS);
    cr_assert(n > 0, "the API answered during the run");
    cr_assert(l.lat[n - 1] < 5000, "no API request waited on the probes (max %.0f ms)",
              l.lat[n - 1]);
    /* the silent ones failed by their own timeout, the refused ones by the refusal */
    size_t i, timeouts = 0, refused = 0;
    json_t *c;
    json_array_foreach(failed, i, c)
    {
        const char *err = jstr(c, "/results/0/error");
        timeouts += err && strcmp(err, "timeout: no answer within 1000 ms") == 0;
        refused += err && strcmp(err, "connection refused") == 0;
    }
    cr_assert_eq(json_array_size(passed), 67, "the answering third passed");
    cr_assert_eq(timeouts, 66, "the silent third timed out");
    cr_assert_eq(refused, 67, "the closed-port third was refused");
}
