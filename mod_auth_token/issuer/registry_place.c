/* Where the registry lives, checked by `apachectl configtest` (and at every
 * start, before post_config creates anything), so that a registry the
 * server cannot use stops it with the file, the line and the fix, instead
 * of a start that fails with the reason only in error_log, or a server
 * that starts and answers 500 to the first token request.
 *
 * For the sqlite3 driver: the directory of the file must exist (or be
 * creatable: httpd makes the last level at start), the server's User must
 * reach it and write in it (SQLite creates -wal and -shm beside the
 * database), unless httpd, started as root, will give that directory to
 * the User at start (issuer_hooks.c does for a directory of the registry's
 * own). A file already there must be an SQLite registry of a schema this
 * build knows; it is opened read-only (at_schema_probe) and left as it is.
 * Other drivers are not checked: their server need not be up for a
 * configtest.
 *
 * "Can the User write there" is asked of the kernel, not worked out from
 * mode bits: a root-started httpd forks a process that takes the User's
 * uid, Group and supplementary groups (as the children will), so ACLs
 * and every directory on the way count.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "unixd.h"
#include "apr_strings.h"

#include "mod_auth_token.h"
#include "issuer.h"
#include "issuer_private.h"
#include "at_schema_probe.h"

APLOG_USE_MODULE(auth_token);

/* 1 when DIR holds nothing but the registry FILE and its companions
 * (-wal, -shm, the console's key...): a directory of its own, which the
 * server may hand to its User. */
int at_registry_dir_is_own(apr_pool_t *p, const char *dir, const char *file)
{
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t blen = strlen(base);
    apr_finfo_t fi;
    apr_dir_t *d;
    int own = 1;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS) {
        return 0;
    }
    while (own && apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (strcmp(fi.name, ".") != 0 && strcmp(fi.name, "..") != 0
            && strncmp(fi.name, base, blen) != 0) {
            own = 0;
        }
    }
    apr_dir_close(d);
    return own;
}

/* The name the children run as: the User of a root-started httpd, else
 * whoever runs it (httpd then ignores User). */
static const char *run_user(apr_pool_t *p)
{
    const char *name = ap_unixd_config.user_name;
    uid_t uid = geteuid() == 0 ? ap_unixd_config.user_id : geteuid();
    struct passwd *pw;

    if (geteuid() == 0 && name && name[0] != '#') {
        return name;
    }
    pw = getpwuid(uid);
    return pw ? apr_pstrdup(p, pw->pw_name)
              : apr_psprintf(p, "uid %ld", (long)uid);
}

/* "user:group" for a chown command. */
static const char *run_owner(apr_pool_t *p)
{
    gid_t gid = geteuid() == 0 ? ap_unixd_config.group_id : getegid();
    struct group *gr = getgrgid(gid);

    return apr_pstrcat(p, run_user(p), ":",
                       gr ? gr->gr_name : apr_ltoa(p, (long)gid), NULL);
}

/* 1 when the children's user may MODE (R_OK, W_OK, X_OK) PATH, 0 when
 * not, -1 when that cannot be found out (then nothing is reported). */
static int user_may(apr_pool_t *p, const char *path, int mode)
{
    gid_t gid = ap_unixd_config.group_id;
    int status;
    pid_t pid;

    if (geteuid() != 0) {
        return eaccess(path, mode) == 0;
    }
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        /* As mod_unixd makes a child: groups first, the uid last. */
        if ((initgroups(run_user(p), gid) != 0 && setgroups(1, &gid) != 0) ||
            setgid(gid) != 0 || setuid(ap_unixd_config.user_id) != 0) {
            _exit(2);
        }
        _exit(access(path, mode) == 0 ? 0 : 1);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
        return -1;
    }
    return WEXITSTATUS(status) == 0;
}

/* "/a/b/c" -> "/a/b"; "/a" -> "/". */
static char *parent_of(apr_pool_t *p, const char *path)
{
    char *dir = ap_make_dirstr_parent(p, path);
    size_t n = strlen(dir);

    if (n > 1 && dir[n - 1] == '/') {
        dir[n - 1] = '\0';
    }
    return *dir ? dir : ".";
}

/* The first directory on the way to DIR (DIR included) the children's
 * user may not pass, or NULL. */
static const char *blocking_dir(apr_pool_t *p, const char *dir)
{
    char *path = apr_pstrdup(p, dir), *slash = path;

    for (;;) {
        slash = strchr(slash + 1, '/');
        if (slash) {
            *slash = '\0';
        }
        if (*path && user_may(p, path, X_OK) == 0) {
            return path;
        }
        if (!slash) {
            return NULL;
        }
        *slash = '/';
    }
}

static int report(const ap_directive_t *d, const char *problem, const char *fix)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                 "AT01020: Syntax error on line %d of %s: AuthTokenRegistry "
                 "%s: %s; %s",
                 d->line_num, d->filename, d->args, problem, fix);
    return 0;
}

/* The directory DIR of FILE: exists or can be made, and the children's
 * user can write in it then. */
static int check_dir(apr_pool_t *p, const ap_directive_t *d, const char *dir,
                     const char *file)
{
    int root = geteuid() == 0;
    const char *up = parent_of(p, dir), *block;
    struct stat st;

    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || stat(up, &st) != 0 || !S_ISDIR(st.st_mode)) {
            return report(d,
                          apr_psprintf(p,
                                       "the directory %s does not "
                                       "exist (nor its parent)",
                                       dir),
                          apr_psprintf(p,
                                       "create it: mkdir -p %s && chown "
                                       "%s %s",
                                       dir, run_owner(p), dir));
        }
        /* Made at start (by root, then given to the User). */
        if (!root && user_may(p, up, W_OK | X_OK) == 0) {
            return report(d,
                          apr_psprintf(p,
                                       "the directory %s does not "
                                       "exist and %s cannot create it",
                                       dir, run_user(p)),
                          apr_psprintf(p, "create it: mkdir %s", dir));
        }
    } else if (!S_ISDIR(st.st_mode)) {
        return report(d, apr_psprintf(p, "%s is not a directory", dir),
                      "fix the path");
    } else if (user_may(p, dir, W_OK | X_OK) != 0) {
        return 1;
    } else if (!root || (st.st_mode & S_IWOTH) ||
               !at_registry_dir_is_own(p, dir, file)) {
        /* Not handed over at start (issuer_hooks.c says when it is). */
        block = blocking_dir(p, up);
        if (block) {
            goto unreachable;
        }
        return report(
            d,
            apr_psprintf(p,
                         "the server's User %s cannot write in %s "
                         "(owner uid %ld, mode %04o), where SQLite keeps "
                         "the registry's -wal and -shm files",
                         run_user(p), dir, (long)st.st_uid,
                         (unsigned)(st.st_mode & 07777)),
            apr_psprintf(p,
                         "put the registry in a directory of its own (e.g. "
                         "/var/lib/mod_auth_token/registry.db), which httpd "
                         "started as root gives to its User, or let %s "
                         "write in %s",
                         run_user(p), dir));
    }
    /* Writable once given to the User: if the User gets that far. */
    block = blocking_dir(p, up);
    if (!block) {
        return 1;
    }
unreachable:
    return report(d,
                  apr_psprintf(p,
                               "the server's User %s cannot reach %s: "
                               "%s is not searchable for it",
                               run_user(p), dir, block),
                  apr_psprintf(p,
                               "put the registry where the User can "
                               "reach it (e.g. /var/lib/mod_auth_token/), or "
                               "let it pass: chmod o+x %s",
                               block));
}

/* A file already at PATH: a registry this build can use. */
static int check_file(apr_pool_t *p, const ap_directive_t *d, const char *file)
{
    struct stat st;
    at_error_t err;
    int version;

    if (stat(file, &st) != 0) {
        return 1; /* created at start */
    }
    if (!S_ISREG(st.st_mode)) {
        return report(d, apr_psprintf(p, "%s is not a regular file", file),
                      "fix the path");
    }
    err.text[0] = '\0';
    switch (at_schema_probe(file, &version, &err)) {
    case APR_SUCCESS:
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, NULL,
                     "AT01021: registry %s: schema version %d of %d", file,
                     version, at_schema_version());
        return 1;
    case APR_EAGAIN:
        return 1; /* locked by a writer: nothing to say */
    default:
        return report(d, err.text,
                      version > at_schema_version()
                          ? "use the mod_auth_token that wrote it"
                          : "point AuthTokenRegistry at the registry, or at "
                            "a new file");
    }
}

int at_registry_place_check(apr_pool_t *p, const ap_directive_t *d,
                            const at_srv_conf_t *sc)
{
    const char *file = at_srv_registry_params(sc);

    if (!file || strcmp(at_srv_registry_driver(sc), "sqlite3") != 0) {
        return 1;
    }
    return check_dir(p, d, parent_of(p, file), file) && check_file(p, d, file);
}
