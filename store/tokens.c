/* tokens.c - bearer tokens (api.md §9): names, roles, bindings, hashes; never a secret.
 *
 * The server hashes a presented secret and looks the hash up here (indexed, on a read
 * connection, so authentication never waits for the writer). Revocation deletes the row:
 * the very next lookup misses, there is no cache to invalidate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

#define TOKEN_COLUMNS "name, hash, role, cluster, expires_at, created_at, last_used_at"

static const char *role_name(int role)
{
    switch (role) {
    case TOKEN_READER:
        return "reader";
    case TOKEN_OPERATOR:
        return "operator";
    default:
        return "admin";
    }
}

static void token_from_row(sqlite3_stmt *s, struct token_info *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", col_text(s, 0));
    snprintf(t->hash, sizeof(t->hash), "%s", col_text(s, 1));
    t->role = sqlite3_column_int(s, 2);
    snprintf(t->cluster, sizeof(t->cluster), "%s", col_text(s, 3));
    t->expires_at = sqlite3_column_int64(s, 4);
    t->created_at = sqlite3_column_int64(s, 5);
    t->last_used_at = sqlite3_column_int64(s, 6);
}

static int token_event(struct conn *c, const char *actor, const char *action,
                       const struct token_info *t, struct error *err)
{
    static const char sql[] = "SELECT json_object('name', ?, 'role', ?, 'cluster', ?)";
    const char *args[] = {t->name, role_name(t->role), t->cluster[0] ? t->cluster : NULL};
    char resource[STORE_NAME_MAX + 8];
    char *data = NULL;
    snprintf(resource, sizeof(resource), "tokens/%s", t->name);
    int rc = event_json(c, &data, sql, args, 3, err);
    if (rc == 0)
        rc = event_append(c, actor, action, resource, data, err);
    free(data);
    return rc;
}

struct token_op {
    const char *actor;
    const struct token_info *in;
    const char *name, *hash;
    bool only_first, created;
    store_time now;
    struct token_info *out;
    bool found;
    const struct store_page *page;
    struct token_list *list;
};

static int token_count(struct conn *c, int64_t *out, struct error *err)
{
    struct q q;
    *out = 0;
    int rc = q_prepare(&q, c, "SELECT count(*) FROM tokens", err);
    if (rc < 0)
        goto out;
    rc = q_step(&q, err);
    if (rc > 0) {
        *out = sqlite3_column_int64(q.s, 0);
        rc = 0;
    }
out:
    q_close(&q);
    return rc;
}

static int token_create_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] = "INSERT INTO tokens (" TOKEN_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?,"
                              " NULL) ON CONFLICT DO NOTHING";
    struct token_op *op = arg;
    const struct token_info *t = op->in;
    int64_t n = 0;
    struct q q = {0};
    int rc = 0;
    if (op->only_first) {
        rc = token_count(c, &n, err);
        if (rc < 0 || n > 0)
            goto out;
    }
    rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, t->name);
    q_text(&q, t->hash);
    q_int(&q, t->role);
    q_text(&q, t->cluster[0] ? t->cluster : NULL);
    if (t->expires_at > 0)
        q_int(&q, t->expires_at);
    else
        q_text(&q, NULL);
    q_int(&q, store_now());
    rc = q_exec(&q, err);
    if (rc == 0 && sqlite3_changes(c->db) == 0)
        rc = error_set(err, ERR_CONFLICT, "already_exists", "/name", "token %s already exists",
                       t->name);
    if (rc == 0)
        rc = token_event(c, op->actor, "token.created", t, err);
    op->created = rc == 0;
out:
    q_close(&q);
    return rc;
}

static int token_check(const struct token_info *in, struct error *err)
{
    char name[STORE_NAME_MAX];
    int rc = name_copy(name, in->name, "token", err);
    if (rc == 0 && (in->role < TOKEN_READER || in->role > TOKEN_ADMIN))
        rc = error_set(err, ERR_INVALID, "invalid_role", "/role",
                       "role must be reader, operator or admin");
    if (rc == 0 && strspn(in->hash, "0123456789abcdef") != 64)
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "a token hash is 64 hex digits");
    return rc;
}

int store_token_create(struct store *st, const char *actor, const struct token_info *in,
                       struct error *err)
{
    struct token_op op = {.actor = actor, .in = in};
    int rc = token_check(in, err);
    if (rc == 0)
        rc = store_write(st, token_create_run, &op, err);
    return rc;
}

int store_token_create_first(struct store *st, const char *actor, const struct token_info *in,
                             bool *created, struct error *err)
{
    struct token_op op = {.actor = actor, .in = in, .only_first = true};
    int rc = token_check(in, err);
    if (rc == 0)
        rc = store_write(st, token_create_run, &op, err);
    *created = rc == 0 && op.created;
    return rc;
}

static int token_load(struct conn *c, const char *sql, const char *key, struct token_info *out,
                      struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, key);
    rc = q_step(&q, err);
    if (rc > 0)
        token_from_row(q.s, out);
out:
    q_close(&q);
    return rc;
}

static int token_delete_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql_get[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE name = ?";
    struct token_op *op = arg;
    struct token_info old = {0};
    struct q q = {0};
    int rc = token_load(c, sql_get, op->name, &old, err);
    if (rc == 0)
        rc = error_set(err, ERR_NOTFOUND, "not_found", NULL, "no token %s", op->name);
    if (rc < 0)
        goto out;
    rc = q_prepare(&q, c, "DELETE FROM tokens WHERE name = ?", err);
    if (rc < 0)
        goto out;
    q_text(&q, op->name);
    rc = q_exec(&q, err);
    if (rc == 0)
        rc = token_event(c, op->actor, "token.revoked", &old, err);
out:
    q_close(&q);
    return rc;
}

int store_token_delete(struct store *st, const char *actor, const char *name, struct error *err)
{
    struct token_op op = {.actor = actor, .name = name};
    return store_write(st, token_delete_run, &op, err);
}

static int token_lookup_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?";
    struct token_op *op = arg;
    int rc = token_load(c, sql, op->hash, op->out, err);
    op->found = rc > 0;
    return rc < 0 ? rc : 0;
}

int store_token_lookup(struct store *st, const char *hash, struct token_info *out,
                       struct error *err)
{
    struct token_op op = {.hash = hash, .out = out};
    memset(out, 0, sizeof(*out));
    int rc = store_read(st, token_lookup_run, &op, err);
    return rc < 0 ? rc : op.found;
}

static int token_touch_run(struct conn *c, void *arg, struct error *err)
{
    struct token_op *op = arg;
    struct q q;
    int rc = q_prepare(&q, c, "UPDATE tokens SET last_used_at = ? WHERE name = ?", err);
    if (rc < 0)
        goto out;
    q_int(&q, op->now);
    q_text(&q, op->name);
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

int store_token_touch(struct store *st, const char *name, store_time now, struct error *err)
{
    struct token_op op = {.name = name, .now = now};
    return store_write(st, token_touch_run, &op, err);
}

static int token_list_run(struct conn *c, void *arg, struct error *err)
{
    static const char sql[] =
        "SELECT " TOKEN_COLUMNS " FROM tokens WHERE name > ? ORDER BY name LIMIT ?";
    struct token_op *op = arg;
    struct token_list *l = op->list;
    int limit = op->page->limit;
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    q_text(&q, op->page->after ? op->page->after : "");
    q_int(&q, limit + 1);
    l->items = xcalloc((size_t)limit, sizeof(*l->items));
    while ((rc = q_step(&q, err)) > 0) {
        if (l->n == (size_t)limit) {
            snprintf(l->next, sizeof(l->next), "%s", l->items[l->n - 1].name);
            rc = 0;
            break;
        }
        token_from_row(q.s, &l->items[l->n++]);
    }
out:
    q_close(&q);
    return rc < 0 ? rc : 0;
}

int store_token_list(struct store *st, const struct store_page *page, struct token_list *out,
                     struct error *err)
{
    struct token_op op = {.page = page, .list = out};
    memset(out, 0, sizeof(*out));
    int rc = page_check(page, err);
    if (rc == 0)
        rc = store_read(st, token_list_run, &op, err);
    if (rc < 0)
        token_list_cleanup(out);
    return rc;
}

void token_list_cleanup(struct token_list *l)
{
    if (!l)
        return;
    free(l->items);
    memset(l, 0, sizeof(*l));
}
