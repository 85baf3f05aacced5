/* idempotency.c - Idempotency-Key on POST (api.md §1).
 *
 * A key is scoped to the method and path (and, with authentication, to the caller's token).
 * The first response under a key is stored whatever its status, and a retry with the same
 * body gets it back byte for byte; the same key with another body is 422
 * idempotency_key_reused. Two first attempts racing with one key both run; the store keeps
 * the first record (store_idempotency_put is a no-op the second time).
 */
#include "server/server_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

/* The hex SHA-256 of the body as received: a retry must send the same bytes. */
static int body_hash(char out[65], const char *body, size_t len, struct error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return error_set(err, ERR_INTERNAL, "internal", NULL, "SHA-256 failed");
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + (size_t)i * 2, 3, "%02x", md[i]);
    return 0;
}

static void replay(struct request *rq, const struct idempotency_record *rec)
{
    struct api_call *call = &rq->call;
    const char *body = rec->body ? rec->body : "";

    reply_body(call, rec->status, rec->content_type, xstrdup(body), strlen(body));
    if (rec->location)
        reply_location(call, "%s", rec->location);
    rq->replayed = true;
}

static void remember(struct request *rq, const char *scope, const char *hash)
{
    const struct api_reply *r = &rq->call.reply;
    struct idempotency_record rec = {0};
    struct error err;

    snprintf(rec.request_hash, sizeof(rec.request_hash), "%s", hash);
    rec.status = r->status;
    rec.content_type = (char *)(uintptr_t)r->content_type;
    rec.location = r->location;
    rec.body = xstrndup(r->body ? r->body : "", r->body_len);
    /* The reply stands even when it cannot be remembered: a retry then runs again. */
    if (store_idempotency_put(rq->call.st, scope, rq->call.idempotency_key, &rec, &err) < 0)
        log_fields(LOG_WARN, "idempotency record not stored", "request_id", rq->id, "reason",
                   err.reason, "detail", err.detail, NULL);
    free(rec.body);
}

void idempotency_run(struct request *rq, void (*run)(struct request *rq))
{
    struct api_call *call = &rq->call;
    const char *key = call->idempotency_key;
    struct idempotency_record *rec = NULL;
    struct error err;
    char hash[65];
    char *scope = NULL;
    int rc;

    /* A replay of POST /v1/tokens would hand the secret out again, and keeping the reply
     * would put a secret in the database: tokens run without a record (a retry that finds
     * the name taken gets 409, which is as safe). */
    if (strcmp(call->path, "/v1/tokens") == 0) {
        run(rq);
        return;
    }
    if (!key[0] || strlen(key) > API_IDEMPOTENCY_KEY_MAX) {
        reply_error(call, ERR_BAD_REQUEST, "invalid_header", NULL,
                    "Idempotency-Key must be 1 to %d characters", API_IDEMPOTENCY_KEY_MAX);
        return;
    }
    if (body_hash(hash, call->raw_body, call->raw_body_len, &err) < 0) {
        reply_problem(call, &err);
        return;
    }
    /* The caller's token joins the scope (api.md §1): "<token> POST /v1/pools". */
    scope = xasprintf("%s %s %s", call->actor ? call->actor : "-", call->method, call->path);
    rc = store_idempotency_get(call->st, scope, key, &rec, &err);
    if (rc == 0 && strcmp(rec->request_hash, hash) != 0) {
        reply_error(call, ERR_INVALID, "idempotency_key_reused", NULL,
                    "this Idempotency-Key was used with another body");
    } else if (rc == 0) {
        replay(rq, rec);
    } else if (rc == ERR_NOTFOUND) {
        run(rq);
        remember(rq, scope, hash);
    } else {
        reply_problem(call, &err);
    }
    idempotency_record_free(rec);
    free(scope);
}
