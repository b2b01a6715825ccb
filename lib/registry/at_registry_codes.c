/* Authorization codes (RFC 6749 section 4.1): 256 random bits, stored only
 * as their SHA-256, single use, bound to what the authorization request
 * decided. The exchange consumes the code, records the access token and
 * starts the refresh family in one transaction, so that a second
 * redemption (concurrent or later) always finds everything the first one
 * issued and can revoke it: the conditional UPDATE (... AND used_at IS
 * NULL) lets exactly one of two concurrent redemptions through, as in
 * refresh rotation. Also the identity claims last seen for a person.
 */
#include <string.h>

#include <apr_strings.h>

#include "at_registry_private.h"
#include "at_registry_authz.h"
#include "at_secret.h"

#define CODE_LIFETIME_MAX 600L

#define CODE_COLUMNS                                                     \
    "client_id, subject, redirect_uri, redirect_sent, scope, challenge," \
    " nonce, claims, auth_time, grant_id, created, expires, used_at"

static at_code_t *code_from_row(apr_pool_t *p, const char **v)
{
    at_code_t *c = apr_pcalloc(p, sizeof(*c));

    c->client_id = v[0];
    c->subject = v[1];
    c->redirect_uri = v[2];
    c->redirect_sent = (int)at_reg_atoll(v[3], 0);
    c->scope = v[4] ? v[4] : "";
    c->challenge = v[5];
    c->nonce = v[6];
    c->claims = v[7];
    c->auth_time = at_reg_atoll(v[8], 0);
    c->grant_id = v[9];
    c->created = at_reg_atoll(v[10], 0);
    c->expires = at_reg_atoll(v[11], 0);
    c->used_at = at_reg_atoll(v[12], 0);
    return c;
}

/* The lookup key of VALUE, or NULL (ERR set) for no value at all. */
static const char *code_hash(apr_pool_t *p, const char *value,
                             at_error_t *err)
{
    const char *hash = value ? at_token_hash(p, value) : NULL;

    if (hash == NULL) {
        at_error_set(err, "unknown authorization code");
    }
    return hash;
}

static apr_status_t find_code(at_registry_t *reg, apr_pool_t *p,
                              const char *hash, at_code_t **code,
                              at_error_t *err)
{
    apr_array_header_t *rows;
    apr_status_t rv;

    rv = at_reg_select(reg, p, err, &rows, NULL,
                       "SELECT " CODE_COLUMNS " FROM auth_codes"
                       " WHERE hash = %s", hash);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        at_error_set(err, "unknown authorization code");
        return APR_NOTFOUND;
    }
    *code = code_from_row(p, APR_ARRAY_IDX(rows, 0, const char **));
    return APR_SUCCESS;
}

apr_status_t at_code_issue(at_registry_t *reg, apr_pool_t *p, at_code_t *code,
                           long lifetime, const char **value,
                           at_error_t *err)
{
    long long now = at_reg_now();
    const char *hash;
    apr_status_t rv;

    *value = NULL;
    if (lifetime <= 0 || lifetime > CODE_LIFETIME_MAX) {
        at_error_set(err, "code lifetime must be 1 to %ld seconds",
                     CODE_LIFETIME_MAX);
        return APR_EINVAL;
    }
    if (!code->client_id || !code->subject || !*code->subject
        || !code->redirect_uri) {
        at_error_set(err, "a code needs a client, a person and a redirect "
                     "URI");
        return APR_EINVAL;
    }
    if (at_reg_random_id(p, &code->grant_id) != APR_SUCCESS
        || at_secret_generate(p, value) != APR_SUCCESS
        || (hash = at_token_hash(p, *value)) == NULL) {
        at_error_set(err, "no random bytes for an authorization code");
        *value = NULL;
        return APR_EGENERAL;
    }
    code->created = now;
    code->expires = now + lifetime;
    code->used_at = 0;
    rv = at_reg_begin(reg, p, err);
    if (rv != APR_SUCCESS) {
        *value = NULL;
        return rv;
    }
    rv = at_reg_exec(reg, p, err, NULL,
                     "INSERT INTO auth_codes (hash, " CODE_COLUMNS ")"
                     " VALUES (%s, %s, %s, %s, %lld, %s, %s, %s, %s, %lld,"
                     " %s, %lld, %lld, NULL)", hash, code->client_id,
                     code->subject, code->redirect_uri,
                     code->redirect_sent ? "1" : "0",
                     code->scope ? code->scope : "", code->challenge,
                     code->nonce, code->claims,
                     at_reg_i64(p, code->auth_time), code->grant_id,
                     at_reg_i64(p, now), at_reg_i64(p, code->expires));
    /* Written only when it changed: most sign-ins change nothing. */
    if (rv == APR_SUCCESS && code->claims) {
        rv = at_reg_exec(reg, p, err, NULL,
                         "INSERT INTO identities (subject, claims, updated)"
                         " VALUES (%s, %s, %lld) ON CONFLICT (subject)"
                         " DO UPDATE SET claims = excluded.claims,"
                         " updated = excluded.updated"
                         " WHERE identities.claims <> excluded.claims",
                         code->subject, code->claims, at_reg_i64(p, now));
    }
    rv = at_reg_end(reg, rv, 0, err);
    if (rv != APR_SUCCESS) {
        *value = NULL;
    }
    else if (++reg->writes % 256 == 0) {
        at_reg_purge_expired(reg, p);
    }
    return rv;
}

apr_status_t at_code_lookup(at_registry_t *reg, apr_pool_t *p,
                            const char *value, at_code_t **code,
                            at_error_t *err)
{
    const char *hash;

    *code = NULL;
    if ((hash = code_hash(p, value, err)) == NULL) {
        return APR_NOTFOUND;
    }
    return find_code(reg, p, hash, code, err);
}

/* Inside a transaction: revokes the family and the access tokens of
 * CODE's grant, audited as a reuse. */
static apr_status_t revoke_grant(at_registry_t *reg, apr_pool_t *p,
                                 const at_code_t *code, const char *actor,
                                 at_error_t *err)
{
    const char *now = at_reg_i64(p, at_reg_now());
    apr_status_t rv;
    int njti = 0;

    rv = at_reg_exec(reg, p, err, NULL,
                     "UPDATE refresh_families SET revoked = %lld"
                     " WHERE id = %s AND revoked IS NULL", now,
                     code->grant_id);
    /* Found through the client's index (issued_jtis_client). */
    if (rv == APR_SUCCESS) {
        rv = at_reg_exec(reg, p, err, &njti,
                         "UPDATE issued_jtis SET revoked = %lld"
                         " WHERE client_id = %s AND grant_id = %s"
                         " AND revoked IS NULL", now, code->client_id,
                         code->grant_id);
    }
    if (rv == APR_SUCCESS && njti > 0) {
        rv = at_reg_bump_generation(reg, p, err);
    }
    if (rv == APR_SUCCESS) {
        rv = at_reg_audit(reg, p, err, actor, "code.reuse", code->client_id,
                          apr_psprintf(p, "subject=%s grant=%s jtis=%d",
                                       code->subject, code->grant_id, njti));
    }
    return rv;
}

/* A copy of CODE in P (the caller's pool, not the transaction's). */
static at_code_t *code_copy(apr_pool_t *p, const at_code_t *c)
{
    at_code_t *k = apr_pmemdup(p, c, sizeof(*c));

    k->client_id = apr_pstrdup(p, c->client_id);
    k->subject = apr_pstrdup(p, c->subject);
    k->redirect_uri = apr_pstrdup(p, c->redirect_uri);
    k->scope = apr_pstrdup(p, c->scope);
    k->challenge = c->challenge ? apr_pstrdup(p, c->challenge) : NULL;
    k->nonce = c->nonce ? apr_pstrdup(p, c->nonce) : NULL;
    k->claims = c->claims ? apr_pstrdup(p, c->claims) : NULL;
    k->grant_id = apr_pstrdup(p, c->grant_id);
    return k;
}

static int has_scope(apr_pool_t *p, const char *scopes, const char *name)
{
    apr_array_header_t *list = at_reg_split(p, scopes);
    int i;

    for (i = 0; i < list->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(list, i, const char *), name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Inside a transaction: the exchange ITEM. Its own outcome goes to
 * item->status; the return is a database failure (or APR_SUCCESS). */
static apr_status_t redeem_one(at_registry_t *reg, apr_pool_t *p,
                               at_redeem_t *item, at_error_t *err)
{
    long long now = at_reg_now();
    const char *hash, *refresh = item->refresh;
    at_code_t *code = NULL;
    apr_status_t rv;
    int nrows = 0;

    /* Set again only when a refresh token is issued. */
    item->refresh = NULL;
    item->status = APR_NOTFOUND;
    item->problem = "authorization code invalid or expired";
    if ((hash = code_hash(p, item->value, err)) == NULL) {
        return APR_SUCCESS;
    }
    rv = find_code(reg, p, hash, &code, err);
    /* Another client's code is unknown to this one, and left alone. */
    if (rv == APR_NOTFOUND
        || (rv == APR_SUCCESS
            && strcmp(code->client_id, item->client_id) != 0)) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    item->code = code_copy(item->pool ? item->pool : p, code);
    if (code->used_at) {
        /* Used before: whatever it issued goes, and that stays done. */
        rv = revoke_grant(reg, p, code, "issuer", err);
        item->status = APR_EACCES;
        item->problem = "authorization code already used";
        return rv;
    }
    if (code->expires <= now) {
        item->problem = "authorization code expired";
        return APR_SUCCESS;
    }
    if (item->check && (item->problem = item->check(item->code, item->ctx))) {
        item->status = APR_EINVAL;
        return APR_SUCCESS;
    }
    rv = at_reg_exec(reg, p, err, &nrows,
                     "UPDATE auth_codes SET used_at = %lld"
                     " WHERE hash = %s AND used_at IS NULL",
                     at_reg_i64(p, now), hash);
    if (rv == APR_SUCCESS && nrows != 1) {
        /* Consumed by a connection that committed after our read. */
        rv = revoke_grant(reg, p, code, "issuer", err);
        item->status = APR_EACCES;
        item->problem = "authorization code already used";
        return rv;
    }
    if (rv == APR_SUCCESS) {
        item->jti.subject = item->code->subject;
        item->jti.grant_id = item->code->grant_id;
        rv = at_reg_jti_insert(reg, p, &item->jti, 1, err);
    }
    if (rv == APR_SUCCESS && item->refresh_lifetime > 0
        && has_scope(p, code->scope, "offline_access")) {
        rv = at_reg_family_start(reg, p, code->grant_id, code->client_id,
                                 code->subject, code->scope,
                                 item->refresh_lifetime, &refresh, err);
        item->refresh = refresh;
    }
    if (rv == APR_SUCCESS) {
        item->status = APR_SUCCESS;
        item->problem = NULL;
    }
    return rv;
}

apr_status_t at_code_redeem_many(at_registry_t *reg, apr_pool_t *p,
                                 at_redeem_t **items, int n,
                                 const at_jti_rec_t *recs, int nrecs,
                                 at_error_t *err)
{
    apr_status_t rv;
    int i;

    rv = at_reg_begin(reg, p, err);
    if (rv == APR_SUCCESS) {
        rv = at_reg_jti_insert(reg, p, recs, nrecs, err);
    }
    for (i = 0; rv == APR_SUCCESS && i < n; i++) {
        rv = redeem_one(reg, p, items[i], err);
    }
    /* Nothing to end when the BEGIN itself failed. */
    rv = at_reg_end(reg, rv, 0, err);
    for (i = 0; rv != APR_SUCCESS && i < n; i++) {
        items[i]->status = rv;
        items[i]->refresh = NULL;
    }
    if (rv == APR_SUCCESS && (reg->writes += n + nrecs) % 256
                                 < (unsigned)(n + nrecs)) {
        at_reg_purge_expired(reg, p);
    }
    return rv;
}

apr_status_t at_code_redeem(at_registry_t *reg, apr_pool_t *p,
                            at_redeem_t *item, at_error_t *err)
{
    apr_status_t rv = at_code_redeem_many(reg, p, &item, 1, NULL, 0, err);

    return rv == APR_SUCCESS ? item->status : rv;
}

apr_status_t at_identity_get(at_registry_t *reg, apr_pool_t *p,
                             const char *subject, const char **claims,
                             at_error_t *err)
{
    apr_status_t rv;

    rv = at_reg_value(reg, p, err, claims,
                      "SELECT claims FROM identities WHERE subject = %s",
                      subject ? subject : "");
    if (rv == APR_NOTFOUND) {
        at_error_set(err, "no identity recorded for this person");
    }
    return rv;
}
