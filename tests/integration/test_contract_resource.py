"""Contract audit of the resource server (interface.md, "Resource server"):
the cases the other test files leave out, written the way an outside
acceptance test or an attacker would try them. Hostile time claims and
headers, JWKS keys with and without alg/kid, secrets with a trailing
newline, certificates as keys, token-claim and token-scope corner cases,
a reverse proxy (Authorization, not Proxy-Authorization, and forged claim
headers in every spelling reaching a real backend), and configtest
messages for JWKS mistakes."""
import datetime
import http.server
import json
import os
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from jwcrypto import jwk

from httpd_env import HttpdEnv, free_port
from resource_tokens import (AUTHZ_LOG_IDS, auth_params, b64u, challenge,
                             claims, keys, mint, no_token_in_log, raw_token,
                             write_keys)  # noqa: F401


def loc(path, *lines, require="Require valid-user"):
    body = "\n    ".join(lines)
    return """
Alias {path} {{root}}/htdocs/api
<Location {path}>
    AuthType Bearer
    AuthName contract
    AuthzSendForbiddenOnFailure On
    {body}
    {require}
</Location>""".format(path=path, body=body, require=require)


HS = "AuthTokenVerifyKey HS256 {root}/keys/hs256.key"


def self_signed(priv_pem, days=365):
    """A self-signed X.509 certificate (PEM) for the private key PRIV_PEM."""
    priv = serialization.load_pem_private_key(priv_pem.encode(), None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(priv.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(priv, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def jwk_of(name, **extra):
    """The public JWK (dict) of test key NAME, with EXTRA members."""
    pub = keys()[name][1]
    if isinstance(pub, bytes):
        d = {"kty": "oct", "k": b64u(pub)}
    else:
        d = json.loads(jwk.JWK.from_pem(pub.encode()).export_public())
        d.pop("kid", None)
    d.update(extra)
    return d


def contract_jwks():
    """Keys with and without alg and kid:
    ec256 (no alg, no kid)      -> ES256, any kid
    ec521 (no alg, kid p521)    -> ES512, kid p521 only
    ed25519 (no alg, no kid)    -> EdDSA
    hs384 (alg HS384, no kid)   -> HS384 only
    rsa (alg PS256, kid ps)     -> PS256, kid ps only
    rsa_other (no alg, no kid)  -> RS256"""
    return {"keys": [
        jwk_of("ec256"),
        jwk_of("ec521", kid="p521"),
        jwk_of("ed25519"),
        jwk_of("hs384", alg="HS384"),
        jwk_of("rsa", alg="PS256", kid="ps"),
        jwk_of("rsa_other"),
    ]}


def hs(payload, header=None, key="hs256"):
    """An HS256 token over a raw PAYLOAD (str or dict), signed with the
    test secret KEY."""
    return raw_token(header or {"alg": "HS256"}, payload,
                     secret=keys()[key][0])


def es256(header, payload, key="ec256"):
    """An ES256 token built by hand (PyJWT refuses odd headers)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import \
        decode_dss_signature
    priv = serialization.load_pem_private_key(keys()[key][0].encode(), None)
    si = b64u(json.dumps(header)) + "." + b64u(json.dumps(payload))
    r, s = decode_dss_signature(priv.sign(si.encode(),
                                          ec.ECDSA(hashes.SHA256())))
    return si + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def payload_with(**raw):
    """Valid claims as JSON text with RAW members spliced in verbatim
    (JSON text, so values Python cannot produce are possible)."""
    c = claims()
    for k in raw:
        c.pop(k, None)
    text = json.dumps(c)[:-1]
    for k, v in raw.items():
        text += ', "%s": %s' % (k, v)
    return text + "}"


class TestContractTokens:
    CONF = "\nLimitRequestFieldSize 32768\n" + "".join([
        loc("/hs", HS),
        loc("/strict", HS, "AuthTokenLeeway 0"),
        loc("/hs384", "AuthTokenVerifyKey HS384 {root}/keys/hs384.key"),
        loc("/hsnl", "AuthTokenVerifyKey HS256 {root}/keys/nl.key"),
        loc("/hsnl2", "AuthTokenVerifyKey HS256 {root}/keys/nl2.key"),
        loc("/rscert", "AuthTokenVerifyKey RS256 {root}/keys/rsa.crt"),
        loc("/eccert", "AuthTokenVerifyKey ES256 {root}/keys/ec256.crt kid=c1"),
        loc("/jwks", "AuthTokenJWKS {root}/keys/contract.jwks"),
        loc("/ops", "AuthTokenJWKS {root}/keys/ops.jwks"),
        loc("/ed", "AuthTokenVerifyKey EdDSA {root}/keys/ed25519.pub"),
        loc("/mixed", "AuthTokenVerifyKey ES256 {root}/keys/ec256.pub kid=k1",
            "AuthTokenVerifyKey HS256 {root}/keys/hs256.key kid=k1"),
    ])
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        secret = keys()["hs256"][0]
        env.write_file("keys/nl.key", secret + b"\n")
        env.write_file("keys/nl2.key", secret + b"\n\n")
        env.write_file("keys/rsa.crt", self_signed(keys()["rsa"][0]))
        env.write_file("keys/ec256.crt", self_signed(keys()["ec256"][0]))
        env.write_file("keys/contract.jwks", json.dumps(contract_jwks()))
        env.write_file("keys/ops.jwks", json.dumps({"keys": [
            jwk_of("ec256", key_ops=["encrypt"]),
            jwk_of("ec256_other", key_ops=["verify"]),
            jwk_of("rsa", use="enc")]}))

    def status(self, httpd, path, token):
        r = httpd.get(path + "/data.txt", token=token)
        if r.status_code == 401:
            assert auth_params(challenge(r))["error"] == "invalid_token"
        return r.status_code

    # -- time claims: JSON numbers of every shape ---------------------------
    @pytest.mark.parametrize("raw,status", [
        ("%(now)d.5", 200),              # a float exp in the future
        ("%(now)d.0e0", 200),
        ("%(past)d.5", 401),             # a float exp in the past
        ("1e400", 401),                  # not a finite number: no eternity
        ("-1e300", 401),
        ("-9223372036854775808", 401),
        ("null", 401),
        ("{}", 401),
        ("[%(now)d]", 401),
        ('"%(now)d"', 401),
        ("false", 401),
    ])
    def test_contract_res_600_01_exp(self, httpd, raw, status):
        now = int(time.time()) + 300
        v = raw % {"now": now, "past": now - 1000}
        assert self.status(httpd, "/hs", hs(payload_with(exp=v))) == status

    @pytest.mark.parametrize("raw", ["1e20", "9223372036854775807",
                                     "18446744073709551616", "1e308"])
    def test_contract_res_600_02_exp_far_future(self, httpd, raw):
        """A far-future (or unrepresentable) exp never crashes the server:
        the token is either accepted or invalid_token, nothing else."""
        r = httpd.get("/hs/data.txt", token=hs(payload_with(exp=raw)))
        assert r.status_code in (200, 401)

    @pytest.mark.parametrize("name,raw", [
        ("nbf", "1e300"), ("nbf", "9223372036854775807"), ("nbf", "1e400"),
        ("iat", "1e300"), ("iat", "9223372036854775807"), ("iat", "1e400"),
        ("nbf", "null"), ("iat", "null"), ("nbf", "true"), ("iat", "{}"),
        ("nbf", "%(later)d.5"), ("iat", "%(later)d.5"),
    ])
    def test_contract_res_600_03_nbf_iat_future(self, httpd, name, raw):
        """A not-yet-valid or future-issued token stays invalid however big
        the number (no overflow into the past), and null is no number."""
        v = raw % {"later": int(time.time()) + 3600}
        assert self.status(httpd, "/hs",
                           hs(payload_with(**{name: v}))) == 401

    @pytest.mark.parametrize("over", [
        {"nbf": "%(now)d"}, {"iat": "%(now)d"}, {"exp": "%(soon)d"},
        {"nbf": "%(now)d.0", "iat": "%(now)d.0"}, {"nbf": "-1e300"},
        {"iat": "0"}])
    def test_contract_res_600_04_edges_leeway_zero(self, httpd, over):
        """With AuthTokenLeeway 0: nbf and iat of now, an exp two seconds
        ahead, numbers written as floats, and times long past all pass."""
        now = int(time.time())
        raw = {k: v % {"now": now, "soon": now + 3} for k, v in over.items()}
        assert self.status(httpd, "/strict", hs(payload_with(**raw))) == 200

    @pytest.mark.parametrize("size,status", [(16384, 200), (16385, 401)])
    def test_contract_res_600_05_size_boundary(self, httpd, size, status):
        """16 KiB is the largest token accepted, to the byte."""
        tok = None
        for kid_len in range(1, 8):
            for pad in range(12000, 12400):
                t = mint("HS256", headers={"kid": "k" * kid_len},
                         pad="x" * pad)
                if len(t) == size:
                    tok = t
                    break
                if len(t) > size:
                    break
            if tok:
                break
        assert tok and len(tok) == size
        assert self.status(httpd, "/hs", tok) == status

    # -- headers ----------------------------------------------------------
    @pytest.mark.parametrize("header", [
        {"alg": "HS256", "typ": 1},
        {"alg": "HS256", "typ": ["JWT"]},
        {"alg": "HS256", "typ": "JWT "},
        {"alg": "HS256", "typ": "at+jwt; x=1"},
        {"alg": "hs256"},                # algorithm names are exact
        {"alg": "HS256 "},
        {"alg": ["HS256"]},
        {"alg": "HS256", "b64": False, "crit": ["b64"]},
    ])
    def test_contract_res_610_01_hostile_header(self, httpd, header):
        tok = raw_token(header, claims(), secret=keys()["hs256"][0])
        assert self.status(httpd, "/hs", tok) == 401

    def test_contract_res_610_02_header_not_object(self, httpd):
        for h in ('["HS256"]', '"HS256"', "null", '{"alg":"HS256"', ""):
            tok = raw_token(h, claims(), secret=keys()["hs256"][0])
            assert self.status(httpd, "/hs", tok) == 401

    def test_contract_res_610_03_payload_bytes(self, httpd):
        """Payload that is not UTF-8, nested duplicate members, a BOM."""
        secret = keys()["hs256"][0]
        good = json.dumps(claims())
        si_bad = b64u('{"alg":"HS256"}') + "." + b64u(
            good[:-1].encode() + b', "x": "\xff\xfe"}')
        import hashlib
        import hmac
        sig = hmac.new(secret, si_bad.encode(), hashlib.sha256).digest()
        assert self.status(httpd, "/hs", si_bad + "." + b64u(sig)) == 401
        nested = good[:-1] + ', "o": {"a": 1, "a": 2}}'
        assert self.status(httpd, "/hs", hs(nested)) == 401
        assert self.status(httpd, "/hs", hs("\ufeff" + good)) == 401
        # and the untouched payload passes, so the cases above are real
        assert self.status(httpd, "/hs", hs(good)) == 200

    def test_contract_res_610_04_alg_bound_to_key(self, httpd):
        """An HS384 key serves HS384 only: its own secret used for HS256 or
        HS512 is refused (RFC 8725 3.1)."""
        assert self.status(httpd, "/hs384", mint("HS384")) == 200
        for alg in ("HS256", "HS512"):
            tok = raw_token({"alg": alg}, claims(),
                            secret=keys()["hs384"][0],
                            digest=getattr(__import__("hashlib"),
                                           "sha" + alg[2:]))
            assert self.status(httpd, "/hs384", tok) == 401

    def test_contract_res_610_05_same_kid_two_algs(self, httpd):
        """Two keys share a kid: each token is checked by the key of its
        own algorithm, and an HMAC keyed with the EC public key is
        refused."""
        assert self.status(httpd, "/mixed",
                           mint("ES256", headers={"kid": "k1"})) == 200
        assert self.status(httpd, "/mixed",
                           mint("HS256", headers={"kid": "k1"})) == 200
        forged = raw_token({"alg": "HS256", "kid": "k1"}, claims(),
                           secret=keys()["ec256"][1])
        assert self.status(httpd, "/mixed", forged) == 401

    def test_contract_res_610_07_x5c_never_used(self, httpd):
        """An attacker's certificate in x5c (with or without its own kid)
        does not supply the key (interface.md: jku, x5u, jwk, x5c)."""
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
        attacker = rsa.generate_private_key(65537, 2048)
        pem = attacker.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        der = x509.load_pem_x509_certificate(self_signed(pem).encode())\
            .public_bytes(serialization.Encoding.DER)
        import base64
        x5c = [base64.b64encode(der).decode()]
        for extra in ({}, {"kid": "k1"}, {"x5t": b64u(b"x" * 20)}):
            h = dict({"alg": "RS256", "x5c": x5c}, **extra)
            si = b64u(json.dumps(h)) + "." + b64u(json.dumps(claims()))
            sig = attacker.sign(si.encode(), padding.PKCS1v15(),
                                hashes.SHA256())
            assert self.status(httpd, "/rscert", si + "." + b64u(sig)) == 401

    @pytest.mark.parametrize("n", [0, 32, 63, 65, 96, 128])
    def test_contract_res_610_08_es256_signature_length(self, httpd, n):
        """ES256 signatures are exactly 64 bytes (RFC 7518 3.4): a good
        signature cut or padded is refused."""
        tok = es256({"alg": "ES256", "kid": "c1"}, claims())
        si, sig = tok.rsplit(".", 1)
        import base64
        raw = base64.urlsafe_b64decode(sig + "==")
        bad = (raw + b"\0" * 64)[:n] if n < 64 else raw + b"\0" * (n - 64)
        assert self.status(httpd, "/eccert", si + "." + b64u(bad)) == 401

    @pytest.mark.parametrize("alg", ["Ed25519", "ES256K", "RS1", "HS1",
                                     "PS256 ", "ESP256"])
    def test_contract_res_610_09_algorithms_outside_the_list(self, httpd,
                                                             alg):
        """Algorithm names outside the contract's list are unknown, even
        when the signature would verify under a listed one."""
        from cryptography.hazmat.primitives.asymmetric import ed25519
        priv = serialization.load_pem_private_key(
            keys()["ed25519"][0].encode(), None)
        assert isinstance(priv, ed25519.Ed25519PrivateKey)
        si = b64u(json.dumps({"alg": alg})) + "." + b64u(json.dumps(claims()))
        tok = si + "." + b64u(priv.sign(si.encode()))
        assert self.status(httpd, "/ed", tok) == 401
        ok = b64u(json.dumps({"alg": "EdDSA"})) + "." + b64u(
            json.dumps(claims()))
        assert self.status(httpd, "/ed",
                           ok + "." + b64u(priv.sign(ok.encode()))) == 200

    def test_contract_res_610_06_kid_not_string(self, httpd):
        for kid in (1, None, ["c1"], {"c1": 1}, ""):
            tok = es256({"alg": "ES256", "kid": kid}, claims())
            assert self.status(httpd, "/eccert", tok) == 401
        assert self.status(httpd, "/eccert", es256(
            {"alg": "ES256", "kid": "c1"}, claims())) == 200

    # -- key files --------------------------------------------------------
    def test_contract_res_620_01_secret_trailing_newline(self, httpd):
        """One trailing newline of an HS secret file is not part of the
        secret; a second one is."""
        secret = keys()["hs256"][0]
        assert self.status(httpd, "/hsnl", mint("HS256")) == 200
        assert self.status(httpd, "/hsnl2", mint("HS256")) == 401
        tok = raw_token({"alg": "HS256"}, claims(), secret=secret + b"\n")
        assert self.status(httpd, "/hsnl2", tok) == 200
        assert self.status(httpd, "/hsnl", tok) == 401

    def test_contract_res_620_02_certificate_as_key(self, httpd):
        assert self.status(httpd, "/rscert", mint("RS256")) == 200
        assert self.status(httpd, "/rscert", mint("PS256")) == 401
        assert self.status(httpd, "/rscert",
                           mint("RS256", other=True)) == 401
        assert self.status(httpd, "/eccert",
                           mint("ES256", headers={"kid": "c1"})) == 200
        assert self.status(httpd, "/eccert",
                           mint("ES256", other=True,
                                headers={"kid": "c1"})) == 401

    # -- JWKS: keys with and without alg / kid ----------------------------
    @pytest.mark.parametrize("alg,key,kid,status", [
        ("ES256", "ec256", None, 200),        # no kid on the key: any token
        ("ES256", "ec256", "whatever", 200),
        ("ES256", "ec256_other", None, 401),
        ("ES384", "ec384", None, 401),        # no P-384 key in the set
        ("ES512", "ec521", "p521", 200),      # P-521 means ES512
        ("ES512", "ec521", None, 401),        # its kid is required
        ("ES512", "ec521", "other", 401),
        ("EdDSA", "ed25519", None, 200),
        ("EdDSA", "ed25519", "x", 200),
        ("HS384", "hs384", None, 200),        # oct bound by its alg
        ("HS256", "hs384", None, 401),
        ("HS512", "hs384", None, 401),
        ("PS256", "rsa", "ps", 200),          # RSA bound to PS256 by alg
        ("RS256", "rsa", "ps", 401),
        ("PS384", "rsa", "ps", 401),
        ("RS256", "rsa_other", None, 200),    # RSA without alg: RS256
        ("RS256", "rsa_other", "any", 200),
        ("PS256", "rsa_other", None, 401),
        ("RS512", "rsa_other", None, 401),
    ])
    def test_contract_res_630_01_jwks(self, httpd, alg, key, kid, status):
        headers = {"kid": kid} if kid else None
        assert self.status(httpd, "/jwks",
                           mint(alg, key=key, headers=headers)) == status

    def test_contract_res_630_03_jwks_not_for_signatures(self, httpd):
        """Keys marked for encryption ("use": "enc", or key_ops without
        "verify", RFC 7517 4.2/4.3) never verify a token."""
        assert self.status(httpd, "/ops", mint("ES256", other=True)) == 200
        assert self.status(httpd, "/ops", mint("ES256")) == 401
        assert self.status(httpd, "/ops", mint("RS256")) == 401

    @pytest.mark.parametrize("secret_of", ["pem", "jwk", "n", "der"])
    def test_contract_res_630_02_jwks_alg_confusion(self, httpd, secret_of):
        """HS256 tokens keyed with the public RSA key in any encoding an
        attacker might guess are refused (no oct key for HS256)."""
        import base64
        pub_pem = keys()["rsa_other"][1]
        d = jwk_of("rsa_other")
        secret = {
            "pem": pub_pem.encode(),
            "jwk": json.dumps(d).encode(),
            "n": base64.urlsafe_b64decode(d["n"] + "=" * (-len(d["n"]) % 4)),
            "der": serialization.load_pem_public_key(pub_pem.encode())
            .public_bytes(serialization.Encoding.DER,
                          serialization.PublicFormat.SubjectPublicKeyInfo),
        }[secret_of]
        for header in ({"alg": "HS256"}, {"alg": "HS256", "kid": "ps"}):
            tok = raw_token(header, claims(), secret=secret)
            assert self.status(httpd, "/jwks", tok) == 401


class TestContractClaims:
    """token-claim and token-scope beyond the existing tables."""
    CONF = "\nLimitRequestFieldSize 32768\n" + "".join([
        loc("/num", HS, require="Require token-claim level 3.0"),
        loc("/code", HS, require="Require token-claim code 3"),
        loc("/false", HS, require="Require token-claim flag false"),
        loc("/roles", HS, require="Require token-claim roles admin"),
        loc("/user", HS, require="Require token-claim user.name Ada"),
        loc("/scope", HS, require="Require token-scope orders:read"),
        loc("/env", HS, "AuthTokenClaimsEnv C_",
            'Header always set X-Deep "expr=%{reqenv:C_deep}"'),
    ])
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("path,over,status", [
        ("/num", {"level": 3}, 200),           # 3 == 3.0 numerically
        ("/num", {"level": 3.0}, 200),
        ("/num", {"level": "3.0"}, 200),       # the string equals the text
        ("/num", {"level": "3"}, 403),         # a string is not a number
        ("/num", {"level": 3.0000001}, 403),
        ("/num", {"level": 30}, 403),
        ("/num", {"level": True}, 403),
        ("/code", {"code": "3"}, 200),
        ("/code", {"code": 3}, 200),
        ("/code", {"code": "03"}, 403),
        ("/code", {"code": 3.5}, 403),
        ("/code", {"code": [4, 3]}, 200),
        ("/false", {"flag": False}, 200),
        ("/false", {"flag": 0}, 403),
        ("/false", {"flag": "False"}, 403),
        ("/false", {"flag": [True, False]}, 200),
        ("/roles", {"roles": [1, "admin"]}, 200),
        ("/roles", {"roles": [["admin"]]}, 403),    # no nested search
        ("/roles", {"roles": {"admin": True}}, 403),
        ("/roles", {"roles": "administrator"}, 403),
        ("/roles", {"roles": "admin user"}, 403),   # no splitting
        ("/user", {"user": {"name": "Ada"}}, 200),
        ("/user", {"user": {"name": ["Ada"]}}, 200),
        ("/user", {"user": "Ada"}, 403),
        ("/user", {"user": [{"name": "Ada"}]}, 403),
        # a claim named with dots (namespaced claims) wins over the path
        ("/user", {"user.name": "Ada", "user": {"name": "Bob"}}, 200),
        ("/user", {"user.name": "Bob", "user": {"name": "Ada"}}, 403),
        ("/user", {}, 403),
        ("/scope", {"scope": "x", "scp": ["orders:read"]}, 403),
        ("/scope", {"scope": "x  orders:read"}, 200),
        ("/scope", {"scope": " orders:read "}, 200),
        ("/scope", {"scope": "ORDERS:READ"}, 403),
        ("/scope", {"scope": None, "scp": ["x", "orders:read"]}, 200),
        ("/scope", {"scope": None, "scp": []}, 403),
    ])
    def test_contract_res_640_01(self, httpd, path, over, status):
        r = httpd.get(path + "/data.txt", token=mint(**over))
        assert r.status_code == status
        if status == 403:
            assert auth_params(challenge(r))["error"] == "insufficient_scope"

    def test_contract_res_640_02_deep_nesting(self, httpd):
        """A deeply nested claim neither crashes nor hangs the server."""
        for depth in (200, 1000, 3000):
            text = payload_with(deep="[" * depth + "]" * depth)
            r = httpd.get("/env/data.txt", token=hs(text))
            assert r.status_code in (200, 401)
        r = httpd.get("/env/data.txt",
                      token=hs(payload_with(deep="[[[1]]]")))
        assert r.status_code == 200
        assert r.headers["X-Deep"] == "[[[1]]]"

    def test_contract_res_640_03_head(self, httpd):
        """HEAD gets the same answers as GET."""
        r = requests.head(httpd.url + "/scope/data.txt", timeout=10)
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="contract"'
        r = requests.head(httpd.url + "/scope/data.txt", timeout=10,
                          headers={"Authorization": "Bearer " + mint(
                              scope="x")})
        assert r.status_code == 403
        assert auth_params(challenge(r))["error"] == "insufficient_scope"


class TestContractCachedRules:
    """The verify cache (on by default) skips only the signature and the
    parsing: the same token, warm in every process's cache, still meets
    each location's own user claim, typ, leeway and exports."""
    CONF = "".join([
        loc("/def", HS, 'Header always set X-User "expr=%{REMOTE_USER}"'),
        loc("/email", HS, "AuthTokenUserClaim email",
            'Header always set X-User "expr=%{REMOTE_USER}"'),
        loc("/at", HS, "AuthTokenRequireTyp at+jwt"),
        loc("/strict", HS, "AuthTokenLeeway 0"),
        loc("/iss", HS, "AuthTokenIssuer https://other.example"),
    ]) + """
CustomLog "{root}/logs/claims_log" "%{TOKEN_CLAIM_tenant}e %u"
ScriptAlias /cgi-bin/ {root}/cgi-bin/
<Location /cgi-bin>
    AuthType Bearer
    AuthName contract
    """ + HS + """
    Require valid-user
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        from resource_tokens import install_env_cgi
        write_keys(env)
        install_env_cgi(env)

    def warm(self, httpd, tok, n=12):
        for _ in range(n):
            assert httpd.get("/def/data.txt", token=tok).status_code == 200

    def test_contract_res_645_01_user_claim_per_location(self, httpd):
        tok = mint(sub="alice", email="a@example.com")
        self.warm(httpd, tok)
        for _ in range(6):
            assert httpd.get("/def/data.txt", token=tok).headers[
                "X-User"] == "alice"
            assert httpd.get("/email/data.txt", token=tok).headers[
                "X-User"] == "a@example.com"
        noemail = mint(sub="bob", jti="no-email")
        self.warm(httpd, noemail)
        assert httpd.get("/email/data.txt", token=noemail).status_code == 401

    def test_contract_res_645_02_typ_leeway_issuer(self, httpd):
        tok = raw_token({"alg": "HS256", "typ": "JWT"},
                        claims(exp=int(time.time()) - 10, jti="cached-typ"),
                        secret=keys()["hs256"][0])
        self.warm(httpd, tok)
        for path in ("/at", "/strict", "/iss"):
            for _ in range(4):
                r = httpd.get(path + "/data.txt", token=tok)
                assert r.status_code == 401, path
                assert auth_params(challenge(r))["error"] == "invalid_token"

    def test_contract_res_645_03_exports_on_every_hit(self, httpd):
        tok = mint(sub="carol", tenant="t9", jti="cached-env")
        for _ in range(8):
            e = httpd.get("/cgi-bin/env.py", token=tok).json()
            assert e["REMOTE_USER"] == "carol"
            assert e["TOKEN_CLAIM_tenant"] == "t9"
            assert e["AUTH_TYPE"].lower() == "bearer"
        # ... and to the logs (interface.md: "CGI, SSI, Require expr, logs")
        deadline = time.time() + 3       # written after each answer
        while True:
            with open(httpd.path("logs/claims_log")) as f:
                if "t9 carol\n" in f.read():
                    break
            assert time.time() < deadline, "claim not in the access log"
            time.sleep(0.05)


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Backend of the reverse proxy: answers with the request headers, in
    order and as sent, as a JSON list of [name, value]."""

    def do_GET(self):
        body = json.dumps([[k, v] for k, v in self.headers.items()]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class TestContractReverseProxy:
    """A reverse proxy in front of a backend: the token comes from
    Authorization (Proxy-Authorization is for forward proxies), claims
    reach the backend as headers, and no client-sent header that a backend
    could take for one of them (any case, '_' for '-') gets through."""
    BACKEND = None
    CONF = None
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        port = free_port()
        cls.BACKEND = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                      _EchoHandler)
        threading.Thread(target=cls.BACKEND.serve_forever,
                         daemon=True).start()
        cls.CONF = """
<Location /rp>
    AuthType Bearer
    AuthName rp
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenClaimsHeader X-Token-
    Require valid-user
    ProxyPass http://127.0.0.1:%d/
</Location>
ProxyRequests On
<Proxy "http://127.0.0.1:%d/fwd*">
    AuthType Bearer
    AuthName fwd
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    Require valid-user
</Proxy>
""" % (port, port)

    @pytest.fixture(scope="class", autouse=True)
    def _backend(self, httpd):
        yield
        self.BACKEND.shutdown()
        self.BACKEND.server_close()

    def backend_headers(self, r):
        assert r.status_code == 200, r.text
        return r.json()

    def test_contract_res_650_01_authorization_used(self, httpd):
        r = httpd.get("/rp/x", token=mint())
        h = self.backend_headers(r)
        assert ["X-Token-sub", "alice"] in h or any(
            k.lower() == "x-token-sub" and v == "alice" for k, v in h)
        r = httpd.get("/rp/x", headers={"Proxy-Authorization":
                                         "Bearer " + mint()})
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="rp"'

    @pytest.mark.parametrize("forged", [
        "X-Token-Sub", "x-token-sub", "X-TOKEN-ROLE", "X_Token_Sub",
        "x_token_role", "X-Token_Sub", "X_TOKEN-admin"])
    def test_contract_res_650_02_forged_claim_headers(self, httpd, forged):
        r = httpd.get("/rp/x", token=mint(),
                      headers={forged: "forged-4711"})
        h = self.backend_headers(r)
        assert not any("forged-4711" in v for _, v in h), h
        subs = [v for k, v in h if k.lower().replace("_", "-")
                == "x-token-sub"]
        assert subs == ["alice"], h

    def test_contract_res_650_04_forward_proxy_keeps_token(self, httpd):
        """On a forward proxy the token comes from Proxy-Authorization and
        is not passed on to the origin server."""
        port = self.BACKEND.server_address[1]
        url = "http://127.0.0.1:%d/fwd/x" % port
        tok = mint()
        r = requests.get(url, proxies={"http": httpd.url}, timeout=10,
                         headers={"Proxy-Authorization": "Bearer " + tok})
        h = self.backend_headers(r)
        assert not any(tok in v for _, v in h), h
        assert "proxy-authorization" not in [k.lower() for k, _ in h]
        r = requests.get(url, proxies={"http": httpd.url}, timeout=10)
        assert r.status_code == 407
        assert r.headers["Proxy-Authenticate"] == 'Bearer realm="fwd"'

    def test_contract_res_650_03_values_not_split(self, httpd):
        """A claim value with a comma or a control character does not turn
        into extra headers."""
        r = httpd.get("/rp/x", token=mint(
            note="a, b", evil="x\r\nX-Token-Admin: true"))
        h = self.backend_headers(r)
        names = [k.lower() for k, _ in h]
        assert "x-token-admin" not in names
        assert "x-token-evil" not in names
        assert [v for k, v in h if k.lower() == "x-token-note"] == ["a, b"]


def _bearer(*lines):
    return "<Location /api>\n    AuthType Bearer\n    %s\n    " \
           "Require valid-user\n</Location>\n" % "\n    ".join(lines)


@pytest.fixture(scope="module")
def cenv():
    """A server root for configtest only (never started)."""
    env = HttpdEnv()
    write_keys(env)
    ks = keys()

    def setfile(name, doc):
        env.write_file("keys/" + name, json.dumps({"keys": [doc]}))

    setfile("ec-alg.jwks", jwk_of("ec256", alg="ES384"))
    setfile("ec-eddsa.jwks", jwk_of("ec256", alg="EdDSA"))
    setfile("rsa-weak.jwks", jwk_of("rsa1024"))
    setfile("rsa-es.jwks", jwk_of("rsa", alg="ES256"))
    setfile("none.jwks", jwk_of("ec256", alg="none"))
    setfile("unknown-alg.jwks", jwk_of("ec256", alg="XS256"))
    setfile("oct-short.jwks", {"kty": "oct", "k": b64u(os.urandom(32)),
                               "alg": "HS512"})
    setfile("oct-rs.jwks", {"kty": "oct", "k": b64u(os.urandom(64)),
                            "alg": "RS256"})
    setfile("okp-es.jwks", jwk_of("ed25519", alg="ES256"))
    env.write_file("keys/rsa1024.crt", self_signed(ks["rsa1024"][0]))
    yield env
    env.cleanup()


JWKS_BAD = ["ec-alg", "ec-eddsa", "rsa-weak", "rsa-es", "none",
            "unknown-alg", "oct-short", "oct-rs", "okp-es"]


class TestContractConfig:
    """Every JWKS mistake and a weak certificate stop configtest with the
    file, the line and the directive."""

    def line_of(self, env, needle):
        with open(env.path("conf/httpd.conf")) as f:
            for n, line in enumerate(f, 1):
                if needle in line:
                    return n
        raise AssertionError(needle)

    def expect_error(self, env, conf, needle, parts):
        env.install(conf)
        ok, out = env.configtest()
        assert not ok, out
        where = "line %d of %s" % (self.line_of(env, needle),
                                   env.path("conf/httpd.conf"))
        assert where in out, out
        for p in parts:
            assert p in out, out

    @pytest.mark.parametrize("name", JWKS_BAD)
    def test_contract_res_660_01_jwks(self, cenv, name):
        self.expect_error(cenv, _bearer(
            "AuthTokenJWKS {root}/keys/%s.jwks" % name),
            name + ".jwks", ["AuthTokenJWKS"])

    def test_contract_res_660_02_weak_certificate(self, cenv):
        self.expect_error(cenv, _bearer(
            "AuthTokenVerifyKey RS256 {root}/keys/rsa1024.crt"),
            "rsa1024.crt", ["AuthTokenVerifyKey"])

    def test_contract_res_660_03_hs384_short(self, cenv):
        self.expect_error(cenv, _bearer(
            "AuthTokenVerifyKey HS384 {root}/keys/hs256.key"),
            "hs256.key", ["AuthTokenVerifyKey"])

    def test_contract_res_660_05_hs256_secret_length(self, cenv):
        """32 bytes is the least for HS256; a 31-byte secret stays too short
        when its file adds a newline (which is not part of it)."""
        cenv.write_file("keys/s31", b"s" * 31)
        cenv.write_file("keys/s31nl", b"s" * 31 + b"\n")
        cenv.write_file("keys/s32", b"s" * 32)
        cenv.write_file("keys/s32nl", b"s" * 32 + b"\n")
        for name in ("s31", "s31nl"):
            self.expect_error(cenv, _bearer(
                "AuthTokenVerifyKey HS256 {root}/keys/%s" % name),
                "keys/%s" % name, ["AuthTokenVerifyKey"])
        for name in ("s32", "s32nl"):
            cenv.install(_bearer(
                "AuthTokenVerifyKey HS256 {root}/keys/%s" % name))
            ok, out = cenv.configtest()
            assert ok, out

    def test_contract_res_660_04_good_jwks_passes(self, cenv):
        cenv.write_file("keys/good.jwks", json.dumps(contract_jwks()))
        cenv.install(_bearer("AuthTokenJWKS {root}/keys/good.jwks"))
        ok, out = cenv.configtest()
        assert ok, out
