/* bench_scale - allocation latency with an empty IPv4 /8 pool and after 1,000,000 allocations
 * in it, and the exact counts of an IPv6 /48 pool. A benchmark, not a test: it prints figures.
 *
 *   bench_scale [allocations] [directory]     (defaults: 1000000, $LBIPAM_TEST_TMP or /tmp)
 *
 * Latency is measured through store_allocation_put, one caller at a time, each PUT a new
 * service (so each one runs the allocator and commits). It is measured twice per point: with
 * synchronous=FULL (the default; one fsync per commit, which dominates) and with
 * synchronous=NORMAL (no fsync per commit, so the figure is the allocator and SQLite's
 * B-trees alone — the one that would show a dependence on the number of allocations). The
 * fill uses the store's internal bulk path (store_allocation_fill): the same allocator code
 * for every allocation, FILL_BATCH allocations per transaction, synchronous=FULL throughout.
 *
 * Memory: the resident set of this process (the store in-process) right after the fill, and
 * then of a real lbipamd started on the filled database (target: < 64 MiB after 1,000,000
 * allocations) once it has served SERVER_PUTS new allocations and SERVER_GETS reads of random
 * existing ones over HTTP. The binary is $LBIPAMD, else ../server/lbipamd beside this one.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h" /* store_allocation_fill */

#define MEASURE_PUTS 2000
#define WARMUP_PUTS 200
#define FILL_BATCH 1000
#define FILL_REPORT 100000
#define V6_ALLOCATIONS 1000
#define SERVER_PUTS 5000
#define SERVER_GETS 20000

static struct store *st;
static char dbpath[4200];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct error *err)
{
    fprintf(stderr, "bench_scale: %s: %s: %s\n", what, err->reason, err->detail);
    exit(1);
}

static void open_store(bool normal)
{
    struct store_options o = {.path = dbpath, .synchronous_normal = normal};
    struct error err = {0};
    if (store_open(&st, &o, &err) < 0)
        die("open", &err);
}

static void reopen(bool normal)
{
    store_close(st);
    open_store(normal);
}

static void put(const char *ns, const char *svc, int family)
{
    struct alloc_request rq = {0};
    struct allocation *a = NULL;
    struct error err = {0};
    bool created = false;
    if (family == NETADDR_V6) {
        rq.nfamilies = 1;
        rq.families[0] = NETADDR_V6;
    }
    if (store_allocation_put(st, "bench", "bench", ns, svc, &rq, -1, &a, &created, &err) < 0)
        die("allocation put", &err);
    if (!created || a->naddrs != 1) {
        fprintf(stderr, "bench_scale: %s/%s was not newly allocated\n", ns, svc);
        exit(1);
    }
    allocation_free(a);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct latency {
    double mean_us, p50_us, p99_us;
    double cpu_us; /* process CPU time per PUT (all threads): immune to other processes */
};

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MEASURE_PUTS sequential PUTs of new services in their own namespace, after WARMUP_PUTS
 * that are not measured (a reopened store has cold caches and a WAL file still growing, which
 * is not what a running server sees). */
static struct latency measure(const char *ns)
{
    static double t[MEASURE_PUTS];
    struct latency l = {0};
    char svc[32], warm[STORE_NAME_MAX];
    snprintf(warm, sizeof(warm), "%s-warm", ns);
    for (int i = 0; i < WARMUP_PUTS; i++) {
        snprintf(svc, sizeof(svc), "w%06d", i);
        put(warm, svc, NETADDR_V4);
    }
    double c0 = cpu_s();
    for (int i = 0; i < MEASURE_PUTS; i++) {
        snprintf(svc, sizeof(svc), "s%06d", i);
        double t0 = now_s();
        put(ns, svc, NETADDR_V4);
        t[i] = (now_s() - t0) * 1e6;
        l.mean_us += t[i];
    }
    l.mean_us /= MEASURE_PUTS;
    l.cpu_us = (cpu_s() - c0) * 1e6 / MEASURE_PUTS;
    qsort(t, MEASURE_PUTS, sizeof(t[0]), cmp_double);
    l.p50_us = t[MEASURE_PUTS / 2];
    l.p99_us = t[MEASURE_PUTS * 99 / 100];
    return l;
}

static void print_latency(const char *label, struct latency l)
{
    printf("  %-38s mean %7.1f us  p50 %7.1f us  p99 %7.1f us  cpu %6.1f us\n", label, l.mean_us,
           l.p50_us, l.p99_us, l.cpu_us);
}

/* The fill goes through the store's bulk path: put_run for every allocation, FILL_BATCH of
 * them per transaction (see store_allocation_fill in store/store_int.h). */
static void fill(long n)
{
    struct error err = {0};
    for (long done = 0; done < n; done += FILL_REPORT) {
        long to = done + FILL_REPORT < n ? done + FILL_REPORT : n;
        if (store_allocation_fill(st, "bench", "bench", "fill", "f", done, to, FILL_BATCH, &err) <
            0)
            die("fill", &err);
        fprintf(stderr, "  ... %ld allocations\n", to);
    }
}

static void pool_create(const char *name, const char *cidr)
{
    struct netprefix pfx;
    struct error err = {0};
    if (netprefix_parse(&pfx, cidr, NULL, &err) < 0)
        die("prefix", &err);
    struct pool_block b = {
        .form = BLOCK_CIDR, .range = netprefix_range(&pfx), .prefix_len = pfx.len};
    struct pool p = {.description = "",
                     .nblocks = 1,
                     .blocks = &b,
                     .auto_assign = true,
                     .allow_first_last_ips = true};
    struct pool *out = NULL;
    snprintf(p.name, sizeof(p.name), "%s", name);
    if (store_pool_create(st, "bench", &p, &out, &err) < 0)
        die("pool create", &err);
    pool_free(out);
}

static void print_counts(const char *name)
{
    struct pool *p = NULL;
    struct error err = {0};
    char total[NETCOUNT_STRLEN], used[NETCOUNT_STRLEN], avail[NETCOUNT_STRLEN];
    if (store_pool_get(st, name, &p, &err) < 0)
        die("pool get", &err);
    struct pool_family_status *s = p->has_v6 ? &p->v6 : &p->v4;
    netcount_format(total, s->total);
    netcount_format(used, s->used);
    netcount_format(avail, s->available);
    printf("  pool %-4s %s  total %s  used %s  available %s\n", name,
           p->has_v6 ? "IPv6 /48" : "IPv4 /8 ", total, used, avail);
    pool_free(p);
}

static void remove_db(void)
{
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[4300];
        snprintf(p, sizeof(p), "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
}

/* "VmRSS" / "VmHWM" of /proc/PID/status in MiB; -1 when unreadable. */
static double proc_mib(pid_t pid, const char *field)
{
    char path[64], line[256];
    double kib = -1;
    size_t n = strlen(field);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kib = strtod(line + n + 1, NULL);
    }
    fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One request; the HTTP status, 0 on a transport error. */
static long http(CURL *h, const char *method, const char *url, const char *body)
{
    long status = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (!body)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static void server_lbipamd(char *out, size_t n, const char *argv0)
{
    const char *env = getenv("LBIPAMD");
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (env && env[0]) {
        snprintf(out, n, "%s", env);
        return;
    }
    if (len > 0) {
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(out, n, "%s/../server/lbipamd", self);
        return;
    }
    snprintf(out, n, "%s", argv0);
}

/* The real daemon on the filled database: serve, then report its resident set. */
static void measure_server(const char *dir, long nfill, const char *argv0)
{
    char bin[PATH_MAX + 32], listen[64], url[256], token[256] = "", auth[300], tokpath[4300];
    int port = free_port();
    server_lbipamd(bin, sizeof(bin), argv0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "--listen", listen, "--db", dbpath, "--log-level", "warn", (char *)NULL);
        perror(bin);
        _exit(127);
    }
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    snprintf(url, sizeof(url), "http://%s/readyz", listen);
    long code = 0;
    for (int i = 0; i < 300 && code != 200; i++) {
        code = http(h, "GET", url, NULL);
        if (code != 200)
            usleep(100000);
    }
    if (code != 200) {
        fprintf(stderr, "bench_scale: %s did not become ready\n", bin);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        exit(1);
    }
    snprintf(tokpath, sizeof(tokpath), "%s/admin.token", dir);
    FILE *tf = fopen(tokpath, "r");
    if (tf) {
        if (fgets(token, sizeof(token), tf))
            token[strcspn(token, "\r\n")] = '\0';
        fclose(tf);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    double rss_start = proc_mib(pid, "VmRSS");
    long bad = 0;
    for (int i = 0; i < SERVER_PUTS; i++) {
        snprintf(url, sizeof(url), "http://%s/v1/allocations/bench/server/s%06d", listen, i);
        bad += http(h, "PUT", url, "{}") != 201;
    }
    srand(1);
    for (int i = 0; i < SERVER_GETS; i++) {
        long k = (long)(((unsigned long)rand() * 65536UL + (unsigned long)rand()) %
                        (unsigned long)nfill);
        snprintf(url, sizeof(url), "http://%s/v1/allocations/bench/fill/f%07ld", listen, k);
        bad += http(h, "GET", url, NULL) != 200;
    }
    double rss = proc_mib(pid, "VmRSS"), hwm = proc_mib(pid, "VmHWM");
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    printf("\nlbipamd on the filled database (%s):\n", bin);
    printf("  after start                       VmRSS %6.1f MiB\n", rss_start);
    printf("  after %d PUTs + %d GETs of random allocations (%ld failed):\n", SERVER_PUTS,
           SERVER_GETS, bad);
    printf("  server RSS                        VmRSS %6.1f MiB  VmHWM %6.1f MiB  (target < 64)\n",
           rss, hwm);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    const char *base = argc > 2 ? argv[2] : getenv("LBIPAM_TEST_TMP");
    char dir[4096];
    if (n < 5 * (MEASURE_PUTS + WARMUP_PUTS)) {
        fprintf(stderr, "bench_scale: at least %d allocations\n", 5 * (MEASURE_PUTS + WARMUP_PUTS));
        return 2;
    }
    if (!base || !base[0])
        base = "/tmp";
    mkdir(base, 0700);
    snprintf(dir, sizeof(dir), "%s/bench-scale-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/bench.db", dir);
    printf("bench_scale: database %s\n", dbpath);

    open_store(false);
    struct cluster c = {.name = "bench", .description = ""};
    struct cluster *cout = NULL;
    struct error err = {0};
    if (store_cluster_create(st, "bench", &c, &cout, &err) < 0)
        die("cluster create", &err);
    cluster_free(cout);
    pool_create("big", "10.0.0.0/8");
    pool_create("v6", "2001:db8:100::/48");

    printf("\nallocation latency through store_allocation_put, %d sequential PUTs of new "
           "services each\n(after %d unmeasured ones):\n",
           MEASURE_PUTS, WARMUP_PUTS);
    struct latency empty_full = measure("m-empty-full");
    print_latency("empty /8, synchronous=FULL (default)", empty_full);
    reopen(true);
    struct latency empty_normal = measure("m-empty-normal");
    print_latency("empty /8, synchronous=NORMAL", empty_normal);
    reopen(false);

    /* the four measurements allocate the rest */
    long nfill = n - 4 * (MEASURE_PUTS + WARMUP_PUTS);
    double t0 = now_s();
    fill(nfill);
    double fill_s = now_s() - t0;
    printf("\nfill: %ld allocations through the bulk path (%d per transaction, "
           "synchronous=FULL) in %.1f s = %.0f allocations/s\n",
           nfill, FILL_BATCH, fill_s, (double)nfill / fill_s);
    printf("this process (the store in-process) after the fill: VmRSS %.1f MiB, VmHWM %.1f MiB\n",
           proc_mib(getpid(), "VmRSS"), proc_mib(getpid(), "VmHWM"));

    printf("\nallocation latency with about %ld allocations in the /8:\n", n);
    struct latency full_full = measure("m-full-full");
    print_latency("synchronous=FULL (default)", full_full);
    reopen(true);
    struct latency full_normal = measure("m-full-normal");
    print_latency("synchronous=NORMAL", full_normal);
    reopen(false);

    printf("\nratio of mean latency, %ld allocations / empty (target <= 1.5):\n", n);
    printf("  synchronous=FULL   %.2f\n", full_full.mean_us / empty_full.mean_us);
    printf("  synchronous=NORMAL %.2f\n", full_normal.mean_us / empty_normal.mean_us);
    printf("  (p50)              %.2f (FULL)  %.2f (NORMAL)\n",
           full_full.p50_us / empty_full.p50_us, full_normal.p50_us / empty_normal.p50_us);
    printf("  CPU time per PUT   %.2f (FULL)  %.2f (NORMAL)\n",
           full_full.cpu_us / empty_full.cpu_us, full_normal.cpu_us / empty_normal.cpu_us);

    for (int i = 0; i < V6_ALLOCATIONS; i++) {
        char svc[32];
        snprintf(svc, sizeof(svc), "v%04d", i);
        put("v6", svc, NETADDR_V6);
    }
    printf("\nexact counts (after %d IPv6 allocations):\n", V6_ALLOCATIONS);
    print_counts("v6");
    print_counts("big");

    struct stat sb;
    long long db_bytes = stat(dbpath, &sb) == 0 ? (long long)sb.st_size : -1;
    store_close(st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\ndatabase file: %.1f MiB\n", (double)db_bytes / (1 << 20));
    printf("max RSS of this process: %.1f MiB\n", (double)ru.ru_maxrss / 1024);
    measure_server(dir, nfill, argv[0]);
    remove_db();
    char tok[4300];
    snprintf(tok, sizeof(tok), "%s/admin.token", dir);
    unlink(tok);
    rmdir(dir);
    return 0;
}
