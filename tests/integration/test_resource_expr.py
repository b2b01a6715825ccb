"""A presented token is always authenticated, whatever the Require lines
need: a location whose only rule is a `Require expr` on claims runs as the
token's user when it holds, and answers like any failing Require line when
it does not (httpd's 401 with the Bearer challenge under
AuthzSendForbiddenOnFailure Off, 403 under On); a bad token is 401 even
where anonymous requests are let in. Without a token httpd decides before
authentication, as for any AuthType (documented in docs/resource-server.md).
"""

import pytest

from resource_tokens import (AUTHZ_LOG_IDS, auth_params, bearer_cgi,
                             challenge, install_env_cgi, mint,
                             no_token_in_log, write_keys)  # noqa: F401

TENANT = "Require expr %{reqenv:TOKEN_CLAIM_tenant} == 'acme'"


def cgi_loc(path, require, forbidden="Off", extra=""):
    return bearer_cgi(path, require, "expr", forbidden, extra)


class TestRequireExprOnly:
    CONF = "".join([
        cgi_loc("/expr-off", TENANT,
                extra="AuthTokenClaimsHeader X-Token-"),
        cgi_loc("/expr-on", TENANT, forbidden="On"),
        cgi_loc("/expr-user",
                "Require expr -n %{REMOTE_USER} && "
                "%{reqenv:TOKEN_CLAIM_tenant} == 'acme'", forbidden="On"),
        cgi_loc("/expr-any", """<RequireAny>
        Require expr %{reqenv:TOKEN_CLAIM_tenant} == 'acme'
        Require token-scope admin
    </RequireAny>"""),
        cgi_loc("/method", "Require expr %{REQUEST_METHOD} == 'GET'"),
        cgi_loc("/open", "Require all granted"),
    ])
    # AH01629: httpd's line for an expression naming REMOTE_USER that fails
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS + ("AH01629",)

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        install_env_cgi(env)

    @pytest.mark.parametrize("path", ["/expr-off", "/expr-on", "/expr-user",
                                      "/expr-any"])
    def test_expr_100_01(self, httpd, path):
        """The expression holds: the request runs as the token's user."""
        r = httpd.get(path, token=mint(sub="carol", tenant="acme"))
        assert r.status_code == 200, r.text
        e = r.json()
        assert e["REMOTE_USER"] == "carol"
        assert e["AUTH_TYPE"] == "Bearer"
        assert e["TOKEN_CLAIM_tenant"] == "acme"
        assert challenge(r) is None
        log = httpd.new_log()
        assert "AT00113" in log and "user carol" in log

    def test_expr_100_02(self, httpd):
        """... and the access log names the user (written just after the
        answer, so it is polled for)."""
        httpd.get("/expr-off", token=mint(sub="dave", tenant="acme"))
        assert httpd.access_logged(" dave [", "/expr-off")

    @pytest.mark.parametrize("tenant", ["other", None])
    def test_expr_100_03(self, httpd, tenant):
        """Fails under AuthzSendForbiddenOnFailure Off: httpd's 401 with a
        Bearer challenge (insufficient_scope: the token was good)."""
        r = httpd.get("/expr-off", token=mint(tenant=tenant))
        assert r.status_code == 401
        assert auth_params(challenge(r)) == {
            "realm": "expr", "error": "insufficient_scope"}
        assert "AH01631" in httpd.new_log()

    @pytest.mark.parametrize("path,status", [("/expr-on", 403),
                                             ("/expr-user", 401)])
    def test_expr_100_04(self, httpd, path, status):
        """Fails under On: 403 insufficient_scope. An expression naming
        REMOTE_USER is one httpd reports as "needs a user" whenever it
        fails (AH01629), so it answers 401 even under On; the challenge
        still says insufficient_scope."""
        r = httpd.get(path, token=mint(tenant="other"))
        assert r.status_code == status
        assert auth_params(challenge(r)) == {
            "realm": "expr", "error": "insufficient_scope"}

    @pytest.mark.parametrize("path", ["/expr-off", "/expr-on", "/method",
                                      "/open"])
    @pytest.mark.parametrize("bad", ["expired", "signature", "garbage"])
    def test_expr_100_05(self, httpd, path, bad):
        """A bad token is 401 invalid_token wherever it is presented, even
        where the Require lines would let an anonymous request in."""
        token = {"expired": mint(tenant="acme", exp=1),
                 "signature": mint(tenant="acme", other=True),
                 "garbage": "not.a.token"}[bad]
        r = httpd.get(path, token=token)
        assert r.status_code == 401
        assert auth_params(challenge(r))["error"] == "invalid_token"

    @pytest.mark.parametrize("path", ["/expr-off", "/open", "/method"])
    def test_expr_100_06(self, httpd, path):
        """"Bearer" without a token is presented credentials too: 400."""
        r = httpd.get(path, headers={"Authorization": "Bearer "})
        assert r.status_code == 400
        assert auth_params(challenge(r))["error"] == "invalid_request"

    @pytest.mark.parametrize("path", ["/open", "/method"])
    def test_expr_100_07(self, httpd, path):
        """A good token where anonymous requests are let in: its user."""
        r = httpd.get(path, token=mint(sub="erin"))
        assert r.status_code == 200
        assert r.json()["REMOTE_USER"] == "erin"
        assert r.json()["TOKEN_CLAIM_sub"] == "erin"

    @pytest.mark.parametrize("headers", [
        {}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}])
    def test_expr_100_08(self, httpd, headers):
        """No Bearer credentials, an expression that holds without claims:
        served anonymously, as httpd does for any AuthType."""
        r = httpd.get("/method", headers=headers)
        assert r.status_code == 200
        assert "REMOTE_USER" not in r.json()
        assert not any(k.startswith("TOKEN_CLAIM_") for k in r.json())

    @pytest.mark.parametrize("path", ["/expr-off", "/expr-on"])
    def test_expr_100_09(self, httpd, path):
        """No token, an expression on claims: httpd decides before
        authentication, and it fails without claims: 403, no challenge
        (the documented behaviour; a client-sent claim header does not
        count)."""
        r = httpd.get(path, headers={"X-Token-Tenant": "acme"})
        assert r.status_code == 403
        assert challenge(r) is None
        assert "AH01630" in httpd.new_log()

    def test_expr_100_10(self, httpd):
        """... unless the expression needs the user: then httpd
        authenticates first, and no token is the bare 401 challenge."""
        r = httpd.get("/expr-user")
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="expr"'

    def test_expr_100_11(self, httpd):
        """A forged claim header never reaches the backend, and the token's
        own claims are exported as headers."""
        r = httpd.get("/expr-off", token=mint(tenant="acme"),
                      headers={"X-Token-Sub": "forged-9c1"})
        assert r.status_code == 200
        assert "forged-9c1" not in r.text
        assert r.json()["HTTP_X_TOKEN_SUB"] == "alice"

    def test_expr_100_12(self, httpd):
        """The expression is evaluated once per request, after
        authentication (authz_core's userless pass is not run for a
        presented token)."""
        httpd.new_log()
        r = httpd.get("/expr-on", token=mint(tenant="other"))
        assert r.status_code == 403
        log = httpd.new_log()
        assert log.count("AH01631") == 1
        assert "AH01630" not in log
