/* What the registry needs of libpq beyond apr_dbd's pgsql driver: whether
 * a connection died (PQstatus: libpq knows once a call on it failed), and
 * error codes (SQLSTATE) rather than message text, which the server
 * translates into its lc_messages language. Also the session settings
 * and the connection parameters that bound every wait.
 *
 * Timeouts, so that no request waits on PostgreSQL for long:
 *   connect_timeout=3            opening a connection (per host)
 *   statement_timeout 5 s        any statement, lock waits included
 *   keepalives 5 s + 2 x 2 s,    a server or network that died under an
 *   tcp_user_timeout 9 s         open connection (TCP only)
 *   idle_in_transaction 60 s     the server ends a transaction a stalled
 *                                process left open
 * The operator's own values in the connection string win over the first
 * group.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <libpq-fe.h>

#include "at_registry_private.h"

#define PG_DEFAULTS                                                      \
    "connect_timeout=3 keepalives=1 keepalives_idle=5"                  \
    " keepalives_interval=2 keepalives_count=2 tcp_user_timeout=9000"    \
    " client_encoding=UTF8 fallback_application_name=mod_auth_token "

static PGconn *native(at_registry_t *reg)
{
    return apr_dbd_native_handle(reg->driver, reg->handle);
}

const char *at_reg_pg_conninfo(apr_pool_t *p, const char *params)
{
    return apr_pstrcat(p, PG_DEFAULTS, params, NULL);
}

/* The SQLSTATE classes of a session the server ended or cannot serve:
 * connection exceptions (08), and 57P01..57P03 (administrator shutdown,
 * crash shutdown, cannot connect now), which end the session although
 * libpq may not yet have seen the socket close. */
static int session_gone(const char *code)
{
    return strncmp(code, "08", 2) == 0 || strncmp(code, "57P0", 4) == 0;
}

static const char *last_code(const char *msg, char code[6]);

int at_reg_pg_lost(at_registry_t *reg)
{
    char code[6];

    if (reg->handle == NULL || PQstatus(native(reg)) == CONNECTION_BAD) {
        return 1;
    }
    last_code(PQerrorMessage(native(reg)), code);
    return session_gone(code);
}

int at_reg_pg_reset(at_registry_t *reg)
{
    PQreset(native(reg));
    return PQstatus(native(reg)) == CONNECTION_OK;
}

/* The SQLSTATE of a verbose message ("ERROR:  23505: ..."), "" when it
 * has none (libpq's own messages); returns where the text after it
 * starts. */
static const char *last_code(const char *msg, char code[6])
{
    const char *s = msg ? strstr(msg, ":  ") : NULL;
    int i;

    code[0] = '\0';
    if (s) {
        s += 3;
        for (i = 0; i < 5 && (apr_isupper(s[i]) || apr_isdigit(s[i]));
             i++) {
        }
        if (i == 5 && s[5] == ':' && s[6] == ' ') {
            memcpy(code, s, 5);
            code[5] = '\0';
            return s + 7;
        }
    }
    return msg ? msg : "";
}

/* From a verbose message ("ERROR:  23505: duplicate key ...\nDETAIL: ...")
 * the SQLSTATE (into CODE, "" when the message has none: libpq's own
 * messages, such as a lost connection) and the first line without it,
 * tabs and newlines turned into spaces. */
static const char *split_message(apr_pool_t *p, const char *msg,
                                 char code[6])
{
    const char *end;
    char *text, *c;

    msg = last_code(msg, code);
    end = code[0] ? strchr(msg, '\n') : NULL;
    text = end ? apr_pstrmemdup(p, msg, (apr_size_t)(end - msg))
               : apr_pstrdup(p, msg);
    for (c = text; *c; c++) {
        if (*c == '\n' || *c == '\t' || *c == '\r') {
            *c = ' ';
        }
    }
    while (c > text && c[-1] == ' ') {
        *--c = '\0';
    }
    return text;
}

apr_status_t at_reg_pg_failure(at_registry_t *reg, int rc, at_error_t *err)
{
    apr_pool_t *p;
    const char *msg, *text;
    char code[6];
    apr_status_t rv;

    apr_pool_create(&p, reg->pool);
    msg = reg->handle ? PQerrorMessage(native(reg)) : "";
    text = split_message(p, msg && *msg ? msg : "unknown error", code);
    if (at_reg_pg_lost(reg) || strcmp(code, "53300") == 0) {
        at_error_set(err, "registry %s cannot be reached: %s", reg->where,
                     text);
        rv = APR_ECONNREFUSED;
    }
    else if (strcmp(code, "23505") == 0) {
        at_error_set(err, "registry: already exists (%s)", text);
        rv = APR_EEXIST;
    }
    else if (strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0
             || strcmp(code, "55P03") == 0 || strcmp(code, "57014") == 0) {
        at_error_set(err, "registry %s is locked by another transaction "
                     "(gave up after %d s): %s", reg->where,
                     AT_REGISTRY_PG_STATEMENT_MS / 1000, text);
        rv = APR_TIMEUP;
    }
    else if (strcmp(code, "25006") == 0) {
        at_error_set(err, "registry %s is read-only (a standby server?): "
                     "%s", reg->where, text);
        rv = APR_EACCES;
    }
    else {
        at_error_set(err, "registry %s: %s%s%s", reg->where, text,
                     code[0] ? " SQLSTATE " : "", code);
        rv = APR_EGENERAL;
    }
    apr_pool_destroy(p);
    return rv;
}

apr_status_t at_reg_pg_setup(at_registry_t *reg, apr_pool_t *p,
                             at_error_t *err)
{
    int nrows, rc;

    PQsetErrorVerbosity(native(reg), PQERRORS_VERBOSE);
    rc = apr_dbd_query(reg->driver, reg->handle, &nrows,
                       "SET statement_timeout = "
                       APR_STRINGIFY(AT_REGISTRY_PG_STATEMENT_MS)
                       "; SET idle_in_transaction_session_timeout = 60000");
    return rc == 0 ? APR_SUCCESS : at_reg_pg_failure(reg, rc, err);
}
