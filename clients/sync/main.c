/* lbipam-sync: mirrors Kubernetes LoadBalancer Services into the central lbipam server and
 * the answers back into Service status. See sync-worker.md for the contract. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/kube/kube.h"
#include "clients/sync/central.h"
#include "clients/sync/metrics.h"
#include "clients/sync/worker.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct flags {
    const char *server;
    const char *token_file;
    const char *cluster;
    const char *kubeconfig;
    const char *lb_class;
    bool require_class;
    bool allow_insecure;
    int resync_seconds;
    int workers;
    const char *metrics_listen;
    const char *log_level;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: lbipam-sync --server URL --cluster NAME [options]\n"
               "  --server URL            central lbipam API, e.g. https://lbipam.example:8443\n"
               "  --token-file F          central API bearer token (re-read every minute)\n"
               "  --cluster NAME          this cluster's name at the central server\n"
               "  --kubeconfig PATH       default $KUBECONFIG, else in-cluster config\n"
               "  --lb-class CLASS        loadBalancerClass handled (default lbipam.io/central)\n"
               "  --require-class         ignore LoadBalancer Services without a class\n"
               "  --allow-insecure        accept insecure-skip-tls-verify in the kubeconfig\n"
               "  --resync-seconds N      full list + garbage collection period (default 300)\n"
               "  --metrics-listen H:P    serve /metrics and /healthz\n"
               "  --workers N             reconcile threads (default 4)\n"
               "  --log-level L           debug | info | warn | error (default info)\n");
}

static int parse_int(int *out, const char *s, int min, int max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_flags(struct flags *f, int argc, char **argv)
{
    enum {
        O_SERVER = 256,
        O_TOKEN,
        O_CLUSTER,
        O_KUBECONFIG,
        O_CLASS,
        O_REQUIRE,
        O_INSECURE,
        O_RESYNC,
        O_METRICS,
        O_WORKERS,
        O_LOGLEVEL,
        O_HELP
    };
    static const struct option opts[] = {
        {"server", required_argument, NULL, O_SERVER},
        {"token-file", required_argument, NULL, O_TOKEN},
        {"cluster", required_argument, NULL, O_CLUSTER},
        {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
        {"lb-class", required_argument, NULL, O_CLASS},
        {"require-class", no_argument, NULL, O_REQUIRE},
        {"allow-insecure", no_argument, NULL, O_INSECURE},
        {"resync-seconds", required_argument, NULL, O_RESYNC},
        {"metrics-listen", required_argument, NULL, O_METRICS},
        {"workers", required_argument, NULL, O_WORKERS},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    *f = (struct flags){
        .lb_class = SYNC_DEFAULT_CLASS, .resync_seconds = 300, .workers = 4, .log_level = "info"};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_SERVER:
            f->server = optarg;
            break;
        case O_TOKEN:
            f->token_file = optarg;
            break;
        case O_CLUSTER:
            f->cluster = optarg;
            break;
        case O_KUBECONFIG:
            f->kubeconfig = optarg;
            break;
        case O_CLASS:
            f->lb_class = optarg;
            break;
        case O_REQUIRE:
            f->require_class = true;
            break;
        case O_INSECURE:
            f->allow_insecure = true;
            break;
        case O_METRICS:
            f->metrics_listen = optarg;
            break;
        case O_LOGLEVEL:
            f->log_level = optarg;
            break;
        case O_RESYNC:
            if (parse_int(&f->resync_seconds, optarg, 1, 86400) < 0)
                goto bad;
            break;
        case O_WORKERS:
            if (parse_int(&f->workers, optarg, 1, 64) < 0)
                goto bad;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        default:
            goto bad;
        }
    }
    if (optind != argc || !f->server || !f->cluster)
        goto bad;
    return 0;
bad:
    usage(stderr);
    return -1;
}

static int load_kube(struct kube **out, const struct flags *f, struct error *err)
{
    struct kube_config *kc = NULL;
    const char *path = f->kubeconfig ? f->kubeconfig : getenv("KUBECONFIG");
    int rc;
    if (path && path[0])
        rc = kubeconfig_load(&kc, path, f->allow_insecure, err);
    else
        rc = kubeconfig_in_cluster(&kc, KUBE_SA_DIR, err);
    *out = rc == 0 ? kube_new(kc) : NULL;
    return rc;
}

struct signal_waiter {
    sigset_t set;
    struct worker *w;
};

/* Signals are blocked in every thread and taken here synchronously, so stopping is ordinary
 * code, not async-signal-safe code. */
static void *signal_thread(void *arg)
{
    struct signal_waiter *sw = arg;
    int sig = 0;
    sigwait(&sw->set, &sig);
    log_fields(LOG_INFO, "stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    worker_stop(sw->w);
    return NULL;
}

int main(int argc, char **argv)
{
    struct flags f;
    struct error err = {0};
    struct kube *k = NULL;
    struct central *ce = NULL;
    struct worker *w = NULL;
    struct metrics *m = NULL;
    int rc = 0;
    enum log_level lvl;

    if (parse_flags(&f, argc, argv) < 0)
        return 2;
    if (log_level_parse(&lvl, f.log_level) < 0) {
        fprintf(stderr, "lbipam-sync: bad --log-level %s\n", f.log_level);
        return 2;
    }
    log_set_level(lvl);
    json_set_alloc_funcs(xmalloc, free);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    struct signal_waiter sw;
    sigemptyset(&sw.set);
    sigaddset(&sw.set, SIGTERM);
    sigaddset(&sw.set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sw.set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = load_kube(&k, &f, &err);
    if (rc < 0) {
        log_fields(LOG_ERROR, "cannot load Kubernetes config", "detail", err.detail, NULL);
        rc = 1;
        goto out;
    }
    ce = central_new(f.server, f.token_file, f.cluster);
    struct sync_options opts = {
        .policy = {.lb_class = f.lb_class, .require_class = f.require_class},
        .resync_seconds = f.resync_seconds,
        .workers = f.workers,
    };
    w = worker_new(k, ce, &opts);
    if (f.metrics_listen && metrics_start(&m, f.metrics_listen, worker_stats(w), &err) < 0) {
        log_fields(LOG_ERROR, "cannot start metrics listener", "detail", err.detail, NULL);
        rc = 1;
        goto out;
    }
    log_fields(LOG_INFO, "starting", "kubernetes", kube_server(k), "central", f.server, "cluster",
               f.cluster, "lbClass", f.lb_class, NULL);
    sw.w = w;
    pthread_t st;
    pthread_create(&st, NULL, signal_thread, &sw);
    pthread_detach(st);
    worker_run(w);
    log_fields(LOG_INFO, "stopped", NULL);
out:
    metrics_stop(m);
    worker_free(w);
    central_free(ce);
    kube_free(k);
    curl_global_cleanup();
    return rc;
}
