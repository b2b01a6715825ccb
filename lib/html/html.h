/* A small named API over libxml2's tree for the console's pages. Untrusted
 * bytes reach the document only through html_text, html_el and html_attr,
 * which hand them to libxml2's text and attribute setters (escaping happens
 * when the tree is serialised) after replacing invalid UTF-8 and control
 * characters; nothing is ever parsed as markup except the templates.
 */
#ifndef HTML_H
#define HTML_H

#include <apr_pools.h>
#include <libxml/tree.h>

/* Reads the well-formed XHTML template DIR/FILE (no network, no entity
 * expansion). NULL when it is missing or not well-formed; *why then says
 * why (allocated from P). The caller frees the document with xmlFreeDoc. */
xmlDocPtr html_load(apr_pool_t *p, const char *dir, const char *file,
                    const char **why);
/* The first element under NODE (itself included) whose id is ID, or NULL. */
xmlNodePtr html_find(xmlNodePtr node, const char *id);
/* Same, from the document root. */
xmlNodePtr html_by_id(xmlDocPtr doc, const char *id);
/* Appends TEXT as a text node to PARENT. */
void html_text(xmlNodePtr parent, const char *text);
/* Appends <NAME>TEXT</NAME> (TEXT may be NULL) to PARENT; returns it. */
xmlNodePtr html_el(xmlNodePtr parent, const char *name, const char *text);
/* Sets attribute NAME to VALUE on NODE. */
void html_attr(xmlNodePtr node, const char *name, const char *value);
/* Appends <a href="HREF">TEXT</a>; returns it. */
xmlNodePtr html_link(xmlNodePtr parent, const char *href, const char *text);
/* Removes every child of NODE. */
void html_clear(xmlNodePtr node);
/* Unlinks and frees NODE (NULL is fine). */
void html_remove(xmlNodePtr node);
/* Sets the value of the form control with id ID in DOC: value= for input,
 * text content for textarea, selected option for select. */
void html_set_value(xmlDocPtr doc, const char *id, const char *value);
/* Sets the value attribute of the form control NODE to VALUE as a form
 * gives it back: control characters are left out, never shown as U+FFFD
 * (which, sent again, would be stored as text nobody typed). */
void html_value_attr(xmlNodePtr node, const char *value);
/* Sets or clears the checked attribute of the input with id ID. */
void html_set_checked(xmlDocPtr doc, const char *id, int checked);
/* Adds a message beside the form field with id ID: a <p class="field-error"
 * id="ID-error"> right after it, and aria-invalid + aria-describedby. */
void html_field_error(xmlDocPtr doc, const char *id, const char *message);
/* Copies the children of SRC's root element to the end of PARENT. */
void html_import_children(xmlNodePtr parent, xmlDocPtr src);
/* The document as HTML5 (doctype, void elements without end tags), in P;
 * *len gets its length. */
const char *html_serialize(apr_pool_t *p, xmlDocPtr doc, size_t *len);
/* TEXT with invalid UTF-8 and control characters (but tab and newline)
 * replaced by U+FFFD, so that libxml2 always gets valid text. */
const char *html_clean(apr_pool_t *p, const char *text);

#endif /* HTML_H */
