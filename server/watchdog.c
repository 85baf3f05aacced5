/* watchdog.c - slow clients (slowloris) get a deadline, not a thread forever.
 *
 * Every connection is registered here by libmicrohttpd's connection notifications, with its
 * socket. A thread looks once a second: a request whose bytes are still arriving after
 * request_timeout (counted from its request line) gets a 408 problem+json written on its
 * socket and the socket shut down; a connection with no request under way for as long (an
 * idle keep-alive, or a request line trickled a byte at a time) is shut down silently.
 * Nothing else writes to a socket whose request is being read: the access callback writes
 * only after watchdog_busy, and state changes take the one mutex, so the 408 and a normal
 * reply can never interleave. With TLS the 408 is not written (it would be plaintext inside
 * a TLS stream); the connection is just shut.
 *
 * The same registry enforces the connection caps: a connection that arrives past max_total
 * open ones, or past max_per_ip from its address, is marked refused and not counted; its
 * first request is answered 503 server_busy or 429 too_many_connections (problem+json,
 * Retry-After, Connection: close) through the normal reply path, so the client reads a
 * clear answer instead of a reset.
 */
#include "server/server_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define WD_DEFAULT_TIMEOUT_S 30
#define WD_TICK_MS 250

enum wd_state { WD_IDLE, WD_READING, WD_BUSY };

/* A peer address reduced to what identifies the client: family and address bytes. */
struct wd_peer {
    int family;
    unsigned char addr[16];
};

struct wd_conn {
    struct watchdog *wd;
    int fd;
    enum wd_state state;
    int64_t since; /* ms, monotonic: start of the current state */
    bool killed;
    const char *refused; /* reason of the cap that refused it (NULL: admitted, counted) */
    struct wd_peer peer;
    struct wd_conn *prev, *next;
};

struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stopping, tls;
    int64_t timeout_ms;
    unsigned max_total, max_per_ip;
    unsigned open; /* registered connections not refused by a cap */
    struct wd_conn *head;
    char *reply; /* the raw 408 */
};

/* The whole raw 408: status line, headers, problem+json body. It is written straight on the
 * socket because the request never completed, so libmicrohttpd has nothing to reply to. */
static char *raw_408(void)
{
    static const char body[] =
        "{\"type\":\"urn:lbipam:problem:request_timeout\",\"title\":\"Request Timeout\","
        "\"status\":408,\"detail\":\"the request did not arrive in time\","
        "\"reason\":\"request_timeout\"}";

    return xasprintf("HTTP/1.1 408 Request Timeout\r\nContent-Type: application/problem+json\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Under mu. */
static void kill_conn(struct watchdog *wd, struct wd_conn *c)
{
    c->killed = true;
    if (c->state == WD_READING && !wd->tls) {
        /* best effort: the socket is non-blocking and the reply is small */
        ssize_t w = send(c->fd, wd->reply, strlen(wd->reply), MSG_NOSIGNAL);
        (void)w;
    }
    shutdown(c->fd, SHUT_RDWR);
    log_fields(LOG_WARN, "slow client cut off", "state",
               c->state == WD_READING ? "reading request" : "idle", NULL);
}

static void *watchdog_main(void *arg)
{
    struct watchdog *wd = arg;

    pthread_mutex_lock(&wd->mu);
    while (!wd->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WD_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
        int64_t now = mono_ms();
        for (struct wd_conn *c = wd->head; c; c = c->next) {
            if (!c->killed && c->state != WD_BUSY && now - c->since > wd->timeout_ms)
                kill_conn(wd, c);
        }
    }
    pthread_mutex_unlock(&wd->mu);
    return NULL;
}

int watchdog_start(struct server *srv, const struct watchdog_limits *limits, struct error *err)
{
    struct watchdog *wd = xcalloc(1, sizeof(*wd));
    unsigned timeout_s = limits->request_timeout_s;
    pthread_condattr_t attr;

    wd->timeout_ms = (int64_t)(timeout_s ? timeout_s : WD_DEFAULT_TIMEOUT_S) * 1000;
    wd->max_total = limits->max_total;
    wd->max_per_ip = limits->max_per_ip;
    wd->tls = srv->tls;
    wd->reply = raw_408();
    pthread_mutex_init(&wd->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wd->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&wd->thread, NULL, watchdog_main, wd) != 0) {
        pthread_cond_destroy(&wd->cv);
        pthread_mutex_destroy(&wd->mu);
        free(wd->reply);
        free(wd);
        return error_set(err, ERR_INTERNAL, "internal", NULL, "cannot start the watchdog thread");
    }
    srv->wd = wd;
    return 0;
}

/* After MHD_stop_daemon: every connection has been closed and unregistered. */
void watchdog_stop(struct server *srv)
{
    struct watchdog *wd = srv->wd;

    if (!wd)
        return;
    pthread_mutex_lock(&wd->mu);
    wd->stopping = true;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
    pthread_join(wd->thread, NULL);
    while (wd->head) {
        struct wd_conn *c = wd->head;
        wd->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&wd->cv);
    pthread_mutex_destroy(&wd->mu);
    free(wd->reply);
    free(wd);
    srv->wd = NULL;
}

/* libmicrohttpd calls STARTED when it accepted a connection and CLOSED just before it closes
 * the socket, so a registered fd is always still open. */
static struct wd_peer peer_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct wd_peer p = {0};

    if (!ci || !ci->client_addr)
        return p;
    p.family = ci->client_addr->sa_family;
    if (p.family == AF_INET)
        memcpy(p.addr, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, 4);
    else if (p.family == AF_INET6)
        memcpy(p.addr, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
               16);
    return p;
}

/* Under mu: the reason a new connection from `peer` is over a cap, or NULL. */
static const char *cap_refusal(const struct watchdog *wd, const struct wd_peer *peer)
{
    unsigned same = 0;

    if (wd->max_total && wd->open >= wd->max_total)
        return "server_busy";
    for (const struct wd_conn *c = wd->head; c; c = c->next)
        if (!c->refused && memcmp(&c->peer, peer, sizeof(*peer)) == 0)
            same++;
    if (wd->max_per_ip && same >= wd->max_per_ip)
        return "too_many_connections";
    return NULL;
}

void watchdog_notify_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct server *srv = cls;
    struct watchdog *wd = srv->wd;
    struct wd_conn *c = *socket_context;

    if (!wd)
        return;
    pthread_mutex_lock(&wd->mu);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = xcalloc(1, sizeof(*c));
        c->wd = wd;
        c->fd = ci ? ci->connect_fd : -1;
        c->state = WD_IDLE;
        c->since = mono_ms();
        c->killed = c->fd < 0;
        c->peer = peer_of(conn);
        c->refused = cap_refusal(wd, &c->peer);
        if (!c->refused)
            wd->open++;
        c->next = wd->head;
        if (wd->head)
            wd->head->prev = c;
        wd->head = c;
        *socket_context = c;
    } else if (c) {
        if (!c->refused)
            wd->open--;
        if (c->prev)
            c->prev->next = c->next;
        else
            wd->head = c->next;
        if (c->next)
            c->next->prev = c->prev;
        free(c);
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&wd->mu);
}

struct wd_conn *watchdog_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

static bool set_state(struct wd_conn *c, enum wd_state state)
{
    bool alive;

    if (!c)
        return true;
    pthread_mutex_lock(&c->wd->mu);
    alive = !c->killed;
    if (alive && c->state != state) {
        c->state = state;
        c->since = mono_ms();
    }
    pthread_mutex_unlock(&c->wd->mu);
    return alive;
}

bool watchdog_reading(struct wd_conn *c)
{
    return set_state(c, WD_READING);
}

bool watchdog_busy(struct wd_conn *c)
{
    return set_state(c, WD_BUSY);
}

void watchdog_idle(struct wd_conn *c)
{
    set_state(c, WD_IDLE);
}

int watchdog_cap_check(const struct wd_conn *c, struct error *err)
{
    if (!c || !c->refused)
        return 0;
    if (strcmp(c->refused, "server_busy") == 0)
        return error_set(err, ERR_UNAVAILABLE, "server_busy", NULL,
                         "the server has %u open connections, its limit; retry shortly",
                         c->wd->max_total);
    return error_set(err, ERR_BAD_REQUEST, "too_many_connections", NULL,
                     "this address has %u open connections, the limit; close some and retry",
                     c->wd->max_per_ip);
}
