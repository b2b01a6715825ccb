/* Strict JSON for JOSE: jansson parses (duplicate member names rejected,
 * no NUL byte in the text), and a depth walk of our own bounds nesting,
 * because jansson's own limit (2048) is far above anything a token needs
 * and deep values are a cheap way to make later recursive code work hard.
 *
 * "\u0000" inside a string is valid JSON (RFC 8259 section 7). Headers and
 * key sets refuse it; a claim set accepts it (at_json_parse_claims), and
 * every reader of claim strings goes through at_json_text, which never
 * hands out such a string as a C string that would silently end early. */
#include <string.h>
#include "at_jose.h"

static apr_status_t json_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* 1 when V and everything in it is at most MAX levels deep (a scalar is
 * depth 0, [] depth 1). Stops descending as soon as the bound is passed. */
static int json_depth_ok(json_t *v, int max)
{
    size_t i;
    const char *k;
    json_t *m;

    if (json_is_array(v)) {
        if (max == 0) {
            return 0;
        }
        json_array_foreach(v, i, m) {
            if (!json_depth_ok(m, max - 1)) {
                return 0;
            }
        }
    }
    else if (json_is_object(v)) {
        if (max == 0) {
            return 0;
        }
        json_object_foreach(v, k, m) {
            if (!json_depth_ok(m, max - 1)) {
                return 0;
            }
        }
    }
    return 1;
}

/* A short, fixed description of why jansson refused a text. */
static const char *json_error_class(const json_error_t *jerr)
{
    switch (json_error_code(jerr)) {
    case json_error_duplicate_key:
        return "duplicate JSON member";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "NUL in JSON string";
    case json_error_numeric_overflow:
        return "JSON number out of range";
    case json_error_end_of_input_expected:
        return "text after the JSON value";
    case json_error_invalid_utf8:
        return "JSON not valid UTF-8";
    case json_error_stack_overflow:
        return "JSON nested too deeply";
    default:
        return "malformed JSON";
    }
}

/* FLAGS: jansson decoding flags added to the strict ones. */
static json_t *json_parse(apr_pool_t *p, const char *text, size_t len,
                          size_t flags, at_error_t *err)
{
    json_error_t jerr;
    json_t *v;

    if (memchr(text, '\0', len) != NULL) {
        at_error_set(err, "JSON holds a NUL byte");
        return NULL;
    }
    /* Without JSON_ALLOW_NUL jansson also refuses "\u0000" in strings;
     * with it, still in member names. */
    v = json_loadb(text, len,
                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | flags, &jerr);
    if (v == NULL) {
        /* jerr.text quotes the input, so only its class is reported. */
        at_error_set(err, "%s at offset %d", json_error_class(&jerr),
                     jerr.position);
        return NULL;
    }
    if (!json_depth_ok(v, AT_JSON_MAX_DEPTH)) {
        json_decref(v);
        at_error_set(err, "JSON nested deeper than %d", AT_JSON_MAX_DEPTH);
        return NULL;
    }
    apr_pool_cleanup_register(p, v, json_release, apr_pool_cleanup_null);
    return v;
}

json_t *at_json_parse(apr_pool_t *p, const char *text, size_t len,
                      at_error_t *err)
{
    return json_parse(p, text, len, 0, err);
}

json_t *at_json_parse_claims(apr_pool_t *p, const char *text, size_t len,
                             at_error_t *err)
{
    return json_parse(p, text, len, JSON_ALLOW_NUL, err);
}

const char *at_json_text(const json_t *v)
{
    const char *s = json_string_value(v);

    if (s == NULL || strlen(s) != json_string_length(v)) {
        return NULL;
    }
    return s;
}
