/* A per-process memo of JWS headers: an issuer signs every token with the
 * same few headers ({"alg":"ES256","kid":"k1","typ":"at+jwt"}), so the
 * header segment's base64url text, compared whole, stands for its parse.
 * Only headers that passed every check of at_jws_parse are kept, so a hit
 * gives exactly what parsing would; a failing header is parsed (and
 * refused) every time.
 *
 * Direct-mapped, a few slots, guarded by one flag that is only ever tried:
 * a busy memo is a miss, no request waits. The kept header trees are
 * shared read-only, as the verified-token cache already shares them
 * (jansson's reference counts are atomic). The slots are made by
 * at_jws_header_memo_create (httpd: child_init) and go with its pool;
 * without them (the CLI) every header is parsed. */
#include <string.h>
#include "at_jose_int.h"

/* Distinct headers one process sees: a handful per trusted key. */
#define AT_HDR_SLOTS 16
/* Longer headers (large jwk or x5c members) are simply parsed. */
#define AT_HDR_MAX 256

typedef struct hdr_slot {
    char seg[AT_HDR_MAX];
    size_t len; /* 0: empty */
    json_t *header;
    at_alg_t alg;
} hdr_slot_t;

/* Per-process cache, made in child_init; NULL: none. */
static hdr_slot_t *slots;
static int busy;

static apr_status_t memo_release(void *data)
{
    hdr_slot_t *s = data;
    int i;

    slots = NULL;
    for (i = 0; i < AT_HDR_SLOTS; i++) {
        json_decref(s[i].header);
    }
    return APR_SUCCESS;
}

apr_status_t at_jws_header_memo_create(apr_pool_t *p)
{
    if (slots != NULL) {
        return APR_EEXIST;
    }
    slots = apr_pcalloc(p, AT_HDR_SLOTS * sizeof(*slots));
    apr_pool_cleanup_register(p, slots, memo_release, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

static int try_lock(void)
{
    return __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE) == 0;
}

static void unlock(void)
{
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

static hdr_slot_t *slot_of(const char *seg, size_t len)
{
    unsigned long h = 2166136261UL ^ len;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)seg[i]) * 16777619UL;
    }
    return &slots[h % AT_HDR_SLOTS];
}

static apr_status_t header_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

int at_jws_header_get(apr_pool_t *p, const char *seg, size_t len,
                      at_jws_t *jws)
{
    hdr_slot_t *s;
    json_t *h = NULL;
    at_alg_t alg = AT_ALG_UNKNOWN;

    if (slots == NULL || len == 0 || len > AT_HDR_MAX) {
        return 0;
    }
    s = slot_of(seg, len);
    if (!try_lock()) {
        return 0;
    }
    if (s->len == len && memcmp(s->seg, seg, len) == 0) {
        h = json_incref(s->header);
        alg = s->alg;
    }
    unlock();
    if (h == NULL) {
        return 0;
    }
    apr_pool_cleanup_register(p, h, header_release, apr_pool_cleanup_null);
    jws->header = h;
    jws->alg = alg;
    jws->kid = json_string_value(json_object_get(h, "kid"));
    jws->typ = json_string_value(json_object_get(h, "typ"));
    return 1;
}

void at_jws_header_put(const char *seg, size_t len, const at_jws_t *jws)
{
    hdr_slot_t *s;
    json_t *old;

    if (slots == NULL || len == 0 || len > AT_HDR_MAX
        || jws->header == NULL) {
        return;
    }
    s = slot_of(seg, len);
    if (!try_lock()) {
        return;
    }
    old = s->header;
    s->header = json_incref(jws->header);
    memcpy(s->seg, seg, len);
    s->len = len;
    s->alg = jws->alg;
    unlock();
    json_decref(old);
}
