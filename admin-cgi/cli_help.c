/* token-admin --help and COMMAND --help, printed from the command tables
 * (cli_app.c, cli_scope.c, cli_token.c, cli_audit.c), so the help cannot
 * drift from what the parser accepts. The man page (man/token-admin.1)
 * says the same at length.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const cli_group_t cli_groups[] = {
    {"app", cli_app_verbs},
    {"scope", cli_scope_verbs},
    {"token", cli_token_verbs},
    {"audit", cli_audit_verbs},
    {"consent", cli_consent_verbs},
    {NULL, NULL}
};

/* "LEAD GROUP VERB SYNOPSIS", continuation lines of SYNOPSIS aligned under
 * its first one. */
static void synopsis(FILE *out, const char *lead, const cli_group_t *g,
                     const cli_verb_t *v)
{
    const char *s = v->synopsis, *nl;
    int width;

    width = fprintf(out, "%s%s%s%s%s", lead, g->name, v->name ? " " : "",
                    v->name ? v->name : "", *s ? " " : "");
    while ((nl = strchr(s, '\n')) != NULL) {
        fprintf(out, "%.*s\n%*s", (int)(nl - s), s, width, "");
        s = nl + 1;
    }
    fprintf(out, "%s\n", s);
}

/* "  --name ARG   help", the help on a line of its own when the option
 * is too wide for the column. */
static void options(FILE *out, const cli_opt_t *o)
{
    char head[64];

    for (; o && o->name; o++) {
        snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        if (strlen(head) > 26) {
            fprintf(out, "  %s\n%29s%s\n", head, "", o->help);
        }
        else {
            fprintf(out, "  %-26s %s\n", head, o->help);
        }
    }
}

static const char globals_text[] =
    "Global options (before or after the command):\n"
    "  --registry PATH            the registry (default: "
    "$AUTH_TOKEN_REGISTRY),\n"
    "                             created if missing; or DRIVER PARAMS\n"
    "  --json                     print one JSON document; errors as JSON "
    "on stderr\n"
    "  --actor NAME               who the audit log records (default: "
    "$SUDO_USER,\n"
    "                             else the login name)\n";

static const char status_text[] =
    "Exit status: 0 done, 1 refused (invalid input, unknown or duplicate "
    "name),\n2 not a valid command line, 3 the registry cannot be used.\n";

void cli_help_all(FILE *out)
{
    const cli_group_t *g;
    const cli_verb_t *v;

    fputs("usage: token-admin [--registry PATH] [--json] [--actor NAME] "
          "COMMAND ...\n"
          "       token-admin COMMAND --help | --help | --version\n\n"
          "Manages the mod_auth_token registry: applications (OAuth "
          "clients), their\nsecrets, scopes and revocations.\n\n"
          "Commands:\n", out);
    for (g = cli_groups; g->name; g++) {
        for (v = g->verbs; v->run; v++) {
            synopsis(out, "  ", g, v);
        }
    }
    fputc('\n', out);
    fputs(globals_text, out);
    fputc('\n', out);
    fputs(status_text, out);
    fputs("See token-admin(1) and docs/token-admin.md.\n", out);
}

void cli_help_group(FILE *out, const cli_group_t *group)
{
    const cli_verb_t *v;

    fputs("usage:\n", out);
    for (v = group->verbs; v->run; v++) {
        synopsis(out, "  token-admin ", group, v);
    }
    fprintf(out, "\n\"token-admin %s VERB --help\" describes one of them.\n",
            group->name);
}

void cli_help_verb(FILE *out, const cli_group_t *group,
                   const cli_verb_t *verb)
{
    synopsis(out, "usage: token-admin ", group, verb);
    fprintf(out, "\n%s", verb->about);
    if (verb->opts && verb->opts->name) {
        fputs("\nOptions:\n", out);
        options(out, verb->opts);
    }
    fputc('\n', out);
    fputs(globals_text, out);
}
