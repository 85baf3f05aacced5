/* names.h - syntax of object names (api.md §1). Pure predicates, no I/O. */
#ifndef LBIPAM_NAMES_H
#define LBIPAM_NAMES_H

#include <stdbool.h>

#define NAME_MAX_LEN 63

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1–63 characters: pools, clusters, namespaces. */
bool name_is_rfc1123_label(const char *s);
/* [a-z]([-a-z0-9]*[a-z0-9])?, 1–63 characters: service names. */
bool name_is_rfc1035_label(const char *s);

#endif
