/* libFuzzer target: the token endpoint's form parser (at_form_parse, the
 * body of every POST to oauth-token, -revoke and -introspect). Invariants:
 * an accepted body yields only non-empty names and values with no upper-
 * case letter in a name, each name once; a value never holds a NUL; a
 * refused repeat names a parameter that is really there twice.
 * Seeds: tests/fuzz/corpus/form. */
#include "fuzz.h"
#include "at_form.h"
#include <apr_lib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

static int check_pair(void *rec, const char *name, const char *value)
{
    apr_table_t *seen = rec;
    const char *s;

    FUZZ_ASSERT(*name != '\0' && *value != '\0');
    for (s = name; *s; s++) {
        FUZZ_ASSERT(!apr_isupper(*s));
    }
    FUZZ_ASSERT(apr_table_get(seen, name) == NULL);
    apr_table_setn(seen, name, value);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_string(data, size);
    apr_table_t *params = apr_table_make(fuzz_scratch, 8);
    const char *repeated = NULL;

    switch (at_form_parse(fuzz_scratch, body, params, &repeated)) {
    case AT_FORM_OK:
        apr_table_do(check_pair, apr_table_make(fuzz_scratch, 8), params,
                     NULL);
        break;
    case AT_FORM_REPEATED:
        FUZZ_ASSERT(repeated != NULL && *repeated != '\0');
        break;
    default:
        break;
    }
    apr_pool_clear(fuzz_scratch);
    return 0;
}
