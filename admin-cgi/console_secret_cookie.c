/* console_secret_cookie.c: carrying a new client secret from the POST that
 * made it to the page that shows it, without storing it anywhere.
 *
 * The secret is sealed with AES-256-GCM under a key derived from the
 * console key, together with the operator, the client_id and an expiry
 * five minutes ahead, and set as an HttpOnly, SameSite=Strict cookie
 * limited to the console's path. The page that shows it clears the cookie,
 * so a reload says the secret is gone. The registry keeps only the hash.
 * Clearing a cookie does not stop a copy of it being sent again, so the
 * nonce is also a one-time ticket: showing the secret writes a
 * "secret.shown" audit row naming it, and a ticket already in the log is
 * refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_encode.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "console.h"

#define COOKIE_NAME "token_admin_secret"
#define COOKIE_TTL  300
#define NONCE_LEN   12
#define TAG_LEN     16

static const char *cookie_attrs(console_t *c)
{
    return apr_pstrcat(
        c->pool, "; Path=", *c->script_name ? c->script_name : "/",
        "; HttpOnly; SameSite=Strict", c->https ? "; Secure" : "", NULL);
}

/* Lower-case hex for the cookie value (APR's encoder). */
static const char *hex(apr_pool_t *p, const unsigned char *b, size_t n)
{
    return apr_pencode_base16_binary(p, b, (apr_ssize_t)n, APR_ENCODE_LOWER,
                                     NULL);
}

/* Seals or opens (ENC 1/0) IN with the cookie key; NULL on failure. */
static unsigned char *gcm(console_t *c, int enc, const unsigned char *nonce,
                          const unsigned char *in, size_t len,
                          unsigned char *tag)
{
    unsigned char key[32];
    unsigned char *out = apr_palloc(c->pool, len + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0, ok;

    console_key_derive(c, "secret-cookie", key);
    ok =
        ctx != NULL &&
        EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) &&
        EVP_CipherUpdate(ctx, out, &n, in, (int)len) &&
        (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag)) &&
        EVP_CipherFinal_ex(ctx, out + n, &fin) &&
        (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag));
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok)
        return NULL;
    out[n + fin] = '\0';
    return out;
}

void console_secret_cookie_set(console_t *c, const char *client_id,
                               const char *secret)
{
    const char *plain =
        apr_psprintf(c->pool, "%" APR_INT64_T_FMT "\n%s\n%s\n%s",
                     (apr_int64_t)time(NULL) + COOKIE_TTL, c->remote_user,
                     client_id, secret);
    size_t len = strlen(plain);
    unsigned char nonce[NONCE_LEN], tag[TAG_LEN], *sealed, *all;

    if (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
        (sealed = gcm(c, 1, nonce, (const unsigned char *)plain, len, tag)) ==
            NULL) {
        fprintf(stderr,
                "token-admin: AT00810: cannot seal the new secret for the "
                "page that shows it\n");
        return;
    }
    all = apr_palloc(c->pool, NONCE_LEN + len + TAG_LEN);
    memcpy(all, nonce, NONCE_LEN);
    memcpy(all + NONCE_LEN, sealed, len);
    memcpy(all + NONCE_LEN + len, tag, TAG_LEN);
    apr_table_addn(c->headers_out, "Set-Cookie",
                   apr_pstrcat(c->pool, COOKIE_NAME "=",
                               hex(c->pool, all, NONCE_LEN + len + TAG_LEN),
                               "; Max-Age=" APR_STRINGIFY(COOKIE_TTL),
                               cookie_attrs(c), NULL));
}

const char *console_secret_cookie_take(console_t *c, const char *client_id)
{
    const char *v = console_cookie(c, COOKIE_NAME);
    unsigned char *raw, *plain;
    apr_size_t n;
    char *f[4], *last = NULL, *s;
    const char *ticket;
    at_error_t err = {{0}};
    int i, first = 0;

    if (v == NULL)
        return NULL;
    /* Shown once: whatever happens next, the cookie goes. */
    apr_table_addn(c->headers_out, "Set-Cookie",
                   apr_pstrcat(c->pool, COOKIE_NAME "=; Max-Age=0",
                               cookie_attrs(c), NULL));
    /* APR's decoder, strict (not APR_ENCODE_RELAXED): any byte that is
     * not hex refuses the cookie. */
    raw = (unsigned char *)apr_pdecode_base16_binary(
        c->pool, v, APR_ENCODE_STRING, APR_ENCODE_NONE, &n);
    if (raw == NULL || n <= NONCE_LEN + TAG_LEN)
        return NULL;
    plain = gcm(c, 0, raw, raw + NONCE_LEN, n - NONCE_LEN - TAG_LEN,
                raw + n - TAG_LEN);
    if (plain == NULL)
        return NULL;
    s = (char *)plain;
    for (i = 0; i < 4; i++) {
        f[i] = apr_strtok(i ? NULL : s, "\n", &last);
        if (f[i] == NULL)
            return NULL;
    }
    if (strtoll(f[0], NULL, 10) < (long long)time(NULL) ||
        strcmp(f[1], c->remote_user) != 0 || strcmp(f[2], client_id) != 0)
        return NULL;
    ticket =
        apr_pstrcat(c->pool, "ticket ", hex(c->pool, raw, NONCE_LEN), NULL);
    if (at_audit_once(c->reg, c->pool, c->remote_user, "secret.shown",
                      client_id, ticket, &first, &err) != APR_SUCCESS) {
        fprintf(stderr,
                "token-admin: AT00811: cannot record that the new "
                "secret of %s was shown, so it is not shown: %s\n",
                client_id, err.text);
        return NULL;
    }
    return first ? f[3] : NULL;
}
