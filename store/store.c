/* store.c - opening the database, migrations, the writer thread and the reader pool.
 *
 * One writer thread owns the only read-write connection. Write functions queue an operation
 * and wait; the writer drains up to GROUP_MAX queued operations into one BEGIN IMMEDIATE
 * transaction, each inside its own SAVEPOINT (a refusal rolls back exactly that operation),
 * commits once and only then answers them all: one fsync serves a whole burst (group commit),
 * and an answered write is durable. Readers use read-only connections: in WAL mode they never
 * wait for the writer. Checkpoints (copying the WAL back into the database, two fsyncs) run
 * on a checkpointer thread with its own connection, so a commit does not wait for them;
 * only when the WAL outgrows CKPT_HARD_FRAMES (the checkpointer cannot catch up under
 * sustained writes) does the writer checkpoint itself, which bounds the WAL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/embedded.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store_int.h"

extern const struct embedded_file store_migrations[];

#define GROUP_MAX STORE_BATCH_MAX
#define DEFAULT_READERS 8
#define DEFAULT_BUSY_MS 5000
/* The writer's page cache. New allocations touch the right edge of each B-tree (ids and
 * addresses grow), a few hundred pages even with a million allocations; the rest is served by
 * the kernel's page cache. Bounded so that the daemon stays well under 64 MiB resident. */
#define WRITER_CACHE_KIB 16384
/* No mmap: every page a reader touches through it stays resident (counted in our RSS) until
 * the kernel needs it back, which grew the daemon past 290 MiB serving random reads of a
 * million allocations; read(2) into each connection's bounded page cache costs a few us. */
#define MMAP_BYTES "0"
#define PROBE_MS 5000 /* store_ready's write probes while the disk refuses writes */
#define PROBE_MIN_FREE ((int64_t)1 << 20)
#define CKPT_SOFT_FRAMES 1000  /* wake the checkpointer (SQLite's own default threshold) */
#define CKPT_HARD_FRAMES 16000 /* about 64 MiB of WAL: the writer checkpoints itself */

/* ------------------------------------------------------------------------ migrations */

/* The NNNN of "NNNN_what.sql"; -1 for anything else. */
static int migration_number(const char *name)
{
    int n = 0;
    for (int i = 0; i < 4; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        n = n * 10 + (name[i] - '0');
    }
    return name[4] == '_' ? n : -1;
}

int store_schema_version(void)
{
    int v = 0;
    for (const struct embedded_file *f = store_migrations; f->name; f++) {
        int n = migration_number(f->name);
        if (n > v)
            v = n;
    }
    return v;
}

static int user_version(struct conn *c, int *out, struct error *err)
{
    struct q q;
    int rc = q_prepare(&q, c, "PRAGMA user_version", err);
    if (rc < 0)
        goto out;
    rc = q_step(&q, err);
    if (rc < 0)
        goto out;
    *out = rc ? sqlite3_column_int(q.s, 0) : 0;
    rc = 0;
out:
    q_close(&q);
    return rc;
}

static int refuse_newer(int found, struct error *err)
{
    return error_set(err, ERR_INTERNAL, "schema_too_new", NULL,
                     "database schema version %d is newer than this lbipamd (%d); upgrade "
                     "lbipamd",
                     found, store_schema_version());
}

/* Every migration newer than the file, in one transaction with the new user_version: a crash
 * leaves the old schema or the new one, never half of it. */
static int migrate(struct conn *c, struct error *err)
{
    int have = 0, want = store_schema_version();
    int rc = db_exec(c, "BEGIN IMMEDIATE", err);
    if (rc == 0)
        rc = user_version(c, &have, err);
    if (rc < 0)
        goto out;
    if (have > want) { /* another process upgraded it since we looked */
        rc = refuse_newer(have, err);
        goto out;
    }
    for (const struct embedded_file *f = store_migrations; f->name && have < want; f++) {
        int n = migration_number(f->name);
        if (n <= have)
            continue;
        int src = sqlite3_exec(c->db, f->data, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            log_fields(LOG_ERROR, "migration failed", "migration", f->name, NULL);
            rc = db_fail(c, src, err);
            goto out;
        }
        log_fields(LOG_INFO, "migration applied", "migration", f->name, NULL);
    }
    if (have < want) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", want);
        int src = sqlite3_exec(c->db, pragma, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = db_fail(c, src, err);
            goto out;
        }
    }
    rc = db_exec(c, "COMMIT", err);
out:
    if (rc < 0 && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int pragma_exec(struct conn *c, const char *sql, struct error *err)
{
    int src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return src == SQLITE_OK ? 0 : db_fail(c, src, err);
}

/* The version check comes before anything that writes: switching to WAL rewrites the file
 * header, and a refused file must stay exactly as it was. */
static int open_writer(struct store *st, const struct store_options *opts, int busy_ms,
                       struct error *err)
{
    struct conn *c = &st->writer;
    int have = 0;
    int rc = conn_open(c, opts->path, false, busy_ms, err);
    if (rc == 0)
        rc = user_version(c, &have, err);
    if (rc < 0)
        goto out;
    if (have > store_schema_version()) {
        rc = refuse_newer(have, err);
        log_fields(LOG_ERROR, "database schema is newer than this binary", "path", opts->path,
                   "detail", err ? err->detail : "", NULL);
        goto out;
    }
    struct q q;
    rc = q_prepare(&q, c, "PRAGMA journal_mode = WAL", err);
    if (rc == 0)
        rc = q_step(&q, err);
    if (rc > 0 && strcmp(col_text(q.s, 0), "wal") != 0) {
        rc = error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL,
                       "cannot switch %s to WAL mode", opts->path);
    }
    q_close(&q);
    if (rc < 0)
        goto out;
    rc = pragma_exec(
        c, opts->synchronous_normal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL",
        err);
    if (rc == 0)
        rc = pragma_exec(c, "PRAGMA foreign_keys = ON", err);
    if (rc == 0) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%d", WRITER_CACHE_KIB);
        rc = pragma_exec(c, pragma, err);
    }
    if (rc == 0)
        rc = pragma_exec(c, "PRAGMA mmap_size = " MMAP_BYTES, err);
    /* the savepoint of every operation keeps its undo pages in a sub-journal: in memory,
     * not in a temporary file created and written per transaction */
    if (rc == 0)
        rc = pragma_exec(c, "PRAGMA temp_store = MEMORY", err);
    /* Up to date: no BEGIN IMMEDIATE, which would wait for another process's writer (a
     * second lbipamd, `lbipamd backup`) under load. */
    if (rc == 0 && have < store_schema_version())
        rc = migrate(c, err);
out:
    if (rc < 0)
        conn_close(c);
    return rc;
}

/* ------------------------------------------------------------------------ checkpoints */

/* Called by SQLite on the writer thread after every commit with the WAL's size in frames. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct store *st = arg;
    if (frames >= CKPT_HARD_FRAMES) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return SQLITE_OK;
    }
    if (frames >= CKPT_SOFT_FRAMES) {
        pthread_mutex_lock(&st->ckmu);
        st->ckpt_wanted = true;
        pthread_cond_signal(&st->ckcv);
        pthread_mutex_unlock(&st->ckmu);
    }
    return SQLITE_OK;
}

/* PASSIVE never waits for the writer or readers: it copies what it can and returns. */
static void *checkpointer_main(void *arg)
{
    struct store *st = arg;
    pthread_mutex_lock(&st->ckmu);
    for (;;) {
        while (!st->ckpt_wanted && !st->ckpt_stopping)
            pthread_cond_wait(&st->ckcv, &st->ckmu);
        if (st->ckpt_stopping)
            break;
        st->ckpt_wanted = false;
        pthread_mutex_unlock(&st->ckmu);
        int src =
            sqlite3_wal_checkpoint_v2(st->ckpt.db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (src != SQLITE_OK && src != SQLITE_BUSY)
            db_fail(&st->ckpt, src, NULL); /* logged; the next commit asks again */
        pthread_mutex_lock(&st->ckmu);
    }
    pthread_mutex_unlock(&st->ckmu);
    return NULL;
}

static int checkpointer_start(struct store *st, const struct store_options *opts, int busy_ms,
                              struct error *err)
{
    int rc = conn_open(&st->ckpt, opts->path, false, busy_ms, err);
    /* SQLite opens a connection's WAL on its first read; until then a checkpoint through it
     * is a silent no-op (SQLite < 3.43), and this connection never reads anything else. */
    if (rc == 0)
        rc = db_exec(&st->ckpt, "SELECT count(*) FROM sqlite_schema", err);
    if (rc < 0)
        goto out;
    if (pthread_create(&st->ckpt_thread, NULL, checkpointer_main, st) != 0) {
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "cannot start the checkpointer thread");
        goto out;
    }
    st->ckpt_started = true;
    sqlite3_wal_hook(st->writer.db, wal_hook, st);
out:
    return rc;
}

static void checkpointer_stop(struct store *st)
{
    if (!st->ckpt_started)
        return;
    pthread_mutex_lock(&st->ckmu);
    st->ckpt_stopping = true;
    pthread_cond_signal(&st->ckcv);
    pthread_mutex_unlock(&st->ckmu);
    pthread_join(st->ckpt_thread, NULL);
    st->ckpt_started = false;
}

/* -------------------------------------------------------------------------- the writer */

static void fail_op(struct store_op *op, int rc, const struct error *e)
{
    op->rc = rc;
    if (op->err && e && op->err != e)
        *op->err = *e;
}

/* The transaction that held ops[first..upto) is gone: their changes are lost, so each of them
 * that had succeeded now fails with e. */
static void fail_group(struct store_op **ops, size_t first, size_t upto, int rc,
                       const struct error *e)
{
    for (size_t i = first; i < upto; i++) {
        if (ops[i]->rc == 0)
            fail_op(ops[i], rc, e);
    }
}

/* Runs one op inside the open transaction, in its own savepoint. Returns 0 while the
 * transaction lives on, < 0 (with txerr) when it is lost. */
static int run_in_savepoint(struct conn *c, struct store_op *op, struct error *txerr)
{
    int rc = db_exec(c, "SAVEPOINT op", txerr);
    if (rc < 0)
        goto out;
    op->rc = op->fn(c, op->arg, op->err);
    if (sqlite3_get_autocommit(c->db)) {
        /* SQLite rolled the whole transaction back itself (disk full, I/O error) */
        if (op->rc < 0 && op->err) {
            rc = op->rc;
            *txerr = *op->err;
        } else {
            rc = error_set(txerr, ERR_UNAVAILABLE, "store_unavailable", NULL,
                           "the write transaction was aborted; nothing was changed");
        }
        goto out;
    }
    if (op->rc < 0)
        rc = db_exec(c, "ROLLBACK TO op", txerr);
    if (rc == 0)
        rc = db_exec(c, "RELEASE op", txerr);
out:
    if (rc < 0)
        fail_op(op, rc, txerr);
    return rc;
}

static void run_group(struct store *st, struct store_op **ops, size_t n)
{
    struct conn *c = &st->writer;
    struct error txerr;
    int txrc = 0;
    size_t first = 0;
    bool open = false, writable = true;
    for (size_t i = 0; i < n; i++) {
        ops[i]->rc = 0;
        if (!open) {
            error_clear(&txerr);
            txrc = db_exec(c, "BEGIN IMMEDIATE", &txerr);
            if (txrc < 0) {
                fail_op(ops[i], txrc, &txerr);
                continue;
            }
            open = true;
            first = i;
        }
        txrc = run_in_savepoint(c, ops[i], &txerr);
        if (txrc < 0) {
            fail_group(ops, first, i, txrc, &txerr);
            if (!sqlite3_get_autocommit(c->db))
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            open = false;
        }
    }
    if (!open)
        goto out;
    error_clear(&txerr);
    txrc = db_exec(c, "COMMIT", &txerr);
    if (txrc < 0) {
        fail_group(ops, first, n, txrc, &txerr);
        if (!sqlite3_get_autocommit(c->db))
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
    /* only now are this group's events visible: wake the long-polls of GET /v1/events */
    if (txrc == 0)
        events_publish(st);
    else
        c->events_pending = false;
out:
    /* readyz reports a disk that refuses writes until a group goes through without it */
    writable = txrc != ERR_UNAVAILABLE;
    for (size_t i = 0; i < n; i++)
        writable = writable && ops[i]->rc != ERR_UNAVAILABLE;
    atomic_store(&st->writable, writable);
}

const unsigned store_batch_bounds[STORE_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64};

/* Under qmu. */
static void count_batch(struct store *st, size_t n)
{
    int b = 0;
    while (b < STORE_BATCH_BUCKETS - 1 && n > store_batch_bounds[b])
        b++;
    st->stats.batch_hist[b]++;
    st->stats.commits++;
    st->stats.writes += n;
    st->stats.last_batch = n;
}

void store_stats(struct store *st, struct store_stats *out)
{
    pthread_mutex_lock(&st->qmu);
    *out = st->stats;
    out->queue_depth = st->qlen;
    pthread_mutex_unlock(&st->qmu);
}

static void *writer_main(void *arg)
{
    struct store *st = arg;
    struct store_op *group[GROUP_MAX];
    size_t max = (size_t)st->max_batch;
    pthread_mutex_lock(&st->qmu);
    for (;;) {
        /* event retention: the writer purges between groups, also when idle */
        if (events_purge_due(st)) {
            pthread_mutex_unlock(&st->qmu);
            events_purge_tick(st);
            pthread_mutex_lock(&st->qmu);
        }
        while (!st->qhead && !st->stopping && !events_purge_due(st))
            events_purge_wait(st);
        if (!st->qhead && !st->stopping)
            continue; /* a purge is due */
        if (!st->qhead)
            break; /* stopping, and the queue is drained */
        size_t n = 0;
        while (st->qhead && n < max) {
            group[n++] = st->qhead;
            st->qhead = st->qhead->next;
        }
        if (!st->qhead)
            st->qtail = NULL;
        st->qlen -= n;
        pthread_mutex_unlock(&st->qmu);
        run_group(st, group, n);
        pthread_mutex_lock(&st->qmu);
        count_batch(st, n);
        if (!atomic_load(&st->writable))
            st->probe_at = store_now(); /* store_ready probes PROBE_MS after the last refusal */
        for (size_t i = 0; i < n; i++) {
            group[i]->done = true;
            pthread_cond_signal(&group[i]->cv);
        }
    }
    pthread_mutex_unlock(&st->qmu);
    return NULL;
}

int store_write(struct store *st, store_fn fn, void *arg, struct error *err)
{
    struct store_op op = {.fn = fn, .arg = arg, .err = err};
    int rc = 0;
    pthread_cond_init(&op.cv, NULL);
    pthread_mutex_lock(&st->qmu);
    if (st->stopping) {
        pthread_mutex_unlock(&st->qmu);
        rc = error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL,
                       "the store is shutting down");
        goto out;
    }
    if (st->qtail)
        st->qtail->next = &op;
    else
        st->qhead = &op;
    st->qtail = &op;
    st->qlen++;
    pthread_cond_signal(&st->qcv);
    while (!op.done)
        pthread_cond_wait(&op.cv, &st->qmu);
    pthread_mutex_unlock(&st->qmu);
    rc = op.rc;
out:
    pthread_cond_destroy(&op.cv);
    return rc;
}

/* ---------------------------------------------------------------------------- readers */

static struct conn *reader_checkout(struct store *st)
{
    struct conn *c = NULL;
    pthread_mutex_lock(&st->rmu);
    for (;;) {
        for (int i = 0; i < st->nreaders && !c; i++) {
            if (!st->reader_busy[i]) {
                st->reader_busy[i] = true;
                c = &st->readers[i];
            }
        }
        if (c)
            break;
        pthread_cond_wait(&st->rcv, &st->rmu);
    }
    pthread_mutex_unlock(&st->rmu);
    return c;
}

static void reader_checkin(struct store *st, struct conn *c)
{
    pthread_mutex_lock(&st->rmu);
    st->reader_busy[c - st->readers] = false;
    pthread_cond_signal(&st->rcv);
    pthread_mutex_unlock(&st->rmu);
}

int store_read(struct store *st, store_fn fn, void *arg, struct error *err)
{
    struct conn *c = reader_checkout(st);
    int rc = db_exec(c, "BEGIN", err);
    if (rc < 0)
        goto out;
    rc = fn(c, arg, err);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, rc < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
out:
    reader_checkin(st, c);
    return rc;
}

/* ----------------------------------------------------------------------------- backup */

/* One backup step of every page: the source's read transaction then spans the whole copy, so
 * the copy is a single snapshot and never restarts because the writer committed meanwhile
 * (WAL: the writer does not wait for it either). */
static int backup_copy(struct conn *src, sqlite3 *dst, struct error *err)
{
    int rc = 0;
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src->db, "main");
    if (!b) {
        log_fields(LOG_ERROR, "backup failed", "error", sqlite3_errmsg(dst), NULL);
        return error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL,
                         "cannot start the backup");
    }
    int src_rc = sqlite3_backup_step(b, -1);
    int fin_rc = sqlite3_backup_finish(b);
    if (src_rc != SQLITE_DONE)
        rc = db_fail(src, src_rc, err);
    else if (fin_rc != SQLITE_OK)
        rc = db_fail(NULL, fin_rc, err);
    return rc;
}

/* Written to PATH.partial, then renamed: a file at `path` is always a complete backup. */
int store_backup(struct store *st, const char *path, struct error *err)
{
    char tmp[4200];
    sqlite3 *dst = NULL;
    struct conn *c = NULL;
    int rc = 0;
    if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp)) {
        rc = error_set(err, ERR_INVALID, "invalid_path", NULL, "backup path too long");
        goto out;
    }
    if (access(path, F_OK) == 0) {
        rc = error_set(err, ERR_CONFLICT, "already_exists", NULL, "%s already exists", path);
        goto out;
    }
    unlink(tmp);
    int src_rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src_rc == SQLITE_OK)
        src_rc = sqlite3_exec(dst, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    if (src_rc != SQLITE_OK) {
        rc = error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL, "cannot create %s: %s", tmp,
                       sqlite3_errstr(src_rc));
        goto out;
    }
    c = reader_checkout(st);
    rc = backup_copy(c, dst, err);
    reader_checkin(st, c);
    if (rc < 0)
        goto out;
    src_rc = sqlite3_close(dst);
    dst = NULL;
    if (src_rc != SQLITE_OK || rename(tmp, path) != 0)
        rc = error_set(err, ERR_UNAVAILABLE, "store_unavailable", NULL,
                       "cannot write the backup %s", path);
out:
    if (dst)
        sqlite3_close(dst);
    if (rc < 0 && rc != ERR_CONFLICT)
        unlink(tmp);
    return rc;
}

/* ------------------------------------------------------------------------ open, close */

static void store_free(struct store *st)
{
    events_destroy(st);
    checkpointer_stop(st);
    conn_close(&st->ckpt);
    for (int i = 0; i < st->nreaders; i++)
        conn_close(&st->readers[i]);
    free(st->readers);
    free(st->reader_busy);
    conn_close(&st->writer);
    pthread_mutex_destroy(&st->qmu);
    pthread_cond_destroy(&st->qcv);
    pthread_mutex_destroy(&st->rmu);
    pthread_cond_destroy(&st->rcv);
    pthread_mutex_destroy(&st->ckmu);
    pthread_cond_destroy(&st->ckcv);
    free(st->path);
    free(st);
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* Memory statistics make every SQLite allocation take one process-wide mutex, which the writer
 * and the readers then fight over (a tenth of the writer's time under load); we never read
 * them. Only possible before SQLite initializes: if something else already did, it stays on. */
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(struct store **out, const struct store_options *opts, struct error *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    struct store *st = xcalloc(1, sizeof(*st));
    int busy_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : DEFAULT_BUSY_MS;
    int rc = 0;
    *out = NULL;
    pthread_mutex_init(&st->qmu, NULL);
    pthread_cond_init(&st->qcv, NULL);
    pthread_mutex_init(&st->rmu, NULL);
    pthread_cond_init(&st->rcv, NULL);
    pthread_mutex_init(&st->ckmu, NULL);
    pthread_cond_init(&st->ckcv, NULL);
    if (!opts || !opts->path || !opts->path[0]) {
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "no database path given");
        goto out;
    }
    st->path = xstrdup(opts->path);
    st->max_batch =
        opts->max_batch > 0 && opts->max_batch < GROUP_MAX ? opts->max_batch : GROUP_MAX;
    rc = open_writer(st, opts, busy_ms, err);
    if (rc == 0) {
        st->event_retention_ms = opts->event_retention_ms > 0 ? opts->event_retention_ms
                                                              : STORE_EVENT_RETENTION_DEFAULT_MS;
        rc = events_init(st, err);
    }
    if (rc < 0)
        goto out;
    int nreaders = opts->read_connections > 0 ? opts->read_connections : DEFAULT_READERS;
    st->readers = xcalloc((size_t)nreaders, sizeof(*st->readers));
    st->reader_busy = xcalloc((size_t)nreaders, sizeof(*st->reader_busy));
    for (; st->nreaders < nreaders; st->nreaders++) {
        rc = conn_open(&st->readers[st->nreaders], opts->path, true, busy_ms, err);
        if (rc == 0)
            rc = pragma_exec(&st->readers[st->nreaders], "PRAGMA mmap_size = " MMAP_BYTES, err);
        if (rc < 0)
            goto out;
    }
    rc = checkpointer_start(st, opts, busy_ms, err);
    if (rc < 0)
        goto out;
    if (pthread_create(&st->writer_thread, NULL, writer_main, st) != 0) {
        rc = error_set(err, ERR_INTERNAL, "internal", NULL, "cannot start the writer thread");
        goto out;
    }
    st->writer_started = true;
    /* a file SQLite could open only for reading (read-only mount, permissions) */
    atomic_store(&st->writable, sqlite3_db_readonly(st->writer.db, "main") != 1);
    *out = st;
out:
    if (rc < 0)
        store_free(st);
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->qmu);
    st->stopping = true;
    pthread_cond_signal(&st->qcv);
    pthread_mutex_unlock(&st->qmu);
    if (st->writer_started)
        pthread_join(st->writer_thread, NULL);
    store_free(st);
}

/* Free bytes for us on the filesystem of the database; INT64_MAX when unknown. */
static int64_t free_bytes(const char *path)
{
    char dir[4096];
    struct statvfs sv;
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    if (statvfs(dir, &sv) != 0)
        return INT64_MAX;
    return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

/* Rewrites the header's user_version with its own value: a real page write and commit that
 * changes nothing, so it fails exactly when the disk refuses writes. */
static int probe_run(struct conn *c, void *arg, struct error *err)
{
    char pragma[64];
    int v = 0;
    (void)arg;
    int rc = user_version(c, &v, err);
    if (rc < 0)
        return rc;
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v);
    return pragma_exec(c, pragma, err);
}

bool store_ready(struct store *st)
{
    if (!st)
        return false;
    pthread_mutex_lock(&st->qmu);
    bool stopping = st->stopping, probe = false;
    /* Not writable: retry with a probe write PROBE_MS after the last refusal, so that
     * readiness returns when space does even if nobody dares to write meanwhile (a balancer
     * that follows /readyz sends none). Not while the disk is nearly full: a small commit may
     * still fit in the WAL's slack, and ready would flap. */
    if (!stopping && !atomic_load(&st->writable) && store_now() - st->probe_at >= PROBE_MS &&
        free_bytes(st->path) >= PROBE_MIN_FREE) {
        st->probe_at = store_now();
        probe = true;
    }
    pthread_mutex_unlock(&st->qmu);
    if (probe)
        store_write(st, probe_run, NULL, NULL);
    return !stopping && atomic_load(&st->writable);
}
