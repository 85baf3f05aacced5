/* db.c - SQLite connections, the per-connection statement cache and the query helper.
 *
 * Every SQLite failure is turned into an error here (db_fail): SQLite's own message goes to
 * the log only, because it may contain SQL text or a path, which a reply must never show.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store_int.h"

int conn_open(struct conn *c, const char *path, bool readonly, int busy_timeout_ms,
              struct error *err)
{
    /* NOMUTEX: a connection is used by one thread at a time (the writer, or the reader that
     * checked it out), so SQLite's own per-connection mutex would only cost. */
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    memset(c, 0, sizeof(*c));
    int src = sqlite3_open_v2(path, &c->db, flags, NULL);
    int rc = 0;
    if (src != SQLITE_OK) {
        log_fields(LOG_ERROR, "cannot open database", "path", path, "error",
                   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(src), NULL);
        rc = error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL,
                       "cannot open database %s: %s", path, sqlite3_errstr(src));
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, busy_timeout_ms);
out:
    if (rc < 0)
        conn_close(c);
    return rc;
}

void conn_close(struct conn *c)
{
    for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
        if (c->slots[i].stmt)
            sqlite3_finalize(c->slots[i].stmt);
    }
    if (c->db)
        sqlite3_close_v2(c->db);
    memset(c, 0, sizeof(*c));
}

static bool is_unavailable(int sqlite_rc)
{
    int primary = sqlite_rc & 0xff;
    return primary == SQLITE_FULL || primary == SQLITE_READONLY || primary == SQLITE_IOERR ||
           primary == SQLITE_CANTOPEN || primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

static const char *unavailable_detail(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_FULL:
        return "the database disk is full; nothing was changed";
    case SQLITE_READONLY:
        return "the database is read-only; nothing was changed";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "the database is locked by another process; nothing was changed";
    default:
        return "the database could not be read or written (I/O error); nothing was changed";
    }
}

int db_fail(struct conn *c, int sqlite_rc, struct error *err)
{
    char code[16];
    snprintf(code, sizeof(code), "%d", sqlite_rc);
    log_fields(LOG_ERROR, "sqlite error", "error",
               c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(sqlite_rc), "code", code, NULL);
    if (is_unavailable(sqlite_rc))
        return error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL, "%s",
                         unavailable_detail(sqlite_rc));
    return error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error");
}

/* Pointer hash with linear probing; the table never fills in practice (a few dozen SQL
 * texts), and a full table just means private statements. */
static struct stmt_slot *slot_find(struct conn *c, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) * 2654435761u;
    for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
        struct stmt_slot *s = &c->slots[(h + i) % STMT_CACHE_SLOTS];
        if (s->sql == sql || !s->sql)
            return s;
    }
    return NULL;
}

static void q_reset(struct q *q, struct conn *c)
{
    q->c = c;
    q->s = NULL;
    q->slot = NULL;
    q->idx = 1;
    q->bind_rc = SQLITE_OK;
}

static int prepare(struct q *q, const char *sql, unsigned flags, struct error *err)
{
    int src = sqlite3_prepare_v3(q->c->db, sql, -1, flags, &q->s, NULL);
    if (src != SQLITE_OK) {
        q->s = NULL;
        return db_fail(q->c, src, err);
    }
    return 0;
}

int q_prepare(struct q *q, struct conn *c, const char *sql, struct error *err)
{
    q_reset(q, c);
    struct stmt_slot *slot = slot_find(c, sql);
    int rc = 0;
    if (!slot || slot->busy) {
        rc = prepare(q, sql, 0, err);
        goto out;
    }
    if (!slot->stmt) {
        rc = prepare(q, sql, SQLITE_PREPARE_PERSISTENT, err);
        if (rc < 0)
            goto out;
        slot->sql = sql;
        slot->stmt = q->s;
    }
    slot->busy = true;
    q->slot = slot;
    q->s = slot->stmt;
out:
    return rc;
}

int q_prepare_dynamic(struct q *q, struct conn *c, const char *sql, struct error *err)
{
    q_reset(q, c);
    return prepare(q, sql, 0, err);
}

static void bind_result(struct q *q, int src)
{
    if (src != SQLITE_OK && q->bind_rc == SQLITE_OK)
        q->bind_rc = src;
    q->idx++;
}

void q_int(struct q *q, int64_t v)
{
    bind_result(q, sqlite3_bind_int64(q->s, q->idx, v));
}

void q_text(struct q *q, const char *t)
{
    bind_result(q, t ? sqlite3_bind_text(q->s, q->idx, t, -1, SQLITE_TRANSIENT)
                     : sqlite3_bind_null(q->s, q->idx));
}

void q_addr(struct q *q, u128 v, int family)
{
    uint8_t bytes[16];
    size_t len = netaddr_to_bytes(bytes, v, family);
    bind_result(q, sqlite3_bind_blob(q->s, q->idx, bytes, (int)len, SQLITE_TRANSIENT));
}

int q_step(struct q *q, struct error *err)
{
    if (q->bind_rc != SQLITE_OK)
        return db_fail(q->c, q->bind_rc, err);
    int src = sqlite3_step(q->s);
    if (src == SQLITE_ROW)
        return 1;
    if (src == SQLITE_DONE)
        return 0;
    return db_fail(q->c, src, err);
}

int q_exec(struct q *q, struct error *err)
{
    int rc = q_step(q, err);
    return rc > 0 ? 0 : rc;
}

void q_close(struct q *q)
{
    if (!q->s)
        return;
    if (q->slot) {
        sqlite3_reset(q->s);
        sqlite3_clear_bindings(q->s);
        q->slot->busy = false;
    } else {
        sqlite3_finalize(q->s);
    }
    q->s = NULL;
    q->slot = NULL;
}

int db_exec(struct conn *c, const char *sql, struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, sql, err);
    if (rc < 0)
        goto out;
    rc = q_exec(&q, err);
out:
    q_close(&q);
    return rc;
}

u128 col_addr(sqlite3_stmt *s, int i)
{
    const uint8_t *b = sqlite3_column_blob(s, i);
    int len = sqlite3_column_bytes(s, i);
    if (!b || (len != 4 && len != 16))
        return 0;
    return netaddr_from_bytes(b, (size_t)len);
}

const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

char *col_strdup(sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return NULL;
    return xstrdup(col_text(s, i));
}

store_time store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (store_time)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int name_copy(char out[STORE_NAME_MAX], const char *name, const char *what, struct error *err)
{
    int rc = 0;
    if (!name || !name[0] || strlen(name) >= STORE_NAME_MAX) {
        out[0] = '\0';
        rc = error_set(err, ERR_INVALID, "invalid_name", NULL,
                       "the %s name must have 1 to %d characters", what, STORE_NAME_MAX - 1);
        goto out;
    }
    snprintf(out, STORE_NAME_MAX, "%s", name);
out:
    return rc;
}

int page_check(const struct store_page *page, struct error *err)
{
    if (!page || page->limit < 1 || page->limit > 1000)
        return error_set(err, ERR_BAD_REQUEST, "invalid_limit", NULL,
                         "limit must be between 1 and 1000");
    return 0;
}
