#include "lib/names.h"

#include <stddef.h>

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Shared shape of both label kinds: 1..NAME_MAX_LEN of [-a-z0-9], alphanumeric at both ends.
 * Only the first character differs (RFC 1035 wants a letter). */
static bool is_dns_label(const char *s, bool letter_first)
{
    if (!s || !s[0])
        return false;
    if (letter_first ? !(s[0] >= 'a' && s[0] <= 'z') : !is_lower_alnum(s[0]))
        return false;
    size_t i = 1;
    for (; s[i]; i++) {
        if (i >= NAME_MAX_LEN)
            return false;
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return is_lower_alnum(s[i - 1]);
}

bool name_is_rfc1123_label(const char *s)
{
    return is_dns_label(s, false);
}

bool name_is_rfc1035_label(const char *s)
{
    return is_dns_label(s, true);
}
