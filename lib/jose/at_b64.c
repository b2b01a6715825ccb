/* Base64 through APR's codec (apr_encode.h): base64url without padding for
 * JOSE (RFC 7515 section 2) and padded base64 for HTTP Basic (RFC 4648
 * section 4, RFC 7617).
 *
 * Decoding is strict so that every value has exactly one spelling. APR's
 * decoder alone is not strict enough for that (APR 1.7): whatever the
 * flags say it takes both alphabets ('+' and '-' alike), takes '=' padding
 * with APR_ENCODE_NOPADDING and more '=' than needed, and ignores the
 * unused low bits of the last character ("QQ" and "QR" both give "A").
 * It does refuse other characters (APR_BADCH) and a length of 1 mod 4
 * (APR_EINCOMPLETE). So the other alphabet and misplaced '=' are refused
 * before APR decodes, and the last, partial group must be spelled as APR's
 * encoder spells it back. */
#include <string.h>
#include <apr_encode.h>
#include "at_jose.h"

char *at_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    /* APR returns NULL for a NULL source, even of length 0. */
    return (char *)apr_pencode_base64_binary(
        p, in ? in : (const unsigned char *)"", (apr_ssize_t)len,
        APR_ENCODE_BASE64URL, NULL);
}

/* 1 when one of the characters of SET is in IN[0..len). */
static int holds_any(const char *in, size_t len, const char *set)
{
    for (; *set; set++) {
        if (memchr(in, *set, len)) {
            return 1;
        }
    }
    return 0;
}

/* What APR lets through and a strict reader must not (see above): the
 * other alphabet; with padding, a length that is not a multiple of 4 or
 * '=' anywhere but in the last two places; without, any '='. */
static int apr_too_lenient(const char *in, size_t len, int padded)
{
    size_t pads = 0;

    if (!padded) {
        return holds_any(in, len, "+/=");
    }
    while (pads < 2 && pads < len && in[len - 1 - pads] == '=') {
        pads++;
    }
    return len % 4 != 0 || holds_any(in, len, "-_")
           || memchr(in, '=', len - pads) != NULL;
}

/* Decodes IN[0..len) with APR under FLAGS, strictly; *out is
 * NUL-terminated. */
static apr_status_t decode_strict(apr_pool_t *p, const char *in, size_t len,
                                  int flags, unsigned char **out,
                                  size_t *outlen)
{
    int padded = !(flags & APR_ENCODE_NOPADDING);
    unsigned char *buf;
    char tail[5];
    apr_size_t n = 0, k, tlen = 0;

    if (in == NULL || len > APR_SIZE_MAX / 4
        || apr_too_lenient(in, len, padded)) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, len / 4 * 3 + 3);
    if (apr_decode_base64_binary(buf, in, (apr_ssize_t)len, flags, &n)
        != APR_SUCCESS) {
        return APR_EINVAL;
    }
    /* The last K bytes came from the last, partial group: its unused low
     * bits must be zero, i.e. it must read as APR writes those bytes. */
    k = n % 3;
    if (k != 0
        && (apr_encode_base64_binary(tail, buf + n - k, (apr_ssize_t)k, flags,
                                     &tlen) != APR_SUCCESS
            || tlen > len || memcmp(tail, in + len - tlen, tlen) != 0)) {
        return APR_EINVAL;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return APR_SUCCESS;
}

apr_status_t at_b64url_decode(apr_pool_t *p, const char *in, size_t len,
                              unsigned char **out, size_t *outlen)
{
    return decode_strict(p, in, len, APR_ENCODE_BASE64URL, out, outlen);
}

apr_status_t at_b64_decode(apr_pool_t *p, const char *in, size_t len,
                           unsigned char **out, size_t *outlen)
{
    return decode_strict(p, in, len, APR_ENCODE_NONE, out, outlen);
}
