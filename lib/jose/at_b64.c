/* base64url without padding (RFC 7515 section 2, RFC 4648 section 5).
 * Decoding is strict so that every token has exactly one spelling: no '=',
 * no '+' or '/', no whitespace, and the unused low bits of the last
 * character must be zero (otherwise "...Q" and "...R" would decode alike). */
#include <apr_strings.h>
#include "at_jose.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for alphabet characters, 64 for everything else. */
static const unsigned char b64url_value[256] = {
#define X64 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
    X64, X64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    X64, X64, X64, X64, X64, X64, X64, X64
#undef X64
};

char *at_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    char *o = out;
    size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = b64url_alphabet[in[i] >> 2];
        *o++ = b64url_alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = b64url_alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
        *o++ = b64url_alphabet[in[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = b64url_alphabet[in[i] >> 2];
        *o++ = b64url_alphabet[(in[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = b64url_alphabet[in[i] >> 2];
        *o++ = b64url_alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
        *o++ = b64url_alphabet[(in[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

apr_status_t at_b64url_decode(apr_pool_t *p, const char *in, size_t len,
                              unsigned char **out, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t full = len / 4 * 4, i;
    unsigned char *o, *buf;
    unsigned int a, b, c, d;

    /* One leftover character cannot carry a whole byte. */
    if (len % 4 == 1) {
        return APR_EINVAL;
    }
    buf = o = apr_palloc(p, len / 4 * 3 + 3);
    for (i = 0; i < full; i += 4) {
        a = b64url_value[s[i]];
        b = b64url_value[s[i + 1]];
        c = b64url_value[s[i + 2]];
        d = b64url_value[s[i + 3]];
        if ((a | b | c | d) & 64) {
            return APR_EINVAL;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        *o++ = (unsigned char)(b << 4 | c >> 2);
        *o++ = (unsigned char)(c << 6 | d);
    }
    if (len - full >= 2) {
        a = b64url_value[s[i]];
        b = b64url_value[s[i + 1]];
        if ((a | b) & 64) {
            return APR_EINVAL;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        if (len - full == 2) {
            if (b & 15) {
                return APR_EINVAL;
            }
        }
        else {
            c = b64url_value[s[i + 2]];
            if ((c & 64) || (c & 3)) {
                return APR_EINVAL;
            }
            *o++ = (unsigned char)(b << 4 | c >> 2);
        }
    }
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    return APR_SUCCESS;
}
