/* What an OAuth client sends the issuer's POST endpoints, parsed without
 * httpd (so that unit tests and fuzzers reach it directly): the
 * application/x-www-form-urlencoded body and HTTP Basic client
 * credentials. */
#ifndef AT_FORM_H
#define AT_FORM_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Decodes one form-urlencoded component in place ('+' is a space, %XX a
 * byte). APR_SUCCESS, or APR_EINVAL for a broken escape or an encoded NUL
 * (which would cut the value short where a C string ends). */
apr_status_t at_form_decode(char *s);

typedef enum {
    AT_FORM_OK = 0,
    AT_FORM_MALFORMED, /* a broken escape or an encoded NUL */
    AT_FORM_NO_NAME,   /* "=value" */
    AT_FORM_REPEATED   /* a parameter sent twice */
} at_form_result_t;

/* Splits BODY (a NUL-terminated string, decoded in place) into PARAMS,
 * name -> value. RFC 6749 section 3.1 (and 3.2 for the token endpoint):
 * a parameter at most once, even with an empty value, and an empty value
 * counts as absent, so it is left out of PARAMS; so are names with an
 * upper-case letter (see at_form.c). On AT_FORM_REPEATED *repeated is the
 * (decoded) name. */
at_form_result_t at_form_parse(apr_pool_t *p, char *body, apr_table_t *params,
                               const char **repeated);

/* Client credentials from an Authorization header value (RFC 6749 section
 * 2.3.1, RFC 7617): scheme "Basic" in any case, blanks, then strict padded
 * base64 of "id:secret", split at the first colon, each half then
 * form-urlencoded-decoded. APR_SUCCESS with *id (never empty) and *secret
 * in P; APR_NOTFOUND when the scheme is not Basic; APR_EINVAL when Basic
 * but malformed: bad base64, a NUL, no colon, a bad escape, an empty id. */
apr_status_t at_basic_credentials(apr_pool_t *p, const char *header,
                                  char **id, char **secret);

#endif /* AT_FORM_H */
