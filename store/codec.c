/* codec.c - column encodings of lists, and the free functions of the store's structs.
 *
 * Each encoding is canonical (one text per value) and decode refuses anything encode did not
 * write, so a corrupt row becomes an internal error instead of a wrong answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store_int.h"

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? 2 * b->cap : 64;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static char *sb_finish(struct sbuf *b)
{
    return b->p ? b->p : xstrdup("");
}

int corrupt(struct error *err, const char *what)
{
    return error_set(err, ERR_INTERNAL, "internal", NULL, "internal store error (corrupt %s)",
                     what);
}

/* The next space-separated word of *p, copied into word; false at the end. */
static bool next_word(const char **p, char *word, size_t cap, bool *too_long)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    size_t n = strcspn(s, " ");
    *too_long = n >= cap;
    snprintf(word, cap, "%.*s", (int)n, s);
    *p = s + n;
    return true;
}

char *prefixes_encode(const struct netprefix *p, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        char text[NETPREFIX_STRLEN];
        netprefix_format(text, &p[i]);
        if (i)
            sb_puts(&b, " ");
        sb_puts(&b, text);
    }
    return sb_finish(&b);
}

int prefixes_decode(struct netprefix **out, size_t *n, const char *text, struct error *err)
{
    char word[NETPREFIX_STRLEN + 1];
    bool too_long = false;
    size_t cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    while (next_word(&text, word, sizeof(word), &too_long)) {
        struct netprefix p;
        if (too_long || netprefix_parse(&p, word, NULL, NULL) < 0) {
            rc = corrupt(err, "prefix list");
            goto out;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = p;
    }
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

char *addrs_encode(const struct netaddr *a, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        char text[NETADDR_STRLEN];
        netaddr_format(text, &a[i]);
        if (i)
            sb_puts(&b, " ");
        sb_puts(&b, text);
    }
    return sb_finish(&b);
}

int addrs_decode(struct netaddr **out, size_t *n, const char *text, struct error *err)
{
    char word[NETADDR_STRLEN + 1];
    bool too_long = false;
    size_t cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    while (next_word(&text, word, sizeof(word), &too_long)) {
        struct netaddr a;
        if (too_long || netaddr_parse(&a, word, NULL, NULL) < 0) {
            rc = corrupt(err, "address list");
            goto out;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = a;
    }
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

char *strings_encode(char *const *s, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        char len[24];
        snprintf(len, sizeof(len), "%zu:", strlen(s[i]));
        sb_puts(&b, len);
        sb_puts(&b, s[i]);
    }
    return sb_finish(&b);
}

int strings_decode(char ***out, size_t *n, const char *text, struct error *err)
{
    size_t cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    while (*text) {
        char *end;
        unsigned long len = strtoul(text, &end, 10);
        if (end == text || *end != ':' || strlen(end + 1) < len) {
            rc = corrupt(err, "string list");
            goto out;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = xstrndup(end + 1, len);
        text = end + 1 + len;
    }
out:
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            free((*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

char *ports_encode(const struct service_port *p, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        char text[32];
        snprintf(text, sizeof(text), "%s%u/%s", i ? " " : "", (unsigned)p[i].port, p[i].protocol);
        sb_puts(&b, text);
    }
    return sb_finish(&b);
}

int ports_decode(struct service_port **out, size_t *n, const char *text, struct error *err)
{
    char word[32];
    bool too_long = false;
    size_t cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    while (next_word(&text, word, sizeof(word), &too_long)) {
        char *end;
        unsigned long port = strtoul(word, &end, 10);
        if (too_long || end == word || *end != '/' || port > 65535 ||
            strlen(end + 1) >= sizeof((*out)->protocol)) {
            rc = corrupt(err, "port list");
            goto out;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 4;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        struct service_port *p = &(*out)[(*n)++];
        p->port = (uint16_t)port;
        snprintf(p->protocol, sizeof(p->protocol), "%s", end + 1);
    }
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int labels_column(struct labels *out, const char *text, struct error *err)
{
    if (labels_decode(out, text) < 0)
        return corrupt(err, "labels");
    return 0;
}

int selector_column(struct selector *out, const char *text, struct error *err)
{
    if (selector_decode(out, text) < 0)
        return corrupt(err, "selector");
    return 0;
}

/* ---------------------------------------------------------------------------- equality */

bool str_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool addrs_equal(const struct netaddr *a, size_t na, const struct netaddr *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (a[i].family != b[i].family || a[i].v != b[i].v)
            return false;
    }
    return true;
}

static bool strings_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i], b[i]) != 0)
            return false;
    }
    return true;
}

static bool ports_equal(const struct service_port *a, size_t na, const struct service_port *b,
                        size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (a[i].port != b[i].port || strcmp(a[i].protocol, b[i].protocol) != 0)
            return false;
    }
    return true;
}

/* Field by field, order included: the stored request is what GET echoes, so any difference a
 * client can see is a change. */
/* A request may spell a default two ways: no externalTrafficPolicy or "Cluster", no
 * description or "". Both spellings are one request, so that a GET → PUT round trip (which
 * renders the defaults) writes nothing. */
static const char *etp_or_default(const char *etp)
{
    return etp ? etp : "Cluster";
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

bool alloc_request_equal(const struct alloc_request *a, const struct alloc_request *b)
{
    if (a->nfamilies != b->nfamilies || a->policy != b->policy)
        return false;
    for (size_t i = 0; i < a->nfamilies; i++) {
        if (a->families[i] != b->families[i])
            return false;
    }
    return labels_equal(&a->labels, &b->labels) &&
           addrs_equal(a->requested, a->nrequested, b->requested, b->nrequested) &&
           addrs_equal(a->preferred, a->npreferred, b->preferred, b->npreferred) &&
           str_equal(a->pool, b->pool) && str_equal(a->sharing_key, b->sharing_key) &&
           strings_equal(a->cross_namespaces, a->ncross_namespaces, b->cross_namespaces,
                         b->ncross_namespaces) &&
           ports_equal(a->ports, a->nports, b->ports, b->nports) &&
           strcmp(etp_or_default(a->external_traffic_policy),
                  etp_or_default(b->external_traffic_policy)) == 0 &&
           labels_equal(&a->pod_selector, &b->pod_selector) &&
           str_equal(a->external_ref, b->external_ref) && str_equal(a->managed_by, b->managed_by) &&
           strcmp(or_empty(a->description), or_empty(b->description)) == 0;
}

/* ---------------------------------------------------------------------- free functions */

void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    free(c->description);
    labels_cleanup(&c->labels);
    free(c->routable);
    free(c->node_subnets);
    free(c);
}

void cluster_list_cleanup(struct cluster_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        cluster_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    free(p->description);
    labels_cleanup(&p->labels);
    free(p->blocks);
    selector_cleanup(&p->service_selector);
    selector_cleanup(&p->cluster_selector);
    pool_warnings_cleanup(p);
    free(p);
}

void pool_list_cleanup(struct pool_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        pool_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void alloc_request_cleanup(struct alloc_request *rq)
{
    if (!rq)
        return;
    labels_cleanup(&rq->labels);
    free(rq->requested);
    free(rq->preferred);
    free(rq->pool);
    free(rq->sharing_key);
    for (size_t i = 0; i < rq->ncross_namespaces; i++)
        free(rq->cross_namespaces[i]);
    free(rq->cross_namespaces);
    free(rq->ports);
    free(rq->external_traffic_policy);
    labels_cleanup(&rq->pod_selector);
    free(rq->external_ref);
    free(rq->managed_by);
    free(rq->description);
    memset(rq, 0, sizeof(*rq));
}

void allocation_free(struct allocation *a)
{
    if (!a)
        return;
    alloc_request_cleanup(&a->rq);
    free(a->addrs);
    free(a->condition.message);
    free(a);
}

void allocation_list_cleanup(struct allocation_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        allocation_free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void address_info_free(struct address_info *a)
{
    if (!a)
        return;
    free(a->holders);
    free(a);
}

void idempotency_record_free(struct idempotency_record *r)
{
    if (!r)
        return;
    free(r->content_type);
    free(r->location);
    free(r->body);
    free(r);
}
