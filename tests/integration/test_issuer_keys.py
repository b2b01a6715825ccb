"""Signing-key variants of the issuer: ES256, EdDSA, RS256, PS256 (tokens
verified with jwcrypto against the published JWK Set by kid), HS256 (a
purely local setup: nothing published, tokens accepted by the server's own
AuthTokenVerifyLocal), and rotation (two keys: both published, the first
signs)."""
import base64
import hashlib
import json

import requests
from jwcrypto import jwk

from issuer_helpers import (add_app, add_scopes, issuer_conf, jwks,
                            make_key, token_request, unverified_claims,
                            verify_access_token)

LOCAL_API = """
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    Require valid-user
</Location>
"""


def get_token(httpd, app):
    r = token_request(httpd, {"grant_type": "client_credentials"}, auth=app)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def thumbprint(key_dict):
    """RFC 7638 thumbprint computed here independently of the module."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
               "OKP": ("crv", "kty", "x")}[key_dict["kty"]]
    canon = json.dumps({m: key_dict[m] for m in members},
                       separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(
        hashlib.sha256(canon.encode()).digest()).rstrip(b"=").decode()


class _SigningKeyCase:
    ALG = None
    KTY = None
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, cls.ALG, "signing.pem")
        cls.CONF = issuer_conf(["%s keys/signing.pem" % cls.ALG], LOCAL_API)
        add_scopes(env, "read")
        cls.APPS = {"svc": add_app(env, "svc", scopes="read")}

    def test_issuer_keys_001_token_verifies_with_jwks(self, httpd):
        tok = get_token(httpd, self.APPS["svc"])
        header, claims = verify_access_token(httpd, tok)
        assert header["alg"] == self.ALG
        assert claims["client_id"] == self.APPS["svc"][0]

    def test_issuer_keys_002_jwks_public_and_kid_is_thumbprint(self, httpd):
        keys = requests.get(httpd.url + "/oauth/jwks",
                            timeout=10).json()["keys"]
        assert len(keys) == 1
        k = keys[0]
        assert k["kty"] == self.KTY
        for private in ("d", "p", "q", "dp", "dq", "qi"):
            assert private not in k
        assert k["kid"] == thumbprint(k)
        assert k.get("alg", self.ALG) == self.ALG
        # jwcrypto computes the same thumbprint.
        assert jwk.JWK(**k).thumbprint() == k["kid"]

    def test_issuer_keys_003_local_verification(self, httpd):
        tok = get_token(httpd, self.APPS["svc"])
        assert httpd.get("/api/data.txt", token=tok).status_code == 200


class TestIssuerKeyES256(_SigningKeyCase):
    ALG, KTY = "ES256", "EC"


class TestIssuerKeyEdDSA(_SigningKeyCase):
    ALG, KTY = "EdDSA", "OKP"


class TestIssuerKeyRS256(_SigningKeyCase):
    ALG, KTY = "RS256", "RSA"


class TestIssuerKeyPS256(_SigningKeyCase):
    ALG, KTY = "PS256", "RSA"


class TestIssuerKeyHS256:
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "HS256", "hs256.secret")
        cls.CONF = issuer_conf(["HS256 keys/hs256.secret"], LOCAL_API)
        add_scopes(env, "read")
        cls.APPS = {"svc": add_app(env, "svc", scopes="read")}

    def test_issuer_keys_hs_001_not_published(self, httpd):
        r = requests.get(httpd.url + "/oauth/jwks", timeout=10)
        assert r.status_code == 200
        assert r.json() == {"keys": []}

    def test_issuer_keys_hs_002_local_only(self, httpd):
        tok = get_token(httpd, self.APPS["svc"])
        header, claims = unverified_claims(tok)
        assert header["alg"] == "HS256"
        assert header["typ"] == "at+jwt"
        assert claims["iss"] == httpd.url
        assert httpd.get("/api/data.txt", token=tok).status_code == 200
        r = token_request(httpd, {"token": tok}, auth=self.APPS["svc"],
                          path="/oauth/introspect")
        assert r.json()["active"] is True


class TestIssuerKeyRotation:
    """Two keys: the new one (first) signs, the old one stays published so
    that tokens it signed still verify."""
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "new.pem")
        make_key(env, "RS256", "old.pem")
        cls.CONF = issuer_conf(["ES256 keys/new.pem",
                                "RS256 keys/old.pem kid=old-key"], LOCAL_API)
        add_scopes(env, "read")
        cls.APPS = {"svc": add_app(env, "svc", scopes="read")}

    def test_issuer_keys_rot_001_both_published_first_signs(self, httpd):
        keyset = jwks(httpd)
        kids = [k["kid"] for k in json.loads(keyset.export(
            private_keys=False))["keys"]]
        assert len(kids) == 2
        assert "old-key" in kids
        new_kid = [k for k in kids if k != "old-key"][0]
        tok = get_token(httpd, self.APPS["svc"])
        header, _ = verify_access_token(httpd, tok, keyset)
        assert header["kid"] == new_kid
        assert header["alg"] == "ES256"
        assert httpd.get("/api/data.txt", token=tok).status_code == 200
