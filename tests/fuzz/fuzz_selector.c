/* fuzz_selector - libFuzzer target: the label/selector store codec and the matcher.
 *
 * The input is split at the first NUL: the first part is decoded as a selector, the second as
 * labels (both with the store codec of lib/labels.c, which must refuse what encode never
 * writes). What decodes must re-encode to exactly the same text, validate without crashing,
 * and match (or not) without crashing, also with the synthetic override labels.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    const char *sel_text, *labels_text;
    struct selector sel;
    struct labels labels, overrides;
    struct error err;

    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    sel_text = text;
    labels_text = text + strlen(text) + 1;
    if (labels_text > text + size)
        labels_text = "";
    labels_init(&overrides);
    labels_set(&overrides, "io.kubernetes.service.namespace", "kube-system");
    labels_set(&overrides, "io.kubernetes.service.name", "dns");
    if (selector_decode(&sel, sel_text) == 0) {
        char *again = selector_encode(&sel);
        if (strcmp(again, sel_text) != 0)
            abort(); /* decode(text) must re-encode to text */
        free(again);
        (void)selector_validate(&sel, "/serviceSelector", &err);
        (void)selector_is_empty(&sel);
        if (labels_decode(&labels, labels_text) == 0) {
            char *l = labels_encode(&labels);
            if (strcmp(l, labels_text) != 0)
                abort();
            free(l);
            (void)labels_validate(&labels, "/labels", &err);
            (void)selector_matches(&sel, &labels, NULL);
            (void)selector_matches(&sel, &labels, &overrides);
            labels_cleanup(&labels);
        }
        selector_cleanup(&sel);
    }
    labels_cleanup(&overrides);
    free(text);
    return 0;
}
