/* test_xalloc.c - the growth rule every bounded buffer relies on (lib/xalloc.h xgrow). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

Test(xalloc, xgrow_starts_at_1_kib_and_doubles_until_the_need_fits)
{
    size_t cap = 0;
    char *p = xgrow(NULL, &cap, 1);
    cr_assert_eq(cap, 1024);
    p = xgrow(p, &cap, 1025);
    cr_assert_eq(cap, 2048);
    p = xgrow(p, &cap, 9000);
    cr_assert_eq(cap, 16384);
    free(p);
}

Test(xalloc, xgrow_keeps_the_content_and_does_nothing_when_it_fits)
{
    size_t cap = 0;
    char *p = xgrow(NULL, &cap, 6);
    memcpy(p, "hello", 6);
    char *same = xgrow(p, &cap, 1024);
    cr_assert_eq(same, p, "no reallocation while the need fits");
    p = xgrow(p, &cap, 5000);
    cr_assert_str_eq(p, "hello");
    cr_assert_eq(cap, 8192);
    free(p);
}
