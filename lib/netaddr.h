/* netaddr.h - IPv4/IPv6 addresses, prefixes and ranges as 128-bit integers.
 *
 * An address is its numeric value plus a family; IPv4 uses the low 32 bits. Ranges are
 * inclusive [start, stop] of one family. Everything here is pure computation: no I/O, no
 * allocation. Counts of addresses can reach 2^128 (a ::/0 block), one more than u128 holds,
 * so they are `struct netcount` and are printed as exact decimal strings (api.md §1).
 * IPv4-mapped IPv6 input (::ffff:a.b.c.d) is refused everywhere (reason "invalid_ip").
 */
#ifndef LBIPAM_NETADDR_H
#define LBIPAM_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

__extension__ typedef unsigned __int128 u128;

enum netaddr_family { NETADDR_V4 = 4, NETADDR_V6 = 6 };

#define NETADDR_STRLEN 46                        /* INET6_ADDRSTRLEN */
#define NETPREFIX_STRLEN (NETADDR_STRLEN + 4)    /* "addr/128" */
#define NETRANGE_STRLEN (2 * NETADDR_STRLEN + 2) /* "start-stop" */
#define NETCOUNT_STRLEN 48                       /* 2^128 has 39 digits */

struct netaddr {
    u128 v;
    int family; /* NETADDR_V4 or NETADDR_V6 */
};

struct netprefix {
    u128 base; /* host bits always zero */
    unsigned len;
    int family;
};

struct netrange {
    u128 start, stop; /* inclusive, start <= stop */
    int family;
};

/* Exact count up to 2^128: value = hi * 2^128 + lo (hi is 0 or 1). */
struct netcount {
    u128 lo;
    unsigned hi;
};

/* Number of bits of the family (32 or 128) and its largest address. */
unsigned netaddr_bits(int family);
u128 netaddr_max(int family);
const char *netaddr_family_name(int family); /* "IPv4" / "IPv6" */

/* Parses one address. Fails with ERR_INVALID, reason "invalid_ip", naming `field`, for
 * anything but a plain IPv4 dotted quad or IPv6 text (no zone, no prefix, not v4-mapped). */
int netaddr_parse(struct netaddr *out, const char *text, const char *field, struct error *err);

/* Canonical text: dotted quad, or RFC 5952 for IPv6. */
void netaddr_format(char out[NETADDR_STRLEN], const struct netaddr *a);

/* Parses "addr/len". With host bits set, fails with ERR_INVALID reason "invalid_block" and a
 * detail naming the canonical prefix ("10.0.10.5/24 has host bits set; did you mean
 * 10.0.10.0/24?"). Other malformed input: reason "invalid_cidr". */
int netprefix_parse(struct netprefix *out, const char *text, const char *field, struct error *err);
void netprefix_format(char out[NETPREFIX_STRLEN], const struct netprefix *p);
struct netrange netprefix_range(const struct netprefix *p);
bool netprefix_contains(const struct netprefix *p, const struct netaddr *a);

bool netrange_contains(const struct netrange *r, const struct netaddr *a);
bool netrange_overlaps(const struct netrange *a, const struct netrange *b);
/* "start-stop", or just "start" for a one-address range. */
void netrange_format(char out[NETRANGE_STRLEN], const struct netrange *r);
struct netcount netrange_size(const struct netrange *r);

/* The minimal list of prefixes that covers r exactly, lowest first. Writes at most `cap`
 * prefixes and returns how many the cover has (at most 2 * bits), like snprintf. */
size_t netrange_cover(const struct netrange *r, struct netprefix *out, size_t cap);

struct netcount netcount_from(u128 v);
struct netcount netcount_add(struct netcount a, struct netcount b);
struct netcount netcount_sub(struct netcount a, struct netcount b); /* a >= b */
int netcount_cmp(struct netcount a, struct netcount b);
void netcount_format(char out[NETCOUNT_STRLEN], struct netcount c); /* exact decimal */
double netcount_ratio(struct netcount num, struct netcount den);    /* 0 when den == 0 */

/* Fixed-width big-endian bytes (4 for IPv4, 16 for IPv6): memcmp order is numeric order,
 * which is how the store keys addresses. Returns the length written. */
size_t netaddr_to_bytes(uint8_t out[16], u128 v, int family);
u128 netaddr_from_bytes(const uint8_t *bytes, size_t len);

#endif
