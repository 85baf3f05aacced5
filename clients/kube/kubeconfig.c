#include "clients/kube/kubeconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "lib/xalloc.h"

#define BAD(err, ...) error_set((err), ERR_INVALID, "invalid_kubeconfig", NULL, __VA_ARGS__)

void kube_config_free(struct kube_config *kc)
{
    if (!kc)
        return;
    free(kc->server);
    free(kc->ca_file);
    free(kc->ca_data);
    free(kc->cert_file);
    free(kc->cert_data);
    free(kc->key_file);
    free(kc->key_data);
    free(kc->token);
    free(kc->token_file);
    free(kc);
}

static int b64_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

long base64_decode(unsigned char **out, const char *in, size_t len)
{
    unsigned char *buf = xmalloc(len / 4 * 3 + 4);
    unsigned acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)in[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = b64_value(ch);
        if (v < 0 || pad) { /* nothing but padding may follow padding */
            free(buf);
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (pad > 2 || bits >= 6) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    return (long)n;
}

/* libyaml document navigation: NULL for anything missing or of the wrong shape. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* The scalar text, or NULL; an empty scalar counts as absent (kubectl does the same). */
static const char *scalar(yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
        return NULL;
    return (const char *)n->data.scalar.value;
}

static const char *map_str(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    return scalar(map_get(doc, map, key));
}

static bool is_true(const char *s)
{
    return s &&
           (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0);
}

/* In a list of {name: N, <kind>: {...}} entries, the <kind> map of the entry named `name`. */
static yaml_node_t *named_entry(yaml_document_t *doc, yaml_node_t *root, const char *list,
                                const char *kind, const char *name)
{
    yaml_node_t *seq = map_get(doc, root, list);
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return NULL;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(doc, *it);
        const char *n = map_str(doc, e, "name");
        if (n && strcmp(n, name) == 0)
            return map_get(doc, e, kind);
    }
    return NULL;
}

static char *resolve_path(const char *dir, const char *path)
{
    if (!path)
        return NULL;
    if (path[0] == '/' || !dir || !dir[0])
        return xstrdup(path);
    return xasprintf("%s/%s", dir, path);
}

/* One "<what>" / "<what>-data" pair: inline base64 wins over a file, as in kubectl. */
static int file_or_data(char **file, unsigned char **data, size_t *len, yaml_document_t *doc,
                        yaml_node_t *map, const char *key, const char *dir, struct error *err)
{
    char data_key[64];
    snprintf(data_key, sizeof(data_key), "%s-data", key);
    const char *b64 = map_str(doc, map, data_key);
    if (b64) {
        long n = base64_decode(data, b64, strlen(b64));
        if (n < 0)
            return BAD(err, "%s is not valid base64", data_key);
        *len = (size_t)n;
        return 0;
    }
    *file = resolve_path(dir, map_str(doc, map, key));
    return 0;
}

static int read_cluster(struct kube_config *kc, yaml_document_t *doc, yaml_node_t *cluster,
                        const char *dir, bool allow_insecure, struct error *err)
{
    int rc = 0;
    const char *server = map_str(doc, cluster, "server");
    if (!server)
        return BAD(err, "the current context's cluster has no server");
    size_t n = strlen(server);
    while (n > 0 && server[n - 1] == '/')
        n--;
    kc->server = xstrndup(server, n);
    if (is_true(map_str(doc, cluster, "insecure-skip-tls-verify"))) {
        if (!allow_insecure)
            return BAD(err, "the cluster sets insecure-skip-tls-verify; refusing without "
                            "--allow-insecure");
        kc->insecure = true;
    }
    rc = file_or_data(&kc->ca_file, &kc->ca_data, &kc->ca_len, doc, cluster,
                      "certificate-authority", dir, err);
    return rc;
}

static int read_user(struct kube_config *kc, yaml_document_t *doc, yaml_node_t *user,
                     const char *dir, struct error *err)
{
    int rc = 0;
    if (!user)
        return 0; /* anonymous: legal, the API server decides */
    kc->token = xstrdup(map_str(doc, user, "token"));
    if (!kc->token)
        kc->token_file = resolve_path(dir, map_str(doc, user, "tokenFile"));
    rc = file_or_data(&kc->cert_file, &kc->cert_data, &kc->cert_len, doc, user,
                      "client-certificate", dir, err);
    if (rc < 0)
        return rc;
    rc =
        file_or_data(&kc->key_file, &kc->key_data, &kc->key_len, doc, user, "client-key", dir, err);
    if (rc < 0)
        return rc;
    bool has_cert = kc->cert_file || kc->cert_data;
    bool has_key = kc->key_file || kc->key_data;
    if (has_cert != has_key)
        return BAD(err, "client-certificate and client-key must be given together");
    if (map_get(doc, user, "exec") || map_get(doc, user, "auth-provider"))
        if (!kc->token && !kc->token_file && !has_cert)
            return BAD(err, "exec and auth-provider credentials are not supported; use a "
                            "token, tokenFile or client certificate");
    return 0;
}

int kubeconfig_parse(struct kube_config **out, const char *text, size_t len, const char *dir,
                     bool allow_insecure, struct error *err)
{
    int rc = 0;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    struct kube_config *kc = xcalloc(1, sizeof(*kc));

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = BAD(err, "YAML error at line %zu: %s", parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "unknown");
        goto out;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    const char *current = map_str(&doc, root, "current-context");
    if (!current) {
        rc = BAD(err, "no current-context");
        goto out;
    }
    yaml_node_t *ctx = named_entry(&doc, root, "contexts", "context", current);
    if (!ctx) {
        rc = BAD(err, "context \"%s\" not found", current);
        goto out;
    }
    const char *cluster_name = map_str(&doc, ctx, "cluster");
    yaml_node_t *cluster =
        cluster_name ? named_entry(&doc, root, "clusters", "cluster", cluster_name) : NULL;
    if (!cluster) {
        rc = BAD(err, "cluster of context \"%s\" not found", current);
        goto out;
    }
    rc = read_cluster(kc, &doc, cluster, dir, allow_insecure, err);
    if (rc < 0)
        goto out;
    const char *user_name = map_str(&doc, ctx, "user");
    yaml_node_t *user = user_name ? named_entry(&doc, root, "users", "user", user_name) : NULL;
    if (user_name && !user) {
        rc = BAD(err, "user \"%s\" not found", user_name);
        goto out;
    }
    rc = read_user(kc, &doc, user, dir, err);
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0) {
        kube_config_free(kc);
        kc = NULL;
    }
    *out = kc;
    return rc;
}

static int read_file(char **out, size_t *len, const char *path, size_t max, struct error *err)
{
    int rc = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "re");
    if (!f) {
        rc = error_set(err, ERR_NOTFOUND, "unreadable", NULL, "cannot open %s", path);
        goto out;
    }
    buf = xmalloc(max + 1);
    size_t n = fread(buf, 1, max + 1, f);
    if (n > max) {
        rc = error_set(err, ERR_TOO_LARGE, "too_large", NULL, "%s is larger than %zu bytes", path,
                       max);
        goto out;
    }
    buf[n] = '\0';
    *len = n;
out:
    if (f)
        fclose(f);
    if (rc < 0) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return rc;
}

int kubeconfig_load(struct kube_config **out, const char *path, bool allow_insecure,
                    struct error *err)
{
    char *text = NULL, *dir = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = read_file(&text, &len, path, KUBECONFIG_MAX_BYTES, err);
    if (rc < 0)
        goto out;
    const char *slash = strrchr(path, '/');
    dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    if (dir[0] == '\0') { /* "/kubeconfig" lives in "/" */
        free(dir);
        dir = xstrdup("/");
    }
    rc = kubeconfig_parse(out, text, len, dir, allow_insecure, err);
out:
    free(text);
    free(dir);
    return rc;
}

int kubeconfig_in_cluster(struct kube_config **out, const char *sa_dir, struct error *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    *out = NULL;
    if (!host || !host[0] || !port || !port[0])
        return error_set(err, ERR_NOTFOUND, "not_in_cluster", NULL,
                         "KUBERNETES_SERVICE_HOST/PORT are not set and no kubeconfig was given");
    struct kube_config *kc = xcalloc(1, sizeof(*kc));
    /* An IPv6 literal needs brackets in a URL. */
    if (strchr(host, ':'))
        kc->server = xasprintf("https://[%s]:%s", host, port);
    else
        kc->server = xasprintf("https://%s:%s", host, port);
    kc->ca_file = xasprintf("%s/ca.crt", sa_dir);
    kc->token_file = xasprintf("%s/token", sa_dir);
    *out = kc;
    return 0;
}
