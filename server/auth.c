/* auth.c - who is calling, and may they (api.md §9).
 *
 * One check for every request, made by request.c right after routing and before any body
 * byte is read: the route row's role (router.h) is the whole policy, so a route cannot skip
 * it. The bearer secret is hashed (SHA-256) and looked up by hash on a read connection; the
 * stored hash is compared again in constant time. There is no token cache: a revoked token
 * (a deleted row) fails on its very next request. Failed attempts with a token are counted per
 * client address; past AUTH_FAIL_LIMIT in a minute that address gets 429 for the rest of the
 * minute, valid token or not, so that guessing learns nothing. Requests without any token are
 * not counted (they guess nothing), so a browser opening the dashboard is never locked out.
 */
#include "server/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

#define AUTH_WINDOW_MS 60000
#define AUTH_SECRET_MAX 256       /* longer Authorization values are not ours */
#define AUTH_TOUCH_EVERY_MS 60000 /* lastUsedAt: reads must not all become writes */
#define AUTH_REALM "Bearer realm=\"lbipam\""

struct auth_fail {
    char addr[NI_MAXHOST];
    int64_t since; /* start of the window, ms; 0: free slot */
    unsigned count;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void auth_init(struct server *srv, const struct server_config *cfg)
{
    pthread_mutex_init(&srv->auth_mu, NULL);
    srv->auth_fails = xcalloc(AUTH_FAIL_SLOTS, sizeof(*srv->auth_fails));
    srv->auth_fail_limit = cfg->auth_fail_limit ? cfg->auth_fail_limit : AUTH_FAIL_LIMIT;
    srv->metrics_auth = cfg->metrics_auth;
}

void auth_cleanup(struct server *srv)
{
    free(srv->auth_fails);
    pthread_mutex_destroy(&srv->auth_mu);
}

static void client_addr(char out[NI_MAXHOST], struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    socklen_t len =
        sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

    if (!sa || getnameinfo(sa, len, out, NI_MAXHOST, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(out, NI_MAXHOST, "unknown");
}

/* The slot of addr (creating it when asked), under auth_mu. A full table reuses the slot
 * whose window started first. */
static struct auth_fail *fail_slot(struct server *srv, const char *addr, bool create, int64_t now)
{
    struct auth_fail *oldest = NULL;

    for (size_t i = 0; i < AUTH_FAIL_SLOTS; i++) {
        struct auth_fail *f = &srv->auth_fails[i];
        if (f->since && now - f->since >= AUTH_WINDOW_MS)
            f->since = 0; /* expired */
        if (f->since && strcmp(f->addr, addr) == 0)
            return f;
        if (!oldest || f->since < oldest->since)
            oldest = f;
    }
    if (!create)
        return NULL;
    snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
    oldest->since = now;
    oldest->count = 0;
    return oldest;
}

/* Seconds until addr may try again; 0 when it may now. */
static int64_t blocked_for(struct server *srv, const char *addr)
{
    int64_t now = now_ms(), wait = 0;

    pthread_mutex_lock(&srv->auth_mu);
    struct auth_fail *f = fail_slot(srv, addr, false, now);
    if (f && f->count >= srv->auth_fail_limit)
        wait = (f->since + AUTH_WINDOW_MS - now + 999) / 1000;
    pthread_mutex_unlock(&srv->auth_mu);
    return wait;
}

static void count_failure(struct server *srv, const char *addr)
{
    pthread_mutex_lock(&srv->auth_mu);
    struct auth_fail *f = fail_slot(srv, addr, true, now_ms());
    f->count++;
    pthread_mutex_unlock(&srv->auth_mu);
    log_fields(LOG_WARN, "authentication failed", "client", addr, NULL);
}

static int unauthorized(struct request *rq, struct error *err, const char *detail)
{
    rq->call.reply.www_authenticate = AUTH_REALM;
    return error_set(err, ERR_BAD_REQUEST, "unauthorized", NULL, "%s", detail);
}

/* "Bearer <secret>": the scheme is case-insensitive (RFC 9110 §11.1). NULL when absent. */
static const char *bearer(struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    h += strspn(h, " ");
    return h[0] ? h : NULL;
}

static enum route_role needed_role(const struct server *srv, const struct route *r)
{
    /* --metrics-auth closes /metrics to anyone without a token */
    if (r->role == ROLE_PUBLIC && srv->metrics_auth && strcmp(r->path, "/metrics") == 0)
        return ROLE_READER;
    return r->role;
}

/* A cluster-bound token writes only its cluster's allocations (api.md §9); checks name their
 * target in the body, so their handler checks it (call->bound_cluster). */
static bool bound_may_write(const struct request *rq, const char *bound)
{
    const char *cluster = call_param(&rq->call, "cluster");

    if (strcmp(rq->route->method, "GET") == 0)
        return true;
    if (strcmp(rq->route->path, "/v1/reachability-checks") == 0)
        return true;
    return cluster && strcmp(cluster, bound) == 0;
}

static void touch(struct server *srv, const struct token_info *t)
{
    int64_t now = now_ms();
    struct error err;

    if (now - t->last_used_at < AUTH_TOUCH_EVERY_MS)
        return;
    if (store_token_touch(srv->st, t->name, now, &err) < 0)
        log_fields(LOG_WARN, "lastUsedAt not updated", "token", t->name, "detail", err.detail,
                   NULL);
}

int auth_request(struct request *rq, struct MHD_Connection *conn, struct error *err)
{
    struct server *srv = rq->srv;
    enum route_role need = needed_role(srv, rq->route);
    char addr[NI_MAXHOST], hash[API_TOKEN_HASH_MAX];
    struct token_info t;
    const char *secret;
    int64_t wait;
    int rc;

    if (need == ROLE_PUBLIC)
        return 0;
    secret = bearer(conn);
    if (!secret)
        return unauthorized(rq, err, "this request needs Authorization: Bearer <token>");
    client_addr(addr, conn);
    wait = blocked_for(srv, addr);
    if (wait > 0) {
        snprintf(rq->call.reply.retry_after, sizeof(rq->call.reply.retry_after), "%d",
                 (int)(wait % 100000));
        return error_set(err, ERR_BAD_REQUEST, "too_many_requests", NULL,
                         "too many failed authentications from %s; retry in %lld s", addr,
                         (long long)wait);
    }
    if (strlen(secret) > AUTH_SECRET_MAX) {
        count_failure(srv, addr);
        return unauthorized(rq, err, "the bearer token is not valid");
    }
    api_token_hash(hash, secret);
    rc = store_token_lookup(srv->st, hash, &t, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || CRYPTO_memcmp(hash, t.hash, 64) != 0) {
        count_failure(srv, addr);
        return unauthorized(rq, err, "the bearer token is not valid (unknown or revoked)");
    }
    if (t.expires_at > 0 && t.expires_at <= now_ms()) {
        count_failure(srv, addr);
        return unauthorized(rq, err, "the bearer token has expired");
    }
    snprintf(rq->actor, sizeof(rq->actor), "%s", t.name);
    snprintf(rq->bound, sizeof(rq->bound), "%s", t.cluster);
    rq->call.actor = rq->actor;
    rq->call.bound_cluster = rq->bound[0] ? rq->bound : NULL;
    rq->call.caller_admin = t.role >= TOKEN_ADMIN;
    touch(srv, &t);
    if ((int)t.role < (int)need)
        return error_set(err, ERR_BAD_REQUEST, "forbidden", NULL,
                         "token %s has the %s role; %s %s needs %s", t.name, api_role_name(t.role),
                         rq->method, rq->route->path, api_role_name((int)need));
    if (rq->bound[0] && !bound_may_write(rq, rq->bound))
        return error_set(err, ERR_BAD_REQUEST, "forbidden_cluster", NULL,
                         "token %s may only change allocations of cluster %s", t.name, rq->bound);
    return 0;
}

/* ----------------------------------------------------------- the first admin token */

/* dirname(db) + "/admin.token" */
static char *token_file_path(const char *db_path)
{
    const char *slash = strrchr(db_path, '/');

    if (!slash)
        return xstrdup("admin.token");
    return xasprintf("%.*s/admin.token", (int)(slash - db_path), db_path);
}

/* The secret goes to a new file that only the owner can read: O_EXCL never follows or
 * reuses somebody else's file; it is renamed into place only once the token is stored. */
static int write_secret(const char *tmp, const char *secret, struct error *err)
{
    size_t n = strlen(secret);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = 0;

    if (fd < 0)
        return error_set(err, ERR_INTERNAL, "token_file", NULL, "cannot create %s: %s", tmp,
                         strerror(errno));
    if (fchmod(fd, 0600) < 0 || write(fd, secret, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
        fsync(fd) < 0)
        rc = error_set(err, ERR_INTERNAL, "token_file", NULL, "cannot write %s: %s", tmp,
                       strerror(errno));
    close(fd);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int auth_bootstrap(struct server *srv, const char *db_path, struct error *err)
{
    struct store_page page = {.limit = 1};
    struct token_list list = {0};
    struct token_info t;
    char secret[API_TOKEN_TEXT_MAX];
    char *path = NULL, *tmp = NULL;
    bool created = false;
    int rc = store_token_list(srv->st, &page, &list, err);

    if (rc < 0 || list.n > 0)
        goto out;
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "admin");
    t.role = TOKEN_ADMIN;
    rc = api_token_generate(secret, t.hash, err);
    if (rc < 0)
        goto out;
    path = token_file_path(db_path);
    tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
    rc = write_secret(tmp, secret, err);
    if (rc == 0)
        rc = store_token_create_first(srv->st, "lbipamd", &t, &created, err);
    if (rc == 0 && created && rename(tmp, path) < 0)
        rc = error_set(err, ERR_INTERNAL, "token_file", NULL, "cannot rename %s to %s: %s", tmp,
                       path, strerror(errno));
    if (rc < 0 || !created)
        unlink(tmp);
    if (rc == 0 && created)
        log_fields(LOG_INFO, "created the first admin token", "name", "admin", "file", path, NULL);
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    token_list_cleanup(&list);
    free(path);
    free(tmp);
    return rc;
}
