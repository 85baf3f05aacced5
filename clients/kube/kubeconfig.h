/* kubeconfig.h - where the Kubernetes API server is and how to prove who we are.
 *
 * Two sources: the in-cluster service account (environment + mounted files) and a kubeconfig
 * file (its current-context only), parsed with libyaml. The result is plain data; nothing
 * here opens a connection. `insecure-skip-tls-verify` is refused unless the caller allows it
 * (the worker's --allow-insecure), because a worker that writes Service status must not
 * trust whoever answers. Relative file paths are resolved against the kubeconfig's folder.
 */
#ifndef LBIPAM_KUBECONFIG_H
#define LBIPAM_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define KUBECONFIG_MAX_BYTES (4u << 20)
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Exactly one of each *_file / *_data pair is set, or neither. Data is raw PEM (decoded). */
struct kube_config {
    char *server; /* "https://host:port", no trailing slash */
    char *ca_file;
    unsigned char *ca_data;
    size_t ca_len;
    char *cert_file;
    unsigned char *cert_data;
    size_t cert_len;
    char *key_file;
    unsigned char *key_data;
    size_t key_len;
    char *token;      /* fixed token */
    char *token_file; /* re-read like the in-cluster token */
    bool insecure;
};

void kube_config_free(struct kube_config *kc);

/* Parses kubeconfig text; `dir` is the folder relative paths are resolved against. Errors are
 * ERR_INVALID with reason "invalid_kubeconfig" and a detail naming the missing or bad entry. */
int kubeconfig_parse(struct kube_config **out, const char *text, size_t len, const char *dir,
                     bool allow_insecure, struct error *err);

/* Reads and parses the file at path. */
int kubeconfig_load(struct kube_config **out, const char *path, bool allow_insecure,
                    struct error *err);

/* In-cluster config from KUBERNETES_SERVICE_HOST/PORT and the service-account files in
 * sa_dir (KUBE_SA_DIR in production; tests pass their own). */
int kubeconfig_in_cluster(struct kube_config **out, const char *sa_dir, struct error *err);

/* Decodes standard base64, ignoring whitespace. Returns the decoded length, or -1. The output
 * buffer is xmalloc'ed and NUL-terminated (PEM is text). */
long base64_decode(unsigned char **out, const char *in, size_t len);

#endif
