"""End to end: tokens from this server's issuer used on a location of the
same server with AuthTokenVerifyLocal On and AuthTokenRevocationCheck On.
A revocation (through oauth-revoke or token-admin) must be honoured within
about a second; a location without the check keeps accepting the token."""
import time

import requests

from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            token_admin, token_request, unverified_claims)

RESOURCE = """
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    AuthzSendForbiddenOnFailure On
    Require token-scope read
</Location>
<Location /nocheck>
    AuthType Bearer
    AuthName "nocheck"
    AuthTokenVerifyLocal On
    Require valid-user
</Location>
"""

# Revocation must show within a second; allow scheduling slack.
WITHIN = 2.5


def wait_for(pred, timeout=WITHIN):
    """Seconds until PRED() held, or None when it did not within TIMEOUT."""
    start = time.time()
    while time.time() - start < timeout:
        if pred():
            return time.time() - start
        time.sleep(0.05)
    return None


class TestIssuerResource:
    # httpd's authz_core logs every 403 at error.
    ALLOWED_LOG_IDS = ("AH01631",)
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], RESOURCE)
        env.write_file("htdocs/nocheck/data.txt", "unchecked data\n")
        add_scopes(env, "read", "write")
        cls.APPS["reader"] = add_app(env, "reader", scopes="read,write")
        cls.APPS["writer"] = add_app(env, "writer", scopes="write")
        cls.APPS["victim"] = add_app(env, "victim", scopes="read")

    def token(self, httpd, app, scope=None):
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        r = token_request(httpd, data, auth=self.APPS[app])
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def test_issuer_res_001_01_accepts_own_tokens(self, httpd):
        tok = self.token(httpd, "reader")
        r = httpd.get("/api/data.txt", token=tok)
        assert r.status_code == 200
        assert r.text == "protected data\n"

    def test_issuer_res_001_02_challenges(self, httpd):
        r = httpd.get("/api/data.txt")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        r = httpd.get("/api/data.txt", token=self.token(httpd, "writer"))
        assert r.status_code == 403
        assert "insufficient_scope" in r.headers["WWW-Authenticate"]
        r = httpd.get("/api/data.txt",
                      token=self.token(httpd, "reader", scope="write"))
        assert r.status_code == 403

    def test_issuer_res_002_01_revoked_jti_rejected(self, httpd):
        tok = self.token(httpd, "reader")
        assert httpd.get("/api/data.txt", token=tok).status_code == 200
        r = token_request(httpd, {"token": tok}, auth=self.APPS["reader"],
                          path="/oauth/revoke")
        assert r.status_code == 200
        took = wait_for(
            lambda: httpd.get("/api/data.txt", token=tok).status_code == 401)
        assert took is not None, "revoked token still accepted"
        r = httpd.get("/api/data.txt", token=tok)
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
        # Without the check the same token still passes.
        assert httpd.get("/nocheck/data.txt", token=tok).status_code == 200
        # Other tokens are unaffected.
        assert httpd.get("/api/data.txt",
                         token=self.token(httpd, "reader")).status_code == 200

    def test_issuer_res_002_02_token_admin_revoke_jti(self, httpd):
        tok = self.token(httpd, "reader")
        assert httpd.get("/api/data.txt", token=tok).status_code == 200
        jti = unverified_claims(tok)[1]["jti"]
        token_admin(httpd, "token", "revoke", "--jti", jti)
        assert wait_for(lambda: httpd.get(
            "/api/data.txt", token=tok).status_code == 401) is not None

    def test_issuer_res_002_03_token_admin_revoke_client(self, httpd):
        old = [self.token(httpd, "victim") for _ in range(3)]
        bystander = self.token(httpd, "reader")
        for t in old:
            assert httpd.get("/api/data.txt", token=t).status_code == 200
        token_admin(httpd, "token", "revoke", "--client",
                    self.APPS["victim"][0])
        for t in old:
            assert wait_for(lambda: httpd.get(
                "/api/data.txt", token=t).status_code == 401) is not None
        assert httpd.get("/api/data.txt",
                         token=bystander).status_code == 200
        # Tokens issued after the cut-off (whole seconds) work again.
        time.sleep(2.1)
        fresh = self.token(httpd, "victim")
        assert httpd.get("/api/data.txt", token=fresh).status_code == 200

    def test_issuer_res_002_04_idle_process_never_answers_stale(self, httpd):
        """After a few idle seconds the cache is not trusted: the first
        request after a revocation already sees it, with no wait at all."""
        toks = [self.token(httpd, "reader") for _ in range(4)]
        for t in toks:
            assert httpd.get("/api/data.txt", token=t).status_code == 200
        time.sleep(2.5)
        for t in toks:
            token_admin(httpd, "token", "revoke", "--jti",
                        unverified_claims(t)[1]["jti"])
        for t in toks:
            assert httpd.get("/api/data.txt", token=t).status_code == 401

    def test_issuer_res_003_01_foreign_issuer_rejected(self, httpd):
        # A token whose signature is broken is not ours.
        tok = self.token(httpd, "reader")
        h, p, s = tok.split(".")
        bad = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
        r = httpd.get("/api/data.txt", token=bad)
        assert r.status_code == 401
        assert requests.get(httpd.url + "/api/data.txt",
                            timeout=10).status_code == 401
