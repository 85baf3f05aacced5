/* probe.c - TCP connect, HTTP(S) GET and ICMP echo, each bounded by its timeout (probe.h). */
#include "clients/probe/probe.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int probe_type_parse(enum probe_type *out, const char *name)
{
    static const struct {
        const char *name;
        enum probe_type type;
    } types[] = {
        {"tcp", PROBE_TCP}, {"http", PROBE_HTTP}, {"https", PROBE_HTTPS}, {"icmp", PROBE_ICMP}};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(name, types[i].name) == 0) {
            *out = types[i].type;
            return 0;
        }
    }
    return -1;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void probe_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

/* The errno as the error text, lower case ("connection refused", "no route to host"). */
static void errno_text(struct probe_outcome *out, int e)
{
    char buf[128];
    const char *s = strerror_r(e, buf, sizeof(buf));
    snprintf(out->error, sizeof(out->error), "%s", s);
    if (out->error[0] >= 'A' && out->error[0] <= 'Z')
        out->error[0] = (char)(out->error[0] - 'A' + 'a');
}

static void timeout_text(struct probe_outcome *out, int ms)
{
    snprintf(out->error, sizeof(out->error), "timeout: no answer within %d ms", ms);
}

static socklen_t sockaddr_of(struct sockaddr_storage *ss, const struct netaddr *ip, uint16_t port)
{
    uint8_t bytes[16];
    memset(ss, 0, sizeof(*ss));
    netaddr_to_bytes(bytes, ip->v, ip->family);
    if (ip->family == NETADDR_V4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, bytes, 4);
        return sizeof(*sin);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    memcpy(&sin6->sin6_addr, bytes, 16);
    return sizeof(*sin6);
}

/* Milliseconds left until deadline_us, at least 0. */
static int left_ms(int64_t deadline_us)
{
    int64_t left = deadline_us - now_us();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

/* ---------------------------------------------------------------------------------- tcp */

static void probe_tcp(const struct probe_spec *p, struct probe_outcome *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_of(&ss, &p->ip, p->port);
    int64_t start = now_us(), deadline = start + (int64_t)p->timeout_ms * 1000;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        errno_text(out, errno);
        return;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
        errno_text(out, errno);
        goto out;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n = poll(&pfd, 1, left_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errno_text(out, errno);
            goto out;
        }
        if (n == 0) {
            timeout_text(out, p->timeout_ms);
            goto out;
        }
        break;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr != 0) {
        errno_text(out, soerr);
        goto out;
    }
    out->ok = true;
    out->latency_us = now_us() - start;
out:
    close(fd);
}

/* --------------------------------------------------------------------------------- http */

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

static void probe_http(const struct probe_spec *p, struct probe_outcome *out)
{
    char url[NETADDR_STRLEN + CURL_ERROR_SIZE], host[NETADDR_STRLEN], errbuf[CURL_ERROR_SIZE] = "";
    int want = p->expect_status ? p->expect_status : 200;
    int64_t start = now_us();
    long status = 0, oserr = 0;
    CURL *h = curl_easy_init();
    CURLcode cc;
    if (!h) {
        snprintf(out->error, sizeof(out->error), "cannot start an HTTP client");
        return;
    }
    netaddr_format(host, &p->ip);
    snprintf(url, sizeof(url), "%s://%s%s%s:%u%s", p->type == PROBE_HTTPS ? "https" : "http",
             p->ip.family == NETADDR_V6 ? "[" : "", host, p->ip.family == NETADDR_V6 ? "]" : "",
             (unsigned)p->port, p->path && p->path[0] ? p->path : "/");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* The probe measures the path from this host to the address, never through a proxy the
     * environment happens to name. */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lbipam-probe");
    /* A Service behind an IP rarely has a certificate for that IP: reachability of the
     * TLS endpoint is what is checked, not its identity. */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    cc = curl_easy_perform(h);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status == want) {
            out->ok = true;
            out->latency_us = now_us() - start;
        } else {
            snprintf(out->error, sizeof(out->error), "expected status %d, got %ld", want, status);
        }
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        timeout_text(out, p->timeout_ms);
    } else if (cc == CURLE_COULDNT_CONNECT &&
               curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr != 0) {
        errno_text(out, (int)oserr);
    } else {
        snprintf(out->error, sizeof(out->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
    }
    curl_easy_cleanup(h);
}

/* --------------------------------------------------------------------------------- icmp */

static uint16_t inet_checksum(const void *data, size_t len)
{
    const uint8_t *b = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (len & 1)
        sum += (uint32_t)(b[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

/* A raw socket needs CAP_NET_RAW; an unprivileged "ping socket" (SOCK_DGRAM) works where
 * net.ipv4.ping_group_range allows it. *raw tells which one we got. */
static int icmp_socket(int family, bool *raw)
{
    int domain = family == NETADDR_V4 ? AF_INET : AF_INET6;
    int proto = family == NETADDR_V4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    int fd = socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    *raw = fd >= 0;
    if (fd < 0 && (errno == EPERM || errno == EACCES))
        fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    return fd;
}

/* 1 when buf is our echo reply, 0 for anything else (our own request on loopback, other
 * pings); -1 with an error for an ICMP error about our request. */
static int icmp_match(const uint8_t *buf, size_t n, int family, bool raw, uint16_t id, uint16_t seq,
                      struct probe_outcome *out)
{
    size_t off = 0;
    uint8_t reply = family == NETADDR_V4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
    if (family == NETADDR_V4 && raw) {
        if (n < sizeof(struct ip))
            return 0;
        off = (size_t)(buf[0] & 0x0f) * 4; /* raw IPv4 sockets include the IP header */
    }
    if (n < off + 8)
        return 0;
    const uint8_t *icmp = buf + off;
    uint16_t rid = (uint16_t)(icmp[4] << 8 | icmp[5]), rseq = (uint16_t)(icmp[6] << 8 | icmp[7]);
    if (icmp[0] == reply && rseq == seq && (!raw || rid == id))
        return 1;
    if ((family == NETADDR_V4 && icmp[0] == ICMP_DEST_UNREACH) ||
        (family == NETADDR_V6 && icmp[0] == ICMP6_DST_UNREACH)) {
        snprintf(out->error, sizeof(out->error), "destination unreachable (icmp type %u code %u)",
                 icmp[0], icmp[1]);
        return -1;
    }
    return 0;
}

static void probe_icmp(const struct probe_spec *p, struct probe_outcome *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sockaddr_of(&ss, &p->ip, 0);
    int64_t start = now_us(), deadline = start + (int64_t)p->timeout_ms * 1000;
    uint16_t id = (uint16_t)(getpid() ^ (uintptr_t)pthread_self()), seq = (uint16_t)start;
    uint8_t pkt[64] = {0}, buf[1500];
    bool raw;
    int fd = icmp_socket(p->ip.family, &raw);
    if (fd < 0) {
        if (errno == EPERM || errno == EACCES)
            snprintf(out->error, sizeof(out->error), "icmp needs CAP_NET_RAW");
        else
            errno_text(out, errno);
        return;
    }
    pkt[0] = p->ip.family == NETADDR_V4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    pkt[4] = (uint8_t)(id >> 8);
    pkt[5] = (uint8_t)id;
    pkt[6] = (uint8_t)(seq >> 8);
    pkt[7] = (uint8_t)seq;
    memcpy(pkt + 8, "lbipam-probe", 12);
    /* The kernel computes ICMPv6 checksums (it knows the pseudo-header); IPv4 is ours. */
    if (p->ip.family == NETADDR_V4) {
        uint16_t sum = inet_checksum(pkt, sizeof(pkt));
        memcpy(pkt + 2, &sum, 2);
    }
    /* connect() makes the kernel deliver only packets from the target. */
    if (connect(fd, (struct sockaddr *)&ss, len) < 0 || send(fd, pkt, sizeof(pkt), 0) < 0) {
        errno_text(out, errno);
        goto out;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, left_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errno_text(out, errno);
            goto out;
        }
        if (n == 0) {
            timeout_text(out, p->timeout_ms);
            goto out;
        }
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            errno_text(out, errno); /* an ICMP error reported on the connected socket */
            goto out;
        }
        int m = icmp_match(buf, (size_t)got, p->ip.family, raw, id, seq, out);
        if (m < 0)
            goto out;
        if (m > 0)
            break;
    }
    out->ok = true;
    out->latency_us = now_us() - start;
out:
    close(fd);
}

void probe_run(const struct probe_spec *p, struct probe_outcome *out)
{
    memset(out, 0, sizeof(*out));
    switch (p->type) {
    case PROBE_TCP:
        probe_tcp(p, out);
        break;
    case PROBE_HTTP:
    case PROBE_HTTPS:
        probe_http(p, out);
        break;
    case PROBE_ICMP:
        probe_icmp(p, out);
        break;
    }
}
