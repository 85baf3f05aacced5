#include <criterion/criterion.h>
#include <string.h>

#include "lib/netaddr.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static struct netaddr addr(const char *text)
{
    struct netaddr a;
    struct error err = {0};
    int rc = netaddr_parse(&a, text, "/ip", &err);
    cr_assert_eq(rc, 0, "parse %s: %s", text, err.detail);
    return a;
}

static struct netprefix prefix(const char *text)
{
    struct netprefix p;
    struct error err = {0};
    int rc = netprefix_parse(&p, text, "/cidr", &err);
    cr_assert_eq(rc, 0, "parse %s: %s", text, err.detail);
    return p;
}

static void assert_canonical(const char *in, const char *want)
{
    char out[NETADDR_STRLEN];
    struct netaddr a = addr(in);
    netaddr_format(out, &a);
    cr_assert_str_eq(out, want, "%s formats as %s, want %s", in, out, want);
}

static void assert_format_v6(u128 v, const char *want)
{
    char out[NETADDR_STRLEN];
    struct netaddr a = {.v = v, .family = NETADDR_V6};
    netaddr_format(out, &a);
    cr_assert_str_eq(out, want);
}

static void assert_addr_invalid(const char *text)
{
    struct netaddr a;
    struct error err = {0};
    cr_assert_eq(netaddr_parse(&a, text, "/blocks/0/start", &err), ERR_INVALID, "accepted \"%s\"",
                 text);
    cr_assert_eq(err.code, ERR_INVALID);
    cr_assert_str_eq(err.reason, "invalid_ip", "\"%s\": reason %s", text, err.reason);
    cr_assert_str_eq(err.field, "/blocks/0/start");
}

static void assert_prefix_invalid(const char *text, const char *reason)
{
    struct netprefix p;
    struct error err = {0};
    cr_assert_eq(netprefix_parse(&p, text, "/blocks/3/cidr", &err), ERR_INVALID, "accepted \"%s\"",
                 text);
    cr_assert_str_eq(err.reason, reason, "\"%s\": reason %s, want %s", text, err.reason, reason);
    cr_assert_str_eq(err.field, "/blocks/3/cidr");
}

static void assert_count(struct netcount c, const char *want)
{
    char out[NETCOUNT_STRLEN];
    netcount_format(out, c);
    cr_assert_str_eq(out, want);
}

static u128 v6(uint64_t hi, uint64_t lo)
{
    return (u128)hi << 64 | lo;
}

/* xorshift64*: reproducible pseudo-random numbers without global state. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* ---- parse and format --------------------------------------------------------------------- */

Test(netaddr, ipv4_round_trips)
{
    const char *cases[] = {"0.0.0.0", "1.2.3.4", "10.0.10.5", "192.168.255.1", "255.255.255.255"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct netaddr a = addr(cases[i]);
        cr_assert_eq(a.family, NETADDR_V4);
        assert_canonical(cases[i], cases[i]);
    }
    cr_assert(addr("1.2.3.4").v == 0x01020304);
    cr_assert(addr("255.255.255.255").v == UINT32_MAX);
}

Test(netaddr, ipv6_canonical_text_is_rfc5952)
{
    /* §4.1 leading zeros dropped, §4.3 lowercase */
    assert_canonical("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    assert_canonical("2001:DB8::ABCD", "2001:db8::abcd");
    /* §4.2.1 the longest run is compressed */
    assert_canonical("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::");
    assert_canonical("0:0:1:0:0:0:0:1", "0:0:1::1");
    /* §4.2.2 a single zero group is not compressed */
    assert_canonical("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
    assert_canonical("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
    /* §4.2.3 on a tie the first run is compressed */
    assert_canonical("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
    assert_canonical("1:0:0:1:0:0:1:1", "1::1:0:0:1:1");
    /* the ends */
    assert_canonical("0:0:0:0:0:0:0:0", "::");
    assert_canonical("::1", "::1");
    assert_canonical("1::", "1::");
    assert_canonical("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_canonical("fe80:0:0:0:0:0:0:0", "fe80::");
}

Test(netaddr, ipv6_parse_value_is_big_endian_numeric)
{
    cr_assert(addr("2001:db8::1").v == v6(0x20010db800000000ULL, 1));
    cr_assert(addr("::").v == 0);
    cr_assert(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").v == netaddr_max(NETADDR_V6));
    cr_assert_eq(addr("::1").family, NETADDR_V6);
}

Test(netaddr, ipv4_compatible_text_is_accepted_and_printed_in_hex)
{
    assert_canonical("::1.2.3.4", "::102:304");
    assert_canonical("64:ff9b::192.0.2.1", "64:ff9b::c000:201");
}

Test(netaddr, values_inside_v4mapped_block_format_as_pure_hex)
{
    assert_format_v6((u128)0xffff << 32 | 0x0a000001, "::ffff:a00:1");
    assert_format_v6((u128)0xffff << 32, "::ffff:0:0");
    assert_format_v6((u128)0xffff << 32 | 0xffffffff, "::ffff:ffff:ffff");
    assert_format_v6((u128)0x0a000001, "::a00:1");
}

Test(netaddr, v4mapped_input_is_invalid_ip)
{
    assert_addr_invalid("::ffff:1.2.3.4");
    assert_addr_invalid("::FFFF:10.0.0.1");
    assert_addr_invalid("::ffff:a00:1");
    assert_addr_invalid("0:0:0:0:0:ffff:0:0");
    assert_addr_invalid("::ffff:ffff:ffff");
    /* the neighbours of the block are ordinary addresses */
    assert_canonical("::fffe:ffff:ffff", "::fffe:ffff:ffff");
    assert_canonical("::1:0:0:0", "::1:0:0:0");
}

Test(netaddr, malformed_input_is_invalid_ip_with_field)
{
    const char *cases[] = {
        "",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1.2.3. 4",
        "1.2.3.4\n",
        "\t::1",
        "fe80::1%eth0",
        "fe80::1%1",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.04",
        "0x1.2.3.4",
        "1.2.3.4/32",
        "::/0",
        ":::",
        "1:2:3:4:5:6:7:8:9",
        "12345::",
        "g::1",
        "+1.2.3.4",
        "-1.2.3.4",
        "1..2.3",
        "[::1]",
        "1.2.3.4:80",
        "::1.2.3",
        "localhost",
        "0",
        "0:0:0:0:0:0:0:1:",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_addr_invalid(cases[i]);
}

Test(netaddr, null_text_is_invalid_ip)
{
    struct netaddr a;
    struct error err = {0};
    cr_assert_eq(netaddr_parse(&a, NULL, "/ip", &err), ERR_INVALID);
    cr_assert_str_eq(err.reason, "invalid_ip");
}

Test(netaddr, parse_errors_tolerate_null_error_record)
{
    struct netaddr a;
    struct netprefix p;
    cr_assert_eq(netaddr_parse(&a, "nope", NULL, NULL), ERR_INVALID);
    cr_assert_eq(netprefix_parse(&p, "10.0.0.1/8", NULL, NULL), ERR_INVALID);
}

Test(netaddr, long_junk_is_refused_with_bounded_detail)
{
    char junk[5000];
    memset(junk, 'a', sizeof(junk) - 1);
    junk[sizeof(junk) - 1] = '\0';
    struct netaddr a;
    struct error err = {0};
    cr_assert_eq(netaddr_parse(&a, junk, "/ip", &err), ERR_INVALID);
    cr_assert_lt(strlen(err.detail), 200);
}

/* ---- prefixes ----------------------------------------------------------------------------- */

Test(netaddr, host_bits_set_names_canonical_prefix)
{
    struct netprefix p;
    struct error err = {0};
    cr_assert_eq(netprefix_parse(&p, "10.0.10.5/24", "/blocks/0/cidr", &err), ERR_INVALID);
    cr_assert_eq(err.code, ERR_INVALID);
    cr_assert_str_eq(err.reason, "invalid_block");
    cr_assert_str_eq(err.field, "/blocks/0/cidr");
    cr_assert_str_eq(err.detail, "10.0.10.5/24 has host bits set; did you mean 10.0.10.0/24?");
}

Test(netaddr, host_bits_set_ipv6_names_canonical_prefix)
{
    struct netprefix p;
    struct error err = {0};
    cr_assert_eq(netprefix_parse(&p, "2001:db8:100:10::1/64", "/c", &err), ERR_INVALID);
    cr_assert_str_eq(err.reason, "invalid_block");
    cr_assert_str_eq(err.detail,
                     "2001:db8:100:10::1/64 has host bits set; did you mean 2001:db8:100:10::/64?");
    cr_assert_eq(netprefix_parse(&p, "1.2.3.4/0", "/c", &err), ERR_INVALID);
    cr_assert_str_eq(err.detail, "1.2.3.4/0 has host bits set; did you mean 0.0.0.0/0?");
}

Test(netaddr, prefix_round_trips_canonical)
{
    const char *cases[] = {"10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/32",          "2001:db8::/32",
                           "::/0",       "::1/128",   "2001:db8:100:10::/64"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[NETPREFIX_STRLEN];
        struct netprefix p = prefix(cases[i]);
        netprefix_format(out, &p);
        cr_assert_str_eq(out, cases[i]);
    }
    char out[NETPREFIX_STRLEN];
    struct netprefix p = prefix("2001:DB8:0::/48");
    netprefix_format(out, &p);
    cr_assert_str_eq(out, "2001:db8::/48");
}

Test(netaddr, malformed_prefix_is_invalid_cidr)
{
    const char *cases[] = {
        "",
        "10.0.0.0",
        "10.0.0.0/",
        "/8",
        "10.0.0.0/33",
        "10.0.0.0/+8",
        "10.0.0.0/08",
        "10.0.0.0/-1",
        "10.0.0.0/8 ",
        " 10.0.0.0/8",
        "10.0.0.0/8/8",
        "10.0.0.0/8a",
        "10.0.0.0/0x8",
        "::/129",
        "::/1280",
        "::/0128",
        "10.0.0/8",
        "fe80::%1/64",
        "10.0.0.0 /8",
        "10.0.0.0/ 8",
        "10.0.0.0/4294967304",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_prefix_invalid(cases[i], "invalid_cidr");
}

Test(netaddr, v4mapped_prefix_is_invalid_ip)
{
    assert_prefix_invalid("::ffff:0:0/96", "invalid_ip");
    assert_prefix_invalid("::ffff:10.0.0.0/104", "invalid_ip");
    /* a block that merely contains the mapped range is an ordinary IPv6 block */
    struct netprefix p = prefix("::/64");
    cr_assert_eq(p.len, 64);
}

Test(netaddr, prefix_edge_lengths_have_exact_ranges)
{
    struct {
        const char *cidr;
        const char *range;
        const char *count;
    } cases[] = {
        {"0.0.0.0/0", "0.0.0.0-255.255.255.255", "4294967296"},
        {"10.0.0.0/31", "10.0.0.0-10.0.0.1", "2"},
        {"10.0.0.7/32", "10.0.0.7", "1"},
        {"255.255.255.255/32", "255.255.255.255", "1"},
        {"::/0", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         "340282366920938463463374607431768211456"},
        {"2001:db8::/127", "2001:db8::-2001:db8::1", "2"},
        {"2001:db8::5/128", "2001:db8::5", "1"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         "1"},
        {"2001:db8:100::/48", "2001:db8:100::-2001:db8:100:ffff:ffff:ffff:ffff:ffff",
         "1208925819614629174706176"},
        {"2001:db8::/64", "2001:db8::-2001:db8::ffff:ffff:ffff:ffff", "18446744073709551616"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct netprefix p = prefix(cases[i].cidr);
        struct netrange r = netprefix_range(&p);
        char out[NETRANGE_STRLEN];
        netrange_format(out, &r);
        cr_assert_str_eq(out, cases[i].range, "%s", cases[i].cidr);
        assert_count(netrange_size(&r), cases[i].count);
    }
}

Test(netaddr, prefix_contains_only_its_family_and_range)
{
    struct netprefix p = prefix("10.0.0.0/8");
    struct netaddr in = addr("10.255.255.255"), out = addr("11.0.0.0");
    struct netaddr other = {.v = addr("10.0.0.1").v, .family = NETADDR_V6};
    cr_assert(netprefix_contains(&p, &in));
    cr_assert_not(netprefix_contains(&p, &out));
    cr_assert_not(netprefix_contains(&p, &other));

    struct netprefix all = prefix("::/0"), host = prefix("::1/128");
    struct netaddr top = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), one = addr("::1");
    cr_assert(netprefix_contains(&all, &top));
    cr_assert(netprefix_contains(&host, &one));
    cr_assert_not(netprefix_contains(&host, &top));
}

/* ---- ranges ------------------------------------------------------------------------------- */

Test(netaddr, range_contains_and_overlaps_are_inclusive_and_per_family)
{
    struct netrange a = {.start = 10, .stop = 20, .family = NETADDR_V4};
    struct netrange b = {.start = 20, .stop = 30, .family = NETADDR_V4};
    struct netrange c = {.start = 21, .stop = 30, .family = NETADDR_V4};
    struct netrange d = {.start = 10, .stop = 20, .family = NETADDR_V6};
    cr_assert(netrange_overlaps(&a, &b));
    cr_assert(netrange_overlaps(&b, &a));
    cr_assert_not(netrange_overlaps(&a, &c));
    cr_assert_not(netrange_overlaps(&a, &d));
    struct netaddr x = {.v = 20, .family = NETADDR_V4}, y = {.v = 21, .family = NETADDR_V4};
    struct netaddr z = {.v = 15, .family = NETADDR_V6};
    cr_assert(netrange_contains(&a, &x));
    cr_assert_not(netrange_contains(&a, &y));
    cr_assert_not(netrange_contains(&a, &z));
}

Test(netaddr, range_format_is_start_stop_or_single)
{
    char out[NETRANGE_STRLEN];
    struct netrange r = {
        .start = addr("20.0.20.100").v, .stop = addr("20.0.20.200").v, .family = NETADDR_V4};
    netrange_format(out, &r);
    cr_assert_str_eq(out, "20.0.20.100-20.0.20.200");
    r.stop = r.start;
    netrange_format(out, &r);
    cr_assert_str_eq(out, "20.0.20.100");
}

static void assert_cover(struct netrange r, const char *const *want, size_t nwant)
{
    struct netprefix out[256];
    size_t n = netrange_cover(&r, out, 256);
    cr_assert_eq(n, nwant, "cover has %zu prefixes, want %zu", n, nwant);
    for (size_t i = 0; i < n; i++) {
        char text[NETPREFIX_STRLEN];
        netprefix_format(text, &out[i]);
        cr_assert_str_eq(text, want[i]);
    }
}

Test(netaddr, cover_of_unaligned_range_is_minimal_and_ordered)
{
    const char *want[] = {"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"};
    struct netrange r = {
        .start = addr("10.0.0.1").v, .stop = addr("10.0.0.6").v, .family = NETADDR_V4};
    assert_cover(r, want, 4);

    const char *want2[] = {"20.0.20.100/30", "20.0.20.104/29", "20.0.20.112/28",
                           "20.0.20.128/26", "20.0.20.192/29", "20.0.20.200/32"};
    struct netrange r2 = {
        .start = addr("20.0.20.100").v, .stop = addr("20.0.20.200").v, .family = NETADDR_V4};
    assert_cover(r2, want2, 6);
}

Test(netaddr, cover_of_full_spaces_is_one_slash_zero)
{
    const char *want4[] = {"0.0.0.0/0"};
    assert_cover((struct netrange){.start = 0, .stop = UINT32_MAX, .family = NETADDR_V4}, want4, 1);
    const char *want6[] = {"::/0"};
    assert_cover(
        (struct netrange){.start = 0, .stop = netaddr_max(NETADDR_V6), .family = NETADDR_V6}, want6,
        1);
}

Test(netaddr, cover_at_top_of_space_does_not_overflow)
{
    u128 max = netaddr_max(NETADDR_V6);
    const char *want[] = {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd/128",
                          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"};
    assert_cover((struct netrange){.start = max - 2, .stop = max, .family = NETADDR_V6}, want, 2);
    const char *want1[] = {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"};
    assert_cover((struct netrange){.start = max, .stop = max, .family = NETADDR_V6}, want1, 1);
    const char *want2[] = {
        "0.0.0.1/32",  "0.0.0.2/31",   "0.0.0.4/30",  "0.0.0.8/29",   "0.0.0.16/28", "0.0.0.32/27",
        "0.0.0.64/26", "0.0.0.128/25", "0.0.1.0/24",  "0.0.2.0/23",   "0.0.4.0/22",  "0.0.8.0/21",
        "0.0.16.0/20", "0.0.32.0/19",  "0.0.64.0/18", "0.0.128.0/17", "0.1.0.0/16",  "0.2.0.0/15",
        "0.4.0.0/14",  "0.8.0.0/13",   "0.16.0.0/12", "0.32.0.0/11",  "0.64.0.0/10", "0.128.0.0/9",
        "1.0.0.0/8",   "2.0.0.0/7",    "4.0.0.0/6",   "8.0.0.0/5",    "16.0.0.0/4",  "32.0.0.0/3",
        "64.0.0.0/2",  "128.0.0.0/1"};
    assert_cover((struct netrange){.start = 1, .stop = UINT32_MAX, .family = NETADDR_V4}, want2,
                 32);
}

Test(netaddr, cover_count_is_returned_even_when_cap_is_small)
{
    /* the worst case: 2 * bits - 2 prefixes */
    struct netrange r = {.start = 1, .stop = netaddr_max(NETADDR_V6) - 1, .family = NETADDR_V6};
    cr_assert_eq(netrange_cover(&r, NULL, 0), 254);
    struct netprefix out[3];
    memset(out, 0, sizeof(out));
    cr_assert_eq(netrange_cover(&r, out, 2), 254);
    cr_assert(out[0].base == 1 && out[0].len == 128);
    cr_assert(out[1].base == 2 && out[1].len == 127);
    cr_assert(out[2].len == 0 && out[2].base == 0, "wrote past cap");
    struct netrange r4 = {.start = 1, .stop = UINT32_MAX - 1, .family = NETADDR_V4};
    cr_assert_eq(netrange_cover(&r4, NULL, 0), 62);
}

/* The unique minimal cover is the set of maximal aligned blocks inside the range: found here
 * by walking every address of a small range and growing its block while it stays inside. */
static size_t brute_cover(struct netrange r, struct netprefix *out, size_t cap)
{
    unsigned bits = netaddr_bits(r.family);
    size_t n = 0;
    for (u128 a = r.start;; a++) {
        unsigned len = bits;
        for (unsigned l = bits; l-- > 0;) {
            unsigned host = bits - l;
            u128 mask = host >= 128 ? ~(u128)0 : ((u128)1 << host) - 1;
            u128 base = a & ~mask;
            if (base < r.start || base + mask > r.stop || base + mask < base)
                break;
            len = l;
        }
        unsigned host = bits - len;
        u128 mask = host >= 128 ? ~(u128)0 : ((u128)1 << host) - 1;
        u128 base = a & ~mask;
        if (n == 0 || out[n - 1].base != base) {
            cr_assert_lt(n, cap);
            out[n++] = (struct netprefix){.base = base, .len = len, .family = r.family};
        }
        if (a == r.stop)
            break;
    }
    return n;
}

static void check_cover_against_brute_force(struct netrange r)
{
    struct netprefix got[256], want[256];
    size_t n = netrange_cover(&r, got, 256);
    size_t m = brute_cover(r, want, 256);
    char rs[NETRANGE_STRLEN];
    netrange_format(rs, &r);
    cr_assert_eq(n, m, "%s: cover has %zu prefixes, brute force %zu", rs, n, m);
    for (size_t i = 0; i < n; i++) {
        cr_assert(got[i].base == want[i].base && got[i].len == want[i].len &&
                      got[i].family == r.family,
                  "%s: prefix %zu differs", rs, i);
    }
}

Test(netaddr, cover_matches_brute_force_on_random_small_ranges)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 3000; i++) {
        int family = i % 2 ? NETADDR_V6 : NETADDR_V4;
        u128 max = netaddr_max(family);
        u128 span = next_rand(&seed) % 300;
        u128 start;
        switch (i % 3) {
        case 0: /* near zero */
            start = next_rand(&seed) % 64;
            break;
        case 1: /* near the top: stop may be the largest address */
            start = max - span - next_rand(&seed) % 64;
            break;
        default: /* anywhere */
            start = (v6(next_rand(&seed), next_rand(&seed)) & max);
            if (start > max - span)
                start = max - span;
            break;
        }
        check_cover_against_brute_force(
            (struct netrange){.start = start, .stop = start + span, .family = family});
    }
}

/* ---- counts ------------------------------------------------------------------------------- */

Test(netaddr, count_of_ipv6_slash_zero_is_two_to_the_128)
{
    struct netprefix p = prefix("::/0");
    struct netrange r = netprefix_range(&p);
    struct netcount c = netrange_size(&r);
    cr_assert_eq(c.hi, 1);
    cr_assert(c.lo == 0);
    assert_count(c, "340282366920938463463374607431768211456");
}

Test(netaddr, count_of_slash_48_is_exact)
{
    struct netprefix p = prefix("2001:db8:100::/48");
    struct netrange r = netprefix_range(&p);
    assert_count(netrange_size(&r), "1208925819614629174706176");
}

Test(netaddr, count_formatting_is_exact_decimal)
{
    assert_count(netcount_from(0), "0");
    assert_count(netcount_from(1), "1");
    assert_count(netcount_from(999999999), "999999999");
    assert_count(netcount_from(1000000000), "1000000000");
    assert_count(netcount_from((u128)1000000000 * 1000000000), "1000000000000000000");
    assert_count(netcount_from(~(u128)0), "340282366920938463463374607431768211455");
    assert_count((struct netcount){.lo = 5, .hi = 1}, "340282366920938463463374607431768211461");
    assert_count((struct netcount){.lo = ~(u128)0, .hi = 1},
                 "680564733841876926926749214863536422911");
}

Test(netaddr, count_arithmetic_carries_across_two_to_the_128)
{
    struct netcount max = netcount_from(~(u128)0);
    struct netcount one = netcount_from(1);
    struct netcount full = netcount_add(max, one);
    cr_assert_eq(full.hi, 1);
    cr_assert(full.lo == 0);
    cr_assert_eq(netcount_cmp(full, max), 1);
    cr_assert_eq(netcount_cmp(max, full), -1);
    cr_assert_eq(netcount_cmp(full, full), 0);
    struct netcount back = netcount_sub(full, one);
    cr_assert_eq(netcount_cmp(back, max), 0);
    struct netcount zero = netcount_sub(full, full);
    assert_count(zero, "0");
    cr_assert_eq(netcount_cmp(netcount_from(3), netcount_from(4)), -1);
}

Test(netaddr, count_ratio_is_fraction_and_zero_for_empty_total)
{
    cr_assert_float_eq(netcount_ratio(netcount_from(3), netcount_from(358)), 3.0 / 358, 1e-12);
    cr_assert_float_eq(netcount_ratio(netcount_from(5), netcount_from(0)), 0.0, 0);
    struct netcount full = {.lo = 0, .hi = 1};
    struct netcount half = netcount_from((u128)1 << 127);
    cr_assert_float_eq(netcount_ratio(half, full), 0.5, 1e-12);
    cr_assert_float_eq(netcount_ratio(full, full), 1.0, 1e-12);
    cr_assert_float_eq(netcount_ratio(netcount_from(0), full), 0.0, 0);
}

/* ---- bytes and misc ----------------------------------------------------------------------- */

Test(netaddr, bytes_are_big_endian_and_round_trip)
{
    uint8_t b[16];
    cr_assert_eq(netaddr_to_bytes(b, addr("10.1.2.3").v, NETADDR_V4), 4);
    cr_assert(b[0] == 10 && b[1] == 1 && b[2] == 2 && b[3] == 3);
    cr_assert(netaddr_from_bytes(b, 4) == addr("10.1.2.3").v);

    u128 v = addr("2001:db8::ff").v;
    cr_assert_eq(netaddr_to_bytes(b, v, NETADDR_V6), 16);
    cr_assert(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 && b[15] == 0xff);
    cr_assert(netaddr_from_bytes(b, 16) == v);
}

Test(netaddr, byte_order_is_numeric_order)
{
    uint64_t seed = 42;
    for (int i = 0; i < 2000; i++) {
        u128 a = v6(next_rand(&seed), next_rand(&seed)), b = v6(next_rand(&seed), next_rand(&seed));
        if (i % 4 == 0)
            b = a + (next_rand(&seed) % 3); /* equal and adjacent values too */
        uint8_t ba[16], bb[16];
        netaddr_to_bytes(ba, a, NETADDR_V6);
        netaddr_to_bytes(bb, b, NETADDR_V6);
        int c = memcmp(ba, bb, 16);
        cr_assert_eq(c < 0, a < b);
        cr_assert_eq(c == 0, a == b);
        cr_assert(netaddr_from_bytes(ba, 16) == a);
    }
}

Test(netaddr, family_properties)
{
    cr_assert_eq(netaddr_bits(NETADDR_V4), 32);
    cr_assert_eq(netaddr_bits(NETADDR_V6), 128);
    cr_assert(netaddr_max(NETADDR_V4) == UINT32_MAX);
    cr_assert(netaddr_max(NETADDR_V6) == ~(u128)0);
    cr_assert_str_eq(netaddr_family_name(NETADDR_V4), "IPv4");
    cr_assert_str_eq(netaddr_family_name(NETADDR_V6), "IPv6");
}
