"""The issuer under concurrent load, then under load with faults.

A threaded httpd with three children; 48 client threads mix
client_credentials (with and without offline_access), refresh chains, one
refresh token raced from several threads at once, RFC 7009 revocation of
access and refresh tokens, introspection, and requests to a protected
location with AuthTokenRevocationCheck On. The run fails on any 5xx or
dropped connection, a crash or a transaction error in the error log, a raced
refresh token winning more than once or its family surviving the reuse, a
revoked access token still accepted after the contract's second, a registry
whose integrity check is not "ok", or a server that stops answering.

The second class kills children with SIGKILL in the middle of the same load:
requests in flight on a killed child may be dropped, but nothing a 200
promised is lost, and no rotation is half done (the old refresh token is
either still usable or refused with its successor alive or revoked, never
both usable)."""
import concurrent.futures
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import requests

from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            registry)

THREADS = 48
SECONDS = 15

LOAD_CONF = """
# Room for every client thread plus the racing threads (6 races of 6):
# reaching MaxRequestWorkers would be logged at [error] (AH00484).
<IfModule mpm_event_module>
    ServerLimit 6
    StartServers 3
    ThreadsPerChild 16
    MaxRequestWorkers 96
    MinSpareThreads 32
    MaxSpareThreads 96
</IfModule>
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
"""

# Transaction and crash symptoms: never acceptable.
FATAL = ("exit signal", "Segmentation fault", "cannot commit",
         "no transaction", "cannot rollback")


class Load:
    """Shared state of one load run; every method is called from many
    threads."""

    def __init__(self, env, app, tolerate_drops=False):
        self.env = env
        self.app = app
        self.tolerate_drops = tolerate_drops
        self.lock = threading.Lock()
        self.failures = []       # unexpected answers: (what, detail)
        self.dropped = []        # (what, refresh token or None)
        self.counts = {}
        self.revoked_at = []     # (access token, time the revoke returned)
        self.race_results = []   # (token, [status...], winner's next RT)
        self.live_refresh = []   # refresh tokens a 200 handed out, unused
        self.issued_access = []  # access tokens a 200 handed out

    # -- plumbing -------------------------------------------------------
    def http(self):
        # A connection per request: a reused keep-alive connection that the
        # server closes as idle would look like a dropped request.
        return requests

    def post(self, what, path, data, rt=None):
        try:
            r = self.http().post(self.env.url + path, data=data,
                                 auth=self.app, timeout=30)
        except requests.RequestException as e:
            with self.lock:
                self.dropped.append((what, rt))
                if not self.tolerate_drops:
                    self.failures.append((what, "dropped: %s" % e))
            return None
        self.count(what, r.status_code)
        if r.status_code >= 500:
            self.fail(what, "%d %s" % (r.status_code, r.text[:200]))
        return r

    def get_api(self, token):
        try:
            r = self.http().get(self.env.url + "/api/data.txt",
                                headers={"Authorization": "Bearer " + token},
                                timeout=30)
        except requests.RequestException as e:
            with self.lock:
                self.dropped.append(("api", None))
                if not self.tolerate_drops:
                    self.failures.append(("api", "dropped: %s" % e))
            return None
        self.count("api", r.status_code)
        return r

    def count(self, what, status):
        with self.lock:
            key = (what, status)
            self.counts[key] = self.counts.get(key, 0) + 1

    def fail(self, what, detail):
        with self.lock:
            self.failures.append((what, detail))

    def token(self, scope):
        r = self.post("client_credentials", "/oauth/token",
                      {"grant_type": "client_credentials", "scope": scope})
        if r is None:
            return None
        if r.status_code != 200:
            self.fail("client_credentials", "%d %s" % (r.status_code,
                                                       r.text[:200]))
            return None
        doc = r.json()
        with self.lock:
            self.issued_access.append(doc["access_token"])
        return doc

    def refresh(self, rt, what="refresh"):
        return self.post(what, "/oauth/token",
                         {"grant_type": "refresh_token", "refresh_token": rt},
                         rt=rt)

    # -- the mix ----------------------------------------------------------
    def op_plain(self):
        doc = self.token("read")
        if doc:
            r = self.get_api(doc["access_token"])
            if r is not None and r.status_code != 200:
                self.fail("api", "fresh token: %d" % r.status_code)

    def op_chain(self):
        doc = self.token("read offline_access")
        if not doc:
            return
        rt = doc.get("refresh_token")
        if not rt:
            self.fail("client_credentials", "no refresh token")
            return
        for _ in range(3):
            r = self.refresh(rt)
            if r is None:
                return
            if r.status_code != 200:
                self.fail("refresh", "chain: %d %s" % (r.status_code,
                                                       r.text[:200]))
                return
            rt = r.json()["refresh_token"]
        with self.lock:
            self.live_refresh.append(rt)

    def op_race(self, pool_size=6):
        doc = self.token("read offline_access")
        if not doc:
            return
        rt = doc["refresh_token"]
        barrier = threading.Barrier(pool_size)
        answers = [None] * pool_size

        def one(i):
            barrier.wait(timeout=30)
            answers[i] = self.refresh(rt, "race")

        ts = [threading.Thread(target=one, args=(i,))
              for i in range(pool_size)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = [a.status_code if a is not None else None for a in answers]
        nxt = [a.json()["refresh_token"] for a in answers
               if a is not None and a.status_code == 200]
        with self.lock:
            self.race_results.append((rt, codes, nxt))

    def op_revoke_access(self):
        doc = self.token("read")
        if not doc:
            return
        r = self.post("revoke", "/oauth/revoke",
                      {"token": doc["access_token"],
                       "token_type_hint": "access_token"})
        if r is not None and r.status_code == 200:
            with self.lock:
                self.revoked_at.append((doc["access_token"], time.time()))
        elif r is not None:
            self.fail("revoke", "%d %s" % (r.status_code, r.text[:200]))

    def op_revoke_refresh(self):
        doc = self.token("read offline_access")
        if not doc:
            return
        rt = doc["refresh_token"]
        r = self.post("revoke", "/oauth/revoke",
                      {"token": rt, "token_type_hint": "refresh_token"})
        if r is None or r.status_code != 200:
            if r is not None:
                self.fail("revoke", "%d %s" % (r.status_code, r.text[:200]))
            return
        r = self.refresh(rt, "refresh_revoked")
        if r is not None and r.status_code != 400:
            self.fail("refresh_revoked", "%d" % r.status_code)

    def op_introspect(self):
        doc = self.token("read")
        if not doc:
            return
        r = self.post("introspect", "/oauth/introspect",
                      {"token": doc["access_token"]})
        if r is not None and (r.status_code != 200
                              or r.json().get("active") is not True):
            self.fail("introspect", "%d %s" % (r.status_code, r.text[:200]))

    OPS = (op_plain, op_plain, op_chain, op_chain, op_revoke_access,
           op_revoke_refresh, op_introspect, op_race)

    def worker(self, deadline, seed):
        rnd = random.Random(seed)
        while time.time() < deadline:
            op = rnd.choice(self.OPS)
            if op is Load.op_race and seed % 8:
                op = Load.op_plain   # only a few threads start races
            op(self)

    def run(self, seconds, during=None):
        deadline = time.time() + seconds
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            futs = [pool.submit(self.worker, deadline, i)
                    for i in range(THREADS)]
            if during:
                during(deadline)
            for f in futs:
                f.result()

    # -- afterwards ---------------------------------------------------------
    def check_races(self):
        """A raced refresh token wins at most once (exactly once when every
        answer arrived); the reuse revokes the family, so the winner's new
        token is refused too."""
        for rt, codes, nxt in self.race_results:
            wins = codes.count(200)
            assert wins <= 1, codes
            if None not in codes:
                assert wins == 1, codes
                assert set(codes) <= {200, 400}, codes
            for n in nxt:
                r = self.refresh(n, "after_race")
                assert r is not None and r.status_code == 400, \
                    "family survived a reuse: %s" % (r and r.status_code)

    def check_revoked(self):
        """Every access token revoked with a 200 is refused a second
        later."""
        if not self.revoked_at:
            return
        wait = max(t for _, t in self.revoked_at) + 1.2 - time.time()
        if wait > 0:
            time.sleep(wait)
        for tok, _ in self.revoked_at:
            r = self.get_api(tok)
            assert r is not None and r.status_code == 401, \
                "revoked token accepted: %s" % (r and r.status_code)

    def check_promises(self, sample=60):
        """Tokens a 200 handed out are known: refresh tokens still rotate,
        access tokens introspect active."""
        for rt in self.live_refresh:
            r = self.refresh(rt, "promise")
            assert r is not None and r.status_code == 200, \
                "refresh token a 200 promised is gone: %s" % (
                    r and r.text[:200])
        for tok in random.sample(self.issued_access,
                                 min(sample, len(self.issued_access))):
            r = self.post("introspect", "/oauth/introspect", {"token": tok})
            assert r is not None and r.status_code == 200


def registry_state(env):
    """(integrity_check, rotations without a successor, families without a
    token) of the registry: a rotation is its used_at mark and its
    successor's row, committed together or not at all."""
    db = sqlite3.connect(registry(env), timeout=30)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        half_rotated = db.execute(
            "SELECT count(*) FROM refresh_tokens t WHERE used_at IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM refresh_tokens c"
            " WHERE c.parent = t.hash)").fetchone()[0]
        empty_families = db.execute(
            "SELECT count(*) FROM refresh_families f WHERE NOT EXISTS"
            " (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)"
            ).fetchone()[0]
        return integrity, half_rotated, empty_families
    finally:
        db.close()


def fatal_lines(env):
    return [line for line in env.read_log().splitlines()
            if any(f in line for f in FATAL)]


def children(env):
    out = subprocess.run(["pgrep", "-P", str(env.pid())],
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


class LoadBase:
    # AT00443: a refresh token reused (the races cause it on purpose).
    ALLOWED_LOG_IDS = ("AT00443",)
    APP = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], LOAD_CONF)
        add_scopes(env, "read")
        cls.APP["app"] = add_app(
            env, "loaded", grants="client_credentials,refresh_token",
            scopes="read", extra=["--offline-client-credentials"])


class TestIssuerLoad(LoadBase):

    def test_issuer_load_001_mixed_load(self, httpd):
        assert len(children(httpd)) >= 3
        load = Load(httpd, self.APP["app"])
        load.run(SECONDS)
        assert not load.failures, load.failures[:20]
        total = sum(load.counts.values())
        assert total > 500, load.counts
        assert load.race_results, "no race ran"
        load.check_races()
        load.check_revoked()
        load.check_promises()
        assert not load.failures, load.failures[:20]
        assert not fatal_lines(httpd)
        assert httpd.get("/").status_code == 200
        assert registry_state(httpd) == ("ok", 0, 0)


class TestIssuerLoadKill(LoadBase):
    # AH00052/AH00051-ish: the parent reports the killed children.
    ALLOWED_LOG_IDS = ("AT00443", "AH00052", "AH00051")

    def test_issuer_load_002_kill_children(self, httpd):
        load = Load(httpd, self.APP["app"], tolerate_drops=True)
        killed = []

        def killer(deadline):
            # Three kills spread over the run, each of a child that serves.
            for i in range(3):
                time.sleep(SECONDS / 4)
                kids = children(httpd)
                if kids:
                    pid = random.choice(kids)
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

        load.run(SECONDS, during=killer)
        assert len(killed) == 3
        assert not load.failures, load.failures[:20]
        # Nothing half done: an old refresh token whose answer was lost is
        # either still usable (not rotated) or refused (rotated: then the
        # reuse revokes the family).
        for what, rt in load.dropped:
            if rt is None or what != "refresh":
                continue
            r = load.refresh(rt, "dropped")
            assert r is not None and r.status_code in (200, 400), \
                r and r.status_code
        load.check_races()
        load.check_revoked()
        load.check_promises()
        # The only error lines are the parent's reports of the kills.
        text = httpd.read_log()
        assert not [l for l in text.splitlines()
                    if any(f in l for f in FATAL[2:])]
        signals = [l for l in text.splitlines() if "exit signal" in l]
        assert all("signal Killed" in l or "signal 9" in l
                   for l in signals), signals
        assert httpd.get("/").status_code == 200
        assert registry_state(httpd) == ("ok", 0, 0)
        # The error-log check after the test must not trip on the kills.
        httpd.mark_log()
