/* RFC 6750 section 3 challenges, and the per-request state they depend on.
 *
 * The authn hook sets its own challenge before it answers 400/401. The
 * authz providers set insufficient_scope as soon as a Require line fails,
 * because httpd then answers either 403 (AuthzSendForbiddenOnFailure On,
 * without calling note_auth_failure) or 401 (the default, through
 * note_auth_failure), and an ErrorDocument redirect keeps err_headers_out.
 * A line may fail inside <RequireAny> while the request is still allowed,
 * so fixups, which only run for allowed requests, takes it back.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"

APLOG_USE_MODULE(auth_token);

at_req_t *at_req_get(request_rec *r, int create)
{
    at_req_t *st = ap_get_module_config(r->request_config, &auth_token_module);

    if (!st && create) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &auth_token_module, st);
    }
    return st;
}

int at_is_bearer(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && !strcasecmp(type, "Bearer");
}

static const char *challenge_header(const request_rec *r)
{
    return r->proxyreq == PROXYREQ_PROXY ? "Proxy-Authenticate"
                                         : "WWW-Authenticate";
}

/* Appends ", NAME=\"VALUE\"" as an RFC 7230 quoted-string: control
 * characters (which have no place in a header) dropped; for our own
 * parameters '"', '\' and non-ASCII replaced (RFC 6750 allows none of
 * them); the realm kept as it is, since ESCAPED says it is escaped
 * already (mod_authn_core stores AuthName through ap_escape_quotes). */
static void append_param(apr_pool_t *p, struct iovec *v, int *n,
                         const char *name, const char *value, int escaped)
{
    char *q = apr_palloc(p, strlen(value) * 2 + 2), *o = q;
    const unsigned char *c;

    for (c = (const unsigned char *)value; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            continue;
        }
        if (escaped && *c == '\\' && c[1] >= 0x20 && c[1] != 0x7f) {
            /* keep an escape pair together */
            *o++ = (char)*c++;
        } else if (escaped && *c == '\\') {
            continue; /* a dangling backslash would eat the quote */
        } else if (!escaped && (*c == '"' || *c == '\\' || *c > 0x7e)) {
            /* RFC 6750 3: error_description and scope are %x20-21 /
             * %x23-5B / %x5D-7E, so these have no escape: replace them. */
            *o++ = '?';
            continue;
        } else if (escaped && *c == '"') {
            *o++ = '\\'; /* cannot happen after ap_escape_quotes */
        }
        *o++ = (char)*c;
    }
    *o = '\0';
    /* v[0] is the scheme: the first parameter follows a space. */
    v[*n].iov_base =
        (void *)apr_pstrcat(p, *n > 1 ? ", " : " ", name, "=\"", q, "\"", NULL);
    (*n)++;
}

void at_challenge_set(request_rec *r, const char *error, const char *desc,
                      const char *scope)
{
    struct iovec v[5];
    int n = 0, i;
    const char *realm = ap_auth_name(r);
    at_req_t *st = at_req_get(r, 1);
    char *value;

    v[n++].iov_base = "Bearer";
    append_param(r->pool, v, &n, "realm", realm ? realm : "", 1);
    if (error) {
        append_param(r->pool, v, &n, "error", error, 0);
    }
    if (desc) {
        append_param(r->pool, v, &n, "error_description", desc, 0);
    }
    if (scope) {
        append_param(r->pool, v, &n, "scope", scope, 0);
    }
    for (i = 0; i < n; i++) {
        v[i].iov_len = strlen(v[i].iov_base);
    }
    value = apr_pstrcatv(r->pool, v, n, NULL);
    apr_table_setn(r->err_headers_out, challenge_header(r), value);
    st->challenge_set = 1;
}

/* httpd's own 401s (no user after a Require line; or a user that failed
 * one under AuthzSendForbiddenOnFailure Off) come through here. */
static int note_bearer_failure(request_rec *r, const char *auth_type)
{
    at_req_t *st;

    if (strcasecmp(auth_type, "Bearer")) {
        return DECLINED;
    }
    st = at_req_get(r, 0);
    if (st && st->challenge_set) {
        return OK;
    }
    if (st && st->claims) {
        at_challenge_set(r, "insufficient_scope", NULL, NULL);
    } else {
        at_challenge_set(r, NULL, NULL, NULL);
    }
    return OK;
}

/* Every Require line held: a challenge a failing line of <RequireAny> (or
 * a negated one) left behind must not reach the response. */
static int drop_stale_challenge(request_rec *r)
{
    at_req_t *st = at_req_get(r, 0);

    if (st) {
        if (st->challenge_set) {
            apr_table_unset(r->err_headers_out, challenge_header(r));
            st->challenge_set = 0;
        }
        st->authz_passed = 1;
    }
    return DECLINED;
}

/* A 403 for a valid token before fixups can only come from authorization,
 * e.g. a failed `Require expr`, which sets no challenge of its own. */
static void scope_challenge_on_403(request_rec *r)
{
    at_req_t *st = at_req_get(r, 0);

    if (r->status == HTTP_FORBIDDEN && st && st->claims && !st->authz_passed &&
        !st->challenge_set && at_is_bearer(r)) {
        at_challenge_set(r, "insufficient_scope", NULL, NULL);
    }
}

void at_challenge_register_hooks(apr_pool_t *p)
{
    ap_hook_note_auth_failure(note_bearer_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(drop_stale_challenge, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_insert_error_filter(scope_challenge_on_403, NULL, NULL,
                                APR_HOOK_MIDDLE);
}
