/* error.h - the one error record that travels from where a failure happens to the reply.
 *
 * The detail is set once, where the failure is understood (error_set), and passed up
 * unchanged: callers return the code and never re-word the message. `reason` is the stable
 * machine code of api.md (e.g. "out_of_ips"); `field` is a JSON pointer into the request body
 * when one field is at fault, else empty. The HTTP status is derived from `code` by the
 * server's problem table, except where a reason needs a status of its own (see problem.c).
 */
#ifndef LBIPAM_ERROR_H
#define LBIPAM_ERROR_H

/* Return codes of fallible functions: 0 success, negative failure. */
enum err_code {
    ERR_OK = 0,
    ERR_INTERNAL = -1,     /* anything unexpected: 500, detail never leaks internals */
    ERR_BAD_REQUEST = -2,  /* malformed request, unknown field: 400 */
    ERR_INVALID = -3,      /* well-formed but semantically invalid: 422 */
    ERR_NOTFOUND = -4,     /* 404 */
    ERR_CONFLICT = -5,     /* state conflict (taken, in use, full): 409 */
    ERR_PRECONDITION = -6, /* If-Match mismatch: 412 */
    ERR_UNAVAILABLE = -7,  /* store not writable (disk full, read-only): 503 */
    ERR_TOO_LARGE = -8,    /* 413 */
    ERR_UNSUPPORTED = -9,  /* unsupported media type: 415 */
};

#define ERROR_REASON_MAX 64
#define ERROR_FIELD_MAX 256
#define ERROR_DETAIL_MAX 1024

struct error {
    int code;
    char reason[ERROR_REASON_MAX];
    char field[ERROR_FIELD_MAX];
    char detail[ERROR_DETAIL_MAX];
};

/* Fills *err (when err is not NULL) and returns code, so that `return error_set(...)` reads
 * naturally. `field` may be NULL. The detail is printf-formatted and truncated to fit. */
int error_set(struct error *err, int code, const char *reason, const char *field, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));

/* Resets *err to "no error". */
void error_clear(struct error *err);

#endif
