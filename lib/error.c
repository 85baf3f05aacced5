#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(struct error *err, int code, const char *reason, const char *field, const char *fmt,
              ...)
{
    if (!err)
        return code;
    err->code = code;
    snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : "");
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return code;
}

void error_clear(struct error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}
