/* Client secrets and opaque tokens: generated from the OS CSPRNG (256 bits),
 * shown once, stored as hashes, compared in constant time. A fast salted
 * SHA-256 is the right hash here: the inputs have full entropy, so a slow
 * password hash would only cap the token endpoint. */
#ifndef AT_SECRET_H
#define AT_SECRET_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_errno.h>

/* 32 random bytes, base64url (43 characters). */
apr_status_t at_secret_generate(apr_pool_t *p, const char **secret);
/* "s256$<salt b64url>$<hash b64url>" for storage. */
const char *at_secret_hash(apr_pool_t *p, const char *secret);
/* 1 when SECRET matches STORED, in time independent of where they differ. */
int at_secret_verify(const char *stored, const char *secret);
/* Unsalted SHA-256, base64url: the lookup key of an opaque token. */
const char *at_token_hash(apr_pool_t *p, const char *token);
/* Constant-time equality of two byte strings of possibly different length. */
int at_consttime_eq(const void *a, size_t alen, const void *b, size_t blen);

#endif /* AT_SECRET_H */
