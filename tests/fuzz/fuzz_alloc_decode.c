/* fuzz_alloc_decode - libFuzzer target: the body of PUT /v1/allocations/…, as the server
 * parses it (jansson with duplicate keys refused, one object) and api/allocations.c decodes
 * it. No input may crash, leak or trip a sanitizer; refusals are the normal outcome.
 */
#include <jansson.h>
#include <stdint.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    struct alloc_request rq;
    struct error err;

    if (!body)
        return 0;
    if (json_is_object(body)) {
        (void)api_alloc_request_decode(&rq, body, &err);
        alloc_request_cleanup(&rq);
    }
    json_decref(body);
    return 0;
}
