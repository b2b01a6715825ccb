/* libFuzzer target: HTTP Basic client credentials (at_basic_credentials,
 * RFC 6749 section 2.3.1) from an Authorization header value. Invariants:
 * an accepted value has the Basic scheme, a non-empty id, and is the one
 * spelling of its credentials: encoding the decoded id and secret again
 * (form-urlencoded, then padded base64) and decoding that gives the same
 * id and secret. Seeds: tests/fuzz/corpus/basic. */
#include "fuzz.h"
#include "at_form.h"
#include <apr_encode.h>
#include <apr_escape.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *header = fuzz_string(data, size);
    char *id = NULL, *secret = NULL, *id2 = NULL, *secret2 = NULL;
    apr_status_t rv = at_basic_credentials(fuzz_scratch, header, &id, &secret);

    if (rv == APR_SUCCESS) {
        const char *plain, *again;

        FUZZ_ASSERT(strncasecmp(header, "Basic", 5) == 0);
        FUZZ_ASSERT(id != NULL && *id != '\0' && secret != NULL);
        plain = apr_pstrcat(fuzz_scratch,
                            apr_pescape_urlencoded(fuzz_scratch, id), ":",
                            apr_pescape_urlencoded(fuzz_scratch, secret),
                            NULL);
        again = apr_pstrcat(fuzz_scratch, "Basic ",
                            apr_pencode_base64(fuzz_scratch, plain,
                                               APR_ENCODE_STRING,
                                               APR_ENCODE_NONE, NULL),
                            NULL);
        FUZZ_ASSERT(at_basic_credentials(fuzz_scratch, again, &id2,
                                         &secret2) == APR_SUCCESS);
        FUZZ_ASSERT(strcmp(id, id2) == 0 && strcmp(secret, secret2) == 0);
    }
    else {
        FUZZ_ASSERT(rv == APR_NOTFOUND || rv == APR_EINVAL);
    }
    apr_pool_clear(fuzz_scratch);
    return 0;
}
