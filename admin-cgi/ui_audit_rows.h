/* Audit rows as table rows: shared by the dashboard and the audit page. */
#ifndef UI_AUDIT_ROWS_H
#define UI_AUDIT_ROWS_H

#include <apr_tables.h>
#include <libxml/tree.h>

#include "console.h"

/* Appends one <tr> per at_audit_t * in ROWS to TBODY: when, operator,
 * action, what it is about (an application by name beside its client_id,
 * linked to its page while it exists) and what it did, in words. Fails
 * only when the names cannot be read (ERR says why). */
apr_status_t ui_audit_rows(console_t *c, xmlNodePtr tbody,
                           const apr_array_header_t *rows, at_error_t *err);

#endif /* UI_AUDIT_ROWS_H */
