"""token-admin's command line (issue 3 item 4 and the fault tests of item 5).

Every command in text and --json form; every bad input gives exactly one
line on stderr, a non-zero status and an unchanged registry (compared with
`sqlite3 DB .dump`); run as root it acts as the registry's owner; a
read-only, corrupt, foreign or locked registry gives a clear error and loses
nothing. No httpd is needed: the binary is run directly.
"""
import base64
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from httpd_env import TOKEN_ADMIN, RUN_USER

pytestmark = pytest.mark.skipif(not os.path.exists(TOKEN_ADMIN),
                                reason="token-admin not built")

SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"


def run(reg, *args, json_out=False, env=None, actor="tester", timeout=30):
    cmd = [TOKEN_ADMIN]
    if reg is not None:
        cmd += ["--registry", str(reg)]
    if actor:
        cmd += ["--actor", actor]
    if json_out:
        cmd.append("--json")
    cmd += list(args)
    e = dict(os.environ)
    e.pop("AUTH_TOKEN_REGISTRY", None)
    e.pop("GATEWAY_INTERFACE", None)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e,
                          timeout=timeout)


def ok(reg, *args, **kw):
    r = run(reg, *args, **kw)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    assert r.stderr == "", r.stderr
    return r


def ok_json(reg, *args, **kw):
    r = ok(reg, *args, json_out=True, **kw)
    return json.loads(r.stdout)   # exactly one document, or this raises


def dump(reg):
    return subprocess.run([SQLITE, str(reg), ".dump"], capture_output=True,
                          text=True, check=True).stdout


def sql(reg, statement):
    return subprocess.run([SQLITE, str(reg), statement], capture_output=True,
                          text=True, check=True).stdout.strip()


def assert_refused(reg, *args, status=None, message=None):
    """A refused command: one stderr line, non-zero, registry unchanged."""
    before = dump(reg)
    r = run(reg, *args)
    after = dump(reg)
    assert r.returncode != 0, (args, r.stdout)
    if status is not None:
        assert r.returncode == status, (args, r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, (args, r.stderr)
    assert lines[0].startswith("token-admin: "), lines[0]
    if message:
        assert message in lines[0], (message, lines[0])
    assert r.stdout == "", (args, r.stdout)
    assert before == after, ("registry changed", args)
    return lines[0]


def secret_matches(stored, secret):
    """The documented storage form: s256$<salt>$<sha256(salt || secret)>."""
    kind, salt, digest = stored.split("$")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    raw_salt = base64.urlsafe_b64decode(pad(salt))
    want = base64.urlsafe_b64decode(pad(digest))
    return kind == "s256" and hashlib.sha256(
        raw_salt + secret.encode()).digest() == want


@pytest.fixture
def pubdir():
    """A directory other users can reach (pytest's tmp_path is 0700)."""
    d = tempfile.mkdtemp(prefix="at-cli-")
    os.chmod(d, 0o755)
    yield __import__("pathlib").Path(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def reg(pubdir):
    tmp_path = pubdir
    path = tmp_path / "registry.db"
    ok(path, "scope", "add", "orders:read", "--description", "Read orders")
    ok(path, "scope", "add", "orders:write")
    return path


@pytest.fixture
def app(reg):
    doc = ok_json(reg, "app", "add", "--name", "orders-service",
                  "--scope", "orders:read,offline_access",
                  "--grant", "client_credentials,refresh_token",
                  "--audience", "orders-api")
    return doc


class TestCommands:

    def test_cli_001_01_created_when_missing(self, tmp_path):
        path = tmp_path / "sub" / "reg.db"
        doc = ok_json(path, "scope", "list")
        # offline_access and openid are built in.
        assert [s["name"] for s in doc] == ["offline_access", "openid"]
        assert doc[0]["builtin"] is True and doc[1]["builtin"] is True
        assert path.exists()
        assert sql(path, "PRAGMA journal_mode") == "wal"

    def test_cli_001_02_env_registry(self, tmp_path):
        path = tmp_path / "env.db"
        r = run(None, "scope", "add", "a:b",
                env={"AUTH_TOKEN_REGISTRY": str(path)})
        assert r.returncode == 0, r.stderr
        assert "a:b" in sql(path, "SELECT name FROM scopes")

    def test_cli_001_02b_driver_spec(self, pubdir):
        # "DRIVER PARAMS", as AuthTokenRegistry and the console take it.
        path = pubdir / "spec.db"
        r = run(None, "scope", "add", "d:s",
                env={"AUTH_TOKEN_REGISTRY": "sqlite3 %s" % path})
        assert r.returncode == 0, r.stderr
        assert "d:s" in sql(path, "SELECT name FROM scopes")
        spaced = pubdir / "with space"
        spaced.mkdir()
        ok(spaced / "reg.db", "scope", "list")
        assert (spaced / "reg.db").exists()

    def test_cli_001_03_app_add_json(self, reg, app):
        assert len(app["client_id"]) >= 22
        assert len(app["client_secret"]) >= 43
        assert app["name"] == "orders-service"
        assert app["type"] == "confidential"
        assert app["enabled"] is True
        assert app["scopes"] == ["offline_access", "orders:read"]
        assert app["grants"] == ["client_credentials", "refresh_token"]
        assert app["audiences"] == ["orders-api"]
        assert app["access_lifetime"] is None
        stored = sql(reg, "SELECT hash FROM app_secrets WHERE client_id = '%s'"
                     % app["client_id"])
        assert app["client_secret"] not in dump(reg)
        assert secret_matches(stored, app["client_secret"])

    def test_cli_001_04_app_add_text_and_defaults(self, reg):
        r = ok(reg, "app", "add", "--name", "plain")
        assert "client_secret:" in r.stdout and "only this once" in r.stdout
        cid = [ln.split()[1] for ln in r.stdout.splitlines()
               if ln.startswith("client_id:")][0]
        doc = ok_json(reg, "app", "show", cid)
        assert doc["grants"] == ["client_credentials"]
        assert doc["scopes"] == [] and doc["audiences"] == []
        assert doc["type"] == "confidential"

    def test_cli_001_05_public_app(self, reg):
        doc = ok_json(reg, "app", "add", "--name", "spa", "--type", "public",
                      "--redirect-uri", "https://app.example.com/cb",
                      "--redirect-uri", "http://127.0.0.1:9000/cb",
                      "--redirect-uri", "http://[::1]/cb",
                      "--redirect-uri", "http://localhost/cb?x=1,2")
        assert doc["client_secret"] is None
        assert doc["grants"] == ["authorization_code"]
        assert len(doc["redirect_uris"]) == 4
        assert "http://localhost/cb?x=1,2" in doc["redirect_uris"]

    def test_cli_001_06_list_show(self, reg, app):
        ok(reg, "app", "add", "--name", "another")
        apps = ok_json(reg, "app", "list")
        assert [a["name"] for a in apps] == ["another", "orders-service"]
        assert all("client_secret" not in a for a in apps)
        text = ok(reg, "app", "list").stdout
        assert app["client_id"] in text and "orders-service" in text
        show = ok_json(reg, "app", "show", app["client_id"])
        assert show["client_id"] == app["client_id"]
        assert "orders-service" in ok(reg, "app", "show",
                                      app["client_id"]).stdout

    def test_cli_001_07_update(self, reg, app):
        cid = app["client_id"]
        doc = ok_json(reg, "app", "update", cid, "--description", "new",
                      "--scope", "orders:write", "--access-lifetime", "120",
                      "--offline-client-credentials")
        assert doc["description"] == "new"
        assert doc["scopes"] == ["orders:write"]
        assert doc["access_lifetime"] == 120
        assert doc["offline_client_credentials"] is True
        assert doc["audiences"] == ["orders-api"]       # untouched
        doc = ok_json(reg, "app", "update", cid, "--scope", "",
                      "--no-offline-client-credentials",
                      "--access-lifetime", "default")
        assert doc["scopes"] == [] and not doc["offline_client_credentials"]
        assert doc["access_lifetime"] is None
        assert "Application updated" in ok(reg, "app", "update", cid,
                                           "--name", "renamed").stdout

    def test_cli_001_08_rotate_secret(self, reg, app):
        cid = app["client_id"]
        doc = ok_json(reg, "app", "rotate-secret", cid)
        assert doc["client_id"] == cid and doc["grace"] == 0
        assert doc["client_secret"] != app["client_secret"]
        now = int(time.time())
        rows = sql(reg, "SELECT hash, coalesce(expires, 'none') FROM "
                   "app_secrets WHERE client_id = '%s' ORDER BY id" % cid)
        (old, old_exp), (new, new_exp) = [r.split("|") for r in
                                          rows.splitlines()]
        assert secret_matches(old, app["client_secret"])
        assert int(old_exp) <= now + 1              # ended at once
        assert secret_matches(new, doc["client_secret"])
        assert new_exp == "none"
        doc2 = ok_json(reg, "app", "rotate-secret", cid, "--grace", "3600")
        exp = int(sql(reg, "SELECT expires FROM app_secrets WHERE hash = '%s'"
                      % new))
        assert now + 3590 <= exp <= now + 3610      # kept for the grace
        assert "shown only this once" in ok(reg, "app", "rotate-secret",
                                            cid).stdout
        assert doc2["client_secret"] not in dump(reg)

    def test_cli_001_09_disable_enable_delete(self, reg, app):
        cid = app["client_id"]
        assert ok_json(reg, "app", "disable", cid) == {
            "client_id": cid, "enabled": False}
        assert ok_json(reg, "app", "show", cid)["enabled"] is False
        assert ok_json(reg, "app", "enable", cid)["enabled"] is True
        assert "disabled" in ok(reg, "app", "disable", cid).stdout
        assert ok_json(reg, "app", "delete", cid) == {
            "client_id": cid, "deleted": True}
        assert ok_json(reg, "app", "list") == []
        assert sql(reg, "SELECT count(*) FROM app_secrets") == "0"

    def test_cli_001_10_scopes(self, reg):
        doc = ok_json(reg, "scope", "add", "files:read", "--description",
                      "Read \"files\"")
        assert doc == {"name": "files:read", "description": "Read \"files\"",
                       "builtin": False}
        names = [s["name"] for s in ok_json(reg, "scope", "list")]
        assert names == ["files:read", "offline_access", "openid",
                         "orders:read", "orders:write"]
        assert "Read orders" in ok(reg, "scope", "list").stdout
        assert ok_json(reg, "scope", "delete", "files:read") == {
            "name": "files:read", "deleted": True}
        assert "deleted" in ok(reg, "scope", "delete", "orders:write").stdout

    def test_cli_001_11_token_revoke(self, reg, app):
        cid = app["client_id"]
        exp = int(time.time()) + 600
        # What the issuer records for each access token it signs.
        sql(reg, "INSERT INTO issued_jtis (jti, client_id, exp) VALUES "
            "('jti-1', '%s', %d)" % (cid, exp))
        gen = int(sql(reg, "SELECT value FROM meta WHERE key = "
                      "'revocation_generation'"))
        assert ok_json(reg, "token", "revoke", "--jti", "jti-1") == {
            "jti": "jti-1", "revoked": True}
        assert sql(reg, "SELECT revoked IS NOT NULL FROM issued_jtis") == "1"
        assert ok_json(reg, "token", "revoke", "--client", cid) == {
            "client_id": cid, "revoked": True}
        before = int(sql(reg, "SELECT before FROM revoked_clients WHERE "
                         "client_id = '%s'" % cid))
        assert before >= int(time.time()) - 2
        assert int(sql(reg, "SELECT value FROM meta WHERE key = "
                       "'revocation_generation'")) == gen + 2
        assert "revoked" in ok(reg, "token", "revoke", "--client",
                               cid).stdout

    def test_cli_001_12_audit(self, reg, app):
        cid = app["client_id"]
        ok(reg, "app", "disable", cid, actor="carol")
        ok(reg, "app", "rotate-secret", cid, actor="dave")
        rows = sql(reg, "SELECT actor, action, target FROM audit "
                   "ORDER BY id").splitlines()
        assert rows[0] == "tester|scope.add|orders:read"
        assert "tester|app.create|%s" % cid in rows
        assert "carol|app.disable|%s" % cid in rows
        assert "dave|secret.rotate|%s" % cid in rows
        assert app["client_secret"] not in dump(reg)

    def test_cli_001_13_audit_command(self, reg, app):
        cid = app["client_id"]
        ok(reg, "app", "disable", cid, actor="carol")
        rows = ok_json(reg, "audit", "--target", cid)
        assert [r["action"] for r in rows] == ["app.disable", "app.create"]
        assert rows[0]["actor"] == "carol"
        rows = ok_json(reg, "audit", "--by", "carol")
        assert len(rows) == 1 and rows[0]["target"] == cid
        assert len(ok_json(reg, "audit", "--limit", "1")) == 1
        text = ok(reg, "audit").stdout
        assert "app.create" in text and "scope.add" in text
        assert app["client_secret"] not in text
        assert_refused(reg, "audit", "--limit", "0", status=2)

    def test_cli_001_15_default_actor(self, reg):
        r = run(reg, "scope", "add", "by:sudo", actor=None,
                env={"SUDO_USER": "erin"})
        assert r.returncode == 0, r.stderr
        assert sql(reg, "SELECT actor FROM audit WHERE target = 'by:sudo'") \
            == "erin"

    def test_cli_001_14_help(self):
        r = run(None, "--help", actor=None)
        assert r.returncode == 0 and "rotate-secret" in r.stdout


BAD_APP_ADD = [
    (["--name", ""], "name must not be empty"),
    (["--name", "   "], "name must not be empty"),
    (["--name", "x", "--type", "secret"], "type"),
    (["--name", "x", "--grant", "password"], "grant"),
    (["--name", "x", "--grant", "client_credentials,,refresh_token"],
     "grant"),
    (["--name", "x", "--scope", "nosuch"], "does not exist"),
    (["--name", "x", "--scope", "orders:read,nosuch"], "does not exist"),
    (["--name", "x", "--scope", "bad scope"], "RFC 6749"),
    (["--name", "x", "--scope", 'q"uote'], "RFC 6749"),
    (["--name", "x", "--scope", "back\\slash"], "RFC 6749"),
    (["--name", "x", "--audience", "a b"], "audience"),
    (["--name", "x", "--redirect-uri", "http://example.com/cb"], "https"),
    (["--name", "x", "--redirect-uri", "http://10.0.0.1/cb"], "https"),
    (["--name", "x", "--redirect-uri", "https://example.com/cb#f"],
     "fragment"),
    (["--name", "x", "--redirect-uri", "/relative"], "absolute"),
    (["--name", "x", "--redirect-uri", "example.com/cb"], "absolute"),
    (["--name", "x", "--redirect-uri", "javascript:alert(1)"], "absolute"),
    (["--name", "x", "--redirect-uri", "ftp://example.com/"], "https"),
    (["--name", "x", "--access-lifetime", "99999999"], "access lifetime"),
    (["--name", "x", "--access-lifetime", "0"], "positive"),
    (["--name", "x", "--access-lifetime", "-5"], "positive"),
    (["--name", "x", "--refresh-lifetime", "0"], "positive"),
    (["--name", "x", "--refresh-lifetime", "99999999999"], "refresh lifetime"),
    (["--name", "x", "--type", "public", "--grant", "client_credentials"],
     "confidential"),
    (["--name", "x", "--offline-client-credentials"], "offline"),
    (["--name", "orders-service"], "already exists"),
]

BAD_USAGE = [
    ["app", "add"],
    ["app", "add", "--description", "no name"],
    ["app", "add", "--name", "x", "--access-lifetime", "abc"],
    ["app", "add", "--name", "x", "--access-lifetime", "5s"],
    ["app", "add", "--name", "x", "--access-lifetime", "1e3"],
    ["app", "add", "--name", "x", "--access-lifetime", ""],
    ["app", "add", "--name", "x", "--name", "y"],
    ["app", "add", "--name", "x", "--bogus"],
    ["app", "add", "--name"],
    ["app", "frobnicate"],
    ["app"],
    ["app", "show"],
    ["app", "show", "a", "b"],
    ["app", "rotate-secret", "x", "--grace", "soon"],
    ["scope", "add"],
    ["scope", "rename", "a"],
    ["token", "revoke"],
    ["token", "revoke", "--jti", "a", "--client", "b"],
    ["token", "list"],
    ["nonsense"],
]


class TestRefused:

    @pytest.mark.parametrize("args,message", BAD_APP_ADD)
    def test_cli_002_01_app_add(self, reg, app, args, message):
        assert_refused(reg, "app", "add", *args, status=1, message=message)

    @pytest.mark.parametrize("args", BAD_USAGE)
    def test_cli_002_02_usage(self, reg, app, args):
        assert_refused(reg, *args, status=2)

    @pytest.mark.parametrize("verb", ["show", "disable", "enable", "delete",
                                      "rotate-secret"])
    def test_cli_002_03_unknown_client(self, reg, app, verb):
        assert_refused(reg, "app", verb, "no-such-client", status=1,
                       message="no-such-client")

    def test_cli_002_04_update_refused(self, reg, app):
        cid = app["client_id"]
        ok(reg, "app", "add", "--name", "other")
        assert_refused(reg, "app", "update", "nope", "--name", "x",
                       status=1)
        assert_refused(reg, "app", "update", cid, "--name", "other",
                       status=1, message="already exists")
        assert_refused(reg, "app", "update", cid, "--scope", "nosuch",
                       status=1, message="does not exist")
        assert_refused(reg, "app", "update", cid, "--redirect-uri",
                       "http://example.org/", status=1, message="https")
        assert_refused(reg, "app", "update", cid, status=2)
        assert_refused(reg, "app", "rotate-secret", cid, "--grace", "-1",
                       status=1)

    def test_cli_002_05_scopes_refused(self, reg, app):
        assert_refused(reg, "scope", "add", "orders:read", status=1,
                       message="already exists")
        assert_refused(reg, "scope", "add", "two words", status=1)
        assert_refused(reg, "scope", "add", "", status=1)
        assert_refused(reg, "scope", "add", "caf\u00e9", status=1)
        assert_refused(reg, "scope", "delete", "nosuch", status=1)
        assert_refused(reg, "scope", "delete", "offline_access", status=1,
                       message="built in")
        line = assert_refused(reg, "scope", "delete", "orders:read",
                              status=1)
        assert app["client_id"] in line

    def test_cli_002_06_revoke_refused(self, reg, app):
        assert_refused(reg, "token", "revoke", "--jti", "unknown-jti",
                       status=1, message="unknown-jti")
        assert_refused(reg, "token", "revoke", "--client", "nope", status=1)

    def test_cli_002_12_control_characters_not_echoed(self, reg, app):
        line = assert_refused(reg, "scope", "add", "bad\x1b[31mred\nx",
                              status=1)
        assert "\x1b" not in line
        assert_refused(reg, "app", "show", "evil\x1b]0;title\x07", status=1)

    def test_cli_002_07_public_has_no_secret(self, reg):
        cid = ok_json(reg, "app", "add", "--name", "spa", "--type",
                      "public")["client_id"]
        assert_refused(reg, "app", "rotate-secret", cid, status=1,
                       message="public")

    def test_cli_002_08_usage_error_creates_nothing(self, pubdir):
        path = pubdir / "never.db"
        for args in (["app", "update", "x", "--access-lifetime", "soon"],
                     ["app", "add", "--name", "x", "--refresh-lifetime", "x"],
                     ["token", "revoke"], ["scope", "add"]):
            r = run(path, *args)
            assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
        assert not path.exists()

    def test_cli_002_09_global_options_after_command(self, reg, app):
        r = subprocess.run([TOKEN_ADMIN, "app", "list", "--json",
                            "--registry", str(reg)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)[0]["client_id"] == app["client_id"]

    def test_cli_002_10_dash_client_id(self, reg, app):
        # Older or imported ids may start with '-': still a CLIENT_ID.
        sql(reg, "INSERT INTO applications (client_id, name, type, created, "
            "updated) VALUES ('-dash', 'dashed', 'confidential', 1, 1)")
        assert ok_json(reg, "app", "show", "-dash")["name"] == "dashed"
        ok(reg, "app", "update", "-dash", "--description", "d")
        assert_refused(reg, "app", "show", "-nope", status=1)

    def test_cli_002_11_no_registry(self):
        r = run(None, "app", "list")
        assert r.returncode == 2
        assert r.stderr.startswith("token-admin: ") and \
            len(r.stderr.splitlines()) == 1


def as_user(path, user):
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
class TestOwner:

    def test_cli_003_01_root_acts_as_dir_owner(self, pubdir):
        tmp_path = pubdir
        d = tmp_path / "var"
        d.mkdir()
        as_user(d, RUN_USER)
        path = d / "registry.db"
        ok(path, "scope", "add", "x:y")
        ok(path, "app", "add", "--name", "a", "--scope", "x:y")
        uid = pwd.getpwnam(RUN_USER).pw_uid
        files = [f for f in os.listdir(d)]
        assert "registry.db" in files
        for f in files:
            assert os.stat(d / f).st_uid == uid, f

    def test_cli_003_02_root_acts_as_file_owner(self, pubdir):
        tmp_path = pubdir
        path = tmp_path / "registry.db"
        ok(path, "scope", "add", "x:y")
        os.chmod(tmp_path, 0o777)
        as_user(path, RUN_USER)
        ok(path, "scope", "add", "z:w")
        uid = pwd.getpwnam(RUN_USER).pw_uid
        for f in os.listdir(tmp_path):
            assert os.stat(tmp_path / f).st_uid == uid, f

    def test_cli_003_03_new_directory_owned_too(self, pubdir):
        tmp_path = pubdir
        as_user(tmp_path, RUN_USER)
        path = tmp_path / "new" / "registry.db"
        ok(path, "scope", "list")
        uid = pwd.getpwnam(RUN_USER).pw_uid
        assert os.stat(tmp_path / "new").st_uid == uid
        assert os.stat(path).st_uid == uid


class TestFaults:

    @pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
    def test_cli_004_01_read_only(self, reg, app):
        d = reg.parent
        pw = pwd.getpwnam(RUN_USER)
        for f in os.listdir(d):
            os.chown(d / f, pw.pw_uid, pw.pw_gid)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(reg, 0o440)
        before = dump(reg)
        line = assert_refused(reg, "app", "add", "--name", "new", status=3,
                              message="read-only")
        assert "registry.db" in line
        assert_refused(reg, "app", "delete", app["client_id"], status=3)
        assert before == dump(reg)
        # Reading still works.
        assert [a["name"] for a in ok_json(reg, "app", "list")] == \
            ["orders-service"]

    @pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
    def test_cli_004_08_unreadable(self, reg, app):
        pw = pwd.getpwnam(RUN_USER)
        os.chown(reg.parent, pw.pw_uid, pw.pw_gid)
        os.chown(reg, pw.pw_uid, pw.pw_gid)
        os.chmod(reg, 0o000)
        r = run(reg, "app", "list")
        assert r.returncode == 3 and len(r.stderr.splitlines()) == 1
        assert "not readable" in r.stderr
        os.chmod(reg, 0o640)
        assert len(ok_json(reg, "app", "list")) == 1

    def test_cli_004_09_concurrent_first_use(self, pubdir):
        """Eight token-admins creating one new registry at once: one
        migrates, the others wait for it, every change lands."""
        for round_ in range(3):
            path = pubdir / ("race%d.db" % round_)
            procs = [subprocess.Popen(
                [TOKEN_ADMIN, "--registry", str(path), "scope", "add",
                 "s%d" % i], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True) for i in range(8)]
            results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
            for p in procs:
                p.stdout.close()
                p.stderr.close()
            assert all(rc == 0 for rc, _ in results), results
            names = [s["name"] for s in ok_json(path, "scope", "list")]
            assert len(names) == 10     # 8 added, 2 built in

    def test_cli_004_02_corrupt(self, tmp_path):
        path = tmp_path / "corrupt.db"
        data = b"garbage that is not an SQLite file\n" * 200
        path.write_bytes(data)
        r = run(path, "app", "list")
        assert r.returncode == 3
        assert len(r.stderr.splitlines()) == 1
        assert "not a usable SQLite database" in r.stderr
        assert path.read_bytes() == data

    def test_cli_004_03_damaged_registry(self, reg, app):
        # A real registry whose pages were overwritten in the middle.
        size = os.path.getsize(reg)
        sql(reg, "PRAGMA wal_checkpoint(TRUNCATE)")
        with open(reg, "r+b") as f:
            f.seek(0)
            f.write(b"\xff" * 100)
        r = run(reg, "app", "list")
        assert r.returncode == 3 and len(r.stderr.splitlines()) == 1
        assert os.path.getsize(reg) == size

    def test_cli_004_04_foreign(self, tmp_path):
        path = tmp_path / "foreign.db"
        sql(path, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name "
            "TEXT); INSERT INTO customers (name) VALUES ('x')")
        before = dump(path)
        r = run(path, "scope", "add", "a:b")
        assert r.returncode == 3
        assert "not a mod_auth_token registry" in r.stderr
        assert len(r.stderr.splitlines()) == 1
        assert dump(path) == before

    def test_cli_004_05_newer_schema(self, reg):
        sql(reg, "UPDATE meta SET value = '999' WHERE key = "
            "'schema_version'")
        before = dump(reg)
        r = run(reg, "scope", "add", "a:b")
        assert r.returncode == 3 and "newer" in r.stderr
        assert dump(reg) == before

    def test_cli_004_06_not_a_file(self, tmp_path):
        r = run(tmp_path, "app", "list")
        assert r.returncode == 3 and "regular file" in r.stderr

    def test_cli_004_07_locked(self, reg, app):
        before = dump(reg)
        # An exclusive write lock held by another sqlite3 process for
        # longer than token-admin waits (about 5.6 s).
        holder = subprocess.Popen([SQLITE, str(reg)], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, text=True)
        try:
            # sqlite3 runs these and then waits for more input, holding
            # the lock until its stdin ends.
            holder.stdin.write("BEGIN EXCLUSIVE;\n"
                               "UPDATE meta SET value = value;\n")
            holder.stdin.flush()
            time.sleep(0.5)
            t0 = time.time()
            r = run(reg, "app", "add", "--name", "blocked", timeout=60)
            waited = time.time() - t0
            assert r.returncode == 3, r.stderr
            assert "locked" in r.stderr and len(r.stderr.splitlines()) == 1
            assert 3 < waited < 19, waited
            # Reads are not blocked by a writer (WAL).
            assert ok_json(reg, "app", "show", app["client_id"])["name"] == \
                "orders-service"
        finally:
            holder.stdin.write("ROLLBACK;\n")
            holder.stdin.close()
            holder.wait(timeout=20)
        assert dump(reg) == before
        ok(reg, "app", "add", "--name", "after-lock")


# --- token revoke --client against a running issuer --------------------------

from issuer_helpers import (add_app, add_scopes, issuer_conf,  # noqa: E402
                            make_key, token_admin, token_request)

REVOKE_RESOURCE = """
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
"""


class TestRevokeClient:
    """revoke --client takes every token issued until the command, even in
    the same second, and none issued after it, even in the same second."""
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], REVOKE_RESOURCE)
        env.write_file("htdocs/api/data.txt", "data\n")
        add_scopes(env, "read")
        cls.APPS["app"] = add_app(env, "revoked-app", scopes="read")

    def token(self, httpd):
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          auth=self.APPS["app"])
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def wait_status(self, httpd, tok, status, timeout=2.5):
        end = time.time() + timeout
        while time.time() < end:
            if httpd.get("/api/data.txt", token=tok).status_code == status:
                return True
            time.sleep(0.05)
        return False

    def test_cli_005_01_same_second_both_ways(self, httpd):
        for _ in range(3):
            # Start just after a second boundary so that, on a machine that
            # is not overloaded, all of it happens within one second.
            time.sleep(1.02 - (time.time() % 1.0))
            t0 = time.time()
            before = self.token(httpd)
            token_admin(httpd, "token", "revoke", "--client",
                        self.APPS["app"][0])
            after = self.token(httpd)
            if int(time.time()) == int(t0):
                break
        assert self.wait_status(httpd, before, 401), "old token accepted"
        assert httpd.get("/api/data.txt", token=after).status_code == 200
        assert int(time.time()) - int(t0) <= 2
