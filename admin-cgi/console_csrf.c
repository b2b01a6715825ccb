/* console_csrf.c: the console's key and its CSRF tokens.
 *
 * A token is "<issued>.<hex HMAC-SHA256(key, "csrf" 0 actor 0 issued)>":
 * bound to the operator (REMOTE_USER) and to its issue time, so a token
 * taken from one operator's page is useless to another and expires after
 * CONSOLE_CSRF_TTL. No server-side state beyond one 32-byte key, kept in a
 * file beside the registry ("<registry>-console.key", mode 0600, owned like
 * the registry) or where AUTH_TOKEN_CONSOLE_KEY points.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_encode.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "at_secret.h"
#include "console.h"

static const char *key_path(console_t *c)
{
    if (*c->key_file)
        return c->key_file;
    /* Only a file registry has a "beside". */
    if (c->registry_file == NULL)
        return NULL;
    return apr_pstrcat(c->pool, c->registry_file, "-console.key", NULL);
}

static int read_key(const char *path, unsigned char key[32])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, key, 32);
    close(fd);
    return n == 32 ? 0 : -1;
}

/* Writes a fresh key to a temporary file and links it into place, so a
 * concurrent first request never reads a half-written key: whoever links
 * first wins and the other reads the winner's key. */
static int create_key(console_t *c, const char *path, const char **why)
{
    unsigned char key[32];
    const char *tmp = apr_psprintf(c->pool, "%s.%ld.tmp", path, (long)getpid());
    struct stat st;
    int fd, rc = -1;

    if (RAND_bytes(key, sizeof(key)) != 1) {
        *why = "no random bytes for the console key";
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *why =
            apr_psprintf(c->pool, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (write(fd, key, sizeof(key)) == (ssize_t)sizeof(key) && fsync(fd) == 0)
        rc = 0;
    close(fd);
    /* Run as root (tests, a shell), the key belongs to whoever owns the
     * registry, like the files token-admin's command line creates. */
    if (rc == 0 && geteuid() == 0 && c->registry_file &&
        stat(c->registry_file, &st) == 0 &&
        chown(tmp, st.st_uid, st.st_gid) != 0)
        rc = -1;
    if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
        rc = -1;
    if (rc != 0)
        *why =
            apr_psprintf(c->pool, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

int console_csrf_init(console_t *c, const char **why)
{
    const char *path = key_path(c);

    if (path == NULL) {
        *why = "set AUTH_TOKEN_CONSOLE_KEY to a file path for the console "
               "key (the registry is not a file)";
        return -1;
    }
    c->csrf_key_path = path;
    if (read_key(path, c->csrf_key) == 0)
        return 0;
    if (errno != ENOENT) {
        *why = apr_psprintf(c->pool, "cannot read the console key %s: %s", path,
                            strerror(errno));
        return -1;
    }
    if (create_key(c, path, why) != 0)
        return -1;
    if (read_key(path, c->csrf_key) != 0) {
        *why = apr_psprintf(c->pool, "cannot read the console key %s: %s", path,
                            strerror(errno));
        return -1;
    }
    return 0;
}

static void hmac(console_t *c, const void *data, size_t len,
                 unsigned char out[32])
{
    size_t outlen = 0;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, c->csrf_key,
                  sizeof(c->csrf_key), data, len, out, 32, &outlen) == NULL ||
        outlen != 32)
        abort(); /* OpenSSL without HMAC-SHA256 cannot run the console */
}

void console_key_derive(console_t *c, const char *purpose,
                        unsigned char out[32])
{
    hmac(c, purpose, strlen(purpose) + 1, out);
}

static const char *token_for(console_t *c, long long issued)
{
    unsigned char mac[32];
    char stamp[32];
    size_t ul = strlen(c->remote_user), sl;
    char *data;

    sl = (size_t)snprintf(stamp, sizeof(stamp), "%lld", issued);
    /* "csrf" NUL actor NUL time: the NULs keep the fields apart. */
    data = apr_palloc(c->pool, 5 + ul + 1 + sl);
    memcpy(data, "csrf", 5);
    memcpy(data + 5, c->remote_user, ul + 1);
    memcpy(data + 5 + ul + 1, stamp, sl);
    hmac(c, data, 5 + ul + 1 + sl, mac);
    return apr_pstrcat(
        c->pool, stamp, ".",
        apr_pencode_base16_binary(c->pool, mac, 32, APR_ENCODE_LOWER, NULL),
        NULL);
}

const char *console_csrf_token(console_t *c)
{
    return token_for(c, (long long)time(NULL));
}

/* 1 when TOKEN was made for this operator by this console (whatever its
 * age); *issued gets its time. Compared in constant time. */
static int genuine(console_t *c, const char *token, long long *issued)
{
    const char *expect;
    char *end;

    if (token == NULL || *token == '\0')
        return 0;
    *issued = strtoll(token, &end, 10);
    if (end == token || *end != '.')
        return 0;
    expect = token_for(c, *issued);
    return at_consttime_eq(expect, strlen(expect), token, strlen(token));
}

int console_csrf_check(console_t *c, const char *token)
{
    long long issued = 0, now = (long long)time(NULL);

    /* A minute of clock slack for a page served by another host. Compared
     * as issued >= now - TTL: now - issued overflows for a very negative
     * issued (found by tests/fuzz/fuzz_console_cookie). */
    return genuine(c, token, &issued) && issued <= now + 60 &&
           issued >= now - CONSOLE_CSRF_TTL;
}

int console_csrf_expired(console_t *c, const char *token)
{
    long long issued = 0, now = (long long)time(NULL);

    return genuine(c, token, &issued) && issued < now - CONSOLE_CSRF_TTL;
}
