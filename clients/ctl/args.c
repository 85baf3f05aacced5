#include "clients/ctl/args.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int usage_error(struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(struct error *err, const char *fmt, ...)
{
    char detail[ERROR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return error_set(err, ERR_BAD_REQUEST, "usage", NULL, "%s", detail);
}

static const struct flag_spec *find_spec(const struct flag_spec *a, const struct flag_spec *b,
                                         const char *name, size_t len, char short_name)
{
    const struct flag_spec *lists[] = {a, b};
    for (size_t l = 0; l < 2; l++) {
        for (const struct flag_spec *s = lists[l]; s && s->name; s++) {
            if (short_name && s->short_name == short_name)
                return s;
            if (!short_name && strlen(s->name) == len && strncmp(s->name, name, len) == 0)
                return s;
        }
    }
    return NULL;
}

static bool is_number(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static int add_flag(struct args *out, const struct flag_spec *s, const char *value,
                    struct error *err)
{
    if (out->nflags == ARGS_MAX)
        return usage_error(err, "too many flags");
    if (!s->repeatable && args_has(out, s->name))
        return usage_error(err, "--%s given more than once", s->name);
    out->flags[out->nflags++] = (struct flag_value){s, value};
    return 0;
}

/* One flag word at argv[*i]; may consume the next word as its value. */
static int parse_flag(struct args *out, int argc, char **argv, int *i, const struct flag_spec *a,
                      const struct flag_spec *b, struct error *err)
{
    const char *word = argv[*i], *inline_value = NULL;
    const struct flag_spec *s;
    if (word[1] == '-') {
        const char *name = word + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        inline_value = eq ? eq + 1 : NULL;
        s = find_spec(a, b, name, len, 0);
    } else {
        s = find_spec(a, b, NULL, 0, word[1]);
        inline_value = word[1] && word[2] ? word + 2 : NULL;
    }
    if (!s)
        return usage_error(err, "unknown flag %s", word);
    if (s->kind == FLAG_SWITCH) {
        if (inline_value)
            return usage_error(err, "--%s takes no value", s->name);
        return add_flag(out, s, NULL, err);
    }
    if (inline_value)
        return add_flag(out, s, inline_value, err);
    if (s->kind == FLAG_OPTIONAL_NUMBER) {
        if (*i + 1 < argc && is_number(argv[*i + 1]))
            return add_flag(out, s, argv[++*i], err);
        return add_flag(out, s, NULL, err);
    }
    if (*i + 1 >= argc)
        return usage_error(err, "--%s needs a value", s->name);
    return add_flag(out, s, argv[++*i], err);
}

int args_parse(struct args *out, int argc, char **argv, const struct flag_spec *a,
               const struct flag_spec *b, struct error *err)
{
    int rc = 0;
    bool flags_done = false;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *word = argv[i];
        if (!flags_done && strcmp(word, "--") == 0) {
            flags_done = true;
        } else if (!flags_done && word[0] == '-' && word[1] != '\0') {
            rc = parse_flag(out, argc, argv, &i, a, b, err);
        } else if (out->npos == ARGS_MAX) {
            rc = usage_error(err, "too many arguments");
        } else {
            out->pos[out->npos++] = word;
        }
    }
    return rc;
}

bool args_has(const struct args *a, const char *name)
{
    for (size_t i = 0; i < a->nflags; i++)
        if (strcmp(a->flags[i].spec->name, name) == 0)
            return true;
    return false;
}

const char *args_get(const struct args *a, const char *name)
{
    for (size_t i = 0; i < a->nflags; i++)
        if (strcmp(a->flags[i].spec->name, name) == 0)
            return a->flags[i].value;
    return NULL;
}

size_t args_all(const struct args *a, const char *name, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nflags; i++) {
        if (strcmp(a->flags[i].spec->name, name) != 0)
            continue;
        if (n < cap)
            out[n] = a->flags[i].value;
        n++;
    }
    return n;
}
