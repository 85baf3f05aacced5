/* kubeconfig parsing: current-context, inline data, relative paths, insecure refusal. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clients/kube/kubeconfig.h"

static const char base[] = "apiVersion: v1\n"
                           "kind: Config\n"
                           "current-context: two\n"
                           "contexts:\n"
                           "- name: one\n"
                           "  context: {cluster: c1, user: u1}\n"
                           "- name: two\n"
                           "  context:\n"
                           "    cluster: c2\n"
                           "    user: u2\n"
                           "clusters:\n"
                           "- name: c1\n"
                           "  cluster: {server: 'https://one:6443'}\n"
                           "- name: c2\n"
                           "  cluster:\n"
                           "    server: https://[::1]:6443/\n"
                           "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJU\n"
                           "users:\n"
                           "- name: u1\n"
                           "  user: {token: one}\n"
                           "- name: u2\n"
                           "  user:\n"
                           "    tokenFile: secrets/token\n"
                           "    client-certificate: certs/c.pem\n"
                           "    client-key-data: a2V5\n";

Test(kubeconfig, current_context_selects_cluster_and_user)
{
    struct kube_config *kc = NULL;
    struct error err = {0};
    cr_assert_eq(kubeconfig_parse(&kc, base, strlen(base), "/etc/kube", false, &err), 0, "%s",
                 err.detail);
    cr_assert_str_eq(kc->server, "https://[::1]:6443");
    cr_assert_eq(kc->ca_len, 15);
    cr_assert_eq(memcmp(kc->ca_data, "-----BEGIN CERT", 15), 0);
    cr_assert_null(kc->ca_file);
    cr_assert_null(kc->token);
    cr_assert_str_eq(kc->token_file, "/etc/kube/secrets/token");
    cr_assert_str_eq(kc->cert_file, "/etc/kube/certs/c.pem");
    cr_assert_eq(kc->key_len, 3);
    cr_assert_str_eq((char *)kc->key_data, "key");
    cr_assert_not(kc->insecure);
    kube_config_free(kc);
}

Test(kubeconfig, absolute_paths_and_fixed_token)
{
    const char *y = "current-context: x\n"
                    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                    "clusters: [{name: c, cluster: {server: 'https://h', "
                    "certificate-authority: /abs/ca.crt}}]\n"
                    "users: [{name: u, user: {token: abc}}]\n";
    struct kube_config *kc = NULL;
    cr_assert_eq(kubeconfig_parse(&kc, y, strlen(y), "/d", false, NULL), 0);
    cr_assert_str_eq(kc->ca_file, "/abs/ca.crt");
    cr_assert_str_eq(kc->token, "abc");
    cr_assert_null(kc->token_file);
    kube_config_free(kc);
}

Test(kubeconfig, insecure_skip_tls_verify_is_refused_unless_allowed)
{
    const char *y = "current-context: x\n"
                    "contexts: [{name: x, context: {cluster: c}}]\n"
                    "clusters: [{name: c, cluster: {server: 'https://h', "
                    "insecure-skip-tls-verify: true}}]\n";
    struct kube_config *kc = NULL;
    struct error err = {0};
    cr_assert_eq(kubeconfig_parse(&kc, y, strlen(y), "/d", false, &err), ERR_INVALID);
    cr_assert_null(kc);
    cr_assert(strstr(err.detail, "insecure-skip-tls-verify"));
    cr_assert_eq(kubeconfig_parse(&kc, y, strlen(y), "/d", true, &err), 0);
    cr_assert(kc->insecure);
    kube_config_free(kc);
}

Test(kubeconfig, missing_pieces_are_named)
{
    struct error err = {0};
    struct kube_config *kc = NULL;
    const char *no_ctx = "clusters: []\n";
    cr_assert_eq(kubeconfig_parse(&kc, no_ctx, strlen(no_ctx), ".", false, &err), ERR_INVALID);
    cr_assert(strstr(err.detail, "current-context"));
    const char *bad_ctx = "current-context: nope\ncontexts: []\n";
    cr_assert_eq(kubeconfig_parse(&kc, bad_ctx, strlen(bad_ctx), ".", false, &err), ERR_INVALID);
    cr_assert(strstr(err.detail, "nope"));
    const char *half = "current-context: x\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
                       "users: [{name: u, user: {client-certificate: c.pem}}]\n";
    cr_assert_eq(kubeconfig_parse(&kc, half, strlen(half), ".", false, &err), ERR_INVALID);
    cr_assert(strstr(err.detail, "together"));
    const char *broken = "current-context: [\n";
    cr_assert_eq(kubeconfig_parse(&kc, broken, strlen(broken), ".", false, &err), ERR_INVALID);
    cr_assert(strstr(err.detail, "YAML"));
}

Test(kubeconfig, in_cluster_brackets_ipv6_host)
{
    struct kube_config *kc = NULL;
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    cr_assert_eq(kubeconfig_in_cluster(&kc, "/sa", NULL), 0);
    cr_assert_str_eq(kc->server, "https://[fd00::1]:443");
    cr_assert_str_eq(kc->token_file, "/sa/token");
    cr_assert_str_eq(kc->ca_file, "/sa/ca.crt");
    kube_config_free(kc);
    unsetenv("KUBERNETES_SERVICE_HOST");
    cr_assert_eq(kubeconfig_in_cluster(&kc, "/sa", NULL), ERR_NOTFOUND);
}

Test(kubeconfig, base64_rejects_junk)
{
    unsigned char *out = NULL;
    cr_assert_eq(base64_decode(&out, "aGk=", 4), 2);
    cr_assert_str_eq((char *)out, "hi");
    free(out);
    cr_assert_eq(base64_decode(&out, "a$b=", 4), -1);
    cr_assert_eq(base64_decode(&out, "aG=k", 4), -1);
}
