/* The one way a string the client chose (client_id, scope, grant_type,
 * kid, a claim or header name, the user a token names, the URI...) goes
 * into a log line: at most AT_LOG_ITEM_MAX bytes of it, escaped by
 * ap_escape_logitem, so that a request can neither flood the error log
 * with a 5,000-byte client_id nor forge a line with a newline.
 */
#include <string.h>

#include "httpd.h"
#include "apr_strings.h"

#include "mod_auth_token.h"

const char *at_log_item(apr_pool_t *p, const char *s)
{
    size_t n;

    if (!s) {
        return "(none)";
    }
    n = strlen(s);
    if (n <= AT_LOG_ITEM_MAX) {
        return ap_escape_logitem(p, s);
    }
    /* Cut before escaping: the bound is on what the client sent. */
    return apr_psprintf(
        p, "%s...(%" APR_SIZE_T_FMT " bytes)",
        ap_escape_logitem(p, apr_pstrmemdup(p, s, AT_LOG_ITEM_MAX)), n);
}
