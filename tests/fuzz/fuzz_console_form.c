/* libFuzzer target: the console's request parsers (admin-cgi/
 * console_cgi.c): QUERY_STRING and PATH_INFO (console_parse_request) and
 * the POST body read from stdin (console_read_form), all from the same
 * input. Invariants: what they accept is UTF-8 without NUL, path segments
 * are non-empty and hold no '/', and every decoded value comes back
 * unchanged through console_url_encode and console_url_decode.
 * Seeds: tests/fuzz/corpus/console_form. */
#include "fuzz_console.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init();
    return 0;
}

static int check_value(void *rec, const char *key, const char *value)
{
    const char *names[] = {key, value};
    int i;

    for (i = 0; i < 2; i++) {
        const char *enc = console_url_encode(fuzz_scratch, names[i]);
        const char *dec = console_url_decode(fuzz_scratch, enc, strlen(enc));

        FUZZ_ASSERT(console_utf8_valid(names[i], strlen(names[i])));
        FUZZ_ASSERT(dec != NULL && strcmp(dec, names[i]) == 0);
    }
    return 1;
}

static void parse_address(const uint8_t *data, size_t size)
{
    console_t *c = fuzz_console("GET");
    const char *why = NULL;
    int i;

    c->query_string = fuzz_string(data, size);
    c->path_info = c->query_string;
    if (console_parse_request(c, &why) == 0) {
        apr_table_do(check_value, NULL, c->query, NULL);
        for (i = 0; i < c->segments->nelts; i++) {
            const char *seg = APR_ARRAY_IDX(c->segments, i, const char *);

            FUZZ_ASSERT(*seg != '\0' && strchr(seg, '/') == NULL);
        }
    }
    else {
        FUZZ_ASSERT(why != NULL);
    }
}

static void read_body(const uint8_t *data, size_t size)
{
    console_t *c = fuzz_console("POST");
    FILE *in, *saved = stdin;
    const char *why = NULL;
    int rv;

    /* fmemopen refuses an empty buffer; an empty body reads nothing. */
    in = size ? fmemopen((void *)data, size, "r") : NULL;
    if (size && in == NULL) {
        abort();
    }
    c->content_type = "application/x-www-form-urlencoded; charset=UTF-8";
    c->content_length = (long long)size;
    stdin = in ? in : saved;
    rv = console_read_form(c, &why);
    stdin = saved;
    if (in) {
        fclose(in);
    }
    if (rv == 0) {
        FUZZ_ASSERT(c->body_read == (long long)size);
        apr_table_do(check_value, NULL, c->form, NULL);
    }
    else {
        FUZZ_ASSERT(why != NULL && (size > CONSOLE_MAX_BODY ? rv == 413
                                                           : rv == 400));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_address(data, size);
    read_body(data, size);
    apr_pool_clear(fuzz_scratch);
    return 0;
}
