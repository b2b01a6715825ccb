/* html.c: the console's libxml2 helpers (see html.h). Templates are XHTML
 * so that libxml2's strict XML parser reads them; the answer is written by
 * libxml2's HTML serialiser so that browsers get HTML5 (void elements
 * without end tags, a plain doctype).
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>
#include <libxml/parser.h>
#include <libxml/HTMLtree.h>
#include <libxml/xmlsave.h>

#include "html.h"

/* Length of the UTF-8 sequence starting at S (at most N bytes) when it is
 * well formed and not an overlong form, surrogate or beyond U+10FFFF;
 * 0 otherwise. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned long cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

/* TEXT made safe for libxml2, allocated with malloc (the caller frees).
 * DROP leaves control characters out instead of showing U+FFFD: a form
 * field gives back what it was sent, and a replacement character sent
 * again would be stored as text the operator never typed. */
static xmlChar *clean_text(const char *text, int drop)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    size_t n = strlen((const char *)s), i = 0, o = 0, k;
    /* Each bad byte becomes 3 bytes of U+FFFD at worst. */
    xmlChar *out = malloc(3 * n + 1);

    if (out == NULL)
        abort();
    while (i < n) {
        k = utf8_seq(s + i, n - i);
        if (k == 1 && s[i] < 0x20 && s[i] != '\t' && s[i] != '\n')
            k = 0;
        if (k == 1 && s[i] == 0x7f)
            k = 0;
        if (k == 0) {
            if (!drop || s[i] >= 0x80) {
                out[o++] = 0xef;
                out[o++] = 0xbf;
                out[o++] = 0xbd;
            }
            i++;
            continue;
        }
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
    }
    out[o] = '\0';
    return out;
}

static xmlChar *clean_dup(const char *text)
{
    return clean_text(text, 0);
}

const char *html_clean(apr_pool_t *p, const char *text)
{
    xmlChar *c = clean_dup(text);
    const char *r = apr_pstrdup(p, (const char *)c);

    free(c);
    return r;
}

xmlDocPtr html_load(apr_pool_t *p, const char *dir, const char *file,
                    const char **why)
{
    const char *path = apr_pstrcat(p, dir, "/", file, NULL);
    xmlDocPtr doc;
    const xmlError *e;

    /* NONET: a template never pulls anything from the network; no NOENT,
     * so no entity is expanded either. */
    doc =
        xmlReadFile(path, "UTF-8",
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
        e = xmlGetLastError();
        *why = apr_psprintf(p, "template %s: %s", path,
                            e && e->message ? e->message : "unreadable\n");
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlNodePtr html_find(xmlNodePtr node, const char *id)
{
    xmlNodePtr c, hit;
    xmlChar *v;

    if (node == NULL || node->type != XML_ELEMENT_NODE)
        return NULL;
    v = xmlGetProp(node, BAD_CAST "id");
    if (v) {
        int same = strcmp((const char *)v, id) == 0;
        xmlFree(v);
        if (same)
            return node;
    }
    for (c = node->children; c; c = c->next) {
        if ((hit = html_find(c, id)) != NULL)
            return hit;
    }
    return NULL;
}

xmlNodePtr html_by_id(xmlDocPtr doc, const char *id)
{
    return html_find(xmlDocGetRootElement(doc), id);
}

void html_text(xmlNodePtr parent, const char *text)
{
    xmlChar *c = clean_dup(text);

    xmlAddChild(parent, xmlNewDocText(parent->doc, c));
    free(c);
}

xmlNodePtr html_el(xmlNodePtr parent, const char *name, const char *text)
{
    xmlNodePtr n;
    xmlChar *c;

    if (text == NULL)
        return xmlNewChild(parent, NULL, BAD_CAST name, NULL);
    /* xmlNewTextChild, not xmlNewChild: the content is text, not markup. */
    c = clean_dup(text);
    n = xmlNewTextChild(parent, NULL, BAD_CAST name, c);
    free(c);
    return n;
}

void html_attr(xmlNodePtr node, const char *name, const char *value)
{
    xmlChar *c = clean_dup(value);

    xmlSetProp(node, BAD_CAST name, c);
    free(c);
}

xmlNodePtr html_link(xmlNodePtr parent, const char *href, const char *text)
{
    xmlNodePtr a = html_el(parent, "a", text);

    html_attr(a, "href", href);
    return a;
}

void html_clear(xmlNodePtr node)
{
    xmlNodePtr c, next;

    for (c = node->children; c; c = next) {
        next = c->next;
        xmlUnlinkNode(c);
        xmlFreeNode(c);
    }
}

void html_remove(xmlNodePtr node)
{
    if (node) {
        xmlUnlinkNode(node);
        xmlFreeNode(node);
    }
}

void html_set_value(xmlDocPtr doc, const char *id, const char *value)
{
    xmlNodePtr n = html_by_id(doc, id), o;
    xmlChar *v;

    if (n == NULL)
        return;
    if (xmlStrEqual(n->name, BAD_CAST "textarea")) {
        html_clear(n);
        /* HTML drops one line break right after <textarea>: a value that
         * starts with one needs another in front to keep it. */
        v = clean_text(value, 1);
        if (v[0] == '\n')
            xmlAddChild(n, xmlNewDocText(n->doc, BAD_CAST "\n"));
        xmlAddChild(n, xmlNewDocText(n->doc, v));
        free(v);
    } else if (xmlStrEqual(n->name, BAD_CAST "select")) {
        for (o = n->children; o; o = o->next) {
            if (o->type != XML_ELEMENT_NODE)
                continue;
            v = xmlGetProp(o, BAD_CAST "value");
            if (v && strcmp((const char *)v, value) == 0)
                xmlSetProp(o, BAD_CAST "selected", BAD_CAST "selected");
            else
                xmlUnsetProp(o, BAD_CAST "selected");
            xmlFree(v);
        }
    } else {
        html_value_attr(n, value);
    }
}

void html_value_attr(xmlNodePtr node, const char *value)
{
    xmlChar *v = clean_text(value, 1);

    xmlSetProp(node, BAD_CAST "value", v);
    free(v);
}

void html_set_checked(xmlDocPtr doc, const char *id, int checked)
{
    xmlNodePtr n = html_by_id(doc, id);

    if (n == NULL)
        return;
    if (checked)
        xmlSetProp(n, BAD_CAST "checked", BAD_CAST "checked");
    else
        xmlUnsetProp(n, BAD_CAST "checked");
}

void html_field_error(xmlDocPtr doc, const char *id, const char *message)
{
    xmlNodePtr n = html_by_id(doc, id), msg;
    xmlChar *hint;
    char eid[128];

    if (n == NULL)
        return;
    snprintf(eid, sizeof(eid), "%s-error", id);
    msg = xmlNewDocNode(doc, NULL, BAD_CAST "p", NULL);
    html_text(msg, message);
    html_attr(msg, "class", "field-error");
    html_attr(msg, "id", eid);
    xmlAddNextSibling(n, msg);
    html_attr(n, "aria-invalid", "true");
    /* The message first, then whatever hint already described it. */
    hint = xmlGetProp(n, BAD_CAST "aria-describedby");
    if (hint) {
        char both[512];
        snprintf(both, sizeof(both), "%s %s", eid, (const char *)hint);
        html_attr(n, "aria-describedby", both);
        xmlFree(hint);
    } else {
        html_attr(n, "aria-describedby", eid);
    }
}

void html_import_children(xmlNodePtr parent, xmlDocPtr src)
{
    xmlNodePtr c, copy;

    for (c = xmlDocGetRootElement(src)->children; c; c = c->next) {
        /* Template comments are for whoever edits the template. */
        if (c->type == XML_COMMENT_NODE)
            continue;
        copy = xmlDocCopyNode(c, parent->doc, 1);
        if (copy)
            xmlAddChild(parent, copy);
    }
}

/* Drops the XHTML namespace from the tree, so that the HTML serialiser
 * prints plain element names and no xmlns attribute. */
static void strip_ns(xmlNodePtr n)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            n->ns = NULL;
            if (n->nsDef) {
                xmlFreeNsList(n->nsDef);
                n->nsDef = NULL;
            }
            strip_ns(n->children);
        }
    }
}

const char *html_serialize(apr_pool_t *p, xmlDocPtr doc, size_t *len)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlSaveCtxtPtr save;
    const char *out;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlDtdPtr dtd = xmlGetIntSubset(doc);
    xmlNodePtr n, next;

    strip_ns(root);
    for (n = doc->children; n; n = next) {
        next = n->next;
        if (n->type == XML_COMMENT_NODE)
            html_remove(n);
    }
    if (dtd) {
        xmlUnlinkNode((xmlNodePtr)dtd);
        xmlFreeDtd(dtd);
    }
    /* <!DOCTYPE html>: no public or system id. */
    xmlCreateIntSubset(doc, BAD_CAST "html", NULL, NULL);
    save = xmlSaveToBuffer(
        buf, "UTF-8", XML_SAVE_AS_HTML | XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    out = apr_pstrmemdup(p, (const char *)xmlBufferContent(buf),
                         xmlBufferLength(buf));
    *len = xmlBufferLength(buf);
    xmlBufferFree(buf);
    return out;
}
