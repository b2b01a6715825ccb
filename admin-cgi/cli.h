/* token-admin's command line: what its files share.
 *
 * cli_main.c reads the global options, picks the command group, becomes
 * the registry's owner when run as root and opens the registry; cli_args.c
 * parses a command's options (apr_getopt_long) and prints errors;
 * cli_help.c prints --help from the command tables; cli_output.c prints
 * applications and scopes as text or JSON; cli_app.c, cli_scope.c,
 * cli_token.c, cli_audit.c and cli_consent.c hold the command tables and
 * run the commands; cli_owner.c drops root. Every command parses all of its
 * arguments before it opens the registry, and every change is one registry
 * call (one transaction), so a refused command leaves the registry as it
 * was.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "at_registry.h"

/* Exit statuses (documented in docs/token-admin.md and token-admin.1). */
#define CLI_OK       0
#define CLI_REFUSED  1   /* refused input, unknown or duplicate name */
#define CLI_USAGE    2   /* not a valid command line */
#define CLI_REGISTRY 3   /* the registry cannot be opened or written */
#define CLI_HELP     (-1) /* help was printed: exit 0, do nothing else */

typedef struct cli {
    apr_pool_t *pool;
    const char *registry;     /* --registry or AUTH_TOKEN_REGISTRY */
    const char *actor;        /* --actor, $SUDO_USER or the login name */
    int json;                 /* --json */
    int json_errors;          /* --json anywhere: errors as JSON too */
    at_registry_t *reg;       /* set by cli_open */
} cli_t;

/* One option a command accepts: "--NAME ARG" / "--NAME=ARG" when ARG is
 * set (ARG names the value in the help), else the flag "--NAME". */
typedef struct cli_opt {
    const char *name;
    const char *arg;
    int repeatable;           /* values accumulate (lists) */
    const char *help;         /* one line for COMMAND --help */
} cli_opt_t;

/* A parsed command line: options by name (flags hold ""; a repeatable
 * option has one entry per occurrence) and the positional words. */
typedef struct cli_args {
    apr_table_t *opts;
    apr_array_header_t *words;    /* const char * */
} cli_args_t;

/* One command ("app add", "scope list", "audit"): its words, synopsis,
 * description and options, for the parser, COMMAND --help and --help. */
typedef struct cli_verb cli_verb_t;
struct cli_verb {
    const char *name;         /* "add"; NULL for a command without verbs */
    const char *synopsis;     /* what follows "token-admin GROUP VERB" */
    const char *about;        /* a few sentences, lines ending in \n */
    const cli_opt_t *opts;    /* NULL-name terminated, or NULL */
    int (*run)(cli_t *cli, const cli_verb_t *verb, const cli_args_t *args);
};

/* A command group and its verbs ("app" with add, list, ...). */
typedef struct cli_group {
    const char *name;
    const cli_verb_t *verbs;  /* NULL-run terminated */
} cli_group_t;

extern const cli_verb_t cli_app_verbs[];
extern const cli_verb_t cli_scope_verbs[];
extern const cli_verb_t cli_token_verbs[];
extern const cli_verb_t cli_audit_verbs[];
extern const cli_verb_t cli_consent_verbs[];

/* Runs "GROUP ARGV...": picks the verb, parses its options (printing its
 * help for --help) and runs it. Returns an exit status or CLI_HELP. */
int cli_dispatch(cli_t *cli, const cli_group_t *group, int argc,
                 const char *const *argv);
/* Parses ARGV[0..ARGC) against SPEC (terminated by a NULL name); the
 * global options --registry, --json and --actor are accepted too and go
 * into CLI. Returns CLI_OK, or CLI_USAGE after printing the one line. */
int cli_parse(cli_t *cli, int argc, const char *const *argv,
              const cli_opt_t *spec, cli_args_t *args);
/* The same for the options before the command word: stops at the first
 * word (or after "--"); *USED is how many arguments were options. */
int cli_parse_head(cli_t *cli, int argc, const char *const *argv,
                   const cli_opt_t *spec, cli_args_t *args, int *used);
/* Whether FLAG is among ARGV before any "--". */
int cli_has_flag(int argc, const char *const *argv, const char *flag);
/* The option's (last) value, or NULL. */
const char *cli_opt(const cli_args_t *args, const char *name);
/* Every value of a repeatable option, each split at commas; empty items
 * are kept so that validation can name them. NULL when never given. */
apr_array_header_t *cli_opt_list(cli_t *cli, const cli_args_t *args,
                                 const char *name);
/* Every value of a repeatable option as given (no splitting: a redirect
 * URI may hold a comma). NULL when never given. */
apr_array_header_t *cli_opt_values(cli_t *cli, const cli_args_t *args,
                                   const char *name);
/* Parses a whole decimal number (optional '-', up to 12 digits) into *out.
 * Returns CLI_OK or CLI_USAGE after printing the one line; the range is the
 * caller's to check. */
int cli_seconds(cli_t *cli, const char *option, const char *text, long *out);
/* Requires exactly WANT positional words (names given for the message). */
int cli_words(cli_t *cli, const cli_args_t *args, int want,
              const char *what);

/* Help (cli_help.c): the global synopsis, one group's, one command's. */
void cli_help_all(FILE *out);
void cli_help_group(FILE *out, const cli_group_t *group);
void cli_help_verb(FILE *out, const cli_group_t *group,
                   const cli_verb_t *verb);
extern const cli_group_t cli_groups[];

/* Prints the one error line on stderr and returns STATUS: "token-admin:
 * <message>", or under --json {"error": CODE, "message": <message>}.
 * cli_fail's CODE follows STATUS: invalid (1), usage (2), registry (3). */
int cli_fail(cli_t *cli, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cli_fail_as(cli_t *cli, int status, const char *code, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));
/* The exit status and message for a failed registry call. */
int cli_registry_fail(cli_t *cli, apr_status_t rv, const at_error_t *err);
/* Opens the registry (after becoming its owner when root). Returns CLI_OK
 * or an exit status after printing the one line. */
int cli_open(cli_t *cli);

/* --actor, else $SUDO_USER, else the login name. Settled by cli_open,
 * which commands call after parsing (--actor may follow the command). */
const char *cli_actor(cli_t *cli);

/* Drops root to the owner of PATH (or of the directory that will hold
 * it), so that no root-owned file appears beside the registry. A no-op
 * when not root or when that owner is root. 0, or -1 with ERR set. */
int cli_become_owner(apr_pool_t *p, const char *path, at_error_t *err);

/* Output (cli_output.c). JSON documents are printed on stdout and freed. */
void cli_print_json(json_t *doc);
json_t *cli_app_json(const at_app_t *app);
json_t *cli_scope_json(const at_scope_t *scope);
void cli_print_app(cli_t *cli, const at_app_t *app);
const char *cli_time(apr_pool_t *p, long long t);


#endif /* CLI_H */
