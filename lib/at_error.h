/* Errors of libauthtoken: library code fills one of these instead of
 * logging, and the caller (module or token-admin) decides how loud to be.
 * Text never holds tokens, secrets or key bytes. */
#ifndef AT_ERROR_H
#define AT_ERROR_H

typedef struct at_error {
    char text[256];
} at_error_t;

/* printf-style; err may be NULL. Returns the text for convenience. */
const char *at_error_set(at_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* AT_ERROR_H */
