/* The console targets' request context: a console_t as console_cgi_read
 * fills it, without the environment (setenv per input would grow the
 * process without end). */
#ifndef AT_FUZZ_CONSOLE_H
#define AT_FUZZ_CONSOLE_H

#include "fuzz.h"
#include "console.h"

static inline console_t *fuzz_console(const char *method)
{
    console_t *c = apr_pcalloc(fuzz_scratch, sizeof(*c));

    c->pool = fuzz_scratch;
    c->method = method;
    c->is_post = strcmp(method, "POST") == 0;
    c->query_string = c->content_type = c->cookie = "";
    c->content_length = -1;
    c->remote_user = "operator";
    c->script_name = "/admin";
    c->path_info = "/";
    c->registry_spec = c->key_file = "";
    c->assets = "/console-assets";
    c->htdocs = "htdocs";
    c->query = apr_table_make(fuzz_scratch, 8);
    c->form = apr_table_make(fuzz_scratch, 8);
    c->segments = apr_array_make(fuzz_scratch, 4, sizeof(const char *));
    c->headers_out = apr_table_make(fuzz_scratch, 4);
    return c;
}

#endif /* AT_FUZZ_CONSOLE_H */
