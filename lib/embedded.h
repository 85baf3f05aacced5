/* embedded.h - files compiled into the binary by cmake/embed.cmake.
 *
 * Each table ends with an entry whose name is NULL. Data is NUL-terminated so that text
 * files (SQL, YAML) can be used as C strings; `len` excludes the terminator.
 */
#ifndef LBIPAM_EMBEDDED_H
#define LBIPAM_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;
    const char *data;
    size_t len;
};

#endif
