/* at_error_t: a fixed buffer, so filling it cannot fail or allocate. */
#include <stdarg.h>
#include <stdio.h>
#include "at_error.h"

const char *at_error_set(at_error_t *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    return err->text;
}
