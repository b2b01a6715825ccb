"""Remote key sets when fetching goes wrong: a failure keeps the last good
set (logged once per failed attempt with the URL and the reason); a set
never obtained answers its tokens 503 with Retry-After, never
invalid_token; every misbehaviour of the contract (status, stall past the
timeout, redirect, body over 512 KiB with or without Content-Length, bad
JSON, not a JWK Set, a weak key) and every TLS failure (wrong CA, wrong
name) is a failure that yields no keys; plain http works to loopback."""
import time

import pytest

from jwks_server import Signer, big_body, jwk_set
from remote_env import FETCH_FAILED, ISSUER, httpd  # noqa: F401

K1 = Signer("k1")
WEAK = Signer("weak", bits=1024)

# name -> (how the key server misbehaves, what the log says)
MISBEHAVIOURS = {
    "status": ("fail", None, "HTTP status 500"),
    "stall": ("stall", jwk_set(K1), "timed out"),
    "redirect": ("redirect", "/good", "HTTP status 302 (redirects are not "
                 "followed)"),
    "big": ("ok", big_body(), "body larger than 512 KiB"),
    "bignolen": ("nolength", big_body(), "body larger than 512 KiB"),
    "badjson": ("ok", '{"keys": [', "not valid JSON"),
    "notaset": ("ok", K1.public_jwk(), "not a JWK Set"),
    "weakkey": ("ok", jwk_set(WEAK), "RSA key of 1024 bits"),
}


def loc(name, url):
    return """
Alias /{n} "{{root}}/htdocs/api"
<Location /{n}>
    AuthType Bearer
    AuthName {n}
    AuthTokenJWKS {url}
    Require valid-user
</Location>""".format(n=name, url=url)


class TestNeverObtained:
    """Each misbehaviour from the start: 503 + Retry-After, and the log says
    which URL and why."""
    ALLOWED_LOG_IDS = FETCH_FAILED

    @classmethod
    def configure(cls, env):
        ks = cls.ks = cls.key_server()
        ks.serve("/good", jwk_set(K1))
        conf = ["AuthTokenFetchCA {root}/keys/fetch-ca.pem",
                "AuthTokenJWKSMinRefetch 600"]
        for name, (mode, body, _) in MISBEHAVIOURS.items():
            ks.serve("/" + name, body or "", mode=mode)
            conf.append(loc(name, ks.url("/" + name)))
        wrong_ca = cls.key_server(tls="wrong_ca")
        wrong_ca.serve("/jwks", jwk_set(K1))
        conf.append(loc("wrongca", wrong_ca.url("/jwks")))
        wrong_name = cls.key_server(tls="wrong_name")
        wrong_name.serve("/jwks", jwk_set(K1))
        conf.append(loc("wrongname", wrong_name.url("/jwks")))
        cls.tls = {"wrongca": wrong_ca, "wrongname": wrong_name}
        return "\n".join(conf)

    @pytest.mark.parametrize("name", sorted(MISBEHAVIOURS) + ["wrongca",
                                                              "wrongname"])
    def test_failure_001_01(self, httpd, name):
        deadline = time.time() + 12
        while time.time() < deadline:
            r = httpd.get("/%s/data.txt" % name, token=K1.token(ISSUER))
            if r.status_code != 200:
                break
        assert r.status_code == 503, (r.status_code, r.text)
        retry = int(r.headers["Retry-After"])
        assert 1 <= retry <= 600
        assert "WWW-Authenticate" not in r.headers

    @pytest.mark.parametrize("name", sorted(MISBEHAVIOURS))
    def test_failure_001_02(self, httpd, name):
        """One AT01153 line per failed attempt, naming URL and reason."""
        url = self.ks.url("/" + name)
        lines = [l for l in httpd.log_lines("AT01153") if url + ":" in l]
        assert len(lines) == 1, lines
        assert MISBEHAVIOURS[name][2] in lines[0], lines[0]
        assert self.ks.count("/" + name) == 1

    def test_failure_001_03(self, httpd):
        """TLS failures name the certificate problem; the servers never
        got an HTTP request."""
        for name, word in (("wrongca", "certificate"),
                           ("wrongname", "certificate")):
            url = self.tls[name].url("/jwks")
            lines = [l for l in httpd.log_lines("AT01153") if url in l]
            assert len(lines) == 1, lines
            assert word in lines[0].lower(), lines[0]
            assert self.tls[name].count("/jwks") == 0

    def test_failure_001_04(self, httpd):
        """The redirect target was never fetched."""
        assert self.ks.count("/good") == 0


class TestStaleKept:
    """A set once obtained survives every later failure."""
    ALLOWED_LOG_IDS = FETCH_FAILED

    @classmethod
    def configure(cls, env):
        ks = cls.ks = cls.key_server()
        ks.serve("/jwks", jwk_set(K1))
        return ("AuthTokenFetchCA {root}/keys/fetch-ca.pem\n"
                "AuthTokenJWKSRefresh 1\nAuthTokenJWKSMinRefetch 1\n"
                + loc("s", ks.url("/jwks")))

    @pytest.mark.parametrize("mode,body", [
        ("fail", ""), ("ok", '{"keys": ['), ("ok", big_body()),
        ("redirect", "/elsewhere"), ("ok", jwk_set(WEAK))])
    def test_failure_002_01(self, httpd, mode, body):
        t = K1.token(ISSUER)
        assert httpd.get("/s/data.txt", token=t).status_code == 200
        httpd.mark_log()
        n = self.ks.count("/jwks")
        self.ks.serve("/jwks", body, mode=mode)
        self.ks.wait_count("/jwks", n + 3)
        time.sleep(0.3)
        for _ in range(5):
            assert httpd.get("/s/data.txt",
                             token=K1.token(ISSUER)).status_code == 200
        log = httpd.new_log()
        failed = self.ks.count("/jwks") - n
        lines = httpd.log_lines("AT01152", log)
        # Once per failed attempt (the last may still be under way).
        assert failed - 1 <= len(lines) <= failed, (failed, lines)
        assert all(self.ks.url("/jwks") in l for l in lines)
        self.ks.serve("/jwks", jwk_set(K1))
        self.ks.wait_count("/jwks", self.ks.count("/jwks") + 1)
        time.sleep(0.3)
        httpd.mark_log()


class TestFirstSetLater:
    """503 + Retry-After until the first set arrives, then 200."""
    ALLOWED_LOG_IDS = FETCH_FAILED

    @classmethod
    def configure(cls, env):
        ks = cls.ks = cls.key_server()
        ks.serve("/jwks", "", mode="fail")
        return ("AuthTokenFetchCA {root}/keys/fetch-ca.pem\n"
                "AuthTokenJWKSMinRefetch 2\n" + loc("f", ks.url("/jwks")))

    def test_failure_003_01(self, httpd):
        r = httpd.get("/f/data.txt", token=K1.token(ISSUER))
        assert r.status_code == 503
        assert 1 <= int(r.headers["Retry-After"]) <= 2
        self.ks.serve("/jwks", jwk_set(K1))
        deadline = time.time() + 10
        while time.time() < deadline:
            r = httpd.get("/f/data.txt", token=K1.token(ISSUER))
            if r.status_code == 200:
                break
            assert r.status_code == 503
            time.sleep(0.2)
        assert r.status_code == 200
        # A failure only retries after MinRefetch: few attempts in all.
        assert self.ks.count("/jwks") <= 6


class TestPlainHttpLoopback:
    """http:// to 127.0.0.1 and to localhost is fetched (no CA needed)."""

    @classmethod
    def configure(cls, env):
        ks = cls.ks = cls.key_server(tls=None)
        ks.serve("/jwks", jwk_set(K1))
        return (loc("p", ks.url("/jwks"))
                + loc("l", ks.url("/jwks", host="localhost")))

    def test_failure_004_01(self, httpd):
        for p in ("/p", "/l"):
            r = httpd.get(p + "/data.txt", token=K1.token(ISSUER))
            assert r.status_code == 200, (p, r.status_code)


class TestUnusableKeysLeftOut:
    """A set holding a weak RSA key and a key of an unknown algorithm
    beside a good one is used without them (RFC 7517 section 5), with one
    warning per published version."""
    ALLOWED_LOG_IDS = ("AT01160",)

    @classmethod
    def configure(cls, env):
        ks = cls.ks = cls.key_server()
        doc = {"keys": [WEAK.public_jwk(),
                        {"kty": "AKP", "alg": "ML-DSA-65", "kid": "pq",
                         "pub": "AAAA"},
                        K1.public_jwk()]}
        ks.serve("/jwks", doc)
        return ("AuthTokenFetchCA {root}/keys/fetch-ca.pem\n"
                "AuthTokenJWKSRefresh 1\n" + loc("m", ks.url("/jwks")))

    def test_failure_005_01(self, httpd):
        assert httpd.get("/m/data.txt",
                         token=K1.token(ISSUER)).status_code == 200
        assert httpd.get("/m/data.txt",
                         token=WEAK.token(ISSUER)).status_code == 401
        self.ks.wait_count("/jwks", 3)
        lines = httpd.log_lines("AT01160")
        assert len(lines) == 1, lines  # refreshes of the same text: quiet
        assert "2 key(s) left out" in lines[0] and "1024 bits" in lines[0]
