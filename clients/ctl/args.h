/* args.h - command-line flags of lbipamctl, described as data.
 *
 * Pure: argv in, flags and positionals out. Flags may appear anywhere after the command
 * (kubectl-like): --name VALUE, --name=VALUE, -o json, -ojson; "--" ends the flags. A flag
 * of kind FLAG_OPTIONAL_NUMBER takes the next word only when it is a number (--wait 10, and
 * --wait alone). Unknown flags, missing values and repeated single flags are usage errors:
 * ERR_BAD_REQUEST with reason "usage".
 */
#ifndef LBIPAM_CTL_ARGS_H
#define LBIPAM_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define ARGS_MAX 128

enum flag_kind { FLAG_SWITCH, FLAG_VALUE, FLAG_OPTIONAL_NUMBER };

struct flag_spec {
    const char *name; /* long name without "--" */
    enum flag_kind kind;
    char short_name; /* 0 for none */
    bool repeatable;
    const char *help; /* one line for --help: "--name VALUE  what it does" */
};

struct flag_value {
    const struct flag_spec *spec;
    const char *value; /* NULL for a switch or an optional number left out */
};

struct args {
    size_t nflags, npos;
    struct flag_value flags[ARGS_MAX];
    const char *pos[ARGS_MAX];
};

/* Parses argv[0..argc) against two spec lists (each ended by a {NULL} entry; either may be
 * NULL). Borrowed pointers into argv and the specs. */
int args_parse(struct args *out, int argc, char **argv, const struct flag_spec *a,
               const struct flag_spec *b, struct error *err);

bool args_has(const struct args *a, const char *name);
/* The value of a flag given once, else NULL. */
const char *args_get(const struct args *a, const char *name);
/* Every value of a repeatable flag, in order; returns how many (at most cap written). */
size_t args_all(const struct args *a, const char *name, const char **out, size_t cap);

#endif
