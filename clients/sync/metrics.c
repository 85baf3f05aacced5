#include "clients/sync/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/xalloc.h"

struct metrics {
    struct MHD_Daemon *d;
    struct sync_stats *stats;
};

/* Keep in sync with struct sync_stats. */
#define STAT_ROWS(X)                                                                               \
    X(kube_lists, "Service lists (full, all pages)")                                               \
    X(kube_watches, "Service watches started")                                                     \
    X(kube_gets, "Service GETs after a write conflict")                                            \
    X(kube_status_patches, "status PATCHes sent")                                                  \
    X(kube_finalizer_patches, "finalizer PATCHes sent")                                            \
    X(kube_errors, "failed Kubernetes calls")                                                      \
    X(watch_events, "watch events received, bookmarks included")                                   \
    X(relists, "full lists, first one included")                                                   \
    X(central_puts, "allocation PUTs sent to central")                                             \
    X(central_releases, "allocation DELETEs sent to central")                                      \
    X(central_lists, "garbage-collection listings of central")                                     \
    X(central_errors, "central calls without a usable answer")                                     \
    X(refusals, "requests central refused")                                                        \
    X(gc_releases, "allocations released by garbage collection")                                   \
    X(reconciles, "reconciles run")

static char *render(struct sync_stats *s)
{
    /* 15 counters of under 300 bytes each: the buffer cannot fill. */
    size_t cap = 8192, len = 0;
    char *buf = xmalloc(cap);
#define ROW(name, help)                                                                            \
    len += (size_t)snprintf(buf + len, cap - len,                                                  \
                            "# HELP lbipam_sync_" #name "_total " help "\n"                        \
                            "# TYPE lbipam_sync_" #name "_total counter\n"                         \
                            "lbipam_sync_" #name "_total %ld\n",                                   \
                            atomic_load(&s->name));
    STAT_ROWS(ROW)
#undef ROW
    snprintf(buf + len, cap - len,
             "# TYPE lbipam_sync_synced gauge\nlbipam_sync_synced %ld\n"
             "# TYPE lbipam_sync_services gauge\nlbipam_sync_services %ld\n",
             atomic_load(&s->synced), atomic_load(&s->services));
    return buf;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload, (void)upload_size, (void)con_cls;
    struct metrics *m = cls;
    const char *ctype = "text/plain; charset=utf-8";
    unsigned status = MHD_HTTP_OK;
    char *body;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        body = xstrdup("method not allowed\n");
    } else if (strcmp(url, "/healthz") == 0) {
        body = xstrdup("ok\n");
    } else if (strcmp(url, "/metrics") == 0) {
        ctype = "text/plain; version=0.0.4; charset=utf-8";
        body = render(m->stats);
    } else {
        status = MHD_HTTP_NOT_FOUND;
        body = xstrdup("not found\n");
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static int parse_listen(struct sockaddr_storage *ss, const char *listen, struct error *err)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host))
        return error_set(err, ERR_INVALID, "invalid_listen", NULL, "bad address %s", listen);
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return error_set(err, ERR_INVALID, "invalid_listen", NULL, "bad port in %s", listen);
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
    } else {
        return error_set(err, ERR_INVALID, "invalid_listen", NULL, "bad host in %s", listen);
    }
    return 0;
}

int metrics_start(struct metrics **out, const char *listen, struct sync_stats *stats,
                  struct error *err)
{
    struct sockaddr_storage ss = {0};
    *out = NULL;
    int rc = parse_listen(&ss, listen, err);
    if (rc < 0)
        return rc;
    struct metrics *m = xcalloc(1, sizeof(*m));
    m->stats = stats;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_END);
    if (!m->d) {
        free(m);
        return error_set(err, ERR_UNAVAILABLE, "listen_failed", NULL, "cannot listen on %s",
                         listen);
    }
    *out = m;
    return 0;
}

void metrics_stop(struct metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
