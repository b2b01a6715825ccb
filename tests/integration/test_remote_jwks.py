"""AuthTokenJWKS URL: one fetch serves every child and location, rotation
is picked up on refresh and on an unknown kid, a flood of unknown kids
costs at most one fetch per AuthTokenJWKSMinRefetch, Cache-Control max-age
counts only within 60..86400 s, and cached verdicts of a key that left the
set stop counting."""
import base64
import concurrent.futures
import json
import time
import uuid

import requests

from jwks_server import Signer, jwk_set
from remote_env import AUDIENCE, ISSUER, auth_params, httpd  # noqa: F401

K1, K2, K3 = Signer("k1"), Signer("k2", "ES256"), Signer("k3")


def location(path, url, extra=""):
    return """
Alias {p} "{{root}}/htdocs/api"
<Location {p}>
    AuthType Bearer
    AuthName remote
    AuthTokenJWKS {url}
    AuthTokenIssuer {iss}
    AuthTokenAudience {aud}
    {extra}
    Require valid-user
</Location>""".format(p=path, url=url, iss=ISSUER, aud=AUDIENCE,
                      extra=extra)


class TestOneFetchForAll:
    """Four prefork children and two locations naming one URL, plus a
    trusted issuer with the same URL: a single fetch serves them all."""
    PREFORK = True

    @classmethod
    def configure(cls, env):
        cls.ks = cls.key_server()
        cls.ks.serve("/jwks", jwk_set(K1, K2))
        url = cls.ks.url("/jwks")
        return ("AuthTokenFetchCA {root}/keys/fetch-ca.pem\n"
                + location("/a", url) + location("/b", url) + """
Alias /t "{root}/htdocs/api"
<Location /t>
    AuthType Bearer
    AuthName trusted
    AuthTokenTrustIssuer %s jwks=%s
    Require valid-user
</Location>""" % (ISSUER, url))

    def test_remote_001_01(self, httpd):
        """Many concurrent requests over both locations and the trust map
        are answered by several children; the key server saw one fetch."""
        tokens = [K1.token(ISSUER), K2.token(ISSUER)]

        def one(i):
            r = httpd.get(("/a", "/b", "/t")[i % 3] + "/data.txt",
                          token=tokens[i % 2])
            return r.status_code
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            codes = list(pool.map(one, range(120)))
        assert codes == [200] * 120
        assert len(httpd.pids_served(200)) >= 2, httpd.pids_served(200)
        assert self.ks.count("/jwks") == 1

    def test_remote_001_02(self, httpd):
        """A token signed by another key with a kid of the set is refused,
        and costs no fetch (its kid is known)."""
        forged = Signer("k1").token(ISSUER)
        r = httpd.get("/a/data.txt", token=forged)
        assert r.status_code == 401
        assert auth_params(r.headers["WWW-Authenticate"])["error"] == \
            "invalid_token"
        assert self.ks.count("/jwks") == 1

    def test_remote_001_03(self, httpd):
        """apachectl configtest fetches nothing."""
        ok, out = httpd.configtest()
        assert ok, out
        time.sleep(0.5)
        assert self.ks.count("/jwks") == 1

    def test_remote_001_04(self, httpd):
        """A graceful restart brings new children and a new fetch: one."""
        before = self.ks.count("/jwks")
        r = httpd.apachectl("-k", "graceful")
        assert r.returncode == 0, r.stderr
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                if httpd.get("/a/data.txt",
                             token=K1.token(ISSUER)).status_code == 200 \
                        and self.ks.count("/jwks") > before:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        time.sleep(1.5)
        assert self.ks.count("/jwks") == before + 1


def flood(httpd, path, good, seconds):
    """Three clients send tokens with random kids to PATH for SECONDS while
    a fourth sends GOOD; (flood status codes, good status codes)."""
    _, payload, sig = good.split(".")
    t0 = time.time()
    codes, goods = [], []

    def one(_):
        # A kid no key has; the signature does not matter (no key is found
        # to check it with).
        s = requests.Session()
        while time.time() - t0 < seconds:
            head = base64.urlsafe_b64encode(json.dumps(
                {"alg": "RS256", "kid": "rnd-" + uuid.uuid4().hex}
            ).encode()).rstrip(b"=").decode()
            r = s.get(httpd.url + path, timeout=10, headers={
                "Authorization": "Bearer %s.%s.%s" % (head, payload, sig)})
            codes.append(r.status_code)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futs = [pool.submit(one, i) for i in range(3)]
        while time.time() - t0 < seconds:
            goods.append(httpd.get(path, token=good).status_code)
            time.sleep(0.05)
        for f in futs:
            f.result()
    return codes, goods


class TestRotation:
    """Refresh after AuthTokenJWKSRefresh; an unknown kid refetches at
    once (the request waits for it), at most once per MinRefetch."""

    @classmethod
    def configure(cls, env):
        cls.ks = cls.key_server()
        cls.ks.serve("/jwks", jwk_set(K1))
        cls.ks.serve("/slow", jwk_set(K1))
        cls.ks.serve("/cc", jwk_set(K1), cache_control="public, max-age=120")
        cls.ks.serve("/cc-low", jwk_set(K1), cache_control="max-age=30")
        return ("AuthTokenFetchCA {root}/keys/fetch-ca.pem\n"
                "AuthTokenJWKSRefresh 2\nAuthTokenJWKSMinRefetch 3\n"
                + location("/r", cls.ks.url("/jwks"))
                + location("/cc", cls.ks.url("/cc"))
                + location("/cclow", cls.ks.url("/cc-low")))

    def test_remote_002_01(self, httpd):
        """A key that leaves the set stops verifying at the next refresh,
        although its token was cached; the new key works."""
        t1 = K1.token(ISSUER)
        assert httpd.get("/r/data.txt", token=t1).status_code == 200
        assert httpd.get("/r/data.txt", token=t1).status_code == 200
        n = self.ks.count("/jwks")
        self.ks.serve("/jwks", jwk_set(K3))
        self.ks.wait_count("/jwks", n + 1)
        time.sleep(0.5)  # the children import the new generation
        r = httpd.get("/r/data.txt", token=t1)
        assert r.status_code == 401, r.status_code
        assert httpd.get("/r/data.txt",
                         token=K3.token(ISSUER)).status_code == 200

    def test_remote_002_02(self, httpd):
        """An unknown kid refetches at once: the first token of a rotated-in
        key is accepted."""
        self.ks.serve("/jwks", jwk_set(K1, K3))
        # Make sure the refetch is allowed (MinRefetch 3 s since the last).
        time.sleep(3.2)
        self.ks.serve("/jwks", jwk_set(K1, K3, K2))
        r = httpd.get("/r/data.txt", token=K2.token(ISSUER))
        assert r.status_code == 200, r.headers

    def test_remote_002_03(self, httpd):
        """A flood of random kids for 5 s: at most one fetch per MinRefetch
        (3 s) beyond the scheduled refreshes (every 2 s); a good token
        keeps working meanwhile."""
        start_n = self.ks.count("/jwks")
        t0 = time.time()
        codes, goods = flood(httpd, "/r/data.txt", K1.token(ISSUER), 5)
        fetches = self.ks.count("/jwks") - start_n
        elapsed = time.time() - t0
        assert len(codes) > 20
        assert set(codes) == {401}
        assert set(goods) == {200}
        # Refresh every 2 s, plus demand every 3 s at most.
        assert fetches <= int(elapsed / 2) + int(elapsed / 3) + 2, fetches

    def test_remote_002_04(self, httpd):
        """Cache-Control max-age=120 wins over AuthTokenJWKSRefresh 2: no
        refetch for several seconds; max-age=30 (under 60) does not."""
        assert httpd.get("/cc/data.txt",
                         token=K1.token(ISSUER)).status_code == 200
        assert httpd.get("/cclow/data.txt",
                         token=K1.token(ISSUER)).status_code == 200
        a, b = self.ks.count("/cc"), self.ks.count("/cc-low")
        time.sleep(4.5)
        assert self.ks.count("/cc") == a == 1
        assert self.ks.count("/cc-low") >= b + 1


class TestFloodRateLimit:
    """No scheduled refresh in sight (3600 s): a 7 s flood of unknown kids
    costs one fetch per AuthTokenJWKSMinRefetch (2 s) at most, and at least
    one (unknown kids do refetch)."""

    @classmethod
    def configure(cls, env):
        cls.ks = cls.key_server()
        cls.ks.serve("/jwks", jwk_set(K1))
        return ("AuthTokenFetchCA {root}/keys/fetch-ca.pem\n"
                "AuthTokenJWKSMinRefetch 2\n"
                + location("/f", cls.ks.url("/jwks")))

    def test_remote_003_01(self, httpd):
        assert httpd.get("/f/data.txt",
                         token=K1.token(ISSUER)).status_code == 200
        start_n = self.ks.count("/jwks")
        t0 = time.time()
        codes, goods = flood(httpd, "/f/data.txt", K1.token(ISSUER), 7)
        elapsed = time.time() - t0
        fetches = self.ks.count("/jwks") - start_n
        assert len(codes) > 20 and set(codes) == {401}
        assert set(goods) == {200}
        assert 1 <= fetches <= int(elapsed / 2) + 1, (fetches, len(codes))

    def test_remote_003_02(self, httpd):
        """Graceful and full restarts of the event MPM (children exiting
        with their fetcher threads, some perhaps mid-wait) leave no crash,
        and the new children fetch and serve."""
        for how in ("graceful", "restart"):
            n = self.ks.count("/jwks")
            r = httpd.apachectl("-k", how)
            assert r.returncode == 0, r.stderr
            deadline = time.time() + 20
            code = None
            while time.time() < deadline:
                try:
                    code = httpd.get("/f/data.txt",
                                     token=K1.token(ISSUER)).status_code
                    if code == 200 and self.ks.count("/jwks") > n:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            assert code == 200 and self.ks.count("/jwks") > n, (how, code)
        time.sleep(1)
