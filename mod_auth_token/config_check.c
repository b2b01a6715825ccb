/* Startup checks that no single directive can make, because they depend on
 * what else the configuration holds (and `apachectl configtest` runs the
 * check_config hook, so it reports them too, with file and line):
 *
 *  - "AuthType Bearer" in a section that no key can reach: neither the
 *    section, nor an enclosing one, nor the server's top level, nor any
 *    other section that may merge into it holds AuthTokenVerifyKey,
 *    AuthTokenJWKS or AuthTokenVerifyLocal On;
 *  - "AuthTokenVerifyLocal On" in a server without AuthTokenIssuerName and
 *    an AuthTokenSigningKey;
 *  - "AuthTokenRevocationCheck On" in a server without AuthTokenRegistry;
 *  - an AuthType other than Bearer (say the typo "Baerer") in a section
 *    that holds resource-server AuthToken* directives or Require
 *    token-claim/token-scope lines: a warning, since nothing there would
 *    then check a token;
 *  - every AuthTokenRegistry: the place of the registry
 *    (registry_place.c).
 *
 * Which sections merge into which is only known per request, so "may
 * merge" errs on the side of accepting: a keyed section of another kind
 * (a <Directory> for a <Location>), a regex section, or one whose path is
 * a prefix of this one's counts as reaching it.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "resource.h"
#include "issuer.h"

APLOG_USE_MODULE(auth_token);

/* A <Location>, <Directory>, <Files> or <Proxy> section (or its Match
 * form) that holds a key directive. */
typedef struct keyed {
    const char *kind;
    const char *path;
    int regex;
    const ap_directive_t *vhost; /* enclosing <VirtualHost> or NULL */
} keyed_t;

typedef struct walk {
    apr_pool_t *p;
    server_rec *s;
    apr_array_header_t *keyed; /* keyed_t */
    int main_has_key;
    int failed;
} walk_t;

static int is_key_directive(const ap_directive_t *d)
{
    return !strcasecmp(d->directive, "AuthTokenVerifyKey") ||
           !strcasecmp(d->directive, "AuthTokenJWKS") ||
           !strcasecmp(d->directive, "AuthTokenTrustIssuer") ||
           (!strcasecmp(d->directive, "AuthTokenVerifyLocal") && d->args &&
            !strcasecmp(d->args, "on"));
}

static int level_has_key(const ap_directive_t *first)
{
    for (; first; first = first->next) {
        if (is_key_directive(first)) {
            return 1;
        }
    }
    return 0;
}

/* "/api>" or "\"/api\">" -> "/api" */
static const char *section_arg(apr_pool_t *p, const char *args)
{
    char *a = apr_pstrdup(p, args ? args : "");
    size_t n = strlen(a);

    if (n && a[n - 1] == '>') {
        a[--n] = '\0';
    }
    if (n >= 2 && (a[0] == '"' || a[0] == '\'') && a[n - 1] == a[0]) {
        a[n - 1] = '\0';
        a++;
    }
    return a;
}

/* Fills KIND/REGEX for a path section; 0 for any other directive. */
static int path_section(const ap_directive_t *d, const char **kind, int *regex)
{
    static const char *const kinds[] = {"location", "directory", "files",
                                        "proxy", NULL};
    const char *n = d->directive;
    int i;

    if (*n != '<') {
        return 0;
    }
    n++;
    for (i = 0; kinds[i]; i++) {
        size_t kl = strlen(kinds[i]);
        if (!strncasecmp(n, kinds[i], kl) &&
            (!n[kl] || !strcasecmp(n + kl, "match"))) {
            *kind = kinds[i];
            *regex = n[kl] != '\0' || (d->args && d->args[0] == '~');
            return 1;
        }
    }
    return 0;
}

static const ap_directive_t *enclosing_vhost(const ap_directive_t *d)
{
    for (d = d->parent; d; d = d->parent) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            return d;
        }
    }
    return NULL;
}

/* First pass: every keyed path section, and whether the main server's
 * top level holds a key. */
static void collect(walk_t *w, const ap_directive_t *level)
{
    const ap_directive_t *d;

    for (d = level; d; d = d->next) {
        const char *kind;
        int regex;

        if (!d->first_child) {
            continue;
        }
        if (path_section(d, &kind, &regex) && level_has_key(d->first_child)) {
            keyed_t *k = apr_array_push(w->keyed);
            k->kind = kind;
            k->regex = regex;
            k->path = section_arg(w->p, d->args);
            k->vhost = enclosing_vhost(d);
        }
        collect(w, d->first_child);
    }
}

/* May a keyed section merge into a request of section D (kind, path)? */
static int reachable_from_elsewhere(walk_t *w, const ap_directive_t *sect,
                                    const ap_directive_t *vhost)
{
    const char *kind = NULL, *path = NULL;
    int regex = 0, i;

    if (sect) {
        path_section(sect, &kind, &regex);
        path = section_arg(w->p, sect->args);
    }
    for (i = 0; i < w->keyed->nelts; i++) {
        const keyed_t *k = &APR_ARRAY_IDX(w->keyed, i, keyed_t);
        if (k->vhost && k->vhost != vhost) {
            continue; /* another virtual host's section */
        }
        if (!sect || regex || k->regex || strcmp(k->kind, kind) ||
            !strncmp(path, k->path, strlen(k->path))) {
            return 1;
        }
    }
    return 0;
}

/* The per-directory directives of the resource server (not the issuer's
 * per-server ones, which sit beside any AuthType). */
static int is_resource_directive(const ap_directive_t *d)
{
    static const char *const names[] = {
        "AuthTokenVerifyKey",     "AuthTokenJWKS",
        "AuthTokenVerifyLocal",   "AuthTokenIssuer",
        "AuthTokenAudience",      "AuthTokenLeeway",
        "AuthTokenUserClaim",     "AuthTokenClaimsEnv",
        "AuthTokenClaimsHeader",  "AuthTokenRequireTyp",
        "AuthTokenAllowPreflight", "AuthTokenRevocationCheck",
        NULL};
    int i;

    for (i = 0; names[i]; i++) {
        if (!strcasecmp(d->directive, names[i])) {
            return 1;
        }
    }
    return 0;
}

/* The first resource-server directive or token Require line among FIRST
 * and its siblings (and inside their <Require*> blocks), or NULL. */
static const ap_directive_t *resource_directive(const ap_directive_t *first)
{
    const ap_directive_t *d, *in;

    for (d = first; d; d = d->next) {
        if (is_resource_directive(d)) {
            return d;
        }
        if (!strcasecmp(d->directive, "Require") && d->args) {
            const char *a = d->args;

            if (!strncasecmp(a, "not ", 4)) {
                a += 4;
                a += strspn(a, " \t");
            }
            if (!strncasecmp(a, "token-claim", 11) ||
                !strncasecmp(a, "token-scope", 11)) {
                return d;
            }
        }
        if (!strncasecmp(d->directive, "<Require", 8) &&
            (in = resource_directive(d->first_child))) {
            return in;
        }
    }
    return NULL;
}

/* AuthType X (not Bearer) beside AuthToken* directives: they would do
 * nothing, and a Require token-* line would answer 500. */
static void check_other_auth_type(walk_t *w, const ap_directive_t *d)
{
    const ap_directive_t *r =
        resource_directive(d->parent ? d->parent->first_child : ap_conftree);

    if (!r) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                 "AT01010: Warning on line %d of %s: AuthType %s in a "
                 "section that holds %s (line %d), which only acts under "
                 "AuthType Bearer; write AuthType Bearer (or remove the "
                 "token directives)",
                 d->line_num, d->filename, section_arg(w->p, d->args),
                 strcasecmp(r->directive, "Require")
                     ? r->directive
                     : apr_pstrcat(w->p, "Require ", r->args, NULL),
                 r->line_num);
}

static void check_auth_type(walk_t *w, const ap_directive_t *d)
{
    const ap_directive_t *a, *sect = NULL, *vhost = NULL;
    const char *kind;
    int regex;

    if (!d->args) {
        return;
    }
    if (strcasecmp(section_arg(w->p, d->args), "Bearer")) {
        check_other_auth_type(w, d);
        return;
    }
    if (level_has_key(d->parent ? d->parent->first_child : ap_conftree)) {
        return;
    }
    for (a = d->parent; a; a = a->parent) {
        if (!sect && path_section(a, &kind, &regex)) {
            sect = a;
        }
        if (!strcasecmp(a->directive, "<VirtualHost")) {
            vhost = a;
        }
        if (level_has_key(a->parent ? a->parent->first_child : ap_conftree)) {
            return;
        }
    }
    if (w->main_has_key || reachable_from_elsewhere(w, sect, vhost)) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                 "AT00010: Syntax error on line %d of %s: AuthType Bearer "
                 "without a key to verify tokens; add AuthTokenVerifyKey, "
                 "AuthTokenJWKS or AuthTokenVerifyLocal On to this section "
                 "or an enclosing one",
                 d->line_num, d->filename);
    w->failed = 1;
}

/* The server_rec a <VirtualHost> directive made, by its file and line. */
static server_rec *vhost_server(walk_t *w, const ap_directive_t *vhost)
{
    server_rec *s;

    if (!vhost) {
        return w->s;
    }
    for (s = w->s->next; s; s = s->next) {
        if (s->defn_name && !strcmp(s->defn_name, vhost->filename) &&
            s->defn_line_number == (unsigned)vhost->line_num) {
            return s;
        }
    }
    return w->s;
}

static void check_verify_local(walk_t *w, const ap_directive_t *d)
{
    const at_srv_conf_t *sc;

    if (!d->args || strcasecmp(d->args, "on")) {
        return;
    }
    sc = at_srv_conf(vhost_server(w, enclosing_vhost(d)));
    if (at_srv_issuer_name(sc) && at_srv_signing_key(sc)) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                 "AT00011: Syntax error on line %d of %s: "
                 "AuthTokenVerifyLocal On needs this server's issuer: add "
                 "AuthTokenIssuerName and AuthTokenSigningKey to the server "
                 "(or virtual host) configuration, or remove it",
                 d->line_num, d->filename);
    w->failed = 1;
}

static void check_revocation(walk_t *w, const ap_directive_t *d)
{
    if (!d->args || strcasecmp(d->args, "on")) {
        return;
    }
    if (at_srv_registry_params(
            at_srv_conf(vhost_server(w, enclosing_vhost(d))))) {
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                 "AT00012: Syntax error on line %d of %s: "
                 "AuthTokenRevocationCheck On needs the registry that "
                 "records revocations: add AuthTokenRegistry to the server "
                 "(or virtual host) configuration, or remove it",
                 d->line_num, d->filename);
    w->failed = 1;
}

static void check(walk_t *w, const ap_directive_t *level)
{
    const ap_directive_t *d;

    for (d = level; d; d = d->next) {
        if (!strcasecmp(d->directive, "AuthType")) {
            check_auth_type(w, d);
        } else if (!strcasecmp(d->directive, "AuthTokenVerifyLocal")) {
            check_verify_local(w, d);
        } else if (!strcasecmp(d->directive, "AuthTokenRevocationCheck")) {
            check_revocation(w, d);
        } else if (!strcasecmp(d->directive, "AuthTokenRegistry") &&
                   !at_registry_place_check(
                       w->p, d, at_srv_conf(vhost_server(w, enclosing_vhost(d))))) {
            w->failed = 1;
        }
        if (d->first_child) {
            check(w, d->first_child);
        }
    }
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    walk_t w;

    memset(&w, 0, sizeof(w));
    w.p = ptemp;
    w.s = s;
    w.keyed = apr_array_make(ptemp, 8, sizeof(keyed_t));
    w.main_has_key = level_has_key(ap_conftree);
    collect(&w, ap_conftree);
    check(&w, ap_conftree);
    return w.failed ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

void at_config_check_register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
}
