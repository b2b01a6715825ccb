"""Several httpd nodes as one issuer on one PostgreSQL registry
(interface.md, "Registry on PostgreSQL").

A private PostgreSQL (pg_env.py) and two private httpd nodes with the same
signing key and issuer name; node A reaches the database over its Unix
socket, node B over TCP. Covered: a token from A validates on B; a
revocation on B (RFC 7009, CLI, console) is honoured on A within 2 s; a
refresh token raced across the nodes wins once and the reuse revokes the
family; the console (the CGI run directly) and the CLI see and change the
same data; configtest checks a connection string's form without
connecting; the password is in no log line, page or message; and the
database stopped and started again under load: only 503s (quick, with
Retry-After) while it is down, resource locations without the registry
keep answering, nothing a 200 promised is lost, and service comes back
without restarting httpd; a node started while the database is down
serves once it is up."""
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time

import pytest
import requests

import test_issuer_load
from authz_helpers import (AUTHZ_LOCATIONS, CB, Person, code_params,
                           exchange, make_people, pkce_pair)
from httpd_env import REPO, HttpdEnv, TOKEN_ADMIN, free_port
from issuer_helpers import ISSUER_LOCATIONS, make_key, unverified_claims
from pg_env import PgServer
from test_console_cgi import Console
from test_issuer_load import Load

ISSUER = "https://issuer.example.test"

NODE_MPM = """
<IfModule mpm_event_module>
    ServerLimit 3
    StartServers 2
    ThreadsPerChild 16
    MaxRequestWorkers 48
    MinSpareThreads 16
    MaxSpareThreads 48
</IfModule>
"""

PROTECTED = """
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
<Location /open>
    AuthType Bearer
    AuthName "open"
    AuthTokenVerifyLocal On
    Require valid-user
</Location>
"""

# Errors every node may log while the database is away (each names the
# registry call that could not be made); crashes are never allowed.
OUTAGE_IDS = ("AT00603", "AT00606", "AT00411", "AT00433", "AT00440",
              "AT00442", "AT00444", "AT00452", "AT00460", "AT00461",
              "AT00480", "AT00610", "AT00612", "AT00443")


def node_conf(conninfo, extra=""):
    return ('AuthTokenRegistry pgsql "%s"\n' % conninfo
            + "AuthTokenIssuerName %s\n" % ISSUER
            + "AuthTokenSigningKey ES256 {root}/keys/es256.pem kid=shared\n"
            + ISSUER_LOCATIONS + PROTECTED + NODE_MPM + extra)


class Nodes:
    """Node A (Unix socket) and node B (TCP) on one database."""

    def __init__(self, pg, db, extra=""):
        self.pg = pg
        self.conninfo = pg.new_database(db)
        self.spec = "pgsql:" + self.conninfo
        self.a = HttpdEnv()
        self.b = HttpdEnv()
        make_key(self.a, "ES256", "es256.pem")
        shutil.copy(self.a.path("keys/es256.pem"),
                    self.b.path("keys/es256.pem"))
        for env in (self.a, self.b):
            env.write_file("htdocs/open/data.txt", "open data\n")
        self.a.install(node_conf(self.conninfo, extra))
        self.b.install(node_conf(pg.tcp(self.conninfo), extra))

    @property
    def both(self):
        return (self.a, self.b)

    def start(self):
        for env in self.both:
            env.start()
            env.mark_log()

    def admin(self, *args, check=True, spec=None):
        r = subprocess.run([TOKEN_ADMIN, "--registry", spec or self.spec,
                            "--json"] + list(args),
                           capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout) if r.stdout.strip() else None
        return r

    def app(self, name, extra=()):
        doc = self.admin("app", "add", "--name", name, "--grant",
                         "client_credentials,refresh_token", "--scope",
                         "read", *extra)
        return (doc["client_id"], doc["client_secret"])

    def logs_clean(self, allowed=()):
        for env in self.both:
            text = env.new_log()
            bad = env.log_problems(text, allowed)
            assert not bad, "\n".join(bad[:20])
            assert self.pg.password not in env.read_log()

    def cleanup(self):
        for env in self.both:
            env.cleanup()


def token(env, auth, scope="read"):
    r = requests.post(env.url + "/oauth/token", auth=auth, timeout=30,
                      data={"grant_type": "client_credentials",
                            "scope": scope})
    assert r.status_code == 200, r.text
    return r.json()


def api(env, tok, path="/api/data.txt"):
    return requests.get(env.url + path, timeout=30,
                        headers={"Authorization": "Bearer " + tok})


def wait_refused(env, tok, start, limit=5.0):
    """Seconds from START until ENV refuses TOK (401), polling."""
    while time.time() - start < limit:
        if api(env, tok).status_code == 401:
            return time.time() - start
        time.sleep(0.02)
    return None


@pytest.fixture(scope="module")
def pg():
    server = PgServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="class")
def nodes(request, pg):
    n = Nodes(pg, request.cls.DB)
    n.start()
    n.admin("scope", "add", "read", "--description", "read")
    request.cls.APP = n.app("service", ["--offline-client-credentials"])
    yield n
    n.cleanup()


class TestPgAuthorize:
    """Delegated authorization with both nodes on one database: a code
    made on A is redeemed on B; presented again on A it is refused and
    what the first redemption issued is revoked on both nodes; the consent
    given on A is known to B."""
    DB = "authorize"

    @pytest.fixture(scope="class")
    def anodes(self, pg):
        n = Nodes(pg, self.DB, AUTHZ_LOCATIONS)
        for env in n.both:
            make_people(env)
        n.start()
        n.admin("scope", "add", "read", "--description", "read")
        yield n
        n.cleanup()

    def test_pg_040_code_across_nodes(self, anodes):
        cid = anodes.admin("app", "add", "--name", "web", "--type", "public",
                           "--grant", "authorization_code,refresh_token",
                           "--scope", "read,offline_access",
                           "--redirect-uri", CB)["client_id"]
        verifier, challenge = pkce_pair()
        q = Person(anodes.a, "alice").code_for(
            code_params(cid, CB, "read offline_access", challenge))
        assert "code" in q, q
        r = exchange(anodes.b, cid, q["code"], CB, verifier)
        assert r.status_code == 200, r.text
        tok = r.json()
        assert unverified_claims(tok["access_token"])[1]["sub"] == "alice"
        assert "refresh_token" in tok
        assert api(anodes.a, tok["access_token"]).status_code == 200

        again = exchange(anodes.a, cid, q["code"], CB, verifier)
        assert again.status_code == 400, again.text
        assert again.json()["error"] == "invalid_grant"
        for env in anodes.both:
            assert wait_refused(env, tok["access_token"], time.time()), \
                "the first redemption's token still accepted"
        r = requests.post(anodes.b.url + "/oauth/token", timeout=30,
                          data={"grant_type": "refresh_token",
                                "refresh_token": tok["refresh_token"],
                                "client_id": cid})
        assert r.status_code == 400, r.text

        # Consent remembered in the database: B sends alice straight back.
        r = Person(anodes.b, "alice").authorize(
            code_params(cid, CB, "read", challenge))
        assert r.status_code == 302, r.text[:300]
        anodes.logs_clean(("AT01273",))


class TestPgTwoNodes:
    DB = "two_nodes"
    APP = None

    def test_pg_001_token_from_a_validates_on_b(self, nodes):
        doc = token(nodes.a, self.APP)
        at = doc["access_token"]
        assert unverified_claims(at)[1]["iss"] == ISSUER
        for env in nodes.both:
            assert api(env, at).status_code == 200
            assert api(env, at, "/open/data.txt").status_code == 200
            r = requests.post(env.url + "/oauth/introspect", auth=self.APP,
                              data={"token": at}, timeout=30)
            assert r.json()["active"] is True, r.text
        keys = [requests.get(env.url + "/oauth/jwks", timeout=30).json()
                for env in nodes.both]
        assert keys[0] == keys[1]
        nodes.logs_clean()

    def test_pg_002_revocation_on_b_honoured_on_a(self, nodes):
        """RFC 7009 on B, then A refuses within 2 s (A's revocation cache
        polls the generation; the token was accepted by A just before, so
        the cache held it as valid)."""
        took = []
        for _ in range(5):
            at = token(nodes.a, self.APP)["access_token"]
            assert api(nodes.a, at).status_code == 200
            start = time.time()
            r = requests.post(nodes.b.url + "/oauth/revoke", auth=self.APP,
                              data={"token": at}, timeout=30)
            assert r.status_code == 200
            took.append(wait_refused(nodes.a, at, start))
            assert took[-1] is not None and took[-1] < 2.0, took
        print("revocation B -> A: median %.3f s, max %.3f s"
              % (statistics.median(took), max(took)))
        nodes.logs_clean()

    def test_pg_003_cli_revocation_on_both(self, nodes):
        app = nodes.app("cli-revoked")
        at = token(nodes.b, app)["access_token"]
        assert api(nodes.a, at).status_code == 200
        assert api(nodes.b, at).status_code == 200
        start = time.time()
        nodes.admin("token", "revoke", "--jti",
                    unverified_claims(at)[1]["jti"])
        for env in nodes.both:
            t = wait_refused(env, at, start)
            assert t is not None and t < 2.0, t
        # And every token of a client at once.
        at2 = token(nodes.a, app)["access_token"]
        assert api(nodes.b, at2).status_code == 200
        start = time.time()
        nodes.admin("token", "revoke", "--client", app[0])
        for env in nodes.both:
            t = wait_refused(env, at2, start)
            assert t is not None and t < 2.0, t
        nodes.logs_clean()

    def test_pg_004_refresh_race_across_nodes(self, nodes):
        for _ in range(4):
            rt = token(nodes.a, self.APP,
                       "read offline_access")["refresh_token"]
            barrier = threading.Barrier(6)

            def one(i):
                env = nodes.both[i % 2]
                barrier.wait(timeout=30)
                return requests.post(env.url + "/oauth/token",
                                     auth=self.APP, timeout=30,
                                     data={"grant_type": "refresh_token",
                                           "refresh_token": rt})

            with concurrent.futures.ThreadPoolExecutor(6) as ex:
                answers = list(ex.map(one, range(6)))
            codes = [a.status_code for a in answers]
            assert codes.count(200) == 1, codes
            assert codes.count(400) == 5, codes
            won = [a.json()["refresh_token"] for a in answers
                   if a.status_code == 200][0]
            # The reuse revoked the family: the winner's token is refused
            # on both nodes.
            for env in nodes.both:
                r = requests.post(env.url + "/oauth/token", auth=self.APP,
                                  timeout=30,
                                  data={"grant_type": "refresh_token",
                                        "refresh_token": won})
                assert r.status_code == 400, r.text
        audit = nodes.admin("audit", "--target", self.APP[0], "--limit",
                            "200")
        assert "refresh.reuse" in json.dumps(audit)
        nodes.logs_clean(("AT00443",))

    def test_pg_005_console_and_cli_same_data(self, nodes, tmp_path):
        console = PgConsole(nodes.spec, str(tmp_path / "console.key"))
        try:
            cid, _ = console.create_app(
                "console-made", scope=["read"],
                grant=["client_credentials"])
            shown = nodes.admin("app", "show", cid)
            assert json.dumps(shown).count("console-made") >= 1
            # The CLI rotates the secret; node A takes the new one only.
            new = nodes.admin("app", "rotate-secret", cid)
            secret = new.get("client_secret") or new.get("secret")
            assert token(nodes.a, (cid, secret))["access_token"]
            # The console shows the rotation the CLI made, and the CLI the
            # creation the console made.
            page = console.get("/audit", query="app=" + cid)
            assert page.status == 200, page.text
            assert "secret.rotate" in page.text
            audit = json.dumps(nodes.admin("audit", "--target", cid))
            assert "app.create" in audit and "alice" in audit
            # The console revokes every token of it; node B refuses.
            at = token(nodes.b, (cid, secret))["access_token"]
            assert api(nodes.b, at).status_code == 200
            r = console.post("/apps/%s/revoke-all" % cid, {"confirm": "yes"},
                             form_page="/apps/%s" % cid)
            assert r.status == 303, r.text
            t = wait_refused(nodes.b, at, time.time())
            assert t is not None and t < 2.0
        finally:
            console.cleanup()
        nodes.logs_clean()

    def test_pg_007_secret_rotation_with_grace(self, nodes):
        """A rotation made through one node's registry is what every node
        authenticates with: both secrets during the grace, only the new
        one once the old are ended."""
        app = nodes.app("rotated")
        new = nodes.admin("app", "rotate-secret", app[0], "--grace", "600")
        fresh = (app[0], new.get("client_secret") or new.get("secret"))
        for env in nodes.both:
            assert token(env, app)["access_token"]
            assert token(env, fresh)["access_token"]
        r = requests.post(nodes.a.url + "/oauth/token", auth=fresh,
                          data={"grant_type": "client_credentials"},
                          timeout=30)
        assert r.status_code == 200
        nodes.admin("app", "rotate-secret", app[0], "--grace", "0")
        for env in nodes.both:
            for auth in (app, fresh):
                r = requests.post(env.url + "/oauth/token", auth=auth,
                                  data={"grant_type": "client_credentials"},
                                  timeout=30)
                assert r.status_code == 401, r.text
        nodes.logs_clean()

    def test_pg_006_password_in_no_message(self, nodes, tmp_path):
        pw = nodes.pg.password
        wrong = nodes.spec.replace(pw, "Wr0ng-" + pw[::-1])
        r = nodes.admin("scope", "list", check=False, spec=wrong)
        assert r.returncode == 3
        assert "password" in r.stderr and pw[::-1] not in r.stderr
        assert pw not in r.stderr
        console = PgConsole(wrong, str(tmp_path / "k"))
        try:
            # Unreachable as far as the console can tell: 503, try later.
            page = console.get("/")
            assert page.status == 503 and page.header("retry-after") == "1"
            assert pw[::-1] not in page.text and pw[::-1] not in page.stderr
            assert "registry" in page.stderr
        finally:
            console.cleanup()
        for env in nodes.both:
            assert pw not in env.read_log()
            assert pw not in open(env.path("logs/access_log")).read()


class PgConsole(Console):
    """The console CGI on the PostgreSQL registry: its form key in a file
    of its own (there is no registry file to put it beside)."""

    def __init__(self, spec, key):
        super().__init__()
        self.registry = spec
        self.key = key

    def run(self, *args, extra=None, **kw):
        env = {"AUTH_TOKEN_CONSOLE_KEY": self.key}
        env.update(extra or {})
        return super().run(*args, extra=env, **kw)


class TestPgConfigtest:
    """configtest checks the connection string's form, without
    connecting (nothing listens on port 1)."""

    @pytest.mark.parametrize("conninfo, why", [
        ("host=127.0.0.1 port=1 dbname=r user=u password=S3cr3t-x "
         "colour=blue", "unknown connection keyword \"colour\""),
        ("host=127.0.0.1 port=1 dbname=r password='S3cr3t-x",
         "no closing quote"),
        ("host=127.0.0.1 dbname=r password S3cr3t-x",
         "expected keyword=value"),
        ("postgresql://u:S3cr3t-x@127.0.0.1/r", "not as a URI"),
        ("host=127.0.0.1 host=h2 dbname=r password=S3cr3t-x",
         "given twice"),
    ])
    def test_pg_020_malformed(self, conninfo, why):
        env = HttpdEnv()
        try:
            env.install('AuthTokenRegistry pgsql "%s"\n' % conninfo)
            ok, out = env.configtest()
            assert not ok and why in out, out
            assert "S3cr3t-x" not in out
        finally:
            env.cleanup()

    def test_pg_021_well_formed_not_connected(self):
        env = HttpdEnv()
        try:
            env.install('AuthTokenRegistry pgsql "host=127.0.0.1 port=1 '
                        "dbname=r user=u password='S3cr3t x' "
                        'connect_timeout=2"\n'
                        'AuthTokenRegistry "pgsql:host=127.0.0.1 port=1 '
                        'dbname=r"\n')
            ok, out = env.configtest()
            assert ok, out
        finally:
            env.cleanup()


class Spread:
    """What Load needs of an env: a URL, each time one of the nodes."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.n = 0
        self.lock = threading.Lock()

    @property
    def url(self):
        with self.lock:
            self.n += 1
            return self.nodes.both[self.n % 2].url


class OutageLoad(Load):
    """Load over both nodes in which a 503 is an answer the contract
    promises while the database is away; any other 5xx, a drop or a
    broken promise still fails."""

    PROMISED = re.compile(r"^(?:[a-z ]+: )?503\b")

    def __init__(self, nodes, app):
        super().__init__(Spread(nodes), app)
        self.unavailable = 0

    def fail(self, what, detail):
        if self.PROMISED.match(detail):
            with self.lock:
                self.unavailable += 1
            return
        super().fail(what, detail)

    def check_races(self):
        for rt, codes, nxt in self.race_results:
            assert codes.count(200) <= 1, codes
            assert set(codes) <= {200, 400, 503}, codes
            if 503 not in codes:
                assert codes.count(200) == 1, codes
            if 400 in codes:
                for n in nxt:
                    r = self.refresh(n, "after_race")
                    assert r is not None and r.status_code == 400, \
                        "family survived a reuse: %s" % (r and r.status_code)


class TestPgOutage:
    DB = "outage"
    APP = None

    def test_pg_010_restart_under_load(self, nodes, monkeypatch):
        monkeypatch.setattr(test_issuer_load, "THREADS", 24)
        pids = [env.pid() for env in nodes.both]
        probe = {}
        at = token(nodes.a, self.APP)["access_token"]

        def outage(deadline):
            time.sleep(4)
            nodes.pg.stop()
            time.sleep(0.5)
            # While it is down: quick 503s with Retry-After from the
            # token endpoint, and a location without the registry serves.
            slowest = 0
            for env in nodes.both:
                for _ in range(3):
                    t0 = time.time()
                    r = requests.post(env.url + "/oauth/token",
                                      auth=self.APP, timeout=30,
                                      data={"grant_type":
                                            "client_credentials"})
                    slowest = max(slowest, time.time() - t0)
                    probe.setdefault("token", []).append(
                        (r.status_code, r.headers.get("Retry-After")))
                probe.setdefault("open", []).append(
                    api(env, at, "/open/data.txt").status_code)
                probe.setdefault("api", []).append(api(env, at).status_code)
                probe.setdefault("jwks", []).append(requests.get(
                    env.url + "/oauth/jwks", timeout=30).status_code)
            probe["slowest"] = slowest
            time.sleep(max(0, 9 - (time.time() - (deadline - 20))))
            nodes.pg.start()

        load = OutageLoad(nodes, self.APP)
        load.run(20, during=outage)
        assert not load.failures, load.failures[:20]
        assert set(probe["token"]) == {(503, "1")}, probe
        assert probe["slowest"] < 1.5, probe
        assert set(probe["open"]) == {200} and set(probe["jwks"]) == {200}
        assert set(probe["api"]) == {503}, probe
        assert load.unavailable > 0
        others = {k: v for k, v in load.counts.items()
                  if k[1] >= 500 and k[1] != 503}
        assert not others, others
        # Service came back by itself, on both nodes, same processes.
        for env in nodes.both:
            doc = token(env, self.APP)
            assert api(env, doc["access_token"]).status_code == 200
        assert [env.pid() for env in nodes.both] == pids
        load.check_races()
        load.check_revoked()
        load.check_promises()
        # Every access token a 200 handed out was recorded: its jti is
        # known to the registry (revocation by jti finds it).
        for tok in load.issued_access[-30:]:
            nodes.admin("token", "revoke", "--jti",
                        unverified_claims(tok)[1]["jti"])
        assert not load.failures, load.failures[:20]
        print("outage: %d answers were 503, %d requests in all"
              % (load.unavailable, sum(load.counts.values())))
        for env in nodes.both:
            assert "AT00603" in env.read_log()
            assert "AT01201" in env.read_log()
            assert not [l for l in env.read_log().splitlines()
                        if "exit signal" in l or "Segmentation" in l]
        nodes.logs_clean(OUTAGE_IDS)

    def test_pg_011_node_started_while_database_down(self, nodes):
        nodes.pg.stop()
        try:
            nodes.b.restart()
            log = nodes.b.new_log()
            assert "AT01200" in log, log[-2000:]
            r = requests.post(nodes.b.url + "/oauth/token", auth=self.APP,
                              data={"grant_type": "client_credentials"},
                              timeout=30)
            assert r.status_code == 503
        finally:
            nodes.pg.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            r = requests.post(nodes.b.url + "/oauth/token", auth=self.APP,
                              data={"grant_type": "client_credentials"},
                              timeout=30)
            if r.status_code == 200:
                break
            time.sleep(0.2)
        assert r.status_code == 200, r.text
        nodes.logs_clean(OUTAGE_IDS + ("AT01200",))


def two_free_ports():
    """A free port whose next one is free too (the demo's two nodes)."""
    import socket
    for _ in range(50):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


@pytest.mark.skipif(os.geteuid() != 0, reason="the demo runs as root")
def test_pg_030_demo(tmp_path):
    """scripts/demo.sh --pgsql on private ports and a private folder (0700,
    as a clone under /root is): the steps it prints work, and stop stops
    the nodes and the database."""
    run = str(tmp_path / "run")
    os.makedirs(run)
    os.chmod(str(tmp_path), 0o700)
    port = two_free_ports()
    env = dict(os.environ, DEMO_RUN=run, DEMO_PORT=str(port),
               DEMO_PG_PORT=str(free_port()))
    demo = os.path.join(REPO, "scripts", "demo.sh")
    # The folder www-data and postgres can reach, outside the private one
    # (named by the demo after the private folder's path).
    state = "/var/lib/mod_auth_token-demo-pgsql-" + \
        hashlib.md5(run.encode()).hexdigest()[:8]
    try:
        r = subprocess.run([demo, "--pgsql"], env=env, capture_output=True,
                           text=True, timeout=900)
        assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
        out = r.stdout
        n1, n2 = ("http://127.0.0.1:%d" % p for p in (port, port + 1))
        cid, secret = re.search(r"-u '([^:']+):([^']+)'", out).groups()
        at = requests.post(n1 + "/oauth/token", auth=(cid, secret),
                           data={"grant_type": "client_credentials",
                                 "scope": "orders:read"},
                           timeout=30).json()["access_token"]
        assert api(Url(n2), at, "/api/orders.json").status_code == 200
        assert requests.post(n2 + "/oauth/revoke", auth=(cid, secret),
                             data={"token": at},
                             timeout=30).status_code == 200
        t = wait_refused(Url(n1), at, time.time(), limit=5)
        assert t is not None and t < 2.0
        cli = re.search(r'--registry "([^"]+)" app list', out).group(1)
        listed = subprocess.run(["sh", "-c", 'exec "$0" --registry "%s" '
                                 "app list" % cli, TOKEN_ADMIN],
                                capture_output=True, text=True, timeout=60)
        assert "demo-client" in listed.stdout, listed.stderr
        assert "password=$(cat " in out and \
            open(os.path.join(run, "operator-password")).read() in out
        assert os.path.isdir(os.path.join(state, "pg", "data"))
    finally:
        s = subprocess.run([demo, "--pgsql", "stop"], env=env,
                           capture_output=True, text=True, timeout=300)
        shutil.rmtree(state, ignore_errors=True)
    assert "demo PostgreSQL stopped" in s.stdout, s.stdout + s.stderr
    with pytest.raises(requests.RequestException):
        requests.get("http://127.0.0.1:%d/" % port, timeout=3)


class Url:
    """What api() needs of an env."""

    def __init__(self, url):
        self.url = url
