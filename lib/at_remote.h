/* Rules for key sets fetched over the network (AuthTokenJWKS URL,
 * AuthTokenTrustIssuer): which URLs may be fetched, how long a fetched set
 * is used, where an issuer's metadata lives and what a metadata document
 * must say. Pure functions (no network, no httpd), so the module and the
 * unit tests share them; the fetching itself is the module's
 * (mod_auth_token/jwks_fetch.c), the keys of a fetched set come from
 * at_jwks_load_set (at_jose.h).
 */
#ifndef AT_REMOTE_H
#define AT_REMOTE_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_errno.h>

#include "at_error.h"

/* Largest body accepted from a key or metadata server. */
#define AT_REMOTE_MAX_BODY (512 * 1024)
/* A server's Cache-Control max-age counts only within these bounds. */
#define AT_REMOTE_MAX_AGE_MIN 60L
#define AT_REMOTE_MAX_AGE_MAX 86400L

/* APR_SUCCESS when URL may be fetched: https://, or http:// whose parsed
 * host is a loopback address (127.0.0.0/8, ::1 or the name localhost,
 * which curl never sends to DNS). No user info, no fragment, visible ASCII
 * only. *PLAIN (may be NULL) is set to 1 for http://. */
apr_status_t at_remote_url_check(apr_pool_t *p, const char *url, int *plain,
                                 at_error_t *err);

/* 1 when TEXT is a literal loopback address (127.0.0.0/8, ::1, or an
 * IPv4-mapped 127.x address); for checking where a connection went. */
int at_remote_is_loopback_ip(const char *text);

/* The max-age of one Cache-Control header value (may be NULL), or -1 when
 * it has none that parses ("public, max-age=600" -> 600). */
long at_remote_max_age(const char *cache_control);

/* How long a fetched set is used: MAX_AGE (from at_remote_max_age) when it
 * lies within AT_REMOTE_MAX_AGE_MIN..MAX, else REFRESH. */
long at_remote_ttl(long max_age, long refresh);

/* The metadata URLs to try for ISSUER, in order, NULL-terminated:
 * ISSUER/.well-known/openid-configuration (OpenID Connect Discovery), the
 * RFC 8414 form (the well-known part between host and path), and, for an
 * issuer with a path, ISSUER/.well-known/oauth-authorization-server.
 * NULL when ISSUER is not a URL with a host (or has a query/fragment). */
const char **at_remote_discovery_urls(apr_pool_t *p, const char *issuer);

/* From the metadata document TEXT: its "issuer" must equal ISSUER exactly
 * and its "jwks_uri" pass at_remote_url_check; *JWKS_URI gets it. */
apr_status_t at_remote_metadata_jwks_uri(apr_pool_t *p, const char *text,
                                         size_t len, const char *issuer,
                                         const char **jwks_uri,
                                         at_error_t *err);

#endif /* AT_REMOTE_H */
