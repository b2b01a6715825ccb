/* What the libFuzzer targets (fuzz_<name>.c) share: APR set up once, a
 * scratch pool cleared after every input, and paths into the source tree
 * found from the binary's own place (build/fuzz/ two levels down), so a
 * target runs from any directory. A broken invariant is reported with
 * FUZZ_ASSERT, which aborts: libFuzzer keeps the input as a crash. */
#ifndef AT_FUZZ_H
#define AT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#define FUZZ_ASSERT(cond)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,     \
                    __LINE__, #cond);                                      \
            abort();                                                       \
        }                                                                  \
    } while (0)

static apr_pool_t *fuzz_pool;    /* lives as long as the process */
static apr_pool_t *fuzz_scratch; /* cleared after every input */

/* At exit (libFuzzer ends with exit()), before LeakSanitizer looks: what
 * the process pool holds is not a leak. */
static void fuzz_fini(void)
{
    apr_pool_destroy(fuzz_pool);
    apr_terminate();
}

static inline void fuzz_init(void)
{
    if (fuzz_pool == NULL) {
        apr_initialize();
        apr_pool_create(&fuzz_pool, NULL);
        apr_pool_create(&fuzz_scratch, fuzz_pool);
        atexit(fuzz_fini);
    }
}

/* REL (a path from the top of the source tree), for this binary. */
static inline const char *fuzz_src_path(const char *rel)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    if (n <= 0) {
        return rel;
    }
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) != NULL) {
        *slash = '\0';
    }
    return apr_pstrcat(fuzz_pool, exe, "/../../", rel, NULL);
}

/* The file REL of the source tree, whole, in the process pool; trailing
 * newlines cut. Aborts when it cannot be read. */
static inline char *fuzz_read_src(const char *rel, size_t *len)
{
    const char *path = fuzz_src_path(rel);
    FILE *f = fopen(path, "rb");
    char *buf = apr_palloc(fuzz_pool, 65536);
    size_t n;

    if (f == NULL) {
        perror(path);
        abort();
    }
    n = fread(buf, 1, 65535, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static inline apr_status_t fuzz_free(void *p)
{
    free(p);
    return APR_SUCCESS;
}

/* DATA as a NUL-terminated string (cut at a NUL), freed with the scratch
 * pool. From malloc, not from the pool: ASan sees a read past its end,
 * where inside a pool block it would see nothing. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *s = malloc(n + 1);

    if (s == NULL) {
        abort();
    }
    memcpy(s, data, n);
    s[n] = '\0';
    apr_pool_cleanup_register(fuzz_scratch, s, fuzz_free,
                              apr_pool_cleanup_null);
    return s;
}

#endif /* AT_FUZZ_H */
