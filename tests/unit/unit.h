/* A tiny unit-test harness: CHECK records a failure and goes on; main()
 * ends with UNIT_DONE(), which prints "N passed, N failed" and exits
 * non-zero on any failure. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <stdlib.h>

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

#endif /* UNIT_H */
