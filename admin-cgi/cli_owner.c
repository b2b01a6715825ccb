/* token-admin run as root acts as the registry's owner: it takes the
 * owner's uid and gid (and no supplementary groups) before SQLite opens or
 * creates anything, so the registry and its -wal and -shm files never end
 * up owned by root where httpd's User could not write them. The owner is
 * that of the file, or, before it exists, of the directory that will hold
 * it (or that directory's parent when the directory is created too).
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "cli.h"

/* The stat of PATH, else of its directory, else of that one's parent. */
static int owner_of(apr_pool_t *p, const char *path, struct stat *st)
{
    char *dir = apr_pstrdup(p, path), *slash;
    int i;

    if (stat(path, st) == 0) {
        return 0;
    }
    for (i = 0; i < 2; i++) {
        slash = strrchr(dir, '/');
        if (slash == NULL) {
            return stat(".", st);
        }
        *slash = '\0';
        if (stat(*dir ? dir : "/", st) == 0) {
            return 0;
        }
    }
    return -1;
}

int cli_become_owner(apr_pool_t *p, const char *path, at_error_t *err)
{
    struct stat st;

    if (geteuid() != 0) {
        return 0;
    }
    if (owner_of(p, path, &st) != 0) {
        /* Nothing to take ownership from: the open reports the path. */
        return 0;
    }
    if (st.st_uid == 0) {
        return 0;
    }
    if (setgroups(0, NULL) != 0 || setgid(st.st_gid) != 0
        || setuid(st.st_uid) != 0) {
        at_error_set(err, "cannot switch to the registry owner (uid %ld, "
                     "gid %ld): %s", (long)st.st_uid, (long)st.st_gid,
                     strerror(errno));
        return -1;
    }
    /* setuid from root to another uid drops every privilege for good;
     * check that it did. */
    if (setuid(0) == 0) {
        at_error_set(err, "could not drop root privileges");
        return -1;
    }
    return 0;
}
