/* Which keys may verify a token at a location, per request.
 *
 * A location's keys come in groups: its own keys (AuthTokenVerifyKey,
 * AuthTokenJWKS files), each fetched set (AuthTokenJWKS URL), each trusted
 * issuer's keys (AuthTokenTrustIssuer), and this server's signing keys
 * (AuthTokenVerifyLocal On). With trusted issuers a token is routed by its
 * unverified iss to that issuer's group alone (and to the signing keys
 * when it names this server), so one issuer's keys never verify a token
 * claiming another; without them every group is tried, as before, and
 * AuthTokenIssuer judges the iss afterwards.
 *
 * Fetched groups hold this process's current set for the whole request
 * (a pointer and a count; no copy), so a refresh in the middle cannot
 * pull keys from under a verification. A token that finds no key for its
 * kid or alg in a fetched set asks for one refetch (server-wide at most
 * one per AuthTokenJWKSMinRefetch); the request that won that right waits
 * for it and tries once more. A set never obtained makes the answer 503
 * with Retry-After: the token may well be valid.
 */
#include <string.h>

#include "httpd.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "jwks_remote.h"

APLOG_USE_MODULE(auth_token);

typedef struct group {
    const char *issuer;             /* routing: NULL serves any iss */
    const apr_array_header_t *keys; /* its keys, or the held set's */
    at_jwks_src_t *src;             /* fetched; NULL for static keys */
    at_jwks_set_t *set;             /* held; NULL: none obtained yet */
    int local;                      /* this server's signing keys */
} group_t;

struct at_keyring {
    request_rec *r;
    group_t *groups;
    int ngroups;
    int routed; /* trusted issuers: route by iss */
};

static apr_status_t ring_release(void *data)
{
    at_keyring_t *ring = data;
    int i;

    for (i = 0; i < ring->ngroups; i++) {
        at_jwks_release(ring->groups[i].set);
        ring->groups[i].set = NULL;
    }
    return APR_SUCCESS;
}

/* Holds G's current fetched set (after letting go of an older one);
 * 1 when G now has a newer one than before. */
static int hold_current(group_t *g)
{
    at_jwks_set_t *old = g->set;
    unsigned old_gen = old ? old->gen : 0;

    g->set = at_jwks_acquire(g->src);
    g->keys = g->set ? g->set->keys : NULL;
    at_jwks_release(old);
    return g->set && g->set->gen != old_gen;
}

at_keyring_t *at_keyring_get(request_rec *r, const at_dir_conf_t *dc,
                             const at_srv_conf_t *sc)
{
    const apr_array_header_t *trusted = at_dir_trusted(dc);
    const apr_array_header_t *remote = at_dir_remote(dc);
    const apr_array_header_t *own = at_dir_keys(dc), *local = NULL;
    at_keyring_t *ring;
    group_t *g;
    int n, i, fetched = 0;

    if (at_dir_verify_local(dc) && at_srv_signing_keys(sc)->nelts) {
        local = at_srv_signing_keys(sc);
    }
    if (trusted) {
        n = trusted->nelts;
    } else {
        n = (own ? 1 : 0) + (remote ? remote->nelts : 0);
    }
    n += local ? 1 : 0;
    if (n == 0) {
        return NULL;
    }
    /* One allocation for the ring and its groups. */
    ring = apr_pcalloc(r->pool, sizeof(*ring) + n * sizeof(*g));
    ring->r = r;
    ring->routed = trusted != NULL;
    ring->groups = g = (group_t *)(ring + 1);
    ring->ngroups = n;
    if (trusted) {
        for (i = 0; i < trusted->nelts; i++, g++) {
            const at_trust_t *t = &APR_ARRAY_IDX(trusted, i, at_trust_t);

            g->issuer = t->issuer;
            g->keys = t->keys;
            g->src = t->src;
        }
    } else {
        if (own) {
            (g++)->keys = own;
        }
        for (i = 0; remote && i < remote->nelts; i++) {
            (g++)->src = APR_ARRAY_IDX(remote, i, at_jwks_src_t *);
        }
    }
    if (local) {
        /* Routed only among trusted issuers; otherwise the claim checks
         * hold its tokens to this server's name, as they always did. */
        g->issuer = trusted ? at_srv_issuer_name(sc) : NULL;
        g->keys = local;
        g->local = 1;
    }
    for (i = 0; i < n; i++) {
        if (ring->groups[i].src) {
            hold_current(&ring->groups[i]);
            fetched = 1;
        }
    }
    if (fetched) {
        apr_pool_cleanup_register(r->pool, ring, ring_release,
                                  apr_pool_cleanup_null);
    }
    return ring;
}

/* The token's iss as a string, or NULL. */
static const char *token_iss(const at_jws_t *jws)
{
    return json_string_value(json_object_get(jws->claims, "iss"));
}

/* May G verify a token whose iss is ISS here? */
static int routes_to(const at_keyring_t *ring, const group_t *g,
                     const char *iss)
{
    if (!ring->routed) {
        return 1;
    }
    return g->issuer && iss && !strcmp(g->issuer, iss);
}

const at_key_t *at_keyring_cached(at_keyring_t *ring, at_jws_cache_t *cache,
                                  const char *token, size_t len, at_jws_t *jws,
                                  int *local)
{
    const apr_array_header_t **sets;
    const at_key_t *key;
    group_t *g;
    int i, j;

    if (!cache) {
        return NULL;
    }
    if (ring->ngroups == 1) {
        sets = &ring->groups[0].keys; /* the common case: no copy */
    } else {
        sets = apr_palloc(ring->r->pool, ring->ngroups * sizeof(*sets));
        for (i = 0; i < ring->ngroups; i++) {
            sets[i] = ring->groups[i].keys;
        }
    }
    key = at_jws_cache_get_sets(cache, ring->r->pool, token, len, sets,
                                ring->ngroups, jws);
    if (!key) {
        return NULL;
    }
    for (i = 0; i < ring->ngroups; i++) {
        g = &ring->groups[i];
        for (j = 0; g->keys && j < g->keys->nelts; j++) {
            if (APR_ARRAY_IDX(g->keys, j, const at_key_t *) == key &&
                (!ring->routed || routes_to(ring, g, token_iss(jws)))) {
                *local = g->local;
                return key;
            }
        }
    }
    /* Verified by a key of ours, but one its iss may not use here: judge
     * it afresh, which rejects it with the reason. */
    memset(jws, 0, sizeof(*jws));
    return NULL;
}

/* One pass over the groups ISS routes to. OK, or what failed: *UNKNOWN
 * the first fetched group without a key for the token, *MISSING the first
 * without a set at all; ERR keeps the most telling reason. */
static int try_groups(at_keyring_t *ring, const at_jws_t *jws, const char *iss,
                      const at_key_t **used, int *local, group_t **unknown,
                      group_t **missing, at_error_t *err)
{
    at_error_t e;
    apr_status_t rv;
    int i, routed = 0, have_reason = 0;

    *unknown = *missing = NULL;
    for (i = 0; i < ring->ngroups; i++) {
        group_t *g = &ring->groups[i];

        if (!routes_to(ring, g, iss)) {
            continue;
        }
        routed++;
        if (g->src && !g->set) {
            *missing = *missing ? *missing : g;
            continue;
        }
        e.text[0] = '\0';
        rv = at_jws_verify_keys(jws, g->keys, used, &e);
        if (rv == APR_SUCCESS) {
            *local = g->local;
            return OK;
        }
        if (rv == APR_ENOENT && g->src && !*unknown) {
            *unknown = g;
        }
        /* "signature does not verify" says more than "no key". */
        if (!have_reason || rv != APR_ENOENT) {
            *err = e;
            have_reason = rv != APR_ENOENT;
        }
    }
    if (ring->routed && !routed) {
        at_error_set(err, iss ? "issuer not trusted here"
                              : "no iss claim to choose the issuer's keys");
    } else if (!err->text[0]) {
        at_error_set(err, "signature not verified");
    }
    return HTTP_UNAUTHORIZED;
}

int at_keyring_verify(at_keyring_t *ring, const at_jws_t *jws,
                      const at_key_t **used, int *local, at_error_t *err)
{
    request_rec *r = ring->r;
    const char *iss = token_iss(jws);
    group_t *unknown, *missing;
    unsigned ticket;
    long retry;
    int status;

    status = try_groups(ring, jws, iss, used, local, &unknown, &missing, err);
    if (status == OK) {
        return OK;
    }
    if (unknown && (ticket = at_jwks_request_refetch(unknown->src)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "AT01158: no key for kid %.64s (alg %s) in the key set "
                      "of %s; refetching it",
                      jws->kid ? jws->kid : "(none)", at_alg_name(jws->alg),
                      unknown->src->name);
        if (at_jwks_wait(unknown->src, ticket) && hold_current(unknown)) {
            err->text[0] = '\0';
            status = try_groups(ring, jws, iss, used, local, &unknown, &missing,
                                err);
        }
    } else if (missing && at_jwks_wait(missing->src, 0) &&
               hold_current(missing)) {
        /* The first fetch was still under way. */
        err->text[0] = '\0';
        status =
            try_groups(ring, jws, iss, used, local, &unknown, &missing, err);
    }
    if (status == OK || !missing) {
        return status;
    }
    retry = at_jwks_retry_after(missing->src);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%ld", retry));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "AT01159: no key set of %s obtained yet; answering 503 "
                  "for %s (Retry-After: %ld)",
                  missing->src->name, r->uri, retry);
    return HTTP_SERVICE_UNAVAILABLE;
}
