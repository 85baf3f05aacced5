/* test_connection_caps.c - the caps on concurrent connections answer with a problem
 * (issue 3): past the per-address cap 429 too_many_connections, past the total cap 503
 * server_busy, both with Retry-After and Connection: close; the server keeps serving once the
 * connections are gone. Its own server (small caps), driven over raw loopback sockets.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

#define HOLD 4

static char dir[] = "/tmp/lbipam-caps-XXXXXX";
static char db[64];

static int dial(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10};

    cr_assert(fd >= 0, "socket");
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    cr_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect");
    return fd;
}

/* One GET /healthz on a new connection; the whole answer (the server closes it when refused,
 * or it ends at the body of a normal reply). */
static void get_healthz(uint16_t port, char *out, size_t cap)
{
    static const char rq[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int fd = dial(port);
    size_t n = 0;
    ssize_t r;

    cr_assert(send(fd, rq, sizeof(rq) - 1, 0) == (ssize_t)sizeof(rq) - 1, "send");
    while (n + 1 < cap && (r = recv(fd, out + n, cap - n - 1, 0)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fd);
}

static struct server *start(unsigned total, unsigned per_ip)
{
    struct server_config cfg = {.listen = "127.0.0.1:0",
                                .db_path = db,
                                .max_connections = total,
                                .max_connections_per_ip = per_ip};
    struct server *srv = NULL;
    struct error err;

    cr_assert(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(db, sizeof(db), "%s/lbipam.db", dir);
    cr_assert(server_start(&srv, &cfg, &err) == 0, "server_start: %s", err.detail);
    return srv;
}

static void stop(struct server *srv)
{
    char cmd[128];

    server_stop(srv);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert(system(cmd) == 0);
}

/* Holds HOLD idle connections open, checks the refusal of one more, then lets them go. */
static void refused_past_cap(unsigned total, unsigned per_ip, const char *status_line,
                             const char *reason)
{
    struct server *srv = start(total, per_ip);
    uint16_t port = server_port(srv);
    int held[HOLD];
    char answer[4096];

    for (int i = 0; i < HOLD; i++)
        held[i] = dial(port);
    usleep(200 * 1000); /* libmicrohttpd registers accepted connections asynchronously */
    get_healthz(port, answer, sizeof(answer));
    cr_assert(strncmp(answer, status_line, strlen(status_line)) == 0, "expected %s, got:\n%s",
              status_line, answer);
    cr_assert(strstr(answer, "application/problem+json") != NULL, "%s", answer);
    cr_assert(strstr(answer, "Retry-After: 1") != NULL, "%s", answer);
    cr_assert(strstr(answer, reason) != NULL, "no reason %s in:\n%s", reason, answer);
    for (int i = 0; i < HOLD; i++)
        close(held[i]);
    usleep(200 * 1000);
    /* the refused and the held ones are gone: a normal request is served again */
    get_healthz(port, answer, sizeof(answer));
    cr_assert(strncmp(answer, "HTTP/1.1 200", 12) == 0, "after the burst:\n%s", answer);
    stop(srv);
}

Test(connection_caps, one_address_past_its_cap_gets_429_too_many_connections)
{
    refused_past_cap(100, HOLD, "HTTP/1.1 429", "\"reason\":\"too_many_connections\"");
}

Test(connection_caps, past_the_total_cap_a_connection_gets_503_server_busy)
{
    refused_past_cap(HOLD, 100, "HTTP/1.1 503", "\"reason\":\"server_busy\"");
}
