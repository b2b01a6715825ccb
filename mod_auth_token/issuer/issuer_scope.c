/* Scope strings (RFC 6749 section 3.3): space-delimited lists of scope
 * tokens of NQCHAR characters. The token endpoint decides with these what
 * a client is granted. */
#include <string.h>

#include "apr_strings.h"
#include "apr_tables.h"

#include "issuer_private.h"

/* NQCHAR = %x21 / %x23-5B / %x5D-7E */
static int scope_token_ok(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            return 0;
        }
    }
    return 1;
}

int at_scope_has(const apr_array_header_t *scopes, const char *name)
{
    int i;

    for (i = 0; scopes && i < scopes->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(scopes, i, const char *), name) == 0) {
            return 1;
        }
    }
    return 0;
}

apr_array_header_t *at_scope_parse(apr_pool_t *p, const char *text)
{
    apr_array_header_t *scopes = apr_array_make(p, 4, sizeof(const char *));
    char *copy = apr_pstrdup(p, text ? text : "");
    char *state, *tok;

    /* Tolerant of runs of spaces, which some clients produce when they
     * join an empty list; strict about what a scope token may hold. */
    for (tok = apr_strtok(copy, " ", &state); tok;
         tok = apr_strtok(NULL, " ", &state)) {
        if (!scope_token_ok(tok)) {
            return NULL;
        }
        if (!at_scope_has(scopes, tok)) {
            APR_ARRAY_PUSH(scopes, const char *) = tok;
        }
    }
    return scopes;
}

const char *at_scope_join(apr_pool_t *p, const apr_array_header_t *scopes)
{
    return apr_array_pstrcat(p, scopes, ' ');
}
