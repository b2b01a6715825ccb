/* Audit rows as table rows: shared by the dashboard and the audit page. */
#ifndef UI_AUDIT_ROWS_H
#define UI_AUDIT_ROWS_H

#include <apr_tables.h>
#include <libxml/tree.h>

#include "console.h"

/* Appends one <tr> per at_audit_t * in ROWS to TBODY; the target links to
 * its application when it is one. */
void ui_audit_rows(console_t *c, xmlNodePtr tbody,
                   const apr_array_header_t *rows);

#endif /* UI_AUDIT_ROWS_H */
