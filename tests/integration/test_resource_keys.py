"""Keys and algorithms end to end: every algorithm of the contract, the
binding of a key to its algorithm and kid, hostile headers (alg none,
crit, embedded keys, alg confusion) and JWK Set files."""
import hashlib
import json

import pytest
from jwcrypto import jwk, jws

from resource_tokens import (ALGS, AUTHZ_LOG_IDS, auth_params, b64u,
                             challenge, claims, key_for_alg, keys, mint,
                             no_token_in_log, raw_token,
                             write_keys)  # noqa: F401


def alg_locations():
    out = []
    for alg in ALGS:
        name = key_for_alg(alg)
        src = "key" if alg.startswith("HS") else "pub"
        out.append("""
<Location /%s>
    AuthType Bearer
    AuthName "%s"
    AuthTokenVerifyKey %s {root}/keys/%s.%s
    Require valid-user
</Location>""" % (alg.lower(), alg, alg, name, src))
    return "\n".join(out)


class TestAlgorithms:
    CONF = alg_locations() + """
Alias /kid {root}/htdocs/api
<Location /kid>
    AuthType Bearer
    AuthName kid
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub kid=k1
    AuthTokenVerifyKey ES256 {root}/keys/ec256_other.pub kid=k2
    AuthTokenVerifyKey RS256 {root}/keys/rsa.pub
    Require valid-user
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        for alg in ALGS:
            env.write_file("htdocs/%s/data.txt" % alg.lower(), "ok " + alg)

    @pytest.mark.parametrize("alg", ALGS)
    def test_keys_200_01(self, httpd, alg):
        """A token of each algorithm verifies with its key."""
        r = httpd.get("/%s/data.txt" % alg.lower(), token=mint(alg))
        assert r.status_code == 200, r.headers
        assert r.text == "ok " + alg

    @pytest.mark.parametrize("alg", ALGS)
    def test_keys_200_08(self, httpd, alg):
        """The same with tokens minted by jwcrypto."""
        from jwcrypto import jwt as jjwt
        priv = keys()[key_for_alg(alg)][0]
        if alg.startswith("HS"):
            key = jwk.JWK(kty="oct", k=b64u(priv))
        else:
            key = jwk.JWK.from_pem(priv.encode())
        t = jjwt.JWT(header={"alg": alg, "typ": "at+jwt"}, claims=claims())
        t.make_signed_token(key)
        r = httpd.get("/%s/data.txt" % alg.lower(), token=t.serialize())
        assert r.status_code == 200

    @pytest.mark.parametrize("alg", ALGS)
    def test_keys_200_02(self, httpd, alg):
        """Signed by another key of the same algorithm: invalid_token."""
        r = httpd.get("/%s/data.txt" % alg.lower(),
                      token=mint(alg, other=True))
        assert r.status_code == 401
        assert auth_params(challenge(r))["error"] == "invalid_token"

    @pytest.mark.parametrize("alg", ALGS)
    def test_keys_200_03(self, httpd, alg):
        """A token whose alg differs from the key's is rejected, even when
        the same key material could verify it (RS256 key, PS256 token)."""
        other = {"HS256": "HS384", "RS256": "PS256", "PS256": "RS256",
                 "ES256": "ES384", "EdDSA": "ES256"}.get(alg, "HS256")
        r = httpd.get("/%s/data.txt" % alg.lower(), token=mint(other))
        assert r.status_code == 401

    @pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
    def test_keys_200_04(self, httpd, alg):
        """Alg confusion: an HS256 token whose secret is the location's
        public key PEM."""
        pub = keys()[key_for_alg(alg)][1]
        tok = raw_token({"alg": "HS256", "typ": "JWT"}, claims(), secret=pub)
        r = httpd.get("/%s/data.txt" % alg.lower(), token=tok)
        assert r.status_code == 401
        assert auth_params(challenge(r))["error"] == "invalid_token"

    @pytest.mark.parametrize("header", [
        {"alg": "none"}, {"alg": "None"}, {"alg": "NONE"}, {"alg": "nOnE"},
        {"alg": "none", "typ": "JWT"}, {"alg": ""}, {"alg": "HS257"},
        {"typ": "JWT"}])
    def test_keys_200_05(self, httpd, header):
        """alg none in its spellings, unknown or missing alg."""
        for sig in (b"", b"x"):
            tok = raw_token(header, claims(), sig=sig)
            r = httpd.get("/hs256/data.txt", token=tok)
            assert r.status_code == 401

    def test_keys_200_06(self, httpd):
        """A crit header is rejected even with a good signature."""
        secret = keys()["hs256"][0]
        tok = raw_token({"alg": "HS256", "crit": ["exp"], "exp": 1},
                        claims(), secret=secret)
        assert httpd.get("/hs256/data.txt", token=tok).status_code == 401
        ok = raw_token({"alg": "HS256"}, claims(), secret=secret)
        assert httpd.get("/hs256/data.txt", token=ok).status_code == 200

    def test_keys_200_07(self, httpd):
        """An embedded jwk / jku / x5u header never supplies the key."""
        attacker = jwk.JWK.generate(kty="EC", crv="P-256")
        pub = json.loads(attacker.export_public())
        for extra in ({"jwk": pub}, {"jku": "http://127.0.0.1:1/jwks"},
                      {"x5u": "http://127.0.0.1:1/cert"}):
            s = jws.JWS(json.dumps(claims()))
            prot = dict({"alg": "ES256"}, **extra)
            s.add_signature(attacker, None, json.dumps(prot))
            r = httpd.get("/es256/data.txt", token=s.serialize(compact=True))
            assert r.status_code == 401

    @pytest.mark.parametrize("kid,key,status", [
        ("k1", "ec256", 200),           # kid selects its key
        ("k2", "ec256_other", 200),
        ("k2", "ec256", 401),           # right key, wrong kid
        ("k1", "ec256_other", 401),
        (None, "ec256", 401),           # a kid-bound key needs the kid
        ("k9", "ec256", 401),           # unknown kid
        ("../k1", "ec256", 401),
    ])
    def test_keys_210_01(self, httpd, kid, key, status):
        headers = {"kid": kid} if kid else None
        r = httpd.get("/kid/data.txt",
                      token=mint("ES256", key=key, headers=headers))
        assert r.status_code == status

    @pytest.mark.parametrize("kid", [None, "anything", "k1"])
    def test_keys_210_02(self, httpd, kid):
        """A key without kid serves any token of its algorithm."""
        headers = {"kid": kid} if kid else None
        r = httpd.get("/kid/data.txt",
                      token=mint("RS256", headers=headers))
        assert r.status_code == 200

    @pytest.mark.parametrize("mangle", [
        lambda t: t + "=",                           # padding
        lambda t: t.replace("-", "+").replace("_", "/") + "+/",
        lambda t: t + ".",                           # four segments
        lambda t: t + ".abc",
        lambda t: ".".join(t.split(".")[:2]),        # two segments
        lambda t: "." + t.split(".", 1)[1],          # empty header
        lambda t: t.split(".")[0] + ".." + t.split(".")[2],
    ])
    def test_keys_220_01(self, httpd, mangle):
        """Malformed compact serialisations."""
        tok = mangle(mint("HS256"))
        assert httpd.get("/hs256/data.txt", token=tok).status_code == 401

    def test_keys_220_02(self, httpd):
        """Duplicate JSON members and non-object payloads."""
        secret = keys()["hs256"][0]
        c = claims()
        dup = '{"sub":"alice","sub":"root","exp":%d}' % c["exp"]
        for payload in (dup, "[1,2]", '"str"', "{"):
            tok = raw_token('{"alg":"HS256"}', payload, secret=secret)
            assert httpd.get("/hs256/data.txt", token=tok).status_code == 401
        tok = raw_token('{"alg":"HS256","alg":"none"}', json.dumps(c),
                        secret=secret)
        assert httpd.get("/hs256/data.txt", token=tok).status_code == 401

    def test_keys_220_03(self, httpd):
        """ECDSA signature in DER form, and r = s = 0."""
        import base64
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        priv = serialization.load_pem_private_key(
            keys()["ec256"][0].encode(), None)
        si = b64u('{"alg":"ES256"}') + "." + b64u(json.dumps(claims()))
        der = priv.sign(si.encode(), ec.ECDSA(hashes.SHA256()))
        assert httpd.get("/es256/data.txt",
                         token=si + "." + b64u(der)).status_code == 401
        zero = si + "." + b64u(b"\0" * 64)
        assert httpd.get("/es256/data.txt", token=zero).status_code == 401
        assert base64  # keeps the import local to this test


def jwks_doc():
    """A JWK Set of the test keys: EC and OKP without alg (bound by curve),
    RSA without alg (RS256), oct with alg, and an RSA key bound to PS384."""
    k = keys()
    out = []

    def add(pem_or_secret, kid, **extra):
        if isinstance(pem_or_secret, bytes):
            key = jwk.JWK(kty="oct", k=b64u(pem_or_secret))
        else:
            key = jwk.JWK.from_pem(pem_or_secret.encode())
        d = json.loads(key.export(private_key=False)
                       if key.has_private is False and key["kty"] != "oct"
                       else key.export())
        if d["kty"] != "oct":
            d = json.loads(key.export_public())
        d["kid"] = kid
        d.update(extra)
        out.append(d)

    add(k["ec256"][1], "e256")
    add(k["ec384"][1], "e384")
    add(k["ed25519"][1], "ed")
    add(k["rsa"][1], "r1")
    add(k["rsa_other"][1], "r2", alg="PS384")
    add(k["hs256"][0], "h1", alg="HS256")
    return {"keys": out}


class TestJWKS:
    CONF = """
<Location /api>
    AuthType Bearer
    AuthName jwks
    AuthTokenJWKS {root}/keys/set.jwks
    Require valid-user
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        env.write_file("keys/set.jwks", json.dumps(jwks_doc()))

    @pytest.mark.parametrize("alg,key,kid,status", [
        ("ES256", "ec256", "e256", 200),
        ("ES384", "ec384", "e384", 200),
        ("EdDSA", "ed25519", "ed", 200),
        ("RS256", "rsa", "r1", 200),
        ("PS256", "rsa", "r1", 401),        # RSA without alg means RS256
        ("PS384", "rsa_other", "r2", 200),
        ("RS256", "rsa_other", "r2", 401),  # bound to PS384 by its alg
        ("HS256", "hs256", "h1", 200),
        ("ES256", "ec256", "e384", 401),    # kid of another key
        ("ES256", "ec256", None, 401),      # a key with kid needs it
        ("ES256", "ec256_other", "e256", 401),
        ("HS256", "hs256", "nope", 401),
    ])
    def test_jwks_230_01(self, httpd, alg, key, kid, status):
        headers = {"kid": kid} if kid else None
        r = httpd.get("/api/data.txt",
                      token=mint(alg, key=key, headers=headers))
        assert r.status_code == status


class TestVerifyCache:
    """The per-process cache of verified signatures never lets a token pass
    where its key does not serve, and never outlives exp."""
    CONF = """
LogLevel info auth_token:trace1
<Location /a>
    AuthType Bearer
    AuthName a
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub
    Require valid-user
</Location>
Alias /b {root}/htdocs/a
<Location /b>
    AuthType Bearer
    AuthName b
    AuthTokenVerifyKey ES256 {root}/keys/ec256_other.pub
    Require valid-user
</Location>
Alias /c {root}/htdocs/a
<Location /c>
    AuthType Bearer
    AuthName c
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenAudience billing
    Require token-scope orders:read
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        env.write_file("htdocs/a/data.txt", "a")

    def test_cache_240_01(self, httpd):
        tok = mint("ES256")
        for _ in range(3):
            assert httpd.get("/a/data.txt", token=tok).status_code == 200
            assert httpd.get("/b/data.txt", token=tok).status_code == 401

    def test_cache_240_04(self, httpd):
        """A repeated token is served from the cache (trace1 log line)."""
        tok = mint("ES256", jti="cache-hit")
        httpd.mark_log()
        for _ in range(40):
            assert httpd.get("/a/data.txt", token=tok).status_code == 200
        assert "AT00115" in httpd.read_log()[httpd.log_offset:]

    def test_cache_240_02(self, httpd):
        """A cached token is still checked against exp (leeway 30)."""
        import time
        exp = int(time.time()) - 26          # valid for 4 more seconds
        tok = mint("ES256", exp=exp)
        assert httpd.get("/a/data.txt", token=tok).status_code == 200
        assert httpd.get("/a/data.txt", token=tok).status_code == 200
        time.sleep(max(0, exp + 31 - time.time()))
        assert httpd.get("/a/data.txt", token=tok).status_code == 401

    def test_cache_240_03(self, httpd):
        """A tampered copy of a cached token does not hit the cache."""
        tok = mint("ES256")
        assert httpd.get("/a/data.txt", token=tok).status_code == 200
        h, p, s = tok.split(".")
        bad = ".".join([h, p, s[:-2] + ("AA" if s[-2:] != "AA" else "BB")])
        assert httpd.get("/a/data.txt", token=bad).status_code == 401
        assert hashlib  # digest of the token is the cache key

    def test_cache_240_05(self, httpd):
        """Claims are checked on every request, cached or not: the token
        /a accepts is refused where the audience or scope differs."""
        tok = mint("ES256", aud="orders-api")
        for _ in range(5):
            assert httpd.get("/a/data.txt", token=tok).status_code == 200
        assert httpd.get("/c/data.txt", token=tok).status_code == 401
        tok = mint("ES256", aud="billing", scope="x")
        for _ in range(5):
            assert httpd.get("/a/data.txt", token=tok).status_code == 200
        r = httpd.get("/c/data.txt", token=tok)
        assert r.status_code == 401     # AuthzSendForbiddenOnFailure Off
        assert auth_params(challenge(r))["error"] == "insufficient_scope"

    def test_cache_240_06(self, httpd):
        """HS256 tokens are cached too; a copy with another payload but the
        same signature is not taken for the cached one."""
        tok = mint("HS256", aud="billing", jti="hs-cache")
        httpd.mark_log()
        for _ in range(20):
            assert httpd.get("/c/data.txt", token=tok).status_code == 200
        assert "AT00115" in httpd.read_log()[httpd.log_offset:]
        h, p, sig = tok.split(".")
        forged = ".".join([h, b64u(json.dumps(claims(aud="billing",
                                                      sub="root"))), sig])
        assert httpd.get("/c/data.txt", token=forged).status_code == 401


class TestCacheChurn:
    """A tiny cache under concurrent requests with many distinct tokens:
    entries are evicted while other requests still use them. Every answer
    must be right and no process may crash (the log check catches
    that)."""
    CONF = """
AuthTokenVerifyCache 3
<Location /api>
    AuthType Bearer
    AuthName churn
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub
    Require token-scope orders:read
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def test_churn_250_01(self, httpd):
        from concurrent.futures import ThreadPoolExecutor
        import requests
        good = [mint("HS256", jti="g%d" % i) for i in range(12)]
        good += [mint("ES256", jti="e%d" % i) for i in range(12)]
        bad = [mint("HS256", jti="b%d" % i, scope="x") for i in range(6)]
        jobs = [(t, 200) for t in good] * 8 + [(t, 401) for t in bad] * 8

        def one(job):
            tok, want = job
            with requests.Session() as s:
                r = s.get(httpd.url + "/api/data.txt", timeout=20,
                          headers={"Authorization": "Bearer " + tok})
                return r.status_code == want and (
                    want != 200 or r.text == "protected data\n")

        with ThreadPoolExecutor(16) as ex:
            results = list(ex.map(one, jobs))
        assert all(results)


def cache_slot(token, nslots):
    """The slot of TOKEN in a cache of NSLOTS entries: FNV-1a over its last
    48 bytes, seeded with its length (token_hash in at_jose_cache.c)."""
    data = token.encode()
    h = 14695981039346656037 ^ len(data)
    for c in data[-48:]:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % nslots


class TestVerifyCacheRestart:
    """A graceful restart reads AuthTokenVerifyCache again: Off and a size
    of 1 are taken, and without the directive the default (1024) is back.
    The cache keeps a token seen twice; A A B B A A A on one keep-alive
    connection (one child) hits 3 times with room for both, once with one
    entry (B evicts A), never when Off."""
    CONF = TestVerifyCache.CONF
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        TestVerifyCache.setup_env(env)

    def hits(self, httpd):
        import requests
        a = mint("ES256", jti="restart-a")
        b = next(t for t in (mint("ES256", jti="restart-b%d" % i)
                             for i in range(100))
                 if cache_slot(t, 1024) != cache_slot(a, 1024))
        httpd.mark_log()
        with requests.Session() as s:
            for tok in (a, a, b, b, a, a, a):
                r = s.get(httpd.url + "/a/data.txt", timeout=10,
                          headers={"Authorization": "Bearer " + tok})
                assert r.status_code == 200
        return httpd.read_log()[httpd.log_offset:].count("AT00115:")

    def test_cache_260_01(self, httpd):
        assert self.hits(httpd) == 3
        for line, want in (("AuthTokenVerifyCache Off\n", 0),
                           ("AuthTokenVerifyCache 1\n", 1),
                           ("", 3)):
            httpd.install(line + self.CONF)
            httpd.graceful()
            assert self.hits(httpd) == want, line
