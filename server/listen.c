/* listen.c - the listening socket, opened here rather than by libmicrohttpd so that a bad
 * address or a port in use gets a message that says which and why.
 *
 * Forms: "host:port", "[ipv6]:port". "[::]" listens on both families (dual stack); port 0
 * picks a free port.
 */
#include "server/server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 511

struct listen_addr {
    char host[256];
    char port[8];
};

static int parse_port(char out[8], const char *text, const char *listen, struct error *err)
{
    size_t n = strlen(text);
    char *end = NULL;
    long v = strtol(text, &end, 10);

    if (n == 0 || n > 5 || strspn(text, "0123456789") != n || v > 65535)
        return error_set(err, ERR_INVALID, "invalid_listen", NULL,
                         "%s: the port must be a number from 0 to 65535", listen);
    snprintf(out, 8, "%u", (unsigned)v & 0xffffu);
    return 0;
}

static int parse_listen(struct listen_addr *a, const char *listen, struct error *err)
{
    const char *host = listen, *colon;
    size_t hostlen;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return error_set(err, ERR_INVALID, "invalid_listen", NULL,
                             "%s: expected [ipv6-address]:port", listen);
        host = listen + 1;
        hostlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return error_set(err, ERR_INVALID, "invalid_listen", NULL, "%s: expected host:port",
                             listen);
        hostlen = (size_t)(colon - listen);
        if (memchr(listen, ':', hostlen))
            return error_set(err, ERR_INVALID, "invalid_listen", NULL,
                             "%s: an IPv6 address goes in brackets, as in [::1]:8080", listen);
    }
    if (hostlen == 0 || hostlen >= sizeof(a->host))
        return error_set(err, ERR_INVALID, "invalid_listen", NULL,
                         "%s: name a host, as in 0.0.0.0:8080 or [::]:8080", listen);
    memcpy(a->host, host, hostlen);
    a->host[hostlen] = '\0';
    return parse_port(a->port, colon + 1, listen, err);
}

static bool is_ipv6_any(const struct addrinfo *ai)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;

    return ai->ai_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static int bind_one(int *out_fd, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1, v6only = is_ipv6_any(ai) ? 0 : 1;

    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (ai->ai_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *out_fd = fd;
    return 0;
}

static uint16_t bound_port(int fd)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
    } u;
    socklen_t len = sizeof(u);

    memset(&u, 0, sizeof(u));
    if (getsockname(fd, &u.sa, &len) < 0)
        return 0;
    return ntohs(u.sa.sa_family == AF_INET6 ? u.in6.sin6_port : u.in.sin_port);
}

int listen_open(int *out_fd, uint16_t *port, const char *listen, struct error *err)
{
    struct listen_addr a;
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = parse_listen(&a, listen, err), gai, saved = 0;

    if (rc < 0)
        return rc;
    gai = getaddrinfo(a.host, a.port, &hints, &res);
    if (gai != 0)
        return error_set(err, ERR_INVALID, "invalid_listen", NULL, "%s: %s", listen,
                         gai_strerror(gai));
    rc = -1;
    for (const struct addrinfo *ai = res; ai && rc < 0; ai = ai->ai_next) {
        rc = bind_one(out_fd, ai);
        saved = rc < 0 ? errno : 0;
    }
    freeaddrinfo(res);
    if (rc < 0)
        return error_set(err, ERR_INTERNAL, "listen_failed", NULL, "cannot listen on %s: %s",
                         listen, strerror(saved));
    *port = bound_port(*out_fd);
    return 0;
}
