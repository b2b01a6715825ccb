"""Black-box audit of the contract's "Applications, scopes, secrets" and
"token-admin" sections (interface.md), issue 3 item 4 and issue 4, read line
by line. Each test names the contract sentence it checks. Where
test_cli.py / test_console_cgi.py already check a behaviour it is not
repeated here; these are the behaviours they left open:

- every command's --json output is one JSON document, and refusals under
  --json are still one stderr line with nothing on stdout;
- `app update` with one option keeps every other field; list options and
  repeated --redirect-uri replace the list;
- secrets: 256 bits of fresh randomness, never in the registry's bytes
  (database, -wal, -shm), never shown again by any command;
- against a running oauth-token endpoint: rotate-secret without --grace
  ends the old secret at once, with --grace keeps it for the grace and not
  after; disable / enable / delete / type change take effect on the next
  request; `token revoke --client` ends the refresh-token families;
- the audit log records every change with its actor, and refusals none;
- console: every page reachable from the dashboard follows the HTML and
  header rules; markup in every user string (description, scope
  description, audience, redirect URI, audit detail, REMOTE_USER) shows as
  text.
"""
import base64
import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest

from httpd_env import TOKEN_ADMIN
from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            token_admin, token_request)
from test_cli import (assert_refused, dump, ok, ok_json,  # noqa: F401
                      pubdir, run, sql)

pytestmark = pytest.mark.skipif(not os.path.exists(TOKEN_ADMIN),
                                reason="token-admin not built")


@pytest.fixture
def reg(tmp_path):
    path = tmp_path / "registry.db"
    ok(path, "scope", "add", "orders:read", "--description", "Read orders")
    ok(path, "scope", "add", "orders:write")
    return path


def full_app(reg, name="full"):
    """An application with every field set away from its default."""
    return ok_json(reg, "app", "add", "--name", name,
                   "--description", "all fields",
                   "--grant", "client_credentials,refresh_token",
                   "--scope", "orders:read,offline_access",
                   "--audience", "a.example,b.example",
                   "--redirect-uri", "https://app.example/cb",
                   "--redirect-uri", "http://127.0.0.1:8000/cb",
                   "--access-lifetime", "120", "--refresh-lifetime", "3600",
                   "--offline-client-credentials")


def fields(doc):
    """An application document without the fields that change anyway."""
    return {k: v for k, v in doc.items()
            if k not in ("updated", "client_secret")}


# --- --json: one document for every command ----------------------------------

class TestJsonEverywhere:
    """Contract: "`--json` prints one JSON document"."""

    def test_contract_cli_001_01_every_command(self, reg):
        app = full_app(reg)
        cid = app["client_id"]
        now = int(time.time())
        sql(reg, "INSERT INTO issued_jtis (jti, client_id, exp) VALUES "
            "('j-1', '%s', %d)" % (cid, now + 600))
        commands = [
            ["app", "list"], ["app", "show", cid],
            ["app", "update", cid, "--description", "x"],
            ["app", "rotate-secret", cid, "--grace", "60"],
            ["app", "disable", cid], ["app", "enable", cid],
            ["scope", "add", "s:1", "--description", "d"],
            ["scope", "list"], ["scope", "delete", "s:1"],
            ["token", "revoke", "--jti", "j-1"],
            ["token", "revoke", "--client", cid],
            ["app", "add", "--name", "spare"],
            ["app", "delete", cid],
            ["audit"],
        ]
        for args in commands:
            r = ok(reg, *args, json_out=True)
            # json.loads refuses trailing text: exactly one document.
            doc = json.loads(r.stdout)
            assert isinstance(doc, (dict, list)), (args, r.stdout)
            # Text output is not the same JSON (--json really selects it).
            if args[:2] not in (["app", "add"], ["app", "rotate-secret"],
                                ["app", "delete"], ["scope", "delete"],
                                ["token", "revoke"], ["scope", "add"],
                                ["app", "disable"], ["app", "enable"],
                                ["app", "update"]):
                text = ok(reg, *args).stdout
                with pytest.raises(ValueError):
                    json.loads(text)

    def test_contract_cli_001_02_refusals_under_json(self, reg):
        cid = full_app(reg)["client_id"]
        for args, status in (
                (["app", "show", "nope"], 1),
                (["scope", "delete", "nope"], 1),
                (["token", "revoke", "--jti", "nope"], 1),
                (["app", "update", cid, "--scope", "nosuch"], 1),
                (["app", "bogus"], 2)):
            before = dump(reg)
            r = run(reg, *args, json_out=True)
            assert r.returncode == status, (args, r.returncode, r.stderr)
            assert r.stdout == "", (args, r.stdout)
            assert len(r.stderr.splitlines()) == 1, r.stderr
            assert dump(reg) == before


class TestEnvRegistry:
    """Contract: "`--registry` may be omitted when `AUTH_TOKEN_REGISTRY` is
    set": for every command, and --registry wins when both are given."""

    def test_contract_cli_001_03_every_command_from_env(self, tmp_path):
        path = tmp_path / "env.db"
        env = {"AUTH_TOKEN_REGISTRY": str(path)}

        def env_ok(*args):
            r = run(None, *args, json_out=True, env=env)
            assert r.returncode == 0, (args, r.stderr)
            return json.loads(r.stdout)

        env_ok("scope", "add", "e:r")
        cid = env_ok("app", "add", "--name", "e", "--scope", "e:r",
                     "--grant", "client_credentials,refresh_token")[
                         "client_id"]
        assert env_ok("app", "show", cid)["scopes"] == ["e:r"]
        env_ok("app", "update", cid, "--description", "via env")
        env_ok("app", "rotate-secret", cid, "--grace", "5")
        env_ok("app", "disable", cid)
        env_ok("app", "enable", cid)
        env_ok("token", "revoke", "--client", cid)
        assert [a["client_id"] for a in env_ok("app", "list")] == [cid]
        assert len(env_ok("audit")) == 7
        env_ok("app", "delete", cid)
        env_ok("scope", "delete", "e:r")
        assert [x["name"] for x in env_ok("scope", "list")] == [
            "offline_access", "openid"]
        # Unknown names are refused through the environment too.
        r = run(None, "app", "show", cid, env=env)
        assert r.returncode == 1 and len(r.stderr.splitlines()) == 1

    def test_contract_cli_001_04_option_wins(self, tmp_path):
        a, b = tmp_path / "a.db", tmp_path / "b.db"
        r = run(a, "scope", "add", "only:a",
                env={"AUTH_TOKEN_REGISTRY": str(b)})
        assert r.returncode == 0, r.stderr
        assert "only:a" in sql(a, "SELECT name FROM scopes")
        assert not b.exists()


# --- app update: only the options given --------------------------------------

class TestUpdate:
    """Contract: `app update CLIENT_ID [options of add]`: only what is given
    changes."""

    SINGLE = [
        (["--name", "renamed"], {"name": "renamed"}),
        (["--description", "other"], {"description": "other"}),
        (["--type", "confidential"], {}),
        (["--grant", "client_credentials,refresh_token,authorization_code"],
         {"grants": ["authorization_code", "client_credentials",
                     "refresh_token"]}),
        (["--grant", "client_credentials", "--no-offline-client-credentials"],
         {"grants": ["client_credentials"],
          "offline_client_credentials": False}),
        (["--scope", "orders:write"], {"scopes": ["orders:write"]}),
        (["--audience", "c.example"], {"audiences": ["c.example"]}),
        (["--redirect-uri", "https://new.example/cb"],
         {"redirect_uris": ["https://new.example/cb"]}),
        (["--access-lifetime", "60"], {"access_lifetime": 60}),
        (["--refresh-lifetime", "7200"], {"refresh_lifetime": 7200}),
        (["--access-lifetime", "default"], {"access_lifetime": None}),
        (["--no-offline-client-credentials"],
         {"offline_client_credentials": False}),
    ]

    @pytest.mark.parametrize("args,changed", SINGLE,
                             ids=["-".join(a[0]) for a in SINGLE])
    def test_contract_cli_002_01_one_option(self, reg, args, changed):
        app = full_app(reg)
        cid = app["client_id"]
        doc = ok_json(reg, "app", "update", cid, *args)
        want = fields(app)
        want.update(changed)
        got = fields(doc)
        got["grants"] = sorted(got["grants"])
        want["grants"] = sorted(want["grants"])
        assert got == want
        shown = fields(ok_json(reg, "app", "show", cid))
        shown["grants"] = sorted(shown["grants"])
        assert shown == got
        assert doc["updated"] >= app["updated"]

    def test_contract_cli_002_01b_dropping_a_needed_grant(self, reg):
        # --offline-client-credentials needs the refresh_token grant:
        # dropping the grant alone is refused, saying why, and changes
        # nothing.
        app = full_app(reg)
        before = dump(reg)
        r = run(reg, "app", "update", app["client_id"], "--grant",
                "client_credentials")
        assert r.returncode == 1 and "offline" in r.stderr
        assert dump(reg) == before

    def test_contract_cli_002_02_lists(self, reg):
        cid = full_app(reg)["client_id"]
        # Repeated list options and commas combine; a list replaces.
        doc = ok_json(reg, "app", "update", cid, "--scope", "orders:read",
                      "--scope", "orders:write,offline_access")
        assert sorted(doc["scopes"]) == ["offline_access", "orders:read",
                                         "orders:write"]
        doc = ok_json(reg, "app", "update", cid,
                      "--redirect-uri", "https://one.example/cb",
                      "--redirect-uri", "https://two.example/cb?a=1,2")
        assert doc["redirect_uris"] == ["https://one.example/cb",
                                        "https://two.example/cb?a=1,2"]
        doc = ok_json(reg, "app", "update", cid, "--audience", "")
        assert doc["audiences"] == []
        assert doc["redirect_uris"] == ["https://one.example/cb",
                                        "https://two.example/cb?a=1,2"]

    def test_contract_cli_002_03_update_keeps_secret(self, reg):
        app = full_app(reg)
        cid = app["client_id"]
        hashes = sql(reg, "SELECT hash FROM app_secrets WHERE client_id = "
                     "'%s'" % cid)
        ok(reg, "app", "update", cid, "--description", "d")
        assert sql(reg, "SELECT hash FROM app_secrets WHERE client_id = "
                   "'%s'" % cid) == hashes


# --- secrets ------------------------------------------------------------------

def b64url_bytes(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class TestSecrets:
    """Contract: secrets generated by the system, at least 256 random bits,
    shown once, stored only as a hash."""

    def test_contract_cli_003_01_256_bits_fresh(self, reg):
        secrets = [ok_json(reg, "app", "add", "--name", "s%d" % i)
                   ["client_secret"] for i in range(6)]
        cid = ok_json(reg, "app", "list")[0]["client_id"]
        secrets += [ok_json(reg, "app", "rotate-secret", cid)
                    ["client_secret"] for _ in range(6)]
        for s in secrets:
            assert re.fullmatch(r"[A-Za-z0-9_-]+", s), s
            assert len(b64url_bytes(s)) >= 32, s
        assert len(set(secrets)) == len(secrets)
        # No shared prefix/suffix patterns: bytes spread over the range.
        raw = b"".join(b64url_bytes(s) for s in secrets)
        assert len(set(raw)) > 150

    def test_contract_cli_003_02_not_in_any_registry_byte(self, reg):
        app = full_app(reg)
        cid = app["client_id"]
        rot = ok_json(reg, "app", "rotate-secret", cid, "--grace", "600")
        # A reader holding the database open keeps -wal and -shm on disk.
        holder = subprocess.Popen(["sqlite3", str(reg)],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, text=True)
        try:
            holder.stdin.write("SELECT count(*) FROM applications;\n")
            holder.stdin.flush()
            time.sleep(0.3)
            rot2 = ok_json(reg, "app", "rotate-secret", cid)
            blobs = b""
            for f in os.listdir(reg.parent):
                with open(reg.parent / f, "rb") as fh:
                    blobs += fh.read()
        finally:
            holder.stdin.close()
            holder.wait(timeout=20)
        for s in (app["client_secret"], rot["client_secret"],
                  rot2["client_secret"]):
            assert s.encode() not in blobs
            assert b64url_bytes(s) not in blobs
            assert s.encode().hex().encode() not in blobs

    def test_contract_cli_003_03_shown_once(self, reg):
        app = full_app(reg)
        cid, secret = app["client_id"], app["client_secret"]
        outputs = [ok(reg, *a, json_out=j).stdout
                   for a in (["app", "show", cid], ["app", "list"],
                             ["audit"], ["app", "disable", cid],
                             ["app", "enable", cid],
                             ["app", "update", cid, "--description", "y"])
                   for j in (False, True)]
        for out in outputs:
            assert secret not in out
        assert "client_secret" not in ok_json(reg, "app", "show", cid)
        assert "client_secret" not in ok_json(reg, "app", "update", cid,
                                              "--description", "z")

    def test_contract_cli_003_04_text_secret_once(self, reg):
        out = ok(reg, "app", "add", "--name", "texty").stdout
        lines = [ln for ln in out.splitlines()
                 if ln.startswith("client_secret:")]
        assert len(lines) == 1
        secret = lines[0].split()[1]
        assert len(b64url_bytes(secret)) >= 32
        assert out.count(secret) == 1


BAD_UTF8 = "bad\udcff"    # the byte 0xff on the command line


class TestUtf8:
    """Text that is not UTF-8 cannot be carried by --json output, tokens or
    the console: it is refused as input (the console already refuses it),
    and an actor (not vetted) is stored cleaned, so that every --json
    document keeps all its members."""

    @pytest.mark.parametrize("args,message", [
        (["--name", BAD_UTF8], "name"),
        (["--name", "x", "--description", BAD_UTF8], "description"),
        (["--name", "x", "--audience", BAD_UTF8], "audience"),
        (["--name", "x", "--redirect-uri",
          "https://x.example/" + BAD_UTF8], "redirect URI"),
        (["--name", "caf\udcc3"], "name"),       # a truncated sequence
        (["--name", "\udced\udca0\udc80"], "name"),  # a surrogate
        (["--name", "\udcc0\udcaf"], "name"),       # an overlong '/'
    ])
    def test_contract_cli_006_01_refused(self, reg, args, message):
        assert_refused(reg, "app", "add", *args, status=1, message=message)

    def test_contract_cli_006_02_scope_description(self, reg):
        assert_refused(reg, "scope", "add", "u:t", "--description", BAD_UTF8,
                       status=1, message="UTF-8")

    def test_contract_cli_006_03_real_utf8_kept(self, reg):
        name = "caf\u00e9 \u2615 \U0001f600"
        doc = ok_json(reg, "app", "add", "--name", name, "--description",
                      "d\u00e9j\u00e0", "--audience", "\u00e9.example")
        assert doc["name"] == name
        assert ok_json(reg, "app", "show", doc["client_id"])["audiences"] \
            == ["\u00e9.example"]

    def test_contract_cli_006_04_actor_cleaned(self, reg):
        ok(reg, "scope", "add", "by:bytes", actor="op" + BAD_UTF8)
        rows = ok_json(reg, "audit", "--target", "by:bytes")
        assert rows[0]["actor"] == "opbad?"
        assert set(rows[0]) >= {"actor", "action", "target", "detail"}


# --- audit ---------------------------------------------------------------------

class TestAudit:
    """Issue 3 item 4: every change is written to the audit log with its
    actor; a refusal writes nothing."""

    def test_contract_cli_004_01_every_change(self, reg):
        cid = full_app(reg)["client_id"]
        sql(reg, "INSERT INTO issued_jtis (jti, client_id, exp) VALUES "
            "('j-2', '%s', %d)" % (cid, int(time.time()) + 600))
        changes = [
            ["app", "update", cid, "--description", "u"],
            ["app", "rotate-secret", cid, "--grace", "10"],
            ["app", "disable", cid], ["app", "enable", cid],
            ["scope", "add", "aud:it"], ["scope", "delete", "aud:it"],
            ["token", "revoke", "--jti", "j-2"],
            ["token", "revoke", "--client", cid],
            ["app", "delete", cid],
        ]
        for i, args in enumerate(changes):
            actor = "actor-%d" % i
            before = int(sql(reg, "SELECT count(*) FROM audit"))
            before_id = int(sql(reg, "SELECT max(id) FROM audit"))
            ok(reg, *args, actor=actor)
            rows = sql(reg, "SELECT actor FROM audit WHERE id > %d "
                       "ORDER BY id" % before_id).splitlines()
            assert int(sql(reg, "SELECT count(*) FROM audit")) > before, args
            assert rows and set(rows) == {actor}, (args, rows)
        # Reads write nothing.
        before = dump(reg)
        for args in (["app", "list"], ["scope", "list"], ["audit"]):
            ok(reg, *args)
        assert dump(reg) == before


    def test_contract_cli_004_02_actor_cannot_forge_lines(self, reg):
        # --actor is the operator's word; a newline or escape sequence in it
        # must not forge an audit line nor reach the terminal.
        ok(reg, "scope", "add", "forge:a",
           actor="x\n2030-01-01 00:00:00 UTC  root  app.delete  y\x1b[2J")
        text = ok(reg, "audit").stdout
        assert "\x1b" not in text
        lines = [ln for ln in text.splitlines() if "forge:a" in ln]
        assert len(lines) == 1 and "app.delete" in lines[0]
        assert not any(ln.startswith("2030-") for ln in text.splitlines())
        # JSON keeps the value exactly.
        rows = ok_json(reg, "audit", "--target", "forge:a")
        assert rows[0]["actor"].startswith("x\n2030-")


# --- run as root: the registry owner ----------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
class TestRootActsAsOwner:
    """Contract: "run as root, it acts as the registry file's owner so that
    no root-owned files appear". Seen from outside: the process itself, while
    it waits for a lock held by the owner, runs as the owner with no other
    group, and nothing in the directory belongs to root afterwards."""

    def test_contract_cli_005_01_identity_while_working(self, pubdir):
        import pwd
        d = pubdir / "owned"
        d.mkdir()
        pw = pwd.getpwnam("www-data")
        os.chown(d, pw.pw_uid, pw.pw_gid)
        path = d / "registry.db"
        ok(path, "scope", "add", "own:a")
        holder = subprocess.Popen(
            ["runuser", "-u", "www-data", "--", "sqlite3", str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True)
        proc = None
        try:
            holder.stdin.write("BEGIN EXCLUSIVE;\n"
                               "UPDATE meta SET value = value;\n")
            holder.stdin.flush()
            time.sleep(0.5)
            proc = subprocess.Popen(
                [TOKEN_ADMIN, "--registry", str(path), "--actor", "root-op",
                 "scope", "add", "own:b"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            status = {}
            deadline = time.time() + 3
            while time.time() < deadline:
                time.sleep(0.2)
                try:
                    with open("/proc/%d/status" % proc.pid) as f:
                        status = dict(ln.split(":", 1) for ln in f
                                      if ":" in ln)
                except OSError:
                    break
                if status.get("Uid", "").split()[:1] != ["0"]:
                    break
            assert proc.poll() is None, "did not wait for the lock"
            uids = status["Uid"].split()
            gids = status["Gid"].split()
            assert set(uids) == {str(pw.pw_uid)}, uids
            assert set(gids) == {str(pw.pw_gid)}, gids
            assert status["Groups"].split() == [], status["Groups"]
        finally:
            holder.stdin.write("ROLLBACK;\n")
            holder.stdin.close()
            holder.wait(timeout=20)
            if proc is not None:
                out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        for f in os.listdir(d):
            assert os.stat(d / f).st_uid == pw.pw_uid, f


# --- against a running issuer ------------------------------------------------

RESOURCE = """
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
"""


def cc(httpd, app, **extra):
    data = {"grant_type": "client_credentials"}
    data.update(extra)
    return token_request(httpd, data, auth=app)


def assert_invalid_client(r):
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"


class TestAgainstIssuer:
    """token-admin changes seen by a running oauth-token endpoint."""
    ALLOWED_LOG_IDS = ()

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], RESOURCE)
        add_scopes(env, "read", "write")

    def new_app(self, httpd, name, **kw):
        return add_app(httpd, name, **kw)

    def test_contract_issuer_001_01_rotate_without_grace(self, httpd):
        app = self.new_app(httpd, "rot-now", scopes="read")
        assert cc(httpd, app).status_code == 200
        doc = token_admin(httpd, "app", "rotate-secret", app[0])
        assert_invalid_client(cc(httpd, app))
        new = (app[0], doc["client_secret"])
        assert cc(httpd, new).status_code == 200
        # client_secret_post too.
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": app[0],
                                  "client_secret": app[1]})
        assert_invalid_client(r)

    def test_contract_issuer_001_02_rotate_with_grace(self, httpd):
        app = self.new_app(httpd, "rot-grace", scopes="read")
        doc = token_admin(httpd, "app", "rotate-secret", app[0],
                          "--grace", "3")
        new = (app[0], doc["client_secret"])
        t0 = time.time()
        assert cc(httpd, app).status_code == 200
        assert cc(httpd, new).status_code == 200
        time.sleep(max(0, t0 + 4.2 - time.time()))
        assert_invalid_client(cc(httpd, app))
        assert cc(httpd, new).status_code == 200

    def test_contract_issuer_001_03_second_rotation_without_grace(self,
                                                                 httpd):
        # A rotation without grace ends every earlier secret, also one
        # still inside an earlier grace period.
        app = self.new_app(httpd, "rot-twice", scopes="read")
        d1 = token_admin(httpd, "app", "rotate-secret", app[0],
                         "--grace", "600")
        d2 = token_admin(httpd, "app", "rotate-secret", app[0])
        assert_invalid_client(cc(httpd, app))
        assert_invalid_client(cc(httpd, (app[0], d1["client_secret"])))
        assert cc(httpd, (app[0], d2["client_secret"])).status_code == 200

    def test_contract_issuer_002_01_disable_enable(self, httpd):
        app = self.new_app(httpd, "toggle", scopes="read")
        assert cc(httpd, app).status_code == 200
        token_admin(httpd, "app", "disable", app[0])
        assert_invalid_client(cc(httpd, app))
        token_admin(httpd, "app", "enable", app[0])
        assert cc(httpd, app).status_code == 200

    def test_contract_issuer_002_02_disabled_refresh(self, httpd):
        app = self.new_app(httpd, "toggle-rt",
                           grants="client_credentials,refresh_token",
                           scopes="read",
                           extra=["--offline-client-credentials"])
        r = cc(httpd, app, scope="read offline_access")
        assert r.status_code == 200, r.text
        rt = r.json()["refresh_token"]
        token_admin(httpd, "app", "disable", app[0])
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt}, auth=app)
        assert_invalid_client(r)

    def test_contract_issuer_002_03_delete(self, httpd):
        app = self.new_app(httpd, "to-delete", scopes="read")
        r = cc(httpd, app)
        assert r.status_code == 200
        tok = r.json()["access_token"]
        assert httpd.get("/api/data.txt", token=tok).status_code == 200
        token_admin(httpd, "app", "delete", app[0])
        assert_invalid_client(cc(httpd, app))
        deadline = time.time() + 2.5
        while time.time() < deadline:
            if httpd.get("/api/data.txt", token=tok).status_code == 401:
                break
            time.sleep(0.05)
        assert httpd.get("/api/data.txt", token=tok).status_code == 401

    def test_contract_issuer_002_04_made_public(self, httpd):
        # Changing to public removes the secrets (docs/token-admin.md).
        app = self.new_app(httpd, "to-public", scopes="read")
        token_admin(httpd, "app", "update", app[0], "--type", "public",
                    "--grant", "authorization_code")
        assert_invalid_client(cc(httpd, app))

    def test_contract_issuer_003_01_revoke_client_ends_refresh(self, httpd):
        app = self.new_app(httpd, "rt-revoked",
                           grants="client_credentials,refresh_token",
                           scopes="read",
                           extra=["--offline-client-credentials"])
        r = cc(httpd, app, scope="read offline_access")
        assert r.status_code == 200, r.text
        rt = r.json()["refresh_token"]
        token_admin(httpd, "token", "revoke", "--client", app[0])
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt}, auth=app)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_grant"
        # The application itself still works.
        assert cc(httpd, app).status_code == 200

    def test_contract_issuer_003_02_update_seen_at_once(self, httpd):
        app = self.new_app(httpd, "scope-change", scopes="read,write")
        assert cc(httpd, app, scope="write").status_code == 200
        token_admin(httpd, "app", "update", app[0], "--scope", "read")
        r = cc(httpd, app, scope="write")
        assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
        tok = cc(httpd, app).json()
        assert tok.get("scope", "read") == "read"

    def test_contract_issuer_003_03_audience_update(self, httpd):
        app = self.new_app(httpd, "aud-change", scopes="read",
                           audiences="one.example")
        token_admin(httpd, "app", "update", app[0], "--audience",
                    "two.example,three.example", "--access-lifetime", "77")
        tok = cc(httpd, app).json()
        payload = json.loads(b64url_bytes(tok["access_token"].split(".")[1]))
        assert payload["aud"] == ["two.example", "three.example"]
        assert payload["exp"] - payload["iat"] == 77
        assert tok["expires_in"] == 77


# --- console: every page, every user string -----------------------------------

from test_console_cgi import (SCRIPT, Console, check_headers,  # noqa: E402
                              check_html)

HOSTILE = {
    "name": "<b>n</b><script>alert(1)</script>",
    "description": "<script>alert(3)</script>",
    "scope": "<svg/onload=alert(1)>",
    "scope_description": "<script>alert(2)</script>",
    "audience": "<script>alert(4)</script>",
    "redirect1": "https://x.example/cb?q=<script>alert(5)</script>",
    "redirect2": "https://x.example/cb?q='\"><svg/onload=alert(6)>",
    "actor": "<svg/onload=alert(7)>\"'",
}

# The pages of the console's page table that a GET shows; each must be
# reached by following links from the dashboard.
PAGE_SHAPES = [r"/", r"/apps", r"/apps/new", r"/apps/[^/]+",
               r"/apps/[^/]+/edit", r"/apps/[^/]+/delete",
               r"/apps/[^/]+/grants", r"/scopes", r"/scopes/edit",
               r"/audit"]


def no_active_markup(ans):
    """No element or attribute came from a user string: the only scripts
    are the console's own file, no event handler, no svg/b element."""
    doc = ans.doc
    for s in doc.xpath("//script"):
        assert s.get("src", "").startswith("/console-assets/"), \
            s.get("src")
    assert not doc.xpath("//svg | //main//b")
    for el in doc.iter():
        if isinstance(el.tag, str):
            assert not any(a.lower().startswith("on") for a in el.attrib)
    assert "<script>alert" not in ans.text
    assert "<svg" not in ans.text


@pytest.fixture(scope="module")
def hostile_console():
    c = Console()
    reg = c.registry
    ok(reg, "scope", "add", HOSTILE["scope"], "--description",
       HOSTILE["scope_description"])
    app = ok_json(reg, "app", "add", "--name", HOSTILE["name"],
                  "--description", HOSTILE["description"],
                  "--grant", "client_credentials,refresh_token",
                  "--scope", HOSTILE["scope"] + ",offline_access",
                  "--audience", HOSTILE["audience"],
                  "--redirect-uri", HOSTILE["redirect1"],
                  "--redirect-uri", HOSTILE["redirect2"],
                  actor=HOSTILE["actor"])
    now = int(time.time())
    # One live refresh-token family, as the issuer records it, so that the
    # grants page has a row with the hostile scope in it.
    sql(reg, "INSERT INTO refresh_families (id, client_id, subject, scope, "
        "created) VALUES ('fam-1', '%s', '%s', '%s offline_access', %d)"
        % (app["client_id"], app["client_id"], HOSTILE["scope"], now))
    sql(reg, "INSERT INTO refresh_tokens (hash, family_id, created, expires)"
        " VALUES ('h-1', 'fam-1', %d, %d)" % (now, now + 3600))
    c.cid = app["client_id"]
    yield c
    c.cleanup()


class TestConsoleContract:

    def crawl(self, console, user):
        seen, queue, pages = set(), ["/"], {}
        while queue and len(seen) < 80:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            p, _, q = path.partition("?")
            ans = console.get(p, query=q, user=user)
            assert ans.status == 200, (path, ans.status)
            pages[path] = ans
            # Links, and GET forms (search, and the step before a delete).
            for href in ans.doc.xpath(
                    "//a/@href | //form[not(@method='post')]/@action"):
                # A browser keeps the fragment (skip link) to itself.
                href = href.partition("#")[0]
                if href.startswith(SCRIPT + "/"):
                    queue.append(urllib.parse.unquote(
                        href[len(SCRIPT):]) if "?" not in href else
                        href[len(SCRIPT):])
        return pages

    def test_contract_console_001_01_every_page_reachable(self,
                                                          hostile_console):
        pages = self.crawl(hostile_console, "alice")
        for shape in PAGE_SHAPES:
            assert any(re.fullmatch(shape, p.partition("?")[0])
                       for p in pages), shape
        for path, ans in pages.items():
            check_html(ans)
            check_headers(ans)
            no_active_markup(ans)

    def test_contract_console_001_02_strings_show_as_text(self,
                                                          hostile_console):
        c = hostile_console
        cid = c.cid
        where = {
            "/apps/" + cid: ["name", "description", "scope", "audience",
                             "redirect1", "redirect2"],
            "/apps": ["name"],
            "/apps/%s/edit" % cid: ["name"],
            "/apps/%s/grants" % cid: ["scope"],
            "/scopes": ["scope", "scope_description"],
            "/audit": ["actor", "scope", "audience", "redirect1",
                       "redirect2"],
        }
        for path, keys in where.items():
            ans = c.get(path)
            assert ans.status == 200, path
            no_active_markup(ans)
            text = ans.doc.xpath("//main")[0].text_content()
            for k in keys:
                assert HOSTILE[k] in text, (path, k)
        # The edit form gives every value back intact in its fields.
        ans = c.get("/apps/%s/edit" % cid)
        doc = ans.doc
        assert doc.xpath("//input[@id='name']/@value") == [HOSTILE["name"]]
        assert doc.xpath("//textarea[@id='description']")[0].text == \
            HOSTILE["description"]
        assert HOSTILE["redirect2"] in \
            doc.xpath("//textarea[@id='redirect_uris']")[0].text
        q = "name=" + urllib.parse.quote(HOSTILE["scope"])
        ans = c.get("/scopes/edit", query=q)
        assert ans.status == 200
        no_active_markup(ans)
        assert HOSTILE["scope_description"] in ans.text.replace(
            "&lt;", "<").replace("&gt;", ">")

    def test_contract_console_001_03_remote_user_as_text(self,
                                                         hostile_console):
        c = hostile_console
        actor = HOSTILE["actor"]
        r = c.post("/scopes", {"name": "by:hostile"}, user=actor)
        assert r.status == 303, r.text
        pages = self.crawl(c, actor)
        for path, ans in pages.items():
            check_html(ans)
            no_active_markup(ans)
            assert actor in ans.doc.xpath("//header")[0].text_content(), \
                path
        ans = c.get("/audit", query="actor=" + urllib.parse.quote(actor))
        rows = ans.doc.xpath("//tbody[@id='audit-rows']/tr")
        assert rows
        assert all(tr.xpath("td[2]")[0].text_content() == actor
                   for tr in rows)
        assert "by:hostile" in ans.doc.xpath("//main")[0].text_content()

    def test_contract_console_001_04_every_change_is_a_csrf_post(
            self, hostile_console):
        c = hostile_console
        cid = c.cid
        forms = []
        for path in ("/", "/apps", "/apps/new", "/apps/" + cid,
                     "/apps/%s/edit" % cid, "/apps/%s/delete" % cid,
                     "/apps/%s/grants" % cid, "/scopes", "/audit"):
            for f in c.get(path).doc.xpath("//form"):
                forms.append((path, f))
        posts = [(p, f) for p, f in forms if f.get("method") == "post"]
        assert len(posts) >= 8
        for path, f in posts:
            assert f.xpath(".//input[@type='hidden'][@name='csrf']/@value")
            # Every button is named by its text.
            for b in f.xpath(".//button"):
                assert b.text_content().strip()
        # GET forms search, filter, or open a delete's confirmation page:
        # they never make a change themselves.
        for path, f in forms:
            if f.get("method") != "post":
                action = f.get("action")
                assert action in (SCRIPT + "/apps", SCRIPT + "/audit") or \
                    re.fullmatch(re.escape(SCRIPT) + r"/apps/[^/]+/delete",
                                 action), \
                    (path, action)
        # Each change route refuses GET and a POST without the token.
        before = dump(c.registry)
        for route in ("/apps/%s/rotate", "/apps/%s/end-old-secrets",
                      "/apps/%s/enable", "/apps/%s/disable",
                      "/apps/%s/revoke-all", "/apps/%s/grants/revoke"):
            r = c.get(route % cid)
            assert r.status == 405, route
            r = c.run(route % cid, "POST", body={"family": "fam-1",
                                                 "grace": "0"})
            assert r.status == 403, route
        for route, body in (("/apps/new", {"name": "csrf-less"}),
                            ("/apps/%s/edit" % cid, {"name": "x"}),
                            ("/apps/%s/delete" % cid, {}),
                            ("/scopes", {"name": "csrf:less"}),
                            ("/scopes/delete", {"name": HOSTILE["scope"]})):
            r = c.run(route, "POST", body=body)
            assert r.status == 403, route
        assert dump(c.registry) == before


# --- the console through httpd, against the running issuer -------------------

import lxml.html  # noqa: E402
import requests  # noqa: E402

CONSOLE_CONF = """
ScriptAlias /admin "{console_cgi}"
<Location /admin>
    AuthType Basic
    AuthName "token-admin"
    AuthBasicProvider file
    AuthUserFile "{root}/conf/operators.passwd"
    Require valid-user
    SetEnv AUTH_TOKEN_REGISTRY {root}/var/registry.db
    SetEnv AUTH_TOKEN_CONSOLE_HTDOCS "{console_htdocs}"
</Location>
"""


class Operator:
    """A person at the console: reads pages, presses buttons by their text,
    fills fields by their label."""

    def __init__(self, httpd, auth):
        self.httpd = httpd
        self.s = requests.Session()
        self.s.auth = auth

    def get(self, path):
        r = self.s.get(self.httpd.url + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code)
        return lxml.html.document_fromstring(r.text)

    def press(self, path, button, labels=None, checks=None):
        """On page PATH, fills the fields named by LABELS (label text ->
        value), ticks CHECKS (label texts), and presses BUTTON of its form.
        Returns the answer (redirects not followed)."""
        action, data = form_submission(self.get(path), button, labels,
                                       checks)
        return self.s.post(self.httpd.url + action, data=data,
                           allow_redirects=False, timeout=10)

    def press_and_confirm(self, path, button, labels=None):
        """press(), then, on the page that asks again (issue 9: what ends
        something names what will stop working), the button of the same
        name. Returns the last answer."""
        r = self.press(path, button, labels)
        assert r.status_code == 200, (button, r.status_code)
        doc = lxml.html.document_fromstring(r.text)
        assert doc.xpath("//div[@id='consequences']/p"), button
        action, data = form_submission(doc, button)
        assert ("confirm", "yes") in data
        return self.s.post(self.httpd.url + action, data=data,
                           allow_redirects=False, timeout=10)


def form_submission(doc, button, labels=None, checks=None):
    """(action, fields) that a browser sends when BUTTON (by its text) is
    pressed on DOC after filling LABELS (label text -> value) and ticking
    CHECKS (label texts)."""
    forms = [f for f in doc.xpath("//form") if any(
        b.text_content().strip() == button for b in f.xpath(".//button"))]
    assert len(forms) >= 1, button
    form = forms[0]
    by_label = {}
    for lab in doc.xpath("//label"):
        by_label[lab.text_content().strip()] = lab.get("for")
    data = []
    for el in form.xpath(".//input | .//textarea | .//select"):
        name, typ = el.get("name"), el.get("type", "text")
        if not name:
            continue
        if typ in ("checkbox", "radio"):
            if el.get("checked") is not None:
                data.append((name, el.get("value", "on")))
        elif el.tag == "textarea":
            data.append((name, el.text or ""))
        elif el.tag == "select":
            sel = el.xpath("option[@selected]/@value") or \
                el.xpath("option/@value")[:1]
            data.append((name, sel[0] if sel else ""))
        else:
            data.append((name, el.get("value", "")))
    for text, value in (labels or {}).items():
        el = doc.get_element_by_id(by_label[text])
        data = [(n, v) for n, v in data if n != el.get("name")]
        data.append((el.get("name"), value))
    for text in checks or ():
        el = doc.get_element_by_id(by_label[text])
        data.append((el.get("name"), el.get("value", "on")))
    action = form.get("action")
    assert action.startswith("/admin/"), action
    return action, data


def wait_status(httpd, tok, status, timeout=2.5):
    end = time.time() + timeout
    while time.time() < end:
        if httpd.get("/api/data.txt", token=tok).status_code == status:
            return True
        time.sleep(0.05)
    return False


class TestConsoleAgainstIssuer:
    """What an operator does in the console reaches oauth-token and the
    protected location: create (secret once), rotate with and without
    grace, revoke old secret now, disable/enable, revoke one grant, revoke
    one access token, revoke all tokens, delete."""
    ALLOWED_LOG_IDS = ()
    AUTH = ("ops", "pass-for-ops")

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"],
                               RESOURCE + CONSOLE_CONF)
        subprocess.run(["htpasswd", "-cbB", env.path("conf/operators.passwd"),
                        cls.AUTH[0], cls.AUTH[1]], check=True,
                       capture_output=True)
        os.chmod(env.path("conf/operators.passwd"), 0o644)

    def create(self, httpd, name):
        op = Operator(httpd, self.AUTH)
        r = op.press("/admin/apps/new", "Create application",
                     labels={"Name": name},
                     checks=["client_credentials", "refresh_token",
                             "Refresh tokens with client credentials",
                             "offline_access"])
        assert r.status_code == 303, r.text
        loc = r.headers["Location"]
        assert loc.endswith("/secret"), loc
        page = op.get(loc)
        secret = page.xpath("//input[@id='secret']/@value")[0]
        cid = loc.split("/")[3]
        again = op.s.get(httpd.url + loc, timeout=10)
        assert again.status_code == 410 and secret not in again.text
        return op, cid, secret

    def test_contract_console_010_01_create_rotate_end(self, httpd):
        op, cid, secret = self.create(httpd, "console-made")
        assert cc(httpd, (cid, secret)).status_code == 200
        app_page = "/admin/apps/" + cid
        # Rotate without grace: the old secret ends at once.
        r = op.press_and_confirm(app_page, "Rotate secret")
        assert r.status_code == 303
        s2 = op.get(r.headers["Location"]).xpath(
            "//input[@id='secret']/@value")[0]
        assert_invalid_client(cc(httpd, (cid, secret)))
        assert cc(httpd, (cid, s2)).status_code == 200
        # Rotate with a grace: both work; "Revoke old secret now" ends it.
        r = op.press_and_confirm(app_page, "Rotate secret", labels={
            "Keep the old secret valid for (seconds, 0 ends it now)": "600"})
        assert r.status_code == 303
        s3 = op.get(r.headers["Location"]).xpath(
            "//input[@id='secret']/@value")[0]
        assert cc(httpd, (cid, s2)).status_code == 200
        assert cc(httpd, (cid, s3)).status_code == 200
        r = op.press_and_confirm(app_page, "Revoke old secret now")
        assert r.status_code == 303
        assert_invalid_client(cc(httpd, (cid, s2)))
        assert cc(httpd, (cid, s3)).status_code == 200
        # Disable / enable.
        assert op.press_and_confirm(app_page,
                                    "Disable application").status_code == 303
        assert_invalid_client(cc(httpd, (cid, s3)))
        assert op.press(app_page, "Enable application").status_code == 303
        assert cc(httpd, (cid, s3)).status_code == 200
        # The audit log names the operator for each of these.
        rows = op.get("/admin/audit?app=" + cid).xpath(
            "//tbody[@id='audit-rows']/tr")
        assert len(rows) >= 6
        assert all(tr.xpath("td[2]")[0].text_content() == "ops"
                   for tr in rows)

    def test_contract_console_010_02_revocations(self, httpd):
        op, cid, secret = self.create(httpd, "console-revoker")
        app = (cid, secret)
        grants_page = "/admin/apps/%s/grants" % cid
        # One grant revoked by its button.
        rt1 = cc(httpd, app, scope="offline_access").json()["refresh_token"]
        assert op.get(grants_page).xpath("//tbody[@id='grant-rows']/tr")
        r = op.press_and_confirm(grants_page, "Revoke grant")
        assert r.status_code == 303
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt1}, auth=app)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        # One access token revoked by its jti.
        tok = cc(httpd, app).json()["access_token"]
        other = cc(httpd, app).json()["access_token"]
        jti = json.loads(b64url_bytes(tok.split(".")[1]))["jti"]
        r = op.press(grants_page, "Revoke access token",
                     labels={"Access token id (its jti claim)": jti})
        assert r.status_code == 303, r.text
        assert wait_status(httpd, tok, 401)
        assert httpd.get("/api/data.txt", token=other).status_code == 200
        # Everything of the application.
        rt2 = cc(httpd, app, scope="offline_access").json()["refresh_token"]
        r = op.press_and_confirm("/admin/apps/" + cid,
                                 "Revoke all tokens of this application")
        assert r.status_code == 303
        assert wait_status(httpd, other, 401)
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt2}, auth=app)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        # Delete, through its confirmation page.
        r = op.press("/admin/apps/%s/delete" % cid, "Delete application")
        assert r.status_code == 303
        assert_invalid_client(cc(httpd, app))
        # The registry stayed usable for the CLI (no file the console made
        # is out of httpd's reach) and shows the deletion.
        assert cid not in [a["client_id"] for a in
                           token_admin(httpd, "app", "list")]
        for f in os.listdir(httpd.path("var")):
            st = os.stat(os.path.join(httpd.path("var"), f))
            assert st.st_uid != 0, f


class TestAdminUnderLoad:
    """token-admin changes while the issuer is busy writing the same
    registry (every token records its jti): no change is refused as
    "locked", and every token request gets a proper answer."""
    ALLOWED_LOG_IDS = ()

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], RESOURCE)
        add_scopes(env, "read")

    def test_contract_load_001_01_changes_during_traffic(self, httpd):
        import concurrent.futures
        import threading
        busy = add_app(httpd, "busy", scopes="read")
        stop = threading.Event()
        statuses = []

        def hammer():
            s = requests.Session()
            while not stop.is_set():
                r = s.post(httpd.url + "/oauth/token", auth=busy,
                           data={"grant_type": "client_credentials"},
                           timeout=10)
                statuses.append(r.status_code)

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futs = [pool.submit(hammer) for _ in range(6)]
            try:
                t0 = time.time()
                for i in range(12):
                    app = add_app(httpd, "load-%d" % i, scopes="read")
                    token_admin(httpd, "app", "rotate-secret", app[0],
                                "--grace", "60")
                    token_admin(httpd, "app", "update", app[0],
                                "--description", "d%d" % i)
                    token_admin(httpd, "token", "revoke", "--client",
                                app[0])
                    token_admin(httpd, "app", "delete", app[0])
                elapsed = time.time() - t0
            finally:
                stop.set()
                for f in futs:
                    f.result(timeout=30)
        assert statuses and set(statuses) == {200}, set(statuses)
        assert len(statuses) > 50, len(statuses)
        # 60 changes; each should take well under the 5.6 s lock wait.
        assert elapsed < 60, elapsed


class TestConsoleEditRoundTrip:
    """Issue 4: application detail and edit cover every field of the
    contract. Saving the edit form unchanged changes nothing; changing one
    field through it changes only that field."""

    def submit(self, console, path, button, labels=None, checks=None):
        page = console.get(path)
        action, data = form_submission(page.doc, button, labels, checks)
        body = urllib.parse.urlencode(data).encode()
        return console.run(action[len(SCRIPT):], "POST", body=body)

    def test_contract_console_020_01_unchanged_save(self):
        c = Console()
        try:
            reg = c.registry
            ok(reg, "scope", "add", "orders:read")
            app = full_app(reg)
            cid = app["client_id"]
            ok(reg, "app", "disable", cid)
            before = fields(ok_json(reg, "app", "show", cid))
            hashes = sql(reg, "SELECT hash, coalesce(expires, '') FROM "
                         "app_secrets WHERE client_id = '%s'" % cid)
            r = self.submit(c, "/apps/%s/edit" % cid, "Save changes")
            assert r.status == 303, r.text
            assert fields(ok_json(reg, "app", "show", cid)) == before
            assert sql(reg, "SELECT hash, coalesce(expires, '') FROM "
                       "app_secrets WHERE client_id = '%s'" % cid) == hashes
            r = self.submit(c, "/apps/%s/edit" % cid, "Save changes",
                            labels={"Description": "changed <here>"})
            assert r.status == 303, r.text
            after = fields(ok_json(reg, "app", "show", cid))
            before["description"] = "changed <here>"
            assert after == before
        finally:
            c.cleanup()


class TestSecretShownOnce:
    """Contract: secrets are "shown once"; issue 4: "and never again". The
    page clears its cookie, but a copy of the cookie sent again (a second
    tab's request in flight, a replay) must not show it a second time."""

    def test_contract_console_030_01_replayed_cookie(self):
        c = Console()
        try:
            r = c.post("/apps/new", {"name": "once", "type": "confidential",
                                     "grant": ["client_credentials"]},
                       form_page="/apps/new")
            assert r.status == 303
            jar = r.all("set-cookie")[0].split(";")[0]
            path = r.header("location")[len(SCRIPT):]
            cid = path.split("/")[2]
            first = c.get(path, cookie=jar)
            assert first.status == 200
            secret = first.doc.xpath("//input[@id='secret']/@value")[0]
            again = c.get(path, cookie=jar)
            assert again.status == 410 and secret not in again.text
            # The log says who saw it (and not the secret).
            rows = ok_json(c.registry, "audit", "--target", cid)
            shown = [x for x in rows if x["action"] == "secret.shown"]
            assert len(shown) == 1 and shown[0]["actor"] == "alice"
            assert secret not in json.dumps(rows)
            # A rotation's secret: the same.
            r = c.post("/apps/%s/rotate" % cid, {"grace": "0",
                                                 "confirm": "yes"})
            jar = r.all("set-cookie")[0].split(";")[0]
            assert c.get(path, cookie=jar).status == 200
            assert c.get(path, cookie=jar).status == 410
        finally:
            c.cleanup()

    def test_contract_console_030_02_parallel_replays(self):
        import concurrent.futures
        c = Console()
        try:
            r = c.post("/apps/new", {"name": "race", "type": "confidential",
                                     "grant": ["client_credentials"]},
                       form_page="/apps/new")
            jar = r.all("set-cookie")[0].split(";")[0]
            path = r.header("location")[len(SCRIPT):]
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(
                    lambda _: c.get(path, cookie=jar).status, range(8)))
            assert sorted(statuses) == [200] + [410] * 7, statuses
        finally:
            c.cleanup()


class TestReflectedInput:
    """Markup in what the request itself carries (search, filters, notices,
    paths) comes back as text, never as markup."""

    MARKUP = "<script>alert(1)</script>\"'><svg/onload=alert(2)>"

    def test_contract_console_040_01_query_and_path(self):
        q = urllib.parse.quote(self.MARKUP)
        c = Console()
        try:
            for path, query, status in (
                    ("/apps", "q=" + q, 200),
                    ("/apps", "done=" + q, 200),
                    ("/apps", "page=" + q, 200),
                    ("/audit", "actor=%s&app=%s" % (q, q), 200),
                    ("/scopes", "done=" + q, 200),
                    ("/scopes/edit", "name=" + q, 404),
                    ("/apps/" + self.MARKUP, "", 404),
                    ("/apps/%s/grants" % self.MARKUP, "", 404)):
                r = c.get(path, query=query)
                assert r.status == status, (path, query, r.status)
                check_html(r)
                no_active_markup(r)
            r = c.get("/apps", query="q=" + q)
            assert r.doc.xpath("//input[@id='q']/@value") == [self.MARKUP] \
                or self.MARKUP in r.doc.xpath("//main")[0].text_content()
        finally:
            c.cleanup()
