/* JOSE layer of libauthtoken: strict JWS compact parsing, signature
 * verification and signing over OpenSSL 3 EVP, keys bound to one algorithm
 * (RFC 8725 section 3.1), JWK / JWK Set import and export (RFC 7517, 7638).
 *
 * No httpd headers: the module, token-admin and the unit tests link the same
 * code. Memory comes from APR pools; OpenSSL and jansson objects are released
 * by pool cleanups registered where they are created. Functions return
 * APR_SUCCESS or an error status and fill an at_error_t with a short,
 * loggable reason that never contains token or key material.
 */
#ifndef AT_JOSE_H
#define AT_JOSE_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_errno.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "at_error.h"

/* Largest token (the compact serialisation itself) we look at. */
#define AT_JWS_MAX_LEN 16384
/* Deepest nesting of arrays/objects accepted in a header or payload. */
#define AT_JSON_MAX_DEPTH 16

typedef enum {
    AT_ALG_UNKNOWN = 0,
    AT_ALG_HS256, AT_ALG_HS384, AT_ALG_HS512,
    AT_ALG_RS256, AT_ALG_RS384, AT_ALG_RS512,
    AT_ALG_PS256, AT_ALG_PS384, AT_ALG_PS512,
    AT_ALG_ES256, AT_ALG_ES384, AT_ALG_ES512,
    AT_ALG_EDDSA,
    AT_ALG_COUNT
} at_alg_t;

/* Exact, case-sensitive lookup ("none", "hs256" -> AT_ALG_UNKNOWN). */
at_alg_t at_alg_from_name(const char *name);
/* "HS256" ... "EdDSA"; NULL for AT_ALG_UNKNOWN. */
const char *at_alg_name(at_alg_t alg);
int at_alg_is_hmac(at_alg_t alg);

/* A key bound to exactly one algorithm. Immutable once loaded, so one key
 * may serve many threads at once. */
typedef struct at_key {
    at_alg_t alg;
    const char *kid;          /* NULL: serves any token of its algorithm */
    EVP_PKEY *pkey;           /* asymmetric keys; NULL for HMAC */
    const unsigned char *secret; /* HMAC keys */
    size_t secret_len;
    int has_private;          /* can sign */
    const char *source;       /* file it came from, for messages */
    void *impl;               /* precomputed per-algorithm state */
    /* Unique in the process (set by every loader): tells this key from one
     * loaded later at the same address after a key set was replaced, so
     * that no cached verdict outlives the key that made it. */
    unsigned long long serial;
} at_key_t;

/* Loads a key for ALG from PATH: HS* a raw secret (one trailing newline
 * ignored; shorter than the hash output is an error), otherwise a PEM public
 * key, certificate, or (want_private) private key. Refuses keys that do not
 * fit ALG (type, curve) and RSA under 2048 bits. kid may be NULL. */
apr_status_t at_key_load_file(apr_pool_t *p, at_alg_t alg, const char *path,
                              const char *kid, int want_private,
                              at_key_t **key, at_error_t *err);

/* Wraps PKEY as a key for ALG with the same checks as at_key_load_file;
 * on success the key owns PKEY (freed with P), on failure the caller keeps
 * it. has_private is taken from PKEY. For generated keys and tests. */
apr_status_t at_key_from_pkey(apr_pool_t *p, at_alg_t alg, EVP_PKEY *pkey,
                              const char *kid, at_key_t **key,
                              at_error_t *err);
/* An HMAC key for ALG from SECRET (copied into P); shorter than the hash
 * output is an error. */
apr_status_t at_key_from_secret(apr_pool_t *p, at_alg_t alg,
                                const unsigned char *secret, size_t len,
                                const char *kid, at_key_t **key,
                                at_error_t *err);

/* Loads every key of a JWK Set file into *keys (array of at_key_t *).
 * Binding: "alg" member; else EC/OKP by curve, RSA -> RS256; "oct" needs
 * "alg". A key that cannot be used is an error naming its index/kid. */
apr_status_t at_jwks_load_file(apr_pool_t *p, const char *path,
                               apr_array_header_t **keys, at_error_t *err);
/* Same from JSON text (a JWK Set, or a single JWK). */
apr_status_t at_jwks_load_json(apr_pool_t *p, const char *json, size_t len,
                               const char *source, apr_array_header_t **keys,
                               at_error_t *err);
/* A JWK Set served by a key server: the same rules for each key, but a key
 * that cannot be used (weak, unknown alg, malformed) is left out, as RFC
 * 7517 section 5 asks, instead of failing the set; *SKIPPED counts them
 * and ERR (on success) holds the first one's reason ("key 2 (kid ...):
 * ..."). Fails when the text is not a JWK Set or no key is left. */
apr_status_t at_jwks_load_set(apr_pool_t *p, const char *json, size_t len,
                              const char *source, apr_array_header_t **keys,
                              int *skipped, at_error_t *err);

/* RFC 7638 SHA-256 thumbprint, base64url; NULL for HMAC keys. */
const char *at_jwk_thumbprint(apr_pool_t *p, const at_key_t *key);
/* Public JWK (kty, crv/n/e/x/y, kid, alg, use "sig"); NULL for HMAC keys.
 * Caller owns the reference. */
json_t *at_jwk_public(const at_key_t *key);

/* A parsed (not yet verified) JWS in compact serialisation. */
typedef struct at_jws {
    json_t *header;           /* owned by the pool passed to at_jws_parse */
    json_t *claims;           /* payload, must be a JSON object; its
                                 strings may hold NUL: at_json_text */
    at_alg_t alg;
    const char *kid;          /* NULL when absent */
    const char *typ;          /* NULL when absent */
    const char *signing_input;   /* "header.payload" */
    size_t signing_input_len;
    unsigned char *sig;
    size_t sig_len;
} at_jws_t;

/* Strict parse: exactly three non-empty segments, base64url without padding,
 * JSON objects without duplicate members or nesting deeper than
 * AT_JSON_MAX_DEPTH, a known alg (never "none"), no "crit", size at most
 * AT_JWS_MAX_LEN. "\u0000" is refused in the header, accepted in claim
 * strings (at_json_parse_claims). */
apr_status_t at_jws_parse(apr_pool_t *p, const char *token, size_t len,
                          at_jws_t *jws, at_error_t *err);

/* As at_jws_parse, but the payload only has to be base64url, not a JSON
 * object (claims stays NULL): for JWS uses that carry no claim set, such
 * as the RFC 7520 known-answer examples. */
apr_status_t at_jws_parse_opaque(apr_pool_t *p, const char *token, size_t len,
                                 at_jws_t *jws, at_error_t *err);

/* Verifies with one key: its algorithm must equal jws->alg and, when the key
 * has a kid, the token's kid must equal it. ECDSA signatures must be raw
 * r||s of the curve's size. HMAC compared in constant time. */
apr_status_t at_jws_verify(const at_jws_t *jws, const at_key_t *key,
                           at_error_t *err);

/* Picks the key from KEYS (at_key_t *): with a token kid, keys with that kid
 * or without a kid, of the token's alg; without a kid, keys of the token's
 * alg. Succeeds if one verifies; *used (may be NULL) gets the key.
 * APR_ENOENT when no key of KEYS could serve the token at all (unknown kid,
 * or no key for its alg), another error when keys were tried. */
apr_status_t at_jws_verify_keys(const at_jws_t *jws,
                                const apr_array_header_t *keys,
                                const at_key_t **used, at_error_t *err);

/* A per-process memo of header segments already parsed and checked
 * (lib/jose/at_jws_header.c), so a token with a header seen before skips
 * its parse. Made once per process (httpd: child_init), gone with P;
 * until then, and in programs that never make it, every header is
 * parsed. APR_EEXIST when this process has one already. */
apr_status_t at_jws_header_memo_create(apr_pool_t *p);

/* A per-process cache of tokens that parsed and verified
 * (lib/jose/at_jose_cache.c): a repeated token then costs neither the JSON
 * parse nor the signature check. Claims are not cached: check them on
 * every use.
 * Thread-safe and never blocking (a busy slot is a miss). JSON values of a
 * parsed or cached token are shared once put here: treat them read-only. */
typedef struct at_jws_cache at_jws_cache_t;

/* A cache of ENTRIES slots, released with P; ENTRIES 0 gives *cache NULL,
 * which the other calls take as "no cache". */
apr_status_t at_jws_cache_create(apr_pool_t *p, size_t entries,
                                 at_jws_cache_t **cache);

/* On a hit whose verifying key is one of KEYS, fills *jws as at_jws_parse
 * would (its JSON values held for the life of P) and returns that key;
 * NULL on a miss. Typical use:
 *   used = at_jws_cache_get(c, p, tok, len, keys, &jws);
 *   if (!used) { at_jws_parse(...); at_jws_verify_keys(..., &used, ...);
 *                if (at_jws_cache_admit(c, tok, len, &jws))
 *                    at_jws_cache_put(c, tok, len, &jws, used); }
 *   at_claims_check(&jws, ...); */
const at_key_t *at_jws_cache_get(at_jws_cache_t *cache, apr_pool_t *p,
                                 const char *token, size_t len,
                                 const apr_array_header_t *keys,
                                 at_jws_t *jws);

/* The same with the caller's keys spread over NSETS arrays (any of which
 * may be NULL): a hit counts when its verifying key, the very one (same
 * address and serial), is in one of them. */
const at_key_t *at_jws_cache_get_sets(at_jws_cache_t *cache, apr_pool_t *p,
                                      const char *token, size_t len,
                                      const apr_array_header_t *const *sets,
                                      int nsets, at_jws_t *jws);

/* 1 when TOKEN, parsed into JWS and accepted, is worth a put: it was
 * refused once already (a token is kept from its second sight on, so
 * that tokens used once never cost an insertion) and has a few seconds
 * of life left; otherwise 0, the token then being remembered as seen. */
int at_jws_cache_admit(at_jws_cache_t *cache, const char *token, size_t len,
                       const at_jws_t *jws);

/* Remembers TOKEN, parsed into JWS and verified by KEY (tokens over 4 KiB
 * are not kept). */
void at_jws_cache_put(at_jws_cache_t *cache, const char *token, size_t len,
                      const at_jws_t *jws, const at_key_t *key);

/* Signs CLAIMS with KEY (which must have_private or be HMAC). "alg" and,
 * when the key has one, "kid" are set in a copy of HEADER (may be NULL). */
apr_status_t at_jws_sign(apr_pool_t *p, const at_key_t *key, json_t *header,
                         json_t *claims, char **token, at_error_t *err);

/* Base64url without padding; strict decoding (no '=', no other alphabet,
 * no impossible trailing bits). The decoded bytes are NUL-terminated. */
char *at_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);
apr_status_t at_b64url_decode(apr_pool_t *p, const char *in, size_t len,
                              unsigned char **out, size_t *outlen);
/* Base64 with padding (RFC 4648 section 4), as strictly: only "+/" beside
 * letters and digits, exactly the '=' needed, no impossible trailing bits. */
apr_status_t at_b64_decode(apr_pool_t *p, const char *in, size_t len,
                           unsigned char **out, size_t *outlen);

/* Strict JSON text -> value: duplicate members rejected, depth bounded,
 * no NUL (not even as "\u0000" in a string). The value is released with
 * the pool. */
json_t *at_json_parse(apr_pool_t *p, const char *text, size_t len,
                      at_error_t *err);
/* The same for a JWT claim set, except that strings may hold "\u0000"
 * (member names still may not): read its strings with at_json_text. */
json_t *at_json_parse_claims(apr_pool_t *p, const char *text, size_t len,
                             at_error_t *err);
/* The value of the JSON string V as a C string; NULL when V is not a
 * string or holds a NUL character (as a C string it would end early:
 * "alice\u0000x" must never pass for "alice"). */
const char *at_json_text(const json_t *v);

#endif /* AT_JOSE_H */
