/* token-admin audit: the newest entries of the registry's audit log, so an
 * operator can see who changed what without opening the database.
 *
 *   audit [--target ID] [--by ACTOR] [--limit N]
 *
 * (--by rather than --actor: --actor names who runs this command.)
 */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "cli.h"

static const cli_opt_t audit_opts[] = {
    {"target", "ID", 0, "only entries about this client_id, scope or jti"},
    {"by", "ACTOR", 0, "only entries by this actor"},
    {"limit", "N", 0, "the newest N entries (default 50, at most 100000)"},
    {NULL, NULL, 0, NULL}
};

/* TEXT with every control character shown as '?'. The actor comes from
 * --actor, $SUDO_USER or a console's REMOTE_USER, none of which the
 * registry vets: a newline or an escape sequence there must not forge a
 * line of this listing or drive the operator's terminal. */
static const char *printable(apr_pool_t *p, const char *text)
{
    char *out = apr_pstrdup(p, text ? text : ""), *c;

    for (c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    return out;
}

static int audit(cli_t *cli, const cli_verb_t *verb, const cli_args_t *args)
{
    apr_array_header_t *rows;
    at_error_t err = {{0}};
    apr_status_t rv;
    const char *v;
    long limit = 50;
    int rc, total, i;

    if ((rc = cli_words(cli, args, 0, "nothing"))) {
        return rc;
    }
    if ((v = cli_opt(args, "limit"))
        && (rc = cli_seconds(cli, "limit", v, &limit))) {
        return rc;
    }
    if (limit < 1 || limit > 100000) {
        return cli_fail(cli, CLI_USAGE, "--limit must be 1 to 100000");
    }
    if ((rc = cli_open(cli))) {
        return rc;
    }
    rv = at_audit_list(cli->reg, cli->pool, cli_opt(args, "target"),
                       cli_opt(args, "by"), 0, (int)limit, &rows, &total,
                       &err);
    if (rv != APR_SUCCESS) {
        return cli_registry_fail(cli, rv, &err);
    }
    if (cli->json) {
        json_t *a = json_array();
        for (i = 0; i < rows->nelts; i++) {
            at_audit_t *r = APR_ARRAY_IDX(rows, i, at_audit_t *);
            json_t *o = json_object();
            json_object_set_new(o, "id", json_integer(r->id));
            json_object_set_new(o, "at", json_integer(r->at));
            json_object_set_new(o, "actor", json_string(r->actor));
            json_object_set_new(o, "action", json_string(r->action));
            json_object_set_new(o, "target", json_string(r->target));
            json_object_set_new(o, "detail", json_string(r->detail));
            json_array_append_new(a, o);
        }
        cli_print_json(a);
        return CLI_OK;
    }
    for (i = 0; i < rows->nelts; i++) {
        at_audit_t *r = APR_ARRAY_IDX(rows, i, at_audit_t *);
        printf("%s  %-12s  %-20s  %s%s%s\n", cli_time(cli->pool, r->at),
               printable(cli->pool, r->actor), r->action,
               printable(cli->pool, r->target), *r->detail ? "  " : "",
               printable(cli->pool, r->detail));
    }
    if (total > rows->nelts) {
        printf("(%d of %d entries; --limit shows more)\n", rows->nelts,
               total);
    }
    return CLI_OK;
}

const cli_verb_t cli_audit_verbs[] = {
    {NULL, "[--target ID] [--by ACTOR] [--limit N]",
     "Prints the newest entries of the registry's audit log: when, who, "
     "what,\non what. Secrets never appear in it.\n", audit_opts, audit},
    {NULL, NULL, NULL, NULL, NULL}
};
