/* A tiny unit-test harness: CHECK records a failure and goes on; main()
 * ends with UNIT_DONE(), which prints "N passed, N failed" and exits
 * non-zero on any failure. unit_tmpdir() gives the test binary a private
 * directory for its temporary files. */
#ifndef UNIT_H
#define UNIT_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int unit_passed, unit_failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            unit_passed++;                                                 \
        } else {                                                           \
            unit_failed++;                                                 \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define UNIT_DONE()                                                        \
    do {                                                                   \
        printf("%d passed, %d failed\n", unit_passed, unit_failed);        \
        return unit_failed ? 1 : 0;                                        \
    } while (0)

static char unit_tmp[4096];
static pid_t unit_tmp_owner;

static int unit_tmp_rm(const char *path, const struct stat *st, int flag,
                       struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Only the process that made the directory removes it: a forked child's
 * exit must not pull it from under its parent. */
static void unit_tmp_remove(void)
{
    if (getpid() == unit_tmp_owner) {
        nftw(unit_tmp, unit_tmp_rm, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* One directory per test binary under $TMPDIR (else /tmp), made on first
 * use and removed with everything in it at exit, so that a test which
 * stops half-way or forgets an unlink leaves nothing behind. */
static __attribute__((unused)) const char *unit_tmpdir(void)
{
    if (unit_tmp[0] == '\0') {
        const char *base = getenv("TMPDIR");

        snprintf(unit_tmp, sizeof(unit_tmp), "%s/at-unit-XXXXXX",
                 base && *base ? base : "/tmp");
        if (mkdtemp(unit_tmp) == NULL) {
            perror(unit_tmp);
            exit(2);
        }
        unit_tmp_owner = getpid();
        atexit(unit_tmp_remove);
    }
    return unit_tmp;
}

#endif /* UNIT_H */
