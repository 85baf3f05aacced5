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
    };

    return store_open(&srv->st, &opts, err);
}

static int start_daemon(struct server *srv, const struct server_config *cfg, struct error *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    unsigned limit = cfg->max_connections ? cfg->max_connections : SERVER_MAX_CONNECTIONS;
    const union MHD_DaemonInfo *info;

    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, request_access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_CONNECTION_TIMEOUT_S,
        MHD_OPTION_URI_LOG_CALLBACK, request_uri_cb, srv, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed_cb, srv, MHD_OPTION_END);
    if (!srv->daemon)
        return error_set(err, ERR_INTERNAL, "listen_failed", NULL,
                         "libmicrohttpd could not start (see its log line)");
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info && info->port)
        srv->port = info->port;
    return 0;
}

int server_start(struct server **out, const struct server_config *cfg, struct error *err)
{
    struct server *srv = xcalloc(1, sizeof(*srv));
    const char *listen = cfg->listen ? cfg->listen : "127.0.0.1:8080";
    char port[8];
    int rc;

    *out = NULL;
    pthread_once(&json_alloc_once, json_alloc_init);
    srv->listen_fd = -1;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->idle, NULL);
    make_id_prefix(srv);
    /* The socket first: a bad address or a port in use must not create the database. */
    rc = listen_open(&srv->listen_fd, &srv->port, listen, err);
    if (rc == 0)
        rc = open_store(srv, cfg, err);
    if (rc == 0)
        rc = start_daemon(srv, cfg, err);
    if (rc < 0) {
        if (srv->listen_fd >= 0)
            close(srv->listen_fd);
        store_close(srv->st);
        pthread_cond_destroy(&srv->idle);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        return rc;
    }
    snprintf(port, sizeof(port), "%u", (unsigned)srv->port);
    log_fields(LOG_INFO, "listening", "listen", listen, "port", port, "db",
               cfg->db_path ? cfg->db_path : "./lbipam.db", NULL);
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
    wait_idle(srv);
    /* Joins every connection thread: after this no handler runs. */
    MHD_stop_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    store_close(srv->st);
    log_fields(LOG_INFO, "stopped", NULL);
    pthread_cond_destroy(&srv->idle);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
