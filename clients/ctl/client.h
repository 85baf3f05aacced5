/* client.h - lbipamctl's HTTP calls to lbipamd (libcurl).
 *
 * Unlike clients/kube/http.h this layer sends request headers of the caller's choice
 * (If-Match, Prefer) and returns the response's ETag and Content-Type, which apply and check
 * need. One connection, one thread. A reply with status >= 400 is turned into an error by
 * client_problem: the server's problem+json reason, field and detail, unchanged.
 */
#ifndef LBIPAM_CTL_CLIENT_H
#define LBIPAM_CTL_CLIENT_H

#include <stddef.h>

#include "lib/error.h"

#define CLIENT_MAX_BODY (64u << 20)

struct client_resp {
    long status;
    char *body; /* NUL-terminated, owned; "" when the reply had none */
    size_t len;
    char etag[128];
    char content_type[128];
};

struct client;

/* server: base URL without trailing slash ("http://127.0.0.1:8080"); token may be NULL. Both
 * are copied. */
struct client *client_new(const char *server, const char *token);
void client_free(struct client *c);

/* One request. path starts with "/" and is already escaped; body is JSON text or NULL;
 * headers are extra "Name: value" lines ended by NULL (may be NULL). timeout_ms 0 = 60 s.
 * Returns 0 when a reply arrived (any status), ERR_UNAVAILABLE when none did. resp is always
 * initialised; clean it up with client_resp_cleanup. */
int client_do(struct client *c, const char *method, const char *path, const char *body,
              const char *const *headers, long timeout_ms, struct client_resp *resp,
              struct error *err);
void client_resp_cleanup(struct client_resp *resp);

/* Fills err from a reply with status >= 400 and returns its code (ERR_NOTFOUND for 404, …). */
int client_problem(const struct client_resp *resp, const char *method, const char *path,
                   struct error *err);

/* Percent-encodes s for one path segment or query value. Caller frees. */
char *client_escape(const char *s);

#endif
