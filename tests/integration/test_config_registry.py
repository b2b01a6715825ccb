"""`apachectl configtest` checks what it can of the registry without
starting (sqlite3 only): its directory exists or can be made, the server's
User can reach and write it (or a root-started httpd will give it to the
User), and a file already there is a registry of a schema version this
build knows, read without being changed. Each problem names the file and
line of AuthTokenRegistry and the fix (AT01020).

Also: an AuthType other than Bearer in a section holding resource-server
directives is a warning naming its file and line (AT01010)."""
import os
import sqlite3
import subprocess

import pytest

from httpd_env import TOKEN_ADMIN, HttpdEnv
from resource_tokens import line_of, write_keys

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="User/Group need root")


@pytest.fixture(scope="module")
def cenv():
    """One server root for the configtest cases (never started)."""
    env = HttpdEnv()
    write_keys(env)
    yield env
    env.cleanup()


def make_registry(path):
    """A current registry at PATH, made by token-admin (root-owned)."""
    r = subprocess.run([TOKEN_ADMIN, "--registry", path, "--json", "scope",
                        "list"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def set_version(path, version):
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
               (str(version),))
    db.commit()
    db.close()


def snapshot(path):
    """What must not change by looking: the bytes, the mtime, and the
    files beside it."""
    with open(path, "rb") as f:
        data = f.read()
    d = os.path.dirname(path)
    return data, os.stat(path).st_mtime_ns, sorted(os.listdir(d))


def registry_line(path):
    return "AuthTokenRegistry %s\n" % path


class TestRegistryConfigtest:

    def check_bad(self, env, conf, parts):
        env.install(conf)
        ok, out = env.configtest()
        assert not ok, out
        line = line_of(env, "AuthTokenRegistry")
        assert "AT01020" in out, out
        assert ("line %d of %s" % (line, env.path("conf/httpd.conf"))) in out
        for p in parts:
            assert p in out, out
        return out

    def check_good(self, env, conf):
        env.install(conf)
        ok, out = env.configtest()
        assert ok, out
        assert "AT01020" not in out
        return out

    def test_registry_600_01(self, cenv):
        """A new registry in the server's var/ (the User's), or in a new
        directory whose parent exists (made and handed over at start)."""
        self.check_good(cenv, registry_line("{root}/var/new.db"))
        self.check_good(cenv, registry_line("{root}/var/made/new.db"))
        assert not os.path.exists(cenv.path("var/made"))
        assert not os.path.exists(cenv.path("var/new.db"))

    def test_registry_600_02(self, cenv):
        """A current registry (and an older one, migrated at start) passes,
        and configtest leaves it exactly as it was."""
        path = cenv.path("var/current.db")
        make_registry(path)
        before = snapshot(path)
        self.check_good(cenv, registry_line(path))
        assert snapshot(path) == before
        set_version(path, 1)
        before = snapshot(path)
        self.check_good(cenv, registry_line(path))
        assert snapshot(path) == before

    def test_registry_600_03(self, cenv):
        """Newer than this build: named, and the file is untouched."""
        path = cenv.path("var/newer.db")
        make_registry(path)
        set_version(path, 99)
        before = snapshot(path)
        out = self.check_bad(cenv, registry_line(path),
                             ["schema version 99", "newer", path])
        assert snapshot(path) == before
        assert "upgrade" in out or "wrote it" in out

    @pytest.mark.parametrize("name,content,parts", [
        ("text.db", b"not a database, just text\n" * 30,
         ["not a usable SQLite database"]),
        ("header.db", b"SQLite format 3\x00" + b"\xff" * 4000,
         ["not a usable SQLite database"]),
    ])
    def test_registry_600_04(self, cenv, name, content, parts):
        """A file that is not SQLite."""
        path = cenv.write_file("var/" + name, content)
        self.check_bad(cenv, registry_line(path), parts + ["point "])
        with open(path, "rb") as f:
            assert f.read() == content

    def test_registry_600_05(self, cenv):
        """A database of someone else's."""
        path = cenv.path("var/foreign.db")
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE orders (id INTEGER)")
        db.commit()
        db.close()
        self.check_bad(cenv, registry_line(path),
                       ["not a mod_auth_token registry"])

    def test_registry_600_06(self, cenv):
        """Neither the directory nor its parent exists."""
        self.check_bad(cenv, registry_line("{root}/nope/deeper/r.db"),
                       ["does not exist", "mkdir -p " + cenv.path(
                           "nope/deeper")])

    def test_registry_600_07(self, cenv):
        """The path's directory is a file; the path itself a directory."""
        cenv.write_file("var/afile", "x\n")
        self.check_bad(cenv, registry_line("{root}/var/afile/r.db"),
                       ["is not a directory"])
        os.makedirs(cenv.path("var/adir"), exist_ok=True)
        self.check_bad(cenv, registry_line("{root}/var/adir"),
                       ["not a regular file"])

    @needs_root
    def test_registry_600_08(self, cenv):
        """A root-owned shared directory the User cannot write in: not
        handed over (it holds other files), so an error, where a start
        used to succeed and the first token request got a 500."""
        shared = cenv.path("shared")
        os.makedirs(shared, exist_ok=True)
        os.chmod(shared, 0o755)
        cenv.write_file("shared/other.conf", "someone else's\n")
        self.check_bad(cenv, registry_line(shared + "/r.db"),
                       ["cannot write in " + shared, "www-data",
                        "directory of its own"])

    @needs_root
    def test_registry_600_09(self, cenv):
        """A root-owned directory of the registry's own is fine: httpd
        gives it to the User at start."""
        own = cenv.path("own")
        os.makedirs(own, exist_ok=True)
        os.chmod(own, 0o755)
        self.check_good(cenv, registry_line(own + "/r.db"))
        make_registry(own + "/r.db")
        self.check_good(cenv, registry_line(own + "/r.db"))

    @needs_root
    def test_registry_600_10(self, cenv):
        """A directory the User cannot even reach (a clone in /root): the
        directory in the way is named."""
        private = cenv.path("private")
        os.makedirs(private + "/reg", exist_ok=True)
        os.chmod(private, 0o700)
        self.check_bad(cenv, registry_line(private + "/reg/r.db"),
                       ["cannot reach", private + " is not searchable",
                        "chmod o+x " + private])

    @needs_root
    def test_registry_600_11(self, cenv):
        """Permissions are the kernel's: a directory the User may write in
        through its group passes."""
        grp = cenv.path("grp")
        os.makedirs(grp, exist_ok=True)
        cenv.write_file("grp/other.conf", "x\n")
        os.chown(grp, 0, _www_gid())
        os.chmod(grp, 0o775)
        self.check_good(cenv, registry_line(grp + "/r.db"))

    def test_registry_600_12(self, cenv):
        """Another driver is not checked at configtest (its server need not
        be up)."""
        self.check_good(cenv, 'AuthTokenRegistry pgsql "host=127.0.0.1 '
                              'port=1 dbname=none"\n')

    def test_registry_600_13(self, cenv):
        """A virtual host's registry is checked too, at its own line."""
        cenv.install("<VirtualHost 127.0.0.1:{port}>\n    ServerName v\n"
                     "    AuthTokenRegistry {root}/gone/x/r.db\n"
                     "</VirtualHost>\n")
        ok, out = cenv.configtest()
        assert not ok
        assert "line %d of" % line_of(cenv, "AuthTokenRegistry") in out
        assert "does not exist" in out


def _www_gid():
    import grp
    return grp.getgrnam("www-data").gr_gid


KEY = "AuthTokenVerifyKey HS256 {root}/keys/hs256.key"


class TestAuthTypeCheck:

    @pytest.mark.parametrize("conf,needle,other", [
        ("<Location /api>\n    AuthType Baerer\n    " + KEY
         + "\n    Require token-scope a\n</Location>\n",
         "AuthType Baerer", "AuthTokenVerifyKey"),
        ("<Location /api>\n    AuthType Basic\n    AuthName x\n"
         "    AuthTokenAudience orders\n    Require valid-user\n"
         "</Location>\n" + KEY + "\n", "AuthType Basic", "AuthTokenAudience"),
        ("<Location /api>\n    AuthType Basic\n    AuthName x\n"
         "    <RequireAll>\n        Require valid-user\n"
         "        Require not token-claim role guest\n    </RequireAll>\n"
         "</Location>\n", "AuthType Basic",
         "Require not token-claim role guest"),
        ("<Directory {root}/htdocs/api>\n    AuthType None\n"
         "    AuthTokenClaimsEnv JWT_\n</Directory>\n", "AuthType None",
         "AuthTokenClaimsEnv"),
    ])
    def test_authtype_610_01(self, cenv, conf, needle, other):
        """A warning naming the file, the line and the fix; configtest
        still passes (it is a warning)."""
        cenv.install(conf)
        ok, out = cenv.configtest()
        assert ok, out
        assert "AT01010" in out, out
        line = line_of(cenv, needle)
        assert "line %d of %s" % (line, cenv.path("conf/httpd.conf")) in out
        assert "write AuthType Bearer" in out
        assert other in out

    @pytest.mark.parametrize("conf", [
        "<Location /api>\n    AuthType Bearer\n    " + KEY
        + "\n    Require token-scope a\n</Location>\n",
        "<Location /api>\n    AuthType bearer\n    " + KEY
        + "\n    Require valid-user\n</Location>\n",
        "<Location /api>\n    AuthType Basic\n    AuthName x\n"
        "    Require valid-user\n</Location>\n",
        # token directives at another level than the AuthType
        "<Location /api>\n    AuthType Bearer\n    " + KEY
        + "\n    Require valid-user\n</Location>\n<Location /api/basic>\n"
        "    AuthType Basic\n    AuthName x\n    Require valid-user\n"
        "</Location>\n",
    ])
    def test_authtype_610_02(self, cenv, conf):
        cenv.install(conf)
        ok, out = cenv.configtest()
        assert ok, out
        assert "AT01010" not in out, out

    def test_authtype_610_03(self):
        """`apachectl start` prints it too (the server still starts)."""
        env = HttpdEnv()
        try:
            write_keys(env)
            env.install("<Location /api>\n    AuthType Baerer\n    " + KEY
                        + "\n    Require token-scope a\n</Location>\n")
            r = env.apachectl("-k", "start")
            out = r.stdout + r.stderr
            assert r.returncode == 0, out
            assert "AT01010" in out
            assert "line %d of" % line_of(env, "AuthType Baerer") in out
        finally:
            env.cleanup()
