/* fuzz_netaddr - libFuzzer target: the address and CIDR parsers of lib/netaddr.c.
 *
 * Whatever the bytes, parsing must not crash, and what parses must format to text that parses
 * back to the same value (the canonical form is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const char *text)
{
    struct netaddr a, b;
    char out[NETADDR_STRLEN];
    struct error err;

    if (netaddr_parse(&a, text, "/ip", &err) < 0)
        return;
    netaddr_format(out, &a);
    if (netaddr_parse(&b, out, "/ip", &err) < 0 || a.v != b.v || a.family != b.family)
        abort(); /* the canonical form must parse back to the same address */
}

static void check_prefix(const char *text)
{
    struct netprefix p, q;
    struct netrange r;
    char out[NETPREFIX_STRLEN], range[NETRANGE_STRLEN];
    struct error err;

    if (netprefix_parse(&p, text, "/cidr", &err) < 0)
        return;
    netprefix_format(out, &p);
    if (netprefix_parse(&q, out, "/cidr", &err) < 0 || p.base != q.base || p.len != q.len ||
        p.family != q.family)
        abort();
    struct netprefix cover[2 * 128];
    char count[NETCOUNT_STRLEN];

    r = netprefix_range(&p);
    netrange_format(range, &r);
    netcount_format(count, netrange_size(&r));
    /* a prefix is its own exact cover */
    if (netrange_cover(&r, cover, sizeof(cover) / sizeof(cover[0])) != 1 ||
        cover[0].base != p.base || cover[0].len != p.len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    check_addr(text);
    check_prefix(text);
    free(text);
    return 0;
}
