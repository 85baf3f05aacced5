/* probe.h - one active reachability probe (api.md §6): TCP connect, HTTP(S) GET, ICMP echo.
 *
 * probe_run blocks the calling thread for at most the probe's timeout (plus scheduling
 * noise) and never crashes on a hostile or absent peer: every failure becomes a short,
 * precise error text ("connection refused", "expected status 200, got 503", "timeout: no
 * answer within 2000 ms", "icmp needs CAP_NET_RAW"). It sends traffic to exactly the address
 * it is given; deciding which addresses may be probed is the caller's job (the server only
 * probes addresses inside its pools). Thread-safe; call probe_global_init once first.
 */
#ifndef LBIPAM_PROBE_H
#define LBIPAM_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/netaddr.h"

enum probe_type { PROBE_TCP, PROBE_HTTP, PROBE_HTTPS, PROBE_ICMP };

#define PROBE_ERROR_MAX 256

struct probe_spec {
    enum probe_type type;
    struct netaddr ip;
    uint16_t port;     /* tcp, http(s) */
    const char *path;  /* http(s): starts with '/' */
    int expect_status; /* http(s): 0 means 200 */
    int timeout_ms;    /* > 0 */
};

struct probe_outcome {
    bool ok;
    int64_t latency_us; /* time to the answer, when ok */
    char error[PROBE_ERROR_MAX];
};

/* 0, or -1 for an unknown name ("tcp", "http", "https", "icmp"). */
int probe_type_parse(enum probe_type *out, const char *name);
/* libcurl's global init; call before any thread runs probes. */
void probe_global_init(void);
void probe_run(const struct probe_spec *p, struct probe_outcome *out);

#endif
