"""Contract audit of the issuer (interface.md, "Issuer", access and refresh
tokens): what the other issuer tests leave out, tried the way OAuth client
libraries (authlib, PyJWT's PyJWKClient, jwcrypto) and a hostile client
would. Metadata validated by authlib and followed to every endpoint,
tokens verified through the JWKS by PyJWT, form-urlencoded Basic
credentials, disabled applications at every endpoint, RFC 7009 hints,
refresh tokens stored only as hashes, expiring and revoked as a family,
and the issued tokens accepted by a VerifyLocal location only as the
contract says."""
import base64
import hashlib
import os
import hmac
import json
import sqlite3
import time
import urllib.parse

import subprocess

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from httpd_env import MODULE, MODULES_DIR, RUN_USER, TOKEN_ADMIN, HttpdEnv
from issuer_helpers import (add_app, add_scopes, issuer_conf, jwks,
                            make_key, registry, token_admin, token_request,
                            unverified_claims, verify_access_token)
from resource_tokens import b64u, no_token_in_log  # noqa: F401

EXTRA = """
AuthTokenEndpointURL revoke http://127.0.0.1:{port}/oauth/revoke2
AuthTokenEndpointURL introspect http://127.0.0.1:{port}/oauth/introspect2
<Location /oauth/revoke2>
    SetHandler oauth-revoke
</Location>
<Location /oauth/introspect2>
    SetHandler oauth-introspect
</Location>
<Location /api>
    AuthType Bearer
    AuthName api
    AuthTokenVerifyLocal On
    AuthTokenAudience b.example
    AuthTokenRevocationCheck On
    AuthzSendForbiddenOnFailure On
    Require token-scope read
</Location>
"""

METADATA = "/.well-known/oauth-authorization-server"


def basic(cid, secret, quote=urllib.parse.quote):
    """An Authorization: Basic value with both parts form-urlencoded
    (RFC 6749 2.3.1) by QUOTE."""
    raw = "%s:%s" % (quote(cid), quote(secret))
    return "Basic " + base64.b64encode(raw.encode()).decode()


def pct_all(s):
    """Every character percent-encoded, as a client may legally do."""
    return "".join("%%%02X" % b for b in s.encode())


def assert_error(r, status, error):
    assert r.status_code == status, r.text
    assert r.json()["error"] == error, r.text
    assert r.headers.get("Cache-Control") == "no-store"


class TestContractIssuer:
    ALLOWED_LOG_IDS = ("AT00443", "AH01630", "AH01631")
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        make_key(env, "HS256", "hs.secret")
        make_key(env, "RS256", "rsa.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem", "HS256 keys/hs.secret",
                                "RS256 keys/rsa.pem kid=old-rsa"], EXTRA)
        add_scopes(env, "read", "write")
        both = "client_credentials,refresh_token"
        cls.APPS["svc"] = add_app(env, "svc", scopes="read,write",
                                  audiences="a.example,b.example")
        cls.APPS["aonly"] = add_app(env, "aonly", scopes="read",
                                    audiences="a.example")
        cls.APPS["offline"] = add_app(env, "offline", grants=both,
                                      scopes="read,write",
                                      audiences="b.example",
                                      extra=["--offline-client-credentials"])
        cls.APPS["shortrt"] = add_app(env, "shortrt", grants=both,
                                      scopes="read",
                                      extra=["--offline-client-credentials",
                                             "--refresh-lifetime", "1"])
        cls.APPS["off"] = add_app(env, "off", grants=both, scopes="read",
                                  extra=["--offline-client-credentials"])
        cls.APPS["other"] = add_app(env, "other", scopes="read")
        token_admin(env, "app", "disable", cls.APPS["off"][0])

    # -- helpers ----------------------------------------------------------
    def cc(self, httpd, app, scope=None, auth=True):
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        r = token_request(httpd, data, auth=self.APPS[app] if auth else None)
        assert r.status_code == 200, r.text
        return r.json()

    def refresh(self, httpd, app, rt, **extra):
        return token_request(httpd, dict({"grant_type": "refresh_token",
                                          "refresh_token": rt}, **extra),
                             auth=self.APPS[app])

    def introspect(self, httpd, token, app="other", **extra):
        r = token_request(httpd, dict({"token": token}, **extra),
                          auth=self.APPS[app], path="/oauth/introspect")
        assert r.status_code == 200, r.text
        return r.json()

    def revoke(self, httpd, token, app, **extra):
        return token_request(httpd, dict({"token": token}, **extra),
                             auth=self.APPS[app], path="/oauth/revoke")

    # -- metadata ---------------------------------------------------------
    def test_contract_iss_700_01_metadata_valid_for_authlib(self, httpd,
                                                            monkeypatch):
        # the test issuer is http://127.0.0.1 (authlib wants https)
        monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        r = requests.get(httpd.url + METADATA, timeout=10)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        md = AuthorizationServerMetadata(r.json())
        # authlib's validate() runs every validate_* rule: all hold.
        rules = [n for n in dir(md) if n.startswith("validate_")]
        assert len(rules) > 15
        md.validate()
        assert md["response_types_supported"] == ["code"]
        assert md["authorization_endpoint"] == httpd.url + "/oauth/authorize"
        assert md["issuer"] == httpd.url
        assert md["revocation_endpoint"] == httpd.url + "/oauth/revoke2"
        assert md["introspection_endpoint"] == \
            httpd.url + "/oauth/introspect2"
        assert md["token_endpoint"] == httpd.url + "/oauth/token"
        assert md["jwks_uri"] == httpd.url + "/oauth/jwks"

    def test_contract_iss_700_02_every_endpoint_from_metadata(self, httpd):
        """A client that only knows the issuer gets a token, introspects
        and revokes it at the URLs the metadata names, authenticating with
        client_secret_post."""
        md = requests.get(httpd.url + METADATA, timeout=10).json()
        cid, secret = self.APPS["svc"]
        s = OAuth2Session(cid, secret,
                          token_endpoint_auth_method="client_secret_post",
                          revocation_endpoint_auth_method="client_secret_post")
        tok = s.fetch_token(md["token_endpoint"],
                            grant_type="client_credentials")
        at = tok["access_token"]
        body = s.introspect_token(md["introspection_endpoint"],
                                  token=at).json()
        assert body["active"] is True
        assert body["client_id"] == cid
        assert s.revoke_token(md["revocation_endpoint"],
                              token=at).status_code == 200
        assert s.introspect_token(md["introspection_endpoint"],
                                  token=at).json() == {"active": False}

    def test_contract_iss_700_03_scopes_follow_the_registry(self, httpd):
        """A scope added with token-admin is in scopes_supported and
        grantable without a restart."""
        before = requests.get(httpd.url + METADATA, timeout=10).json()
        assert "reports" not in before["scopes_supported"]
        token_admin(httpd, "scope", "add", "reports")
        md = requests.get(httpd.url + METADATA, timeout=10).json()
        assert {"read", "write", "reports", "offline_access"} <= set(
            md["scopes_supported"])
        token_admin(httpd, "app", "update", self.APPS["other"][0],
                    "--scope", "read,reports")
        body = self.cc(httpd, "other", scope="reports")
        assert body["scope"] == "reports"

    # -- JWKS and the issued access tokens --------------------------------
    def test_contract_iss_710_01_pyjwt_verifies_through_jwks(self, httpd):
        """PyJWT's PyJWKClient finds the key by kid and every RFC 9068
        claim is there."""
        tok = self.cc(httpd, "svc", scope="read")
        at = tok["access_token"]
        client = jwt.PyJWKClient(httpd.url + "/oauth/jwks")
        key = client.get_signing_key_from_jwt(at)
        claims = jwt.decode(at, key.key, algorithms=["ES256"],
                            audience="b.example", issuer=httpd.url,
                            options={"require": ["exp", "iat", "jti", "sub",
                                                 "aud", "iss"]})
        hdr = jwt.get_unverified_header(at)
        assert hdr["typ"] == "at+jwt"
        assert hdr["alg"] == "ES256"
        assert hdr["kid"] == key.key_id
        assert claims["client_id"] == claims["sub"] == self.APPS["svc"][0]
        assert claims["scope"] == "read"
        assert claims["aud"] == ["a.example", "b.example"]
        assert tok["expires_in"] == claims["exp"] - claims["iat"]

    def test_contract_iss_710_02_jwks_members(self, httpd):
        """Only the asymmetric keys, public members only, each with kid;
        the HS256 key (second) is never published."""
        r = requests.get(httpd.url + "/oauth/jwks", timeout=10)
        assert r.headers["Content-Type"].split(";")[0] in (
            "application/json", "application/jwk-set+json")
        doc = r.json()
        assert set(doc) == {"keys"}
        ks = doc["keys"]
        assert sorted(k["kty"] for k in ks) == ["EC", "RSA"]
        private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
        for k in ks:
            assert not private & set(k), k
            assert k["kid"]
            assert k.get("use", "sig") == "sig"
        assert "old-rsa" in [k["kid"] for k in ks]
        assert "oct" not in r.text
        secret = open(httpd.path("keys/hs.secret")).read().strip()
        for body in (r.text, requests.get(httpd.url + METADATA,
                                          timeout=10).text):
            assert secret not in body
            assert base64.urlsafe_b64encode(secret.encode()).decode()\
                .rstrip("=") not in body

    def test_contract_iss_710_03_refreshed_token_claims(self, httpd):
        """An access token from the refresh_token grant carries the full
        RFC 9068 set too, with a fresh jti."""
        first = self.cc(httpd, "offline", scope="read offline_access")
        r = self.refresh(httpd, "offline", first["refresh_token"])
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store"
        body = r.json()
        assert body["token_type"].lower() == "bearer"
        assert isinstance(body["expires_in"], int)
        assert body["refresh_token"] != first["refresh_token"]
        hdr, claims = verify_access_token(httpd, body["access_token"])
        assert hdr["kid"]
        for k in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id",
                  "scope"):
            assert k in claims, k
        assert claims["aud"] == "b.example"
        assert claims["jti"] != unverified_claims(
            first["access_token"])[1]["jti"]
        assert sorted(claims["scope"].split()) == ["offline_access", "read"]

    # -- client authentication ----------------------------------------------
    @pytest.mark.parametrize("quote", [urllib.parse.quote, pct_all,
                                       urllib.parse.quote_plus])
    def test_contract_iss_720_01_basic_is_form_urlencoded(self, httpd,
                                                          quote):
        cid, secret = self.APPS["svc"]
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          headers={"Authorization": basic(cid, secret,
                                                          quote)})
        assert r.status_code == 200, r.text
        assert unverified_claims(r.json()["access_token"])[1]["sub"] == cid

    def test_contract_iss_720_02_basic_scheme_case(self, httpd):
        cid, secret = self.APPS["svc"]
        value = basic(cid, secret).replace("Basic", "basic", 1)
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          headers={"Authorization": value})
        assert r.status_code == 200, r.text

    def test_contract_iss_720_03_encoded_wrong_secret(self, httpd):
        """Decoding never makes a wrong secret right: a '%' sequence that
        decodes to another character, a bad escape."""
        cid, secret = self.APPS["svc"]
        other = "%41" if secret[-1] != "A" else "%42"
        for s in (secret[:-1] + other, secret + "%", secret + "%zz",
                  secret[:-1]):
            r = token_request(httpd, {"grant_type": "client_credentials"},
                              headers={"Authorization": basic(
                                  cid, s, quote=lambda x: x)})
            assert r.status_code in (400, 401), r.text
            assert r.json()["error"] in ("invalid_client", "invalid_request")

    @pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect",
                                      "/oauth/revoke"])
    def test_contract_iss_720_04_both_methods_everywhere(self, httpd, path):
        cid, secret = self.APPS["svc"]
        data = {"client_id": cid, "client_secret": secret, "token": "x",
                "grant_type": "client_credentials"}
        r = token_request(httpd, data, auth=(cid, secret), path=path)
        assert_error(r, 400, "invalid_request")

    @pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect",
                                      "/oauth/revoke"])
    def test_contract_iss_720_05_disabled_everywhere(self, httpd, path):
        """A disabled application is invalid_client at every endpoint, with
        either authentication method."""
        cid, secret = self.APPS["off"]
        data = {"grant_type": "client_credentials", "token": "x"}
        r = token_request(httpd, data, auth=(cid, secret), path=path)
        assert_error(r, 401, "invalid_client")
        r = token_request(httpd, dict(data, client_id=cid,
                                      client_secret=secret), path=path)
        assert r.status_code in (400, 401)
        assert r.json()["error"] == "invalid_client"

    def test_contract_iss_720_06_client_id_without_secret(self, httpd):
        cid, _ = self.APPS["svc"]
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": cid})
        assert r.status_code in (400, 401)
        assert r.json()["error"] == "invalid_client"

    def test_contract_iss_720_07_mixed_identities(self, httpd):
        """Basic for one client and client_id of another in the body is
        refused; one client's id with another's secret is invalid_client;
        the own client_id beside Basic is fine (RFC 6749 2.3.1 allows it);
        a client_secret beside Basic is a second method."""
        a_id, a_secret = self.APPS["svc"]
        b_id, b_secret = self.APPS["other"]
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": a_id}, auth=(b_id, b_secret))
        assert r.status_code in (400, 401), r.text
        assert r.json()["error"] in ("invalid_request", "invalid_client")
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": a_id,
                                  "client_secret": b_secret})
        assert r.status_code in (400, 401), r.text
        assert r.json()["error"] == "invalid_client"
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": b_id}, auth=(b_id, b_secret))
        assert r.status_code == 200, r.text
        assert unverified_claims(r.json()["access_token"])[1]["sub"] == b_id
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_secret": b_secret},
                          auth=(b_id, b_secret))
        assert_error(r, 400, "invalid_request")

    # -- grants and scopes --------------------------------------------------
    @pytest.mark.parametrize("grant", [
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "urn:ietf:params:oauth:grant-type:device_code", "implicit",
        "CLIENT_CREDENTIALS", "client_credentials "])
    def test_contract_iss_730_01_unsupported_grants(self, httpd, grant):
        r = token_request(httpd, {"grant_type": grant},
                          auth=self.APPS["svc"])
        assert_error(r, 400, "unsupported_grant_type")

    def test_contract_iss_730_02_unknown_grant_bad_client(self, httpd):
        """Client authentication comes first: a bad secret with an unknown
        grant is invalid_client."""
        cid, _ = self.APPS["svc"]
        r = token_request(httpd, {"grant_type": "password"},
                          auth=(cid, "wrong"))
        assert_error(r, 401, "invalid_client")

    def test_contract_iss_730_03_scope_edges(self, httpd):
        # a scope that exists but is not the application's
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "scope": "read write"},
                          auth=self.APPS["other"])
        assert_error(r, 400, "invalid_scope")
        # offline_access alone for an application not marked for it:
        # no refresh token, never an error
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "scope": "read offline_access"},
                          auth=self.APPS["other"])
        assert r.status_code == 200, r.text
        assert "refresh_token" not in r.json()
        assert "offline_access" not in r.json()["scope"].split()
        assert "offline_access" not in unverified_claims(
            r.json()["access_token"])[1]["scope"].split()

    def test_contract_iss_730_04_scope_syntax(self, httpd):
        """RFC 6749 3.3: scopes are separated by spaces; a repeated one is
        granted once; a tab is no separator."""
        body = self.cc(httpd, "svc", scope="read read")
        assert body["scope"] == "read"
        assert unverified_claims(body["access_token"])[1]["scope"] == "read"
        body = self.cc(httpd, "svc", scope="write  read")
        assert sorted(body["scope"].split()) == ["read", "write"]
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "scope": "read\twrite"},
                          auth=self.APPS["svc"])
        assert_error(r, 400, "invalid_scope")

    def test_contract_iss_730_05_client_id_exact(self, httpd):
        cid, secret = self.APPS["svc"]
        for other in (cid.upper(), cid.lower(), cid + " ", " " + cid):
            if other == cid:
                continue
            r = token_request(httpd, {"grant_type": "client_credentials"},
                              auth=(other, secret))
            assert_error(r, 401, "invalid_client")

    def test_contract_iss_730_06_introspection_sees_admin_revocation(
            self, httpd):
        """token-admin token revoke --jti / --client: introspection says
        inactive at once."""
        at = self.cc(httpd, "aonly")["access_token"]
        token_admin(httpd, "token", "revoke", "--jti",
                    unverified_claims(at)[1]["jti"])
        assert self.introspect(httpd, at) == {"active": False}
        at = self.cc(httpd, "aonly")["access_token"]
        assert self.introspect(httpd, at)["active"] is True
        token_admin(httpd, "token", "revoke", "--client",
                    self.APPS["aonly"][0])
        assert self.introspect(httpd, at) == {"active": False}
        # iat has whole seconds: a token from the next second is fine
        time.sleep(1.1)
        at = self.cc(httpd, "aonly")["access_token"]
        assert self.introspect(httpd, at)["active"] is True

    # -- refresh tokens -----------------------------------------------------
    def test_contract_iss_740_01_stored_only_as_hash(self, httpd):
        tok = self.cc(httpd, "offline", scope="read offline_access")
        rt = tok["refresh_token"]
        r = self.refresh(httpd, "offline", rt)
        rt2 = r.json()["refresh_token"]
        db = sqlite3.connect("file:%s?mode=ro" % registry(httpd), uri=True)
        try:
            dump = "\n".join(db.iterdump())
        finally:
            db.close()
        for t in (rt, rt2):
            assert t not in dump
            assert t.encode().hex() not in dump.lower()

    def test_contract_iss_740_02_reuse_kills_the_family(self, httpd):
        """After a reuse even the newest refresh token of the family is
        inactive at introspection."""
        rt1 = self.cc(httpd, "offline", scope="read offline_access")[
            "refresh_token"]
        rt2 = self.refresh(httpd, "offline", rt1).json()["refresh_token"]
        rt3 = self.refresh(httpd, "offline", rt2).json()["refresh_token"]
        assert self.introspect(httpd, rt3, "offline")["active"] is True
        assert_error(self.refresh(httpd, "offline", rt2), 400,
                     "invalid_grant")
        assert self.introspect(httpd, rt3, "offline") == {"active": False}
        assert self.introspect(httpd, rt1, "offline") == {"active": False}

    def test_contract_iss_740_03_refresh_expires(self, httpd):
        tok = self.cc(httpd, "shortrt", scope="read offline_access")
        time.sleep(2.2)
        assert self.introspect(httpd, tok["refresh_token"], "shortrt") == {
            "active": False}
        assert_error(self.refresh(httpd, "shortrt", tok["refresh_token"]),
                     400, "invalid_grant")

    def test_contract_iss_740_04_refresh_with_post_auth(self, httpd):
        cid, secret = self.APPS["offline"]
        rt = self.cc(httpd, "offline", scope="read offline_access")[
            "refresh_token"]
        s = OAuth2Session(cid, secret,
                          token_endpoint_auth_method="client_secret_post")
        new = s.refresh_token(httpd.url + "/oauth/token", refresh_token=rt)
        assert new["refresh_token"] and new["refresh_token"] != rt
        verify_access_token(httpd, new["access_token"])

    def test_contract_iss_740_05_access_token_is_not_a_refresh_token(
            self, httpd):
        tok = self.cc(httpd, "offline", scope="read offline_access")
        assert_error(self.refresh(httpd, "offline", tok["access_token"]),
                     400, "invalid_grant")
        # the failed attempt did not harm the real refresh token
        assert self.refresh(httpd, "offline",
                            tok["refresh_token"]).status_code == 200

    # -- revocation hints (RFC 7009 2.1: a wrong hint does not matter) ------
    @pytest.mark.parametrize("hint", ["refresh_token", "nonsense", ""])
    def test_contract_iss_750_01_access_token_any_hint(self, httpd, hint):
        at = self.cc(httpd, "svc")["access_token"]
        r = self.revoke(httpd, at, "svc", token_type_hint=hint)
        assert r.status_code == 200, r.text
        assert self.introspect(httpd, at) == {"active": False}

    @pytest.mark.parametrize("hint", ["access_token", "nonsense"])
    def test_contract_iss_750_02_refresh_token_any_hint(self, httpd, hint):
        rt = self.cc(httpd, "offline", scope="read offline_access")[
            "refresh_token"]
        r = self.revoke(httpd, rt, "offline", token_type_hint=hint)
        assert r.status_code == 200, r.text
        assert self.introspect(httpd, rt, "offline") == {"active": False}
        assert_error(self.refresh(httpd, "offline", rt), 400,
                     "invalid_grant")

    def test_contract_iss_750_03_introspect_any_hint(self, httpd):
        at = self.cc(httpd, "svc")["access_token"]
        body = self.introspect(httpd, at, token_type_hint="refresh_token")
        assert body["active"] is True

    @pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect",
                                      "/oauth/revoke2"])
    def test_contract_iss_750_04_post_only(self, httpd, path):
        at = self.cc(httpd, "svc")["access_token"]
        r = requests.get(httpd.url + path, params={"token": at},
                         auth=self.APPS["svc"], timeout=10)
        assert r.status_code == 405
        assert "POST" in r.headers.get("Allow", "")
        assert self.introspect(httpd, at)["active"] is True

    # -- the issuer's tokens on its own resource location --------------------
    def test_contract_iss_760_01_verify_local_audience(self, httpd):
        """aud as an array holding the location's audience passes; a token
        for another audience does not."""
        ok = self.cc(httpd, "svc", scope="read")["access_token"]
        assert httpd.get("/api/data.txt", token=ok).status_code == 200
        other = self.cc(httpd, "aonly")["access_token"]
        r = httpd.get("/api/data.txt", token=other)
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
        noscope = self.cc(httpd, "svc", scope="write")["access_token"]
        r = httpd.get("/api/data.txt", token=noscope)
        assert r.status_code == 403

    def test_contract_iss_760_02_revoked_refresh_family_access(self, httpd):
        """Revoking an access token through the metadata's (overridden)
        revocation URL reaches the resource location within a second."""
        at = self.cc(httpd, "offline", scope="read")["access_token"]
        assert httpd.get("/api/data.txt", token=at).status_code == 200
        r = token_request(httpd, {"token": at}, auth=self.APPS["offline"],
                          path="/oauth/revoke2")
        assert r.status_code == 200
        deadline = time.time() + 2.5
        while time.time() < deadline:
            if httpd.get("/api/data.txt", token=at).status_code == 401:
                break
            time.sleep(0.05)
        assert httpd.get("/api/data.txt", token=at).status_code == 401

    def test_contract_iss_760_03_hs_token_local_only(self, httpd):
        """A token re-signed by an attacker with the HS256 alg and the
        published RSA key as secret is refused at the local location."""
        at = self.cc(httpd, "svc", scope="read")["access_token"]
        hdr, claims = unverified_claims(at)
        pub = [k for k in jwks(httpd)["keys"] if k["kid"] == "old-rsa"][0]
        for secret in (pub.export_to_pem(), pub.export_public().encode()):
            h = dict(hdr, alg="HS256", kid="old-rsa")
            si = b64u(json.dumps(h)) + "." + b64u(json.dumps(claims))
            sig = hmac.new(secret, si.encode(), hashlib.sha256).digest()
            r = httpd.get("/api/data.txt", token=si + "." + b64u(sig))
            assert r.status_code == 401


class TestContractIssuerSlash:
    """AuthTokenIssuerName with a trailing slash: kept exactly in iss and
    issuer (RFC 8414 compares them as strings), never doubled in the
    default endpoint URLs."""
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "EdDSA", "ed.pem")
        cls.CONF = issuer_conf(["EdDSA keys/ed.pem"], """
<Location /api>
    AuthType Bearer
    AuthName api
    AuthTokenVerifyLocal On
    Require valid-user
</Location>
""").replace("AuthTokenIssuerName http://127.0.0.1:{port}",
             "AuthTokenIssuerName http://127.0.0.1:{port}/")
        add_scopes(env, "read")
        cls.APPS["svc"] = add_app(env, "svc", scopes="read")

    def test_contract_iss_770_01(self, httpd):
        name = httpd.url + "/"
        md = requests.get(httpd.url + METADATA, timeout=10).json()
        assert md["issuer"] == name
        for k in ("token_endpoint", "revocation_endpoint",
                  "introspection_endpoint", "jwks_uri"):
            assert md[k].startswith(httpd.url + "/oauth/"), md[k]
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          auth=self.APPS["svc"], path="/oauth/token")
        at = r.json()["access_token"]
        _, claims = verify_access_token(httpd, at)
        assert claims["iss"] == name
        assert httpd.get("/api/data.txt", token=at).status_code == 200


MINIMAL_CONF = """ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/logs/httpd.pid"
ErrorLog "{root}/logs/error_log"
LogLevel info
User {user}
Group {user}
DocumentRoot "{root}/htdocs"
Mutex file:{root}/logs
DefaultRuntimeDir "{root}/logs"
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule auth_token_module "{module}"
AuthTokenRegistry sqlite3 {root}/var/registry.db
AuthTokenIssuerName http://127.0.0.1:{port}
AuthTokenSigningKey ES256 {root}/keys/es256.pem
<Location /oauth/token>
    SetHandler oauth-token
</Location>
<Location /oauth/introspect>
    SetHandler oauth-introspect
</Location>
<Location /api>
    AuthType Bearer
    AuthName api
    AuthTokenVerifyLocal On
    AuthTokenRequireTyp at+jwt
    AuthzSendForbiddenOnFailure On
    Require token-scope read
</Location>
"""


@pytest.fixture(scope="class")
def minimal():
    """A server with no module but mpm, authn_core, authz_core and ours
    (no mod_env, mod_headers, mod_authz_user ...), its registry named as
    'DRIVER PARAMS'."""
    env = HttpdEnv()
    make_key(env, "ES256", "es256.pem")
    env.write_file("conf/httpd.conf", MINIMAL_CONF.format(
        root=env.root, port=env.port, user=RUN_USER, mods=MODULES_DIR,
        module=MODULE))
    env.start()
    yield env
    env.cleanup()


class TestContractMinimalServer:
    """interface.md, Parts: the module "needs no other module beyond
    httpd's standard authn_core/authz_core"; AuthTokenRegistry DRIVER
    PARAMS; token-admin given the same 'DRIVER PARAMS'."""

    def test_contract_iss_780_01(self, minimal):
        reg = "sqlite3 " + minimal.path("var/registry.db")
        env = dict(os.environ, AUTH_TOKEN_REGISTRY=reg)

        def admin(*args):
            r = subprocess.run([TOKEN_ADMIN, "--json"] + list(args),
                               env=env, capture_output=True, text=True,
                               timeout=30)
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout) if r.stdout.strip() else None

        admin("scope", "add", "read")
        app = admin("app", "add", "--name", "svc", "--scope", "read")
        auth = (app["client_id"], app["client_secret"])
        r = token_request(minimal, {"grant_type": "client_credentials"},
                          auth=auth)
        assert r.status_code == 200, r.text
        at = r.json()["access_token"]
        assert minimal.get("/api/data.txt", token=at).status_code == 200
        assert minimal.get("/api/data.txt").status_code == 401
        r = token_request(minimal, {"token": at}, auth=auth,
                          path="/oauth/introspect")
        assert r.json()["active"] is True
        admin("token", "revoke", "--client", app["client_id"])
        r = token_request(minimal, {"token": at}, auth=auth,
                          path="/oauth/introspect")
        assert r.json() == {"active": False}
        log = minimal.read_log()
        assert not HttpdEnv.BAD.search(log), log[-2000:]
        assert at not in log and app["client_secret"] not in log


class TestContractRestarts:
    """Graceful and full restarts (post_config runs again, shared memory
    and the registry are re-attached): tokens keep working, a revocation
    outlives the restart, and nothing is logged at warn or worse."""
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], """
<Location /api>
    AuthType Bearer
    AuthName api
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require token-scope read
</Location>
""")
        add_scopes(env, "read")
        cls.APPS["svc"] = add_app(env, "svc", scopes="read")

    def token(self, httpd):
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          auth=self.APPS["svc"])
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def until(self, httpd, tok, status, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if httpd.get("/api/data.txt", token=tok).status_code \
                        == status:
                    return True
            except requests.RequestException:
                pass                  # the listener is being replaced
            time.sleep(0.1)
        return False

    def test_contract_iss_790_01(self, httpd):
        at = self.token(httpd)
        for _ in range(2):
            assert httpd.get("/api/data.txt", token=at).status_code == 200
            r = httpd.apachectl("-k", "graceful")
            assert r.returncode == 0, r.stderr
            time.sleep(1)
            assert self.until(httpd, at, 200)
            assert self.token(httpd)
        r = token_request(httpd, {"token": at}, auth=self.APPS["svc"],
                          path="/oauth/revoke")
        assert r.status_code == 200
        assert self.until(httpd, at, 401, timeout=3)
        r = httpd.apachectl("-k", "restart")
        assert r.returncode == 0, r.stderr
        time.sleep(1)
        fresh = self.token(httpd)
        assert self.until(httpd, fresh, 200)
        assert httpd.get("/api/data.txt", token=at).status_code == 401
