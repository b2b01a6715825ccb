"""The issuer's OAuth 2.0 endpoints driven by a real client library
(authlib's OAuth2Session) and checked with jwcrypto against the published
JWK Set: client credentials with both client authentication methods,
refresh rotation and reuse detection, revocation, introspection, metadata,
every RFC 6749 section 5.2 error and the protocol hygiene around them."""
import concurrent.futures
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError

from issuer_helpers import (add_app, add_scopes, issuer_conf, jwks,
                            make_key, token_admin, token_request,
                            unverified_claims, verify_access_token)


def session(env, app, method="client_secret_basic", scope=None):
    cid, secret = app
    return OAuth2Session(cid, secret, token_endpoint_auth_method=method,
                         revocation_endpoint_auth_method=method,
                         scope=scope)


def cc_token(env, app, scope=None, method="client_secret_basic"):
    s = session(env, app, method, scope)
    return s.fetch_token(env.url + "/oauth/token",
                         grant_type="client_credentials")


def assert_no_store(r):
    assert r.headers.get("Cache-Control") == "no-store"
    assert r.headers.get("Pragma") == "no-cache"


def assert_oauth_error(r, status, error):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str)
    assert_no_store(r)
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")


class TestIssuerEndpoints:
    # AT00443: a reused refresh token is worth a warning in the log.
    ALLOWED_LOG_IDS = ("AT00443",)
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"])
        add_scopes(env, "read", "write", "admin")
        cls.APPS["svc"] = add_app(env, "svc", scopes="read,write",
                                  audiences="orders-api")
        cls.APPS["multi"] = add_app(env, "multi", scopes="read",
                                    audiences="a.example,b.example")
        cls.APPS["noaud"] = add_app(env, "noaud", scopes="read")
        cls.APPS["offline"] = add_app(
            env, "offline", grants="client_credentials,refresh_token",
            scopes="read,write", extra=["--offline-client-credentials"])
        cls.APPS["other"] = add_app(
            env, "other", grants="client_credentials,refresh_token",
            scopes="read", extra=["--offline-client-credentials"])
        cls.APPS["nooffline"] = add_app(
            env, "nooffline", grants="client_credentials,refresh_token",
            scopes="read")
        cls.APPS["ccless"] = add_app(env, "ccless", grants="refresh_token",
                                     scopes="read")
        cls.APPS["short"] = add_app(env, "short", scopes="read",
                                    extra=["--access-lifetime", "1"])
        cls.APPS["off"] = add_app(env, "off", scopes="read")
        token_admin(env, "app", "disable", cls.APPS["off"][0])

    # -- client credentials ----------------------------------------------
    def test_issuer_001_01_basic_auth_token(self, httpd):
        app = self.APPS["svc"]
        tok = cc_token(httpd, app, scope="read")
        assert tok["token_type"] == "Bearer"
        assert tok["expires_in"] == 600
        assert tok["scope"] == "read"
        assert "refresh_token" not in tok
        header, claims = verify_access_token(httpd, tok["access_token"])
        assert header["alg"] == "ES256"
        assert claims["iss"] == httpd.url
        assert claims["sub"] == app[0]
        assert claims["client_id"] == app[0]
        assert claims["aud"] == "orders-api"
        assert claims["scope"] == "read"
        assert claims["exp"] - claims["iat"] == 600
        assert abs(claims["iat"] - time.time()) < 5
        assert len(claims["jti"]) >= 16

    def test_issuer_001_02_post_auth_all_scopes(self, httpd):
        tok = cc_token(httpd, self.APPS["svc"], method="client_secret_post")
        assert sorted(tok["scope"].split()) == ["read", "write"]
        _, claims = verify_access_token(httpd, tok["access_token"])
        assert sorted(claims["scope"].split()) == ["read", "write"]

    def test_issuer_001_03_response_headers(self, httpd):
        cid, secret = self.APPS["svc"]
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          auth=(cid, secret))
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        assert_no_store(r)

    def test_issuer_001_04_audiences(self, httpd):
        _, claims = verify_access_token(
            httpd, cc_token(httpd, self.APPS["multi"])["access_token"])
        assert claims["aud"] == ["a.example", "b.example"]
        # Without an audience of its own the token is for the issuer.
        _, claims = verify_access_token(
            httpd, cc_token(httpd, self.APPS["noaud"])["access_token"])
        assert claims["aud"] == httpd.url

    def test_issuer_001_05_jti_unique(self, httpd):
        jtis = {unverified_claims(cc_token(httpd, self.APPS["svc"])
                                  ["access_token"])[1]["jti"]
                for _ in range(5)}
        assert len(jtis) == 5

    def test_issuer_001_06_offline_access(self, httpd):
        tok = cc_token(httpd, self.APPS["offline"],
                       scope="read offline_access")
        assert tok["refresh_token"]
        assert "." not in tok["refresh_token"]
        assert sorted(tok["scope"].split()) == ["offline_access", "read"]
        # Allowed refresh tokens but not marked for client credentials:
        # the grant leaves offline_access out.
        tok = cc_token(httpd, self.APPS["nooffline"],
                       scope="read offline_access")
        assert "refresh_token" not in tok
        assert tok["scope"] == "read"
        # Not asked for: no refresh token.
        tok = cc_token(httpd, self.APPS["offline"])
        assert "refresh_token" not in tok
        # Without the refresh_token grant at all.
        tok = cc_token(httpd, self.APPS["svc"], scope="read offline_access")
        assert "refresh_token" not in tok

    # -- refresh ---------------------------------------------------------
    def test_issuer_002_01_rotation_and_reuse(self, httpd):
        app = self.APPS["offline"]
        s = session(httpd, app, scope="read offline_access")
        first = s.fetch_token(httpd.url + "/oauth/token",
                              grant_type="client_credentials")
        rt1 = first["refresh_token"]
        second = s.refresh_token(httpd.url + "/oauth/token",
                                 refresh_token=rt1)
        rt2 = second["refresh_token"]
        assert rt2 and rt2 != rt1
        _, claims = verify_access_token(httpd, second["access_token"])
        assert claims["sub"] == app[0]
        third = s.refresh_token(httpd.url + "/oauth/token", refresh_token=rt2)
        rt3 = third["refresh_token"]
        # rt1 again: reuse, the whole family goes.
        with pytest.raises(OAuthError) as e:
            s.refresh_token(httpd.url + "/oauth/token", refresh_token=rt1)
        assert e.value.error == "invalid_grant"
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt3}, auth=app)
        assert_oauth_error(r, 400, "invalid_grant")

    def test_issuer_002_02_narrower_scope(self, httpd):
        app = self.APPS["offline"]
        tok = cc_token(httpd, app, scope="read write offline_access")
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"],
                                  "scope": "read"}, auth=app)
        assert r.status_code == 200, r.text
        assert r.json()["scope"] == "read"
        _, claims = verify_access_token(httpd, r.json()["access_token"])
        assert claims["scope"] == "read"
        # The family keeps its scope: the next refresh may ask for write.
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": r.json()["refresh_token"],
                                  "scope": "write"}, auth=app)
        assert r.status_code == 200, r.text
        # More than the grant: invalid_scope, the token not consumed.
        rt = r.json()["refresh_token"]
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt, "scope": "admin"},
                          auth=app)
        assert_oauth_error(r, 400, "invalid_scope")
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt}, auth=app)
        assert r.status_code == 200, r.text

    def test_issuer_002_03_other_clients_refresh_token(self, httpd):
        tok = cc_token(httpd, self.APPS["offline"],
                       scope="read offline_access")
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"]},
                          auth=self.APPS["other"])
        assert_oauth_error(r, 400, "invalid_grant")
        # The owner can still use it.
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"]},
                          auth=self.APPS["offline"])
        assert r.status_code == 200, r.text

    def test_issuer_002_04_parallel_refresh_exactly_one(self, httpd):
        app = self.APPS["offline"]
        rt = cc_token(httpd, app, scope="read offline_access")[
            "refresh_token"]

        def refresh(_):
            return token_request(httpd, {"grant_type": "refresh_token",
                                         "refresh_token": rt}, auth=app)

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(refresh, range(20)))
        codes = sorted(r.status_code for r in results)
        assert codes.count(200) == 1, codes
        assert codes.count(400) == 19, codes
        for r in results:
            if r.status_code == 400:
                assert r.json()["error"] == "invalid_grant"

    # -- introspection ---------------------------------------------------
    def introspect(self, httpd, token, app):
        r = token_request(httpd, {"token": token}, auth=app,
                          path="/oauth/introspect")
        assert r.status_code == 200, r.text
        assert_no_store(r)
        return r.json()

    def test_issuer_003_01_introspect_access_token(self, httpd):
        app = self.APPS["svc"]
        tok = cc_token(httpd, app, scope="read")["access_token"]
        s = session(httpd, app)
        body = s.introspect_token(httpd.url + "/oauth/introspect",
                                  token=tok).json()
        _, claims = unverified_claims(tok)
        assert body["active"] is True
        for k in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat",
                  "jti"):
            assert body[k] == claims[k], k
        assert body["token_type"] == "Bearer"
        # A resource server (another client) may introspect it too.
        assert self.introspect(httpd, tok, self.APPS["other"])["active"]

    def test_issuer_003_02_introspect_refresh_token(self, httpd):
        app = self.APPS["offline"]
        rt = cc_token(httpd, app, scope="read offline_access")[
            "refresh_token"]
        body = self.introspect(httpd, rt, app)
        assert body["active"] is True
        assert body["token_type"] == "refresh_token"
        assert body["client_id"] == app[0]
        assert sorted(body["scope"].split()) == ["offline_access", "read"]
        assert body["exp"] > time.time() + 29 * 86400
        # Only its own client learns about a refresh token.
        assert self.introspect(httpd, rt, self.APPS["other"]) == {
            "active": False}

    @pytest.mark.parametrize("token", [
        "garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "x" * 200])
    def test_issuer_003_03_introspect_junk(self, httpd, token):
        assert self.introspect(httpd, token, self.APPS["svc"]) == {
            "active": False}

    def test_issuer_003_04_introspect_expired(self, httpd):
        tok = cc_token(httpd, self.APPS["short"])["access_token"]
        time.sleep(2.1)
        assert self.introspect(httpd, tok, self.APPS["svc"]) == {
            "active": False}

    def test_issuer_003_05_introspect_needs_client(self, httpd):
        tok = cc_token(httpd, self.APPS["svc"])["access_token"]
        r = requests.post(httpd.url + "/oauth/introspect",
                          data={"token": tok}, timeout=10)
        assert_oauth_error(r, 401, "invalid_client")
        r = token_request(httpd, {"token": tok},
                          auth=(self.APPS["svc"][0], "wrong"),
                          path="/oauth/introspect")
        assert_oauth_error(r, 401, "invalid_client")

    # -- revocation ------------------------------------------------------
    def test_issuer_004_01_revoke_access_token(self, httpd):
        app = self.APPS["svc"]
        tok = cc_token(httpd, app)["access_token"]
        s = session(httpd, app)
        r = s.revoke_token(httpd.url + "/oauth/revoke", token=tok,
                           token_type_hint="access_token")
        assert r.status_code == 200
        assert self.introspect(httpd, tok, app) == {"active": False}

    def test_issuer_004_02_revoke_refresh_token_family(self, httpd):
        app = self.APPS["offline"]
        s = session(httpd, app, method="client_secret_post")
        rt1 = cc_token(httpd, app, scope="read offline_access")[
            "refresh_token"]
        rt2 = s.refresh_token(httpd.url + "/oauth/token",
                              refresh_token=rt1)["refresh_token"]
        # Revoking the superseded token takes its family, rt2 included.
        r = s.revoke_token(httpd.url + "/oauth/revoke", token=rt1,
                           token_type_hint="refresh_token")
        assert r.status_code == 200
        assert self.introspect(httpd, rt2, app) == {"active": False}
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": rt2}, auth=app)
        assert_oauth_error(r, 400, "invalid_grant")

    def test_issuer_004_03_revoke_unknown_is_200(self, httpd):
        for token in ("unknown-token", "a.b.c"):
            r = token_request(httpd, {"token": token}, auth=self.APPS["svc"],
                              path="/oauth/revoke")
            assert r.status_code == 200

    def test_issuer_004_04_revoke_other_clients_token(self, httpd):
        tok = cc_token(httpd, self.APPS["svc"])["access_token"]
        rt = cc_token(httpd, self.APPS["offline"],
                      scope="read offline_access")["refresh_token"]
        for t in (tok, rt):
            r = token_request(httpd, {"token": t}, auth=self.APPS["other"],
                              path="/oauth/revoke")
            assert r.status_code == 200
        assert self.introspect(httpd, tok, self.APPS["svc"])["active"]
        assert self.introspect(httpd, rt, self.APPS["offline"])["active"]

    def test_issuer_004_05_revoke_needs_client(self, httpd):
        r = requests.post(httpd.url + "/oauth/revoke",
                          data={"token": "x"}, timeout=10)
        assert_oauth_error(r, 401, "invalid_client")
        r = token_request(httpd, {}, auth=self.APPS["svc"],
                          path="/oauth/revoke")
        assert_oauth_error(r, 400, "invalid_request")

    # -- metadata and JWKS -----------------------------------------------
    def test_issuer_005_01_metadata(self, httpd):
        r = requests.get(httpd.url + "/.well-known/oauth-authorization-server",
                         timeout=10)
        assert r.status_code == 200
        md = r.json()
        assert md["issuer"] == httpd.url
        assert md["token_endpoint"] == httpd.url + "/oauth/token"
        assert md["revocation_endpoint"] == httpd.url + "/oauth/revoke"
        assert md["introspection_endpoint"] == httpd.url + "/oauth/introspect"
        assert md["jwks_uri"] == httpd.url + "/oauth/jwks"
        assert set(md["grant_types_supported"]) == {
            "authorization_code", "client_credentials", "refresh_token"}
        methods = {"client_secret_basic", "client_secret_post"}
        for k in ("revocation_endpoint_auth_methods_supported",
                  "introspection_endpoint_auth_methods_supported"):
            assert set(md[k]) == methods
        # Public applications (none) exist at the token endpoint only.
        assert set(md["token_endpoint_auth_methods_supported"]) == \
            methods | {"none"}
        assert {"read", "write", "admin", "offline_access", "openid"} <= \
            set(md["scopes_supported"])
        assert md["authorization_endpoint"] == httpd.url + "/oauth/authorize"
        assert md["code_challenge_methods_supported"] == ["S256"]
        assert md["response_types_supported"] == ["code"]
        # The document leads a client all the way to a token.
        s = session(httpd, self.APPS["svc"])
        tok = s.fetch_token(md["token_endpoint"],
                            grant_type="client_credentials")
        assert tok["access_token"]
        assert requests.get(md["jwks_uri"], timeout=10).status_code == 200

    def test_issuer_005_02_jwks_public_only(self, httpd):
        r = requests.get(httpd.url + "/oauth/jwks", timeout=10)
        assert r.status_code == 200
        assert "max-age" in r.headers["Cache-Control"]
        keys = r.json()["keys"]
        assert len(keys) == 1
        assert keys[0]["kty"] == "EC" and keys[0]["crv"] == "P-256"
        assert "d" not in keys[0]
        assert keys[0]["kid"]
        assert len(jwks(httpd)["keys"]) == 1
        h = requests.head(httpd.url + "/oauth/jwks", timeout=10)
        assert h.status_code == 200

    @pytest.mark.parametrize("path", [
        "/oauth/jwks", "/.well-known/oauth-authorization-server"])
    def test_issuer_005_03_get_only(self, httpd, path):
        r = requests.post(httpd.url + path, data={"a": "b"}, timeout=10)
        assert r.status_code == 405
        assert "GET" in r.headers["Allow"]

    # -- RFC 6749 section 5.2 errors --------------------------------------
    @pytest.mark.parametrize("app,data,status,error", [
        ("svc", {}, 400, "invalid_request"),
        ("svc", {"grant_type": "password", "username": "u",
                 "password": "p"}, 400, "unsupported_grant_type"),
        # Supported, but not allowed to this application.
        ("svc", {"grant_type": "authorization_code", "code": "x"}, 400,
         "unauthorized_client"),
        ("svc", {"grant_type": "client_credentials", "scope": "admin"}, 400,
         "invalid_scope"),
        ("svc", {"grant_type": "client_credentials", "scope": "nosuch"}, 400,
         "invalid_scope"),
        ("svc", {"grant_type": "client_credentials", "scope": "re\"ad"}, 400,
         "invalid_scope"),
        ("svc", {"grant_type": "refresh_token", "refresh_token": "x"}, 400,
         "unauthorized_client"),
        ("ccless", {"grant_type": "client_credentials"}, 400,
         "unauthorized_client"),
        ("offline", {"grant_type": "refresh_token",
                     "refresh_token": "not-a-token"}, 400, "invalid_grant"),
        ("offline", {"grant_type": "refresh_token"}, 400, "invalid_request"),
    ])
    def test_issuer_006_01_errors(self, httpd, app, data, status, error):
        r = token_request(httpd, data, auth=self.APPS[app])
        assert_oauth_error(r, status, error)

    def test_issuer_006_02_invalid_client(self, httpd):
        cid, secret = self.APPS["svc"]
        cases = [
            dict(auth=(cid, secret + "x")),
            dict(auth=("no-such-client", secret)),
            dict(auth=(cid, "")),
            dict(headers={"Authorization": "Basic !!notbase64"}),
            dict(),
        ]
        for kw in cases:
            r = token_request(httpd, {"grant_type": "client_credentials"},
                              **kw)
            assert_oauth_error(r, 401, "invalid_client")
        # client_secret_post with a wrong secret: 401 just the same.
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": cid,
                                  "client_secret": "wrong"})
        assert_oauth_error(r, 401, "invalid_client")

    def test_issuer_006_03_disabled_app(self, httpd):
        r = token_request(httpd, {"grant_type": "client_credentials"},
                          auth=self.APPS["off"])
        assert_oauth_error(r, 401, "invalid_client")

    # -- protocol hygiene ------------------------------------------------
    def test_issuer_007_01_get_is_405(self, httpd):
        r = requests.get(httpd.url + "/oauth/token",
                         params={"grant_type": "client_credentials"},
                         auth=self.APPS["svc"], timeout=10)
        assert r.status_code == 405
        assert r.headers["Allow"] == "POST"
        assert_no_store(r)

    def test_issuer_007_02_wrong_content_type(self, httpd):
        r = requests.post(httpd.url + "/oauth/token",
                          json={"grant_type": "client_credentials"},
                          auth=self.APPS["svc"], timeout=10)
        assert_oauth_error(r, 400, "invalid_request")
        r = requests.post(
            httpd.url + "/oauth/token", data="grant_type=client_credentials",
            headers={"Content-Type": "text/plain"}, auth=self.APPS["svc"],
            timeout=10)
        assert_oauth_error(r, 400, "invalid_request")
        # A charset parameter is fine.
        r = requests.post(
            httpd.url + "/oauth/token", data="grant_type=client_credentials",
            headers={"Content-Type":
                     "application/x-www-form-urlencoded; charset=UTF-8"},
            auth=self.APPS["svc"], timeout=10)
        assert r.status_code == 200, r.text

    def test_issuer_007_03_repeated_parameter(self, httpd):
        for body in ("grant_type=client_credentials&grant_type="
                     "client_credentials",
                     "grant_type=client_credentials&scope=read&scope=write"):
            r = requests.post(
                httpd.url + "/oauth/token", data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                auth=self.APPS["svc"], timeout=10)
            assert_oauth_error(r, 400, "invalid_request")

    def test_issuer_007_04_both_auth_methods(self, httpd):
        cid, secret = self.APPS["svc"]
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": cid, "client_secret": secret},
                          auth=(cid, secret))
        assert_oauth_error(r, 400, "invalid_request")

    def test_issuer_007_05_oversize_body(self, httpd):
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "pad": "x" * 20000}, auth=self.APPS["svc"])
        assert r.status_code == 413
        assert r.json()["error"] == "invalid_request"
        assert_no_store(r)

    def test_issuer_007_06_malformed_encoding(self, httpd):
        r = requests.post(
            httpd.url + "/oauth/token", data="grant_type=client%ZZcredentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=self.APPS["svc"], timeout=10)
        assert_oauth_error(r, 400, "invalid_request")
        r = requests.post(
            httpd.url + "/oauth/token",
            data="grant_type=client_credentials&scope=read%00write",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=self.APPS["svc"], timeout=10)
        assert_oauth_error(r, 400, "invalid_request")

    def test_issuer_007_07_empty_value_is_absent(self, httpd):
        # RFC 6749 section 3.1: scope= is as if no scope was sent.
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "scope": ""}, auth=self.APPS["svc"])
        assert r.status_code == 200, r.text
        assert sorted(r.json()["scope"].split()) == ["read", "write"]

    def test_issuer_007_09_chunked_body(self, httpd):
        def small():
            yield b"grant_type=client_"
            yield b"credentials&scope=read"

        def large():
            for _ in range(40):
                yield b"pad=" + b"x" * 1000 + b"&"

        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        r = requests.post(httpd.url + "/oauth/token", data=small(),
                          headers=hdrs, auth=self.APPS["svc"], timeout=10)
        assert r.status_code == 200, r.text
        r = requests.post(httpd.url + "/oauth/token", data=large(),
                          headers=hdrs, auth=self.APPS["svc"], timeout=10)
        assert r.status_code == 413

    def test_issuer_007_08_secret_not_logged(self, httpd):
        cid, secret = self.APPS["svc"]
        tok = cc_token(httpd, self.APPS["svc"])["access_token"]
        token_request(httpd, {"grant_type": "client_credentials"},
                      auth=(cid, secret + "x"))
        log = httpd.read_log()
        assert secret not in log
        assert tok not in log


class TestIssuerSettings:
    """AuthTokenEndpointURL in the metadata, AuthTokenAccessLifetime and
    AuthTokenRefreshLifetime as server defaults, and an application's own
    lifetimes winning over them."""
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], """
AuthTokenEndpointURL token https://auth.example.com/token
AuthTokenEndpointURL jwks https://keys.example.com/jwks.json
AuthTokenAccessLifetime 120
AuthTokenRefreshLifetime 3600
""")
        add_scopes(env, "read")
        grants = "client_credentials,refresh_token"
        cls.APPS["default"] = add_app(
            env, "default", grants=grants, scopes="read",
            extra=["--offline-client-credentials"])
        cls.APPS["own"] = add_app(
            env, "own", grants=grants, scopes="read",
            extra=["--offline-client-credentials", "--access-lifetime", "60",
                   "--refresh-lifetime", "100"])

    def test_issuer_010_01_endpoint_urls(self, httpd):
        md = requests.get(httpd.url + "/.well-known/oauth-authorization-server",
                          timeout=10).json()
        assert md["token_endpoint"] == "https://auth.example.com/token"
        assert md["jwks_uri"] == "https://keys.example.com/jwks.json"
        # Not configured: <issuer>/oauth/NAME.
        assert md["revocation_endpoint"] == httpd.url + "/oauth/revoke"

    def introspect(self, httpd, token, app):
        return token_request(httpd, {"token": token}, auth=app,
                             path="/oauth/introspect").json()

    def test_issuer_010_02_server_lifetimes(self, httpd):
        app = self.APPS["default"]
        tok = cc_token(httpd, app, scope="read offline_access")
        assert tok["expires_in"] == 120
        _, claims = verify_access_token(httpd, tok["access_token"])
        assert claims["exp"] - claims["iat"] == 120
        rt = self.introspect(httpd, tok["refresh_token"], app)
        assert abs(rt["exp"] - time.time() - 3600) < 10

    def test_issuer_010_03_application_lifetimes_win(self, httpd):
        app = self.APPS["own"]
        tok = cc_token(httpd, app, scope="read offline_access")
        assert tok["expires_in"] == 60
        rt = self.introspect(httpd, tok["refresh_token"], app)
        assert abs(rt["exp"] - time.time() - 100) < 10
        # A rotated successor gets the application's lifetime afresh.
        r = token_request(httpd, {"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"]},
                          auth=app)
        assert r.json()["expires_in"] == 60
        rt = self.introspect(httpd, r.json()["refresh_token"], app)
        assert abs(rt["exp"] - time.time() - 100) < 10
