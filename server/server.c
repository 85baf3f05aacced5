/* server.c - the lbipamd HTTP server object: store + libmicrohttpd daemon.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): handlers block on the store's
 * writer, and a thread each keeps the other connections moving meanwhile. Stopping is
 * graceful: stop accepting, wait (bounded) until no request is in flight, stop the daemon,
 * then close the store, so no handler ever touches a closed store and every reply that
 * announced a change was sent after its commit.
 */
#include "server/server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

#define SERVER_MAX_CONNECTIONS 1024
#define SERVER_MAX_CONNECTIONS_PER_IP 256
/* connections libmicrohttpd accepts past our caps, so that they can be answered 503/429 */
#define SERVER_CAP_HEADROOM 64
/* Per connection: above request.c's header cap, so a big header section gets our 431 */
#define SERVER_CONNECTION_MEMORY (128 * 1024)
#define SERVER_PEM_MAX ((size_t)1024 * 1024)
#define SERVER_CONNECTION_TIMEOUT_S 60 /* idle keep-alive and stalled uploads */
#define SERVER_DRAIN_MS 10000          /* longest wait for in-flight requests on stop */

static pthread_once_t json_alloc_once = PTHREAD_ONCE_INIT;

/* Out-of-memory policy (xalloc.h): jansson allocates through xmalloc too, so no json_*
 * constructor ever returns NULL for lack of memory. */
static void json_alloc_init(void)
{
    json_set_alloc_funcs(xmalloc, free);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    size_t n;

    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    log_fields(LOG_WARN, "libmicrohttpd", "detail", buf, NULL);
}

static void make_id_prefix(struct server *srv)
{
    uint32_t r = 0;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
        r = (uint32_t)getpid() ^ (uint32_t)time(NULL);
    snprintf(srv->id_prefix, sizeof(srv->id_prefix), "%08" PRIx32, r);
}

static int open_store(struct server *srv, const struct server_config *cfg, struct error *err)
{
    struct store_options opts = {
        .path = cfg->db_path ? cfg->db_path : "./lbipam.db",
        .synchronous_normal = cfg->synchronous_normal,
        .max_batch = cfg->max_batch,
        .event_retention_ms = cfg->event_retention_ms,
    };

    return store_open(&srv->st, &opts, err);
}

static int start_daemon(struct server *srv, const struct server_config *cfg, struct error *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    /* The watchdog answers past our caps (503 / 429); libmicrohttpd's own limits sit above
     * them only as a backstop, because at its limit it closes without a word. */
    unsigned limit = (cfg->max_connections ? cfg->max_connections : SERVER_MAX_CONNECTIONS) +
                     SERVER_CAP_HEADROOM;
    unsigned per_ip = (cfg->max_connections_per_ip ? cfg->max_connections_per_ip
                                                   : SERVER_MAX_CONNECTIONS_PER_IP) +
                      SERVER_CAP_HEADROOM;
    const union MHD_DaemonInfo *info;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem},
        {MHD_OPTION_END, 0, NULL},
    };

    if (srv->tls)
        flags |= MHD_USE_TLS;

    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, request_access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_CONNECTION_TIMEOUT_S,
        MHD_OPTION_URI_LOG_CALLBACK, request_uri_cb, srv, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed_cb, srv, MHD_OPTION_NOTIFY_CONNECTION, watchdog_notify_cb, srv,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)SERVER_CONNECTION_MEMORY, MHD_OPTION_ARRAY, srv->tls ? tls : tls + 2,
        MHD_OPTION_END);
    if (!srv->daemon)
        return error_set(err, ERR_INTERNAL, "listen_failed", NULL,
                         "libmicrohttpd could not start (see its log line)");
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info && info->port)
        srv->port = info->port;
    return 0;
}

/* A PEM file, whole, NUL-terminated (libmicrohttpd wants them in memory). */
static int read_pem(char **out, const char *path, struct error *err)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 0;
    char *buf = NULL;
    int rc = 0;

    *out = NULL;
    if (!f)
        return error_set(err, ERR_INVALID, "invalid_tls", NULL, "cannot read %s: %s", path,
                         strerror(errno));
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? 2 * cap : 8192;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n > SERVER_PEM_MAX) {
            rc = error_set(err, ERR_INVALID, "invalid_tls", NULL, "%s is too large for PEM", path);
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (rc < 0)
        free(buf);
    else
        *out = buf;
    return rc;
}

static int tls_load(struct server *srv, const struct server_config *cfg, struct error *err)
{
    int rc = 0;

    if (!cfg->tls_cert && !cfg->tls_key)
        return 0;
    if (!cfg->tls_cert || !cfg->tls_key)
        return error_set(err, ERR_INVALID, "invalid_tls", NULL,
                         "--tls-cert and --tls-key go together");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return error_set(err, ERR_INVALID, "invalid_tls", NULL,
                         "this libmicrohttpd was built without TLS support");
    rc = read_pem(&srv->tls_cert_pem, cfg->tls_cert, err);
    if (rc == 0)
        rc = read_pem(&srv->tls_key_pem, cfg->tls_key, err);
    srv->tls = rc == 0;
    return rc;
}

int server_start(struct server **out, const struct server_config *cfg, struct error *err)
{
    struct server *srv = xcalloc(1, sizeof(*srv));
    const char *listen = cfg->listen ? cfg->listen : "127.0.0.1:8080";
    char port[8];
    struct watchdog_limits limits = {
        .request_timeout_s = cfg->request_timeout_s,
        .max_total = cfg->max_connections ? cfg->max_connections : SERVER_MAX_CONNECTIONS,
        .max_per_ip = cfg->max_connections_per_ip ? cfg->max_connections_per_ip
                                                  : SERVER_MAX_CONNECTIONS_PER_IP,
    };
    int rc;

    *out = NULL;
    pthread_once(&json_alloc_once, json_alloc_init);
    srv->listen_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    make_id_prefix(srv);
    auth_init(srv, cfg);
    rc = tls_load(srv, cfg, err);
    /* The socket first: a bad address or a port in use must not create the database. */
    if (rc == 0)
        rc = listen_open(&srv->listen_fd, &srv->port, listen, err);
    if (rc == 0)
        rc = open_store(srv, cfg, err);
    if (rc == 0)
        rc = auth_bootstrap(srv, cfg->db_path ? cfg->db_path : "./lbipam.db", err);
    if (rc == 0)
        rc = watchdog_start(srv, &limits, err);
    if (rc == 0)
        rc = probes_start(&srv->probes, srv->st, err);
    if (rc == 0)
        rc = start_daemon(srv, cfg, err);
    if (rc < 0) {
        if (srv->listen_fd >= 0)
            close(srv->listen_fd);
        probes_stop(srv->probes);
        store_close(srv->st);
        watchdog_stop(srv);
        auth_cleanup(srv);
        free(srv->tls_cert_pem);
        free(srv->tls_key_pem);
        pthread_cond_destroy(&srv->idle);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        return rc;
    }
    snprintf(port, sizeof(port), "%u", (unsigned)srv->port);
    log_fields(LOG_INFO, "listening", "listen", listen, "port", port, "db",
               cfg->db_path ? cfg->db_path : "./lbipam.db", "scheme", srv->tls ? "https" : "http",
               NULL);
    *out = srv;
    return 0;
}

uint16_t server_port(const struct server *srv)
{
    return srv->port;
}

/* Waits until no request is in flight, at most SERVER_DRAIN_MS. */
static void wait_idle(struct server *srv)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SERVER_DRAIN_MS / 1000;
    pthread_mutex_lock(&srv->lock);
    while (srv->inflight > 0) {
        if (pthread_cond_timedwait(&srv->idle, &srv->lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (srv->inflight > 0)
        log_msg(LOG_WARN, "stopping with %u requests still in flight", srv->inflight);
    pthread_mutex_unlock(&srv->lock);
}

void server_stop(struct server *srv)
{
    MHD_socket fd;

    if (!srv)
        return;
    atomic_store(&srv->draining, true);
    /* No new connections from here; the ones open may finish their requests. */
    fd = MHD_quiesce_daemon(srv->daemon);
    probes_quiesce(srv->probes);     /* a request waiting on a check (Prefer: wait) returns now */
    store_events_interrupt(srv->st); /* and so do the long-polls of GET /v1/events */
    wait_idle(srv);
    /* Joins every connection thread: after this no handler runs. */
    MHD_stop_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    probes_stop(srv->probes); /* records the checks still queued, before the store closes */
    store_close(srv->st);
    watchdog_stop(srv);
    auth_cleanup(srv);
    free(srv->tls_cert_pem);
    free(srv->tls_key_pem);
    log_fields(LOG_INFO, "stopped", NULL);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
