#include <criterion/criterion.h>
#include <string.h>

#include "lib/names.h"

static char *repeat(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

Test(names, rfc1123_label_accepts_lowercase_alnum_and_inner_dashes)
{
    const char *ok[] = {"a", "0", "9z", "prod-eu-1", "blue-pool", "a--b", "123"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        cr_assert(name_is_rfc1123_label(ok[i]), "%s refused", ok[i]);
}

Test(names, rfc1123_label_refuses_bad_characters_and_edges)
{
    const char *bad[] = {"",    "-a", "a-",  "-", "A",   "Prod", "a_b", "a.b",
                         "a b", " a", "a\n", "é", "a/b", "a:b",  "..",  "a%"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(name_is_rfc1123_label(bad[i]), "\"%s\" accepted", bad[i]);
    cr_assert_not(name_is_rfc1123_label(NULL));
}

Test(names, rfc1123_label_is_at_most_63_characters)
{
    char buf[80];
    cr_assert(name_is_rfc1123_label(repeat(buf, 'a', 63)));
    cr_assert_not(name_is_rfc1123_label(repeat(buf, 'a', 64)));
    cr_assert_not(name_is_rfc1123_label(repeat(buf, '7', 79)));
}

Test(names, rfc1035_label_must_start_with_a_letter)
{
    cr_assert(name_is_rfc1035_label("web"));
    cr_assert(name_is_rfc1035_label("a"));
    cr_assert(name_is_rfc1035_label("my-svc-2"));
    cr_assert_not(name_is_rfc1035_label("2web"));
    cr_assert_not(name_is_rfc1035_label("0"));
    cr_assert_not(name_is_rfc1035_label("-web"));
    cr_assert_not(name_is_rfc1035_label("web-"));
    cr_assert_not(name_is_rfc1035_label("Web"));
    cr_assert_not(name_is_rfc1035_label(""));
    cr_assert_not(name_is_rfc1035_label(NULL));
}

Test(names, rfc1035_label_is_at_most_63_characters)
{
    char buf[80];
    repeat(buf, 'b', 63);
    cr_assert(name_is_rfc1035_label(buf));
    repeat(buf, 'b', 64);
    cr_assert_not(name_is_rfc1035_label(buf));
}
