/* test_auth_tokens.c - tokens (api.md §9): shown once, stored only hashed, revoked at once,
 * expiry, cluster binding, the failed-authentication limit and the Idempotency-Key scope.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

HARNESS_SUITE(auth_tokens);

static const char *make_token(const char *body)
{
    struct resp *r = http("POST", "/v1/tokens", body);
    assert_status(r, 201);
    assert_true(r, jstr(r->json, "/token") && strncmp(jstr(r->json, "/token"), "lbipam_", 7) == 0,
                "the secret is shown once, at creation");
    return jstr(r->json, "/token");
}

static const char *sha256_hex(const char *s)
{
    unsigned char md[32];
    unsigned int n = 0;
    char hex[65];

    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return S("%s", hex);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;

    *len = 0;
    if (!f)
        return calloc(1, 1);
    for (;;) {
        buf = realloc(buf, cap + 65536);
        size_t n = fread(buf + cap, 1, 65536, f);
        cap += n;
        if (n == 0)
            break;
    }
    fclose(f);
    *len = cap;
    return buf;
}

/* Whether the bytes of `needle` are anywhere in the database file or its WAL. */
static bool db_holds(const char *needle)
{
    bool found = false;
    const char *files[] = {"lbipam.db", "lbipam.db-wal"};

    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *buf = slurp(S("%s/%s", harness_dir(), files[i]), &len);
        found = found || memmem(buf, len, needle, strlen(needle)) != NULL;
        free(buf);
    }
    return found;
}

Test(auth_tokens, list_shows_names_roles_bindings_never_a_secret)
{
    make_token(
        "{'name':'ci','role':'operator','cluster':'prod','expiresAt':'2099-01-01T00:00:00Z'}");
    struct resp *r = http("GET", "/v1/tokens", NULL);
    assert_status(r, 200);
    cr_assert_eq(jlen(r->json, "/items"), 2); /* admin and ci */
    assert_str(r, jstr(r->json, "/items/1/name"), "ci");
    assert_str(r, jstr(r->json, "/items/1/role"), "operator");
    assert_str(r, jstr(r->json, "/items/1/cluster"), "prod");
    assert_str(r, jstr(r->json, "/items/1/expiresAt"), "2099-01-01T00:00:00Z");
    assert_true(r, strstr(r->raw, "lbipam_") == NULL && strstr(r->raw, "hash") == NULL,
                "a list never shows a secret or its hash");
    assert_problem(http("POST", "/v1/tokens", "{'name':'ci','role':'reader'}"), 409,
                   "already_exists");
    assert_problem_field(http("POST", "/v1/tokens", "{'name':'x','role':'root'}"), 422,
                         "invalid_role", "/role");
}

Test(auth_tokens, database_never_holds_a_token_in_clear)
{
    const char *admin = harness_admin_token();
    const char *ci = make_token("{'name':'ci','role':'operator'}");

    /* the tokens were used, so lastUsedAt writes went through the WAL as well */
    harness_use_token(ci);
    assert_status(http("GET", "/v1/pools", NULL), 200);
    /* a POST with an Idempotency-Key stores its reply: the secret must not be in it */
    harness_use_token(admin);
    struct resp *k1 =
        http("POST", "/v1/tokens", "{'name':'k1','role':'reader'}", "Idempotency-Key: tok-1");
    assert_status(k1, 201);
    cr_assert(!db_holds(jstr(k1->json, "/token")),
              "a token made with an Idempotency-Key is in the database (its stored reply?)");
    cr_assert(!db_holds(admin), "the admin token is in the database file or its WAL");
    cr_assert(!db_holds(ci), "token ci is in the database file or its WAL");
    cr_assert(!db_holds(admin + 7) && !db_holds(ci + 7), "the random part is stored somewhere");
    /* the check looks at the right files: the hashes are there */
    cr_assert(db_holds(sha256_hex(ci)), "the hash of ci should be stored (wrong file read?)");
}

Test(auth_tokens, revoking_a_token_takes_effect_on_the_next_request)
{
    const char *ci = make_token("{'name':'ci','role':'operator'}");

    harness_use_token(ci);
    assert_status(http("GET", "/v1/pools", NULL), 200);
    harness_use_token(harness_admin_token());
    assert_status(http("DELETE", "/v1/tokens/ci", NULL), 204);
    harness_use_token(ci);
    assert_problem(http("GET", "/v1/pools", NULL), 401, "unauthorized");
    harness_use_token(harness_admin_token());
    assert_problem(http("DELETE", "/v1/tokens/ci", NULL), 404, "not_found");
}

Test(auth_tokens, an_expired_token_is_401)
{
    const char *old =
        make_token("{'name':'old','role':'admin','expiresAt':'2001-01-01T00:00:00Z'}");

    harness_use_token(old);
    struct resp *r = http("GET", "/v1/pools", NULL);
    assert_problem(r, 401, "unauthorized");
    assert_true(r, strstr(r->raw, "expired") != NULL, "the detail says it expired");
}

Test(auth_tokens, a_bound_token_cannot_change_another_clusters_allocation)
{
    cluster_create("c1", NULL);
    cluster_create("c2", NULL);
    pool_create("{'name':'p','blocks':[{'cidr':'10.0.0.0/28'}]}");
    const char *ip = alloc_ip("c2/ns/other", NULL);
    struct resp *before = http("GET", "/v1/allocations/c2/ns/other", NULL);
    long long events_before = jlen(http("GET", "/v1/events?limit=1000", NULL)->json, "/items");
    const char *w1 = make_token("{'name':'worker-c1','role':'operator','cluster':'c1'}");

    harness_use_token(w1);
    assert_problem(alloc_put("c2/ns/other", "{'requestedIPs':['10.0.0.9']}"), 403,
                   "forbidden_cluster");
    assert_problem(alloc_put("c2/ns/new", NULL), 403, "forbidden_cluster");
    assert_problem(http("DELETE", "/v1/allocations/c2/ns/other", NULL), 403, "forbidden_cluster");
    /* nor anything else that is not its cluster's allocations */
    assert_problem(http("POST", "/v1/clusters", "{'name':'c3'}"), 403, "forbidden");
    /* its own cluster works, and it may read everything */
    assert_ok(alloc_put("c1/ns/mine", NULL));
    assert_status(http("DELETE", "/v1/allocations/c1/ns/mine", NULL), 204);
    struct resp *after = http("GET", "/v1/allocations/c2/ns/other", NULL);
    assert_status(after, 200);
    assert_str(after, after->etag, before->etag);
    assert_str(after, alloc_ips(after), ip);
    harness_use_token(harness_admin_token());
    assert_status(http("GET", "/v1/allocations/c2/ns/new", NULL), 404);
    /* nothing changed for c2: the only new events are c1's create and release (and the
     * token's creation) */
    json_t *items = http("GET", "/v1/events?limit=1000", NULL)->json;
    cr_assert_eq((long long)jlen(items, "/items"), events_before + 3);
    for (size_t i = 0; i < jlen(items, "/items"); i++) {
        const char *res = jstr(items, S("/items/%zu/resource", i));
        const char *actor = jstr(items, S("/items/%zu/actor", i));
        cr_assert(strcmp(actor, "worker-c1") != 0 || strncmp(res, "allocations/c1/", 15) == 0,
                  "worker-c1 changed %s", res);
    }
}

Test(auth_tokens, a_bound_token_checks_only_its_own_clusters_addresses)
{
    cluster_create("c1", NULL);
    cluster_create("c2", NULL);
    /* loopback: the only addresses the suite's probes may touch */
    pool_create("{'name':'lo','blocks':[{'cidr':'127.0.77.0/29'}]}");
    const char *theirs = alloc_ip("c2/ns/other", NULL);
    alloc_ip("c1/ns/mine", NULL);
    long long checks_before = jlen(http("GET", "/v1/reachability-checks", NULL)->json, "/items");
    const char *w1 = make_token("{'name':'checker-c1','role':'operator','cluster':'c1'}");
    const char *probe = "'probes':[{'type':'tcp','port':9}],'timeoutMs':200";

    harness_use_token(w1);
    assert_problem(http("POST", "/v1/reachability-checks",
                        S("{'target':{'allocation':'c2/ns/other'},%s}", probe)),
                   403, "forbidden_cluster");
    assert_problem(
        http("POST", "/v1/reachability-checks", S("{'target':{'ip':'%s'},%s}", theirs, probe)), 403,
        "forbidden_cluster");
    /* a free address of the pool belongs to no cluster, so not to this one either */
    assert_problem(
        http("POST", "/v1/reachability-checks", S("{'target':{'ip':'127.0.77.7'},%s}", probe)), 403,
        "forbidden_cluster");
    assert_status(http("POST", "/v1/reachability-checks",
                       S("{'target':{'allocation':'c1/ns/mine'},%s}", probe)),
                  201);
    harness_use_token(harness_admin_token());
    /* the refused ones left nothing behind: exactly one check more */
    cr_assert_eq((long long)jlen(http("GET", "/v1/reachability-checks", NULL)->json, "/items"),
                 checks_before + 1);
}

Test(auth_tokens, an_admin_token_bound_to_a_cluster_writes_only_its_allocations)
{
    const char *b = make_token("{'name':'bound-admin','role':'admin','cluster':'c1'}");

    harness_use_token(b);
    assert_problem(http("POST", "/v1/pools", "{'name':'p','blocks':[{'cidr':'10.0.0.0/28'}]}"), 403,
                   "forbidden_cluster");
    assert_problem(http("POST", "/v1/tokens", "{'name':'x','role':'admin'}"), 403,
                   "forbidden_cluster");
    assert_status(http("GET", "/v1/tokens", NULL), 200);
}

Test(auth_tokens, failed_authentications_are_rate_limited_per_address)
{
    struct resp *r = NULL;

    harness_use_token("lbipam_wrong");
    for (int i = 0; i < 20; i++)
        assert_problem(http("GET", "/v1/pools", NULL), 401, "unauthorized");
    r = http("GET", "/v1/pools", NULL);
    assert_problem(r, 429, "too_many_requests");
    assert_true(r, strstr(r->headers, "Retry-After: ") != NULL, "429 says when to retry");
    /* while limited, a right guess learns nothing either */
    harness_use_token(harness_admin_token());
    assert_problem(http("GET", "/v1/pools", NULL), 429, "too_many_requests");
    /* requests without a token are not guesses: still a plain 401 */
    harness_use_token(NULL);
    assert_problem(http("GET", "/v1/pools", NULL), 401, "unauthorized");
}

Test(auth_tokens, idempotency_keys_are_scoped_to_the_callers_token)
{
    const char *other = make_token("{'name':'other','role':'admin'}");
    const char *body = "{'name':'c9'}";

    struct resp *a = http("POST", "/v1/clusters", body, "Idempotency-Key: same");
    assert_status(a, 201);
    assert_true(a, strstr(a->headers, "Idempotent-Replayed") == NULL, "first run");
    struct resp *b = http("POST", "/v1/clusters", body, "Idempotency-Key: same");
    assert_true(b, strstr(b->headers, "Idempotent-Replayed: true") != NULL, "replayed");
    harness_use_token(other);
    struct resp *c = http("POST", "/v1/clusters", body, "Idempotency-Key: same");
    /* another caller's key is another key: it runs, and finds the name taken */
    assert_problem(c, 409, "already_exists");
}

Test(auth_tokens, actor_of_every_change_is_the_token_name)
{
    const char *ops = make_token("{'name':'ops-bot','role':'admin'}");

    harness_use_token(ops);
    cluster_create("c1", NULL);
    struct resp *r = http("GET", "/v1/events?after=0&limit=1000", NULL);
    size_t n = jlen(r->json, "/items");
    assert_str(r, jstr(r->json, S("/items/%zu/actor", n - 1)), "ops-bot");
    assert_str(r, jstr(r->json, S("/items/%zu/action", n - 1)), "cluster.created");
}
