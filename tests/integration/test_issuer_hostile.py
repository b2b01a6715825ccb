"""Hostile input to the issuer's endpoints: forged and tampered tokens at
introspection and revocation (never active, never revoking anything), and
random or malformed request bodies and credentials at the token endpoint
(always a 4xx answer in the RFC 6749 shape, never a 5xx)."""
import base64
import json
import random
import time

import pytest
import requests
from jwcrypto import jwk, jws

from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            token_request, unverified_claims)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(key, header, claims):
    obj = jws.JWS(json.dumps(claims))
    obj.add_signature(key, None, protected=json.dumps(header))
    return obj.serialize(compact=True)


class TestIssuerHostile:
    APPS = {}
    KEY = None

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        with open(env.path("keys/es256.pem"), "rb") as f:
            cls.KEY = jwk.JWK.from_pem(f.read())
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"])
        add_scopes(env, "read")
        cls.APPS["svc"] = add_app(env, "svc", scopes="read")

    def genuine(self, httpd):
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          auth=self.APPS["svc"])
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def active(self, httpd, token):
        r = token_request(httpd, {"token": token}, auth=self.APPS["svc"],
                          path="/oauth/introspect")
        assert r.status_code == 200, r.text
        return r.json()["active"]

    def forgeries(self, httpd):
        """Tokens that must never count as ours, built from a genuine one."""
        tok = self.genuine(httpd)
        header, claims = unverified_claims(tok)
        h, p, s = tok.split(".")
        kid = header["kid"]
        now = int(time.time())
        out = {}
        # Payload changed, signature kept.
        more = dict(claims, scope="read admin")
        out["tampered"] = h + "." + b64(json.dumps(more).encode()) + "." + s
        # alg none, with and without a signature.
        none = b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
        out["alg-none"] = none + "." + p + "."
        out["alg-none-sig"] = none + "." + p + "." + s
        # Algorithm confusion: HS256 keyed with the public key's PEM.
        pub = self.KEY.export_to_pem(private_key=False, password=None)
        hkey = jwk.JWK(kty="oct", k=b64(pub))
        out["hs256-public-pem"] = sign(
            hkey, {"alg": "HS256", "typ": "at+jwt", "kid": kid}, claims)
        # Signed with our own key, but not an access token of ours.
        out["typ-jwt"] = sign(self.KEY, {"alg": "ES256", "typ": "JWT",
                                         "kid": kid}, claims)
        out["other-iss"] = sign(self.KEY, {"alg": "ES256", "typ": "at+jwt",
                                           "kid": kid},
                                dict(claims, iss="https://evil.example"))
        out["expired"] = sign(self.KEY, {"alg": "ES256", "typ": "at+jwt",
                                         "kid": kid},
                              dict(claims, iat=now - 7200, exp=now - 3600))
        # Another key with our kid.
        other = jwk.JWK.generate(kty="EC", crv="P-256")
        out["other-key"] = sign(other, {"alg": "ES256", "typ": "at+jwt",
                                        "kid": kid}, claims)
        # Embedded keys are never used to find a key.
        out["embedded-jwk"] = sign(other, {
            "alg": "ES256", "typ": "at+jwt",
            "jwk": json.loads(other.export_public())}, claims)
        # Oversized and malformed.
        out["huge"] = h + "." + b64(b"{" + b'"a":1,' * 1500 + b'"b":1}') \
            + "." + s
        out["four-segments"] = tok + ".x"
        out["bad-base64"] = h + "." + p + "." + s[:-2] + "!!"
        return out

    def test_issuer_hostile_001_introspection(self, httpd):
        for name, token in self.forgeries(httpd).items():
            assert self.active(httpd, token) is False, name

    def test_issuer_hostile_002_revocation_revokes_nothing(self, httpd):
        tok = self.genuine(httpd)
        h, p, s = tok.split(".")
        # Same jti, forged: revoking it must not touch the genuine token.
        claims = unverified_claims(tok)[1]
        forged = sign(jwk.JWK.generate(kty="EC", crv="P-256"),
                      {"alg": "ES256", "typ": "at+jwt"}, claims)
        for t in list(self.forgeries(httpd).values()) + [forged]:
            r = token_request(httpd, {"token": t}, auth=self.APPS["svc"],
                              path="/oauth/revoke")
            assert r.status_code == 200
        assert self.active(httpd, tok) is True

    def test_issuer_hostile_003_random_bodies(self, httpd):
        rnd = random.Random(20261128)
        alphabet = b"abcdefghijklmnopqrstuvwxyz_=&%+ \x00\xff\r\n;:\"'"
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        for _ in range(150):
            body = bytes(rnd.choice(alphabet)
                         for _ in range(rnd.randint(0, 300)))
            auth = self.APPS["svc"] if rnd.random() < 0.5 else None
            r = requests.post(httpd.url + "/oauth/token", data=body,
                              headers=hdrs, auth=auth, timeout=10)
            assert 400 <= r.status_code < 500, (body, r.status_code)
            assert r.json()["error"] in (
                "invalid_request", "invalid_client", "unsupported_grant_type",
                "invalid_scope", "invalid_grant", "unauthorized_client")

    def test_issuer_hostile_003b_parameter_without_equals(self, httpd):
        # Once a crash: a parameter without '=' decoded in place.
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        for body in ("grant_type=client_credentials&flag",
                     "flag&grant_type=client_credentials", "a&b&c", "&&&"):
            r = requests.post(httpd.url + "/oauth/token", data=body,
                              headers=hdrs, auth=self.APPS["svc"], timeout=10)
            assert r.status_code in (200, 400), (body, r.text)
        r = requests.post(httpd.url + "/oauth/token",
                          data="grant_type=client_credentials&flag",
                          headers=hdrs, auth=self.APPS["svc"], timeout=10)
        assert r.status_code == 200, r.text

    @pytest.mark.parametrize("value", [
        "Basic " + "A" * 6000,
        "Basic " + base64.b64encode(b"svc%00x:secret").decode(),
        "Basic " + base64.b64encode(b":").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
        "Basic",
        "Basic    ",
        "Bearer abc",
        "basic " + base64.b64encode(b"x:y").decode(),
    ])
    def test_issuer_hostile_004_credentials(self, httpd, value):
        r = requests.post(httpd.url + "/oauth/token",
                          data={"grant_type": "client_credentials"},
                          headers={"Authorization": value}, timeout=10)
        assert r.status_code == 401, (value, r.text)
        assert r.json()["error"] == "invalid_client"
