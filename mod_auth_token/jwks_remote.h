/* Key sets fetched over the network and trusted issuers: what the files
 * behind AuthTokenJWKS URL and AuthTokenTrustIssuer share.
 *
 *   jwks_config.c  the directives; one source per URL (or discovered
 *                  issuer) for the whole server, whatever names it
 *   jwks_fetch.c   one fetch with libcurl under the contract's limits
 *   jwks_store.c   one fetch per source for all children: shared memory
 *                  holds the published JWK Set text and its generation; a
 *                  thread in each child fetches when due (a claim under a
 *                  global mutex makes it one child) and parses a new
 *                  generation once into this process's key set
 *   key_route.c    per request: which keys may verify a token at a
 *                  location (routing by iss), refetch on an unknown kid,
 *                  503 while a set was never obtained
 */
#ifndef AT_JWKS_REMOTE_H
#define AT_JWKS_REMOTE_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"

#include "mod_auth_token.h"
#include "at_error.h"

#define AT_JWKS_DEFAULT_REFRESH     3600L
#define AT_JWKS_DEFAULT_MIN_REFETCH 30L
/* Whole-transfer timeout of one HTTP request. */
#define AT_FETCH_TIMEOUT_SEC 5

/* One key set the server fetches: made at config time and shared by every
 * location of a server naming the same URL (or trusting the same issuer by
 * discovery); the sources of several servers for one URL share its id.
 */
typedef struct at_jwks_src {
    int id;              /* its slot in the shared memory (post_config) */
    const char *url;     /* the JWK Set URL; NULL for discovery */
    const char *issuer;  /* discovery: the issuer whose metadata names it */
    const char *name;    /* for messages: the URL, or "ISSUER (discovery)" */
} at_jwks_src_t;

/* AuthTokenTrustIssuer ISSUER jwks=URL|PATH|discover. */
typedef struct at_trust {
    const char *issuer;
    const apr_array_header_t *keys; /* jwks=PATH: loaded at config time */
    at_jwks_src_t *src;             /* jwks=URL or discover */
} at_trust_t;

/* ---- jwks_config.c ------------------------------------------------- */
/* AuthTokenJWKS with a URL (config.c hands it over): the source is added
 * to DC's fetched sets. NULL or the message for the config error. */
const char *at_jwks_add_url(cmd_parms *cmd, at_dir_conf_t *dc,
                            const char *url);
/* 1 when ARG of AuthTokenJWKS is meant as a URL (SCHEME://...). */
int at_jwks_is_url(const char *arg);
const char *at_set_trust_issuer(cmd_parms *cmd, void *dc, const char *issuer,
                                const char *how);
const char *at_set_jwks_refresh(cmd_parms *cmd, void *dummy, const char *arg);
const char *at_set_jwks_min_refetch(cmd_parms *cmd, void *dummy,
                                    const char *arg);
const char *at_set_fetch_ca(cmd_parms *cmd, void *dummy, const char *path);

/* post_config: gives every source the servers' sections name its id, one
 * per URL (or discovered issuer) for the whole configuration, and keeps
 * one source per id in the main server MAIN_S's configuration. That list
 * (at_jwks_src_t *, by id, from PCONF), or NULL when there is none. */
const apr_array_header_t *at_jwks_number_sources(apr_pool_t *pconf,
                                                 server_rec *main_s);
/* The list at_jwks_number_sources kept in SC (the main server's); NULL
 * when there is none. */
const apr_array_header_t *at_jwks_sources(const at_srv_conf_t *sc);
/* AuthTokenJWKSRefresh, AuthTokenJWKSMinRefetch (seconds, defaults
 * applied) and AuthTokenFetchCA (NULL: the system store), from SC, the
 * main server's configuration. */
long at_jwks_refresh(const at_srv_conf_t *sc);
long at_jwks_min_refetch(const at_srv_conf_t *sc);
const char *at_jwks_fetch_ca(const at_srv_conf_t *sc);

/* DC's fetched sets of AuthTokenJWKS URL (at_jwks_src_t *) and its trusted
 * issuers (at_trust_t); NULL when there are none. */
const apr_array_header_t *at_dir_remote(const at_dir_conf_t *dc);
const apr_array_header_t *at_dir_trusted(const at_dir_conf_t *dc);

void at_jwks_config_register_hooks(apr_pool_t *p);

/* ---- jwks_fetch.c -------------------------------------------------- */
typedef struct at_fetch_result {
    char *text;           /* the JWK Set, NUL terminated */
    size_t len;
    long max_age;         /* Cache-Control max-age, or -1 */
    const char *jwks_uri; /* the URL the set came from */
    int nkeys;            /* verification keys in it */
    int skipped;          /* keys left out as unusable ... */
    const char *skip_why; /* ... and the first one's reason */
} at_fetch_result_t;

/* Fetches SRC's JWK Set (through the issuer's metadata for discovery) and
 * checks it is a JWK Set with at least one usable key (at_jwks_load_set),
 * trusting the CA certificates of the file CA (NULL: the system store).
 * APR_SUCCESS with *RES filled from P; otherwise *WHY says what went wrong
 * (URL and reason, no secrets). STOP, when it becomes non-zero, aborts a
 * transfer (child exit). */
apr_status_t at_fetch_jwks(apr_pool_t *p, const at_jwks_src_t *src,
                           const char *ca, volatile int *stop,
                           at_fetch_result_t *res, const char **why);
/* Once per process, before the first fetch. */
void at_fetch_global_init(void);

/* ---- jwks_store.c -------------------------------------------------- */
/* This process's parsed copy of one generation of a source's set. */
typedef struct at_jwks_set {
    const apr_array_header_t *keys; /* at_key_t * */
    apr_pool_t *pool;
    unsigned gen;                   /* its version (never 0) */
    int refs;                       /* under the process lock */
} at_jwks_set_t;

/* The current set of SRC, held until at_jwks_release; NULL when this
 * process has none yet. Never blocks on the network. */
at_jwks_set_t *at_jwks_acquire(at_jwks_src_t *src);
void at_jwks_release(at_jwks_set_t *set);

/* A token found no key in SRC's set: asks for a refetch. At most one such
 * request per AuthTokenJWKSMinRefetch per source wins, server-wide; the
 * winner gets a ticket (> 0) to wait on, everyone else 0. */
unsigned at_jwks_request_refetch(at_jwks_src_t *src);
/* Waits (at most the fetch's time limit) until this process has seen the
 * outcome of the fetch TICKET asked for; TICKET 0: until it has a set or
 * has seen an attempt fail. 1 when the awaited outcome arrived. */
int at_jwks_wait(at_jwks_src_t *src, unsigned ticket);
/* Seconds until SRC's next attempt, for Retry-After (at least 1). */
long at_jwks_retry_after(const at_jwks_src_t *src);

void at_jwks_store_register_hooks(apr_pool_t *p);

/* ---- key_route.c --------------------------------------------------- */
typedef struct at_keyring at_keyring_t;

/* The keys that may verify tokens for R under DC, with the fetched sets
 * held until R's pool goes; NULL when the location has no key at all. */
at_keyring_t *at_keyring_get(request_rec *r, const at_dir_conf_t *dc,
                             const at_srv_conf_t *sc);
/* A cached verdict for TOKEN that counts here: its key is one of the
 * ring's and may serve the token's iss. The key, or NULL; *LOCAL is set
 * when it is one of this server's signing keys. */
const at_key_t *at_keyring_cached(at_keyring_t *ring, at_jws_cache_t *cache,
                                  const char *token, size_t len, at_jws_t *jws,
                                  int *local);
/* Verifies the parsed JWS with the keys its iss routes to. OK with *USED
 * and *LOCAL set; HTTP_UNAUTHORIZED with ERR set; HTTP_SERVICE_UNAVAILABLE
 * (Retry-After set, logged) when the issuer's set was never obtained. */
int at_keyring_verify(at_keyring_t *ring, const at_jws_t *jws,
                      const at_key_t **used, int *local, at_error_t *err);

#endif /* AT_JWKS_REMOTE_H */
