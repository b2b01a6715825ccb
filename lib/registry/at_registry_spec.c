/* Naming a registry: the spec forms operators type ("pgsql:CONNINFO",
 * "sqlite3:PATH", a bare PATH, and the older "DRIVER PARAMS"), the check of
 * a PostgreSQL connection string's form (libpq's keyword = value syntax,
 * known keywords, quoting) without connecting, and its redacted form for
 * messages: a password must never reach a log line, an error page or the
 * terminal, so every message names the registry through
 * at_registry_describe().
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "at_registry_private.h"

/* libpq 15's connection keywords (PQconndefaults), plus 16's
 * load_balance_hosts and require_auth. */
static const char *const pg_keywords[] = {
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile",
    "channel_binding", "connect_timeout", "client_encoding", "options",
    "application_name", "fallback_application_name", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "replication", "gssencmode", "sslmode",
    "requiressl", "sslcompression", "sslcert", "sslkey", "sslpassword",
    "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname",
    "gsslib", "service", "target_session_attrs", "load_balance_hosts",
    "require_auth", NULL
};

/* What a message shows of a connection string: enough to tell which
 * database is meant, never a password or a key's passphrase. */
static int shown(const char *keyword)
{
    static const char *const names[] = {
        "host", "hostaddr", "port", "dbname", "user", "service", NULL
    };
    int i;

    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], keyword) == 0) {
            return 1;
        }
    }
    return 0;
}

static int known_keyword(const char *k)
{
    int i;

    for (i = 0; pg_keywords[i]; i++) {
        if (strcmp(pg_keywords[i], k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Parses libpq's "keyword = value ..." form into *PAIRS (keyword, value,
 * keyword, value...). Messages name keywords and positions only: the
 * string may hold a password. */
static apr_status_t parse_conninfo(apr_pool_t *p, const char *s,
                                   apr_array_header_t **pairs,
                                   at_error_t *err)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));
    const char *start = s;

    if (strncmp(s, "postgres://", 11) == 0
        || strncmp(s, "postgresql://", 13) == 0) {
        at_error_set(err, "pgsql: give the connection string as "
                     "keyword=value pairs (host=... dbname=... user=...), "
                     "not as a URI");
        return APR_EINVAL;
    }
    for (;;) {
        const char *k0;
        char *val, *v;
        size_t klen;
        int i;

        while (apr_isspace(*s)) {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        for (k0 = s; *s && *s != '=' && !apr_isspace(*s); s++) {
        }
        klen = (size_t)(s - k0);
        while (apr_isspace(*s)) {
            s++;
        }
        if (*s != '=' || klen == 0) {
            at_error_set(err, "pgsql: expected keyword=value at character "
                         "%d of the connection string", (int)(k0 - start) + 1);
            return APR_EINVAL;
        }
        s++;
        while (apr_isspace(*s)) {
            s++;
        }
        /* The value: quoted ('...', with \' and \\) or up to whitespace;
         * a backslash escapes the next character in both, as in libpq. */
        val = v = apr_palloc(p, strlen(s) + 1);
        if (*s == '\'') {
            for (s++; *s && *s != '\''; s++) {
                if (*s == '\\' && s[1]) {
                    s++;
                }
                *v++ = *s;
            }
            if (*s != '\'') {
                at_error_set(err, "pgsql: the value of \"%.*s\" has no "
                             "closing quote", (int)klen, k0);
                return APR_EINVAL;
            }
            s++;
        }
        else {
            for (; *s && !apr_isspace(*s); s++) {
                if (*s == '\\' && s[1]) {
                    s++;
                }
                *v++ = *s;
            }
        }
        *v = '\0';
        if (!known_keyword(apr_pstrmemdup(p, k0, klen))) {
            at_error_set(err, "pgsql: unknown connection keyword \"%.*s\" "
                         "(see libpq's connection parameters: host, port, "
                         "dbname, user, password, passfile, sslmode, ...)",
                         (int)(klen > 40 ? 40 : klen), k0);
            return APR_EINVAL;
        }
        for (i = 0; i < out->nelts; i += 2) {
            if (strlen(APR_ARRAY_IDX(out, i, const char *)) == klen
                && strncmp(APR_ARRAY_IDX(out, i, const char *), k0, klen)
                       == 0) {
                at_error_set(err, "pgsql: \"%.*s\" is given twice in the "
                             "connection string", (int)klen, k0);
                return APR_EINVAL;
            }
        }
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(p, k0, klen);
        APR_ARRAY_PUSH(out, const char *) = val;
    }
    if (out->nelts == 0) {
        at_error_set(err, "pgsql: the connection string is empty (give at "
                     "least dbname=...)");
        return APR_EINVAL;
    }
    *pairs = out;
    return APR_SUCCESS;
}

apr_status_t at_registry_check_params(apr_pool_t *p, const char *driver,
                                      const char *params, at_error_t *err)
{
    apr_array_header_t *pairs;

    if (driver == NULL || at_reg_dialect(driver) == NULL) {
        at_error_set(err, "\"%.40s\" is not an apr_dbd driver the registry "
                     "runs on (use sqlite3 or pgsql)", driver ? driver : "");
        return APR_EINVAL;
    }
    if (params == NULL || *params == '\0') {
        at_error_set(err, "registry %s: no %s given", driver,
                     strcmp(driver, "pgsql") == 0 ? "connection string"
                                                  : "file path");
        return APR_EINVAL;
    }
    if (strcmp(driver, "pgsql") == 0) {
        return parse_conninfo(p, params, &pairs, err);
    }
    return APR_SUCCESS;
}

/* A value as libpq reads it back: quoted when it is empty or holds
 * whitespace, quotes or backslashes. */
static const char *quote_value(apr_pool_t *p, const char *v)
{
    char *out, *o;

    if (*v && strcspn(v, " \t\r\n\f\v'\\") == strlen(v)) {
        return v;
    }
    out = o = apr_palloc(p, 2 * strlen(v) + 3);
    *o++ = '\'';
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\') {
            *o++ = '\\';
        }
        *o++ = *v;
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

const char *at_registry_describe(apr_pool_t *p, const char *driver,
                                 const char *params)
{
    apr_array_header_t *pairs;
    at_error_t err;
    const char *out = "";
    int i;

    if (driver == NULL || strcmp(driver, "pgsql") != 0) {
        return apr_pstrcat(p, driver ? driver : "?", ":",
                           params ? params : "", NULL);
    }
    /* A string that does not parse is not shown at all: where its
     * password would be cannot be told. */
    if (params == NULL || parse_conninfo(p, params, &pairs, &err)) {
        return "pgsql:(malformed connection string)";
    }
    for (i = 0; i < pairs->nelts; i += 2) {
        const char *k = APR_ARRAY_IDX(pairs, i, const char *);
        const char *v = APR_ARRAY_IDX(pairs, i + 1, const char *);

        if (shown(k)) {
            out = apr_pstrcat(p, out, *out ? " " : "", k, "=",
                              quote_value(p, v), NULL);
        }
    }
    return apr_pstrcat(p, "pgsql:", out, NULL);
}

/* Older form kept working: "DRIVER PARAMS", DRIVER a plain word (letters,
 * digits, '_'); a path has a '/' or a '.' before its first space (write
 * "./my registry.db" or "sqlite3:my registry.db" for one that does not). */
static int split_driver_space(apr_pool_t *p, const char *spec,
                              const char **driver, const char **params)
{
    const char *sp = strchr(spec, ' '), *c;

    if (sp == NULL || sp == spec) {
        return 0;
    }
    for (c = spec; c < sp; c++) {
        if (!apr_isalnum(*c) && *c != '_') {
            return 0;
        }
    }
    *driver = apr_pstrmemdup(p, spec, (apr_size_t)(sp - spec));
    *params = sp + 1;
    return 1;
}

apr_status_t at_registry_spec(apr_pool_t *p, const char *spec,
                              const char **driver, const char **params,
                              at_error_t *err)
{
    *driver = "sqlite3";
    *params = spec ? spec : "";
    if (spec && strncmp(spec, "pgsql:", 6) == 0) {
        *driver = "pgsql";
        *params = spec + 6;
    }
    else if (spec && strncmp(spec, "sqlite3:", 8) == 0) {
        *params = spec + 8;
    }
    else if (spec) {
        split_driver_space(p, spec, driver, params);
    }
    return at_registry_check_params(p, *driver, *params, err);
}
