/* fuzz_pool_decode - libFuzzer target: the body of POST/PUT /v1/pools, as the server parses
 * it (jansson with duplicate keys refused, one object) and api/pools.c decodes and validates
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
    struct pool p;
    struct error err;

    if (!body)
        return 0;
    if (json_is_object(body)) {
        (void)api_pool_decode(&p, body, &err);
        api_pool_decoded_cleanup(&p);
    }
    json_decref(body);
    return 0;
}
