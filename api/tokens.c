/* tokens.c - /v1/tokens (api.md §9) and the token primitives server/ shares: making a secret,
 * hashing it, role names and RFC 3339 times.
 *
 * A secret is shown once, in the 201 of POST /v1/tokens (or on stdout by `lbipamd token
 * create`); only its SHA-256 reaches the store. Keep in sync with openapi.yaml
 * #/components/schemas/Token and TokenCreated.
 */
#include "api/api_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/names.h"

#define TOKEN_PREFIX "lbipam_"
#define TOKEN_RANDOM_BYTES 32

static const char *const token_fields[] = {"name", "role", "cluster", "expiresAt", NULL};

/* ------------------------------------------------------------------------ primitives */

void api_token_hash(char hash[API_TOKEN_HASH_MAX], const char *secret)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        abort(); /* SHA-256 of a short buffer cannot fail short of a broken libcrypto */
    for (unsigned i = 0; i < n; i++)
        snprintf(hash + (size_t)i * 2, 3, "%02x", md[i]);
}

int api_token_generate(char secret[API_TOKEN_TEXT_MAX], char hash[API_TOKEN_HASH_MAX],
                       struct error *err)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[TOKEN_RANDOM_BYTES + 1] = {0};
    size_t o = strlen(TOKEN_PREFIX);
    int rc = 0;

    if (RAND_bytes(raw, TOKEN_RANDOM_BYTES) != 1) {
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "no randomness for a token");
        goto out;
    }
    memcpy(secret, TOKEN_PREFIX, o);
    /* base64url without padding: 32 bytes are 43 characters (the last group has 2 bytes) */
    for (size_t i = 0; i < TOKEN_RANDOM_BYTES; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 |
                     (i + 2 < TOKEN_RANDOM_BYTES ? raw[i + 2] : 0);
        size_t chars = TOKEN_RANDOM_BYTES - i >= 3 ? 4 : (TOKEN_RANDOM_BYTES - i) + 1;
        for (size_t k = 0; k < chars; k++)
            secret[o++] = b64url[(v >> (18 - 6 * k)) & 63];
    }
    secret[o] = '\0';
    api_token_hash(hash, secret);
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

int api_role_parse(int *out, const char *name)
{
    static const char *const names[] = {"reader", "operator", "admin"};

    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, names[i]) == 0) {
            *out = TOKEN_READER + i;
            return 0;
        }
    }
    return -1;
}

const char *api_role_name(int role)
{
    switch (role) {
    case TOKEN_READER:
        return "reader";
    case TOKEN_OPERATOR:
        return "operator";
    case TOKEN_ADMIN:
        return "admin";
    default:
        return "none";
    }
}

/* "+HH:MM" / "-HH:MM" at s: seconds east of UTC. */
static int parse_offset(long *out, const char *s)
{
    int hh, mm, n = 0;

    if ((s[0] != '+' && s[0] != '-') || sscanf(s + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 ||
        s[6] != '\0' || hh > 23 || mm > 59)
        return -1;
    *out = (s[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
    return 0;
}

int api_time_parse(int64_t *out_ms, const char *text)
{
    struct tm tm;
    const char *rest;
    long offset = 0, ms = 0;

    memset(&tm, 0, sizeof(tm));
    rest = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!rest || strlen(text) < 19)
        return -1;
    if (*rest == '.') {
        long scale = 100;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
            ms += scale * (*rest - '0');
    }
    if ((rest[0] == 'Z' || rest[0] == 'z') && rest[1] == '\0')
        offset = 0;
    else if (parse_offset(&offset, rest) < 0)
        return -1;
    *out_ms = ((int64_t)timegm(&tm) - offset) * 1000 + ms;
    return 0;
}

/* ------------------------------------------------------------------------- handlers */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *render_token(const struct token_info *t)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "name", json_string(t->name));
    json_object_set_new(obj, "role", json_string(api_role_name(t->role)));
    json_object_set_new(obj, "cluster", render_string_or_null(t->cluster[0] ? t->cluster : NULL));
    json_object_set_new(obj, "expiresAt", render_time(t->expires_at));
    json_object_set_new(obj, "createdAt", render_time(t->created_at));
    json_object_set_new(obj, "lastUsedAt", render_time(t->last_used_at));
    return obj;
}

static int decode_token(struct token_info *t, const json_t *body, struct error *err)
{
    const char *role = NULL, *cluster = NULL, *expires = NULL;
    int rc = json_check_fields(body, "", token_fields, err);

    if (rc == 0)
        rc = json_decode_name(t->name, body, NULL, "token", err);
    if (rc == 0)
        rc = json_get_string(body, "", "role", 16, &role, err);
    if (rc == 0)
        rc = json_get_nullable(body, "", "cluster", STORE_NAME_MAX, &cluster, err);
    if (rc == 0)
        rc = json_get_nullable(body, "", "expiresAt", 64, &expires, err);
    if (rc < 0)
        return rc;
    if (!role || api_role_parse(&t->role, role) < 0)
        return error_set(err, ERR_INVALID, "invalid_role", "/role",
                         "role must be reader, operator or admin");
    if (cluster && check_label_name(cluster, "/cluster", "cluster name", err) < 0)
        return err->code;
    if (cluster)
        snprintf(t->cluster, sizeof(t->cluster), "%s", cluster);
    if (expires && api_time_parse(&t->expires_at, expires) < 0)
        return error_set(err, ERR_INVALID, "invalid_time", "/expiresAt",
                         "expiresAt must be an RFC 3339 time such as 2027-01-01T00:00:00Z");
    return 0;
}

void api_tokens_create(struct api_call *call)
{
    struct token_info t;
    char secret[API_TOKEN_TEXT_MAX];
    struct error err;
    json_t *body = body_object_or_reply(call, false), *doc;

    memset(&t, 0, sizeof(t));
    if (!body)
        return;
    if (decode_token(&t, body, &err) < 0 || api_token_generate(secret, t.hash, &err) < 0 ||
        store_token_create(call->st, call->actor, &t, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    t.created_at = now_ms();
    doc = render_token(&t);
    json_object_set_new(doc, "token", json_string(secret));
    reply_location(call, "/v1/tokens/%s", t.name);
    reply_json(call, 201, doc);
out:
    memset(secret, 0, sizeof(secret));
    json_decref(body);
}

void api_tokens_list(struct api_call *call)
{
    struct api_page page;
    struct token_list list = {0};
    struct error err;
    json_t *items;

    if (list_query_or_reply(call, NULL, &page) < 0)
        return;
    if (store_token_list(call->st, &page.page, &list, &err) < 0) {
        reply_problem(call, &err);
        goto out;
    }
    items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, render_token(&list.items[i]));
    reply_list(call, items, list.next);
out:
    token_list_cleanup(&list);
}

void api_tokens_delete(struct api_call *call)
{
    const char *name = call_param(call, "name");
    struct error err;

    if (!name || !name_is_rfc1123_label(name)) {
        reply_error(call, ERR_NOTFOUND, "not_found", NULL, "no token \"%.64s\"", name ? name : "");
        return;
    }
    if (store_token_delete(call->st, call->actor, name, &err) < 0)
        reply_problem(call, &err);
    else
        reply_empty(call, 204);
}
