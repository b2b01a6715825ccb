"""Require token-claim / token-scope, their combinations, the answer for a
valid token that fails a Require line (403 or, under httpd's default, 401;
both with insufficient_scope), and AuthTokenAllowPreflight."""
import pytest
import requests

from resource_tokens import (AUTHZ_LOG_IDS, auth_params, challenge, mint,
                             no_token_in_log, write_keys)  # noqa: F401


def loc(path, require, forbidden="On", extra=""):
    return """
Alias {path} {{root}}/htdocs/api
<Location {path}>
    AuthType Bearer
    AuthName authz
    AuthTokenVerifyKey HS256 {{root}}/keys/hs256.key
    AuthzSendForbiddenOnFailure {forbidden}
    {extra}
    {require}
</Location>""".format(path=path, require=require, forbidden=forbidden,
                      extra=extra)


class TestRequireClaim:
    CONF = "".join([
        loc("/str", "Require token-claim role admin editor"),
        loc("/arr", "Require token-claim roles admin"),
        loc("/dot", "Require token-claim realm_access.roles admin"),
        loc("/deep", "Require token-claim a.b.c 7"),
        loc("/num", "Require token-claim level 3"),
        loc("/bool", "Require token-claim admin true"),
        loc("/null", "Require token-claim gone null"),
        loc("/quoted", 'Require token-claim name "Ada Lovelace"'),
        loc("/obj", "Require token-claim o x"),
    ])
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("path,claims,status", [
        ("/str", {"role": "admin"}, 200),
        ("/str", {"role": "editor"}, 200),
        ("/str", {"role": "Admin"}, 403),          # strings compare exactly
        ("/str", {"role": "admin "}, 403),
        ("/str", {}, 403),                         # claim absent
        ("/str", {"role": ["user", "editor"]}, 200),
        ("/arr", {"roles": ["user", "admin"]}, 200),
        ("/arr", {"roles": ["user"]}, 403),
        ("/arr", {"roles": []}, 403),
        ("/arr", {"roles": "admin"}, 200),
        ("/dot", {"realm_access": {"roles": ["admin"]}}, 200),
        ("/dot", {"realm_access": {"roles": ["x"]}}, 403),
        ("/dot", {"realm_access": ["admin"]}, 403),
        ("/deep", {"a": {"b": {"c": 7}}}, 200),
        ("/deep", {"a": {"b": {"c": 7.0}}}, 200),  # numbers numerically
        ("/deep", {"a": {"b": {"c": 8}}}, 403),
        ("/num", {"level": 3}, 200),
        ("/num", {"level": 3.0}, 200),
        ("/num", {"level": [1, 3]}, 200),
        ("/num", {"level": 4}, 403),
        ("/num", {"level": 30}, 403),
        ("/bool", {"admin": True}, 200),
        ("/bool", {"admin": False}, 403),
        ("/bool", {"admin": 1}, 403),
        ("/null", {"gone": "null"}, 200),          # the string "null" is a
        ("/quoted", {"name": "Ada Lovelace"}, 200),  # string value too
        ("/quoted", {"name": "Ada"}, 403),
        ("/obj", {"o": {"x": 1}}, 403),            # objects never match
        ("/obj", {"o": "x"}, 200),
    ])
    def test_authz_400_01(self, httpd, path, claims, status):
        r = httpd.get(path + "/data.txt", token=mint(**claims))
        assert r.status_code == status
        if status == 403:
            p = auth_params(challenge(r))
            assert p["error"] == "insufficient_scope"
            assert "scope" not in p
        else:
            assert challenge(r) is None

    def test_authz_400_02(self, httpd):
        """A JSON null claim matches `null`."""
        import json
        from resource_tokens import keys, raw_token, claims
        c = claims()
        c["gone"] = None
        tok = raw_token({"alg": "HS256"}, json.dumps(c),
                        secret=keys()["hs256"][0])
        assert httpd.get("/null/data.txt", token=tok).status_code == 200


class TestRequireScope:
    CONF = "".join([
        loc("/one", "Require token-scope orders:read"),
        loc("/two", "Require token-scope orders:read orders:write"),
        loc("/lines", "Require token-scope a\n    Require token-scope b"),
        loc("/all", """<RequireAll>
        Require token-scope a
        Require token-claim role admin
    </RequireAll>"""),
        loc("/any", """<RequireAny>
        Require token-scope a
        Require token-claim role admin
    </RequireAny>"""),
        loc("/nested", """<RequireAny>
        Require token-claim role admin
        <RequireAll>
            Require token-scope b
            Require token-claim tenant t1
        </RequireAll>
    </RequireAny>"""),
        loc("/off", "Require token-scope orders:read", forbidden="Off"),
        loc("/expr403", "Require expr %{reqenv:TOKEN_CLAIM_tenant} == 't1'"),
        loc("/valid", "Require valid-user"),
        loc("/not", """<RequireAll>
        Require valid-user
        Require not token-claim role guest
    </RequireAll>"""),
    ])
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("path,claims,status", [
        ("/one", {"scope": "orders:read"}, 200),
        ("/one", {"scope": "x orders:read y"}, 200),
        ("/one", {"scope": "orders:reader"}, 403),
        ("/one", {"scope": "orders"}, 403),
        ("/one", {"scope": None, "scp": ["orders:read"]}, 200),
        ("/one", {"scope": None, "scp": ["x"]}, 403),
        ("/one", {"scope": None}, 403),
        ("/one", {"scope": ""}, 403),
        ("/two", {"scope": "orders:write orders:read"}, 200),
        ("/two", {"scope": "orders:read"}, 403),
        ("/lines", {"scope": "a b"}, 200),
        ("/lines", {"scope": "a"}, 200),        # two lines: RequireAny
        ("/lines", {"scope": "c"}, 403),
        ("/all", {"scope": "a", "role": "admin"}, 200),
        ("/all", {"scope": "a", "role": "user"}, 403),
        ("/all", {"scope": "b", "role": "admin"}, 403),
        ("/any", {"scope": "a", "role": "user"}, 200),
        ("/any", {"scope": "b", "role": "admin"}, 200),
        ("/any", {"scope": "b", "role": "user"}, 403),
        ("/nested", {"role": "admin"}, 200),
        ("/nested", {"scope": "b", "tenant": "t1"}, 200),
        ("/nested", {"scope": "b", "tenant": "t2"}, 403),
        ("/valid", {"scope": None}, 200),
        ("/not", {"role": "admin"}, 200),        # the negated line failed
        ("/not", {}, 200),
        ("/not", {"role": "guest"}, 403),
    ])
    def test_authz_410_01(self, httpd, path, claims, status):
        r = httpd.get(path + "/data.txt", token=mint(**claims))
        assert r.status_code == status
        if status == 403:
            assert auth_params(challenge(r))["error"] == "insufficient_scope"
        else:
            # a line that failed inside <RequireAny> leaves no challenge
            assert challenge(r) is None

    def test_authz_410_02(self, httpd):
        """token-scope names the scopes it wanted."""
        r = httpd.get("/two/data.txt", token=mint(scope="orders:read"))
        assert auth_params(challenge(r)) == {
            "realm": "authz", "error": "insufficient_scope",
            "scope": "orders:read orders:write"}

    def test_authz_420_01(self, httpd):
        """AuthzSendForbiddenOnFailure Off: httpd answers 401, and the
        challenge still says insufficient_scope."""
        r = httpd.get("/off/data.txt", token=mint(scope="x"))
        assert r.status_code == 401
        p = auth_params(challenge(r))
        assert p["error"] == "insufficient_scope"
        assert p["scope"] == "orders:read"
        assert p["realm"] == "authz"

    def test_authz_420_02(self, httpd):
        """... and without a token it is the bare challenge as always."""
        r = httpd.get("/off/data.txt")
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="authz"'
        r = httpd.get("/off/data.txt", token=mint(scope="orders:read"))
        assert r.status_code == 200

    @pytest.mark.parametrize("tenant,status", [("t1", 200), ("t2", 403)])
    def test_authz_420_03(self, httpd, tenant, status):
        """A failing Require expr on a valid token: 403 insufficient_scope
        (without scope=)."""
        r = httpd.get("/expr403/data.txt", token=mint(tenant=tenant))
        assert r.status_code == status
        if status == 403:
            p = auth_params(challenge(r))
            assert p == {"realm": "authz", "error": "insufficient_scope"}

    @pytest.mark.parametrize("path", ["/one", "/all", "/any", "/valid"])
    def test_authz_420_04(self, httpd, path):
        """No token before any Require line: 401, never 403."""
        r = httpd.get(path + "/data.txt")
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="authz"'

    def test_authz_420_05(self, httpd):
        """An invalid token is 401 invalid_token whatever the lines."""
        r = httpd.get("/any/data.txt", token=mint(exp=1))
        assert r.status_code == 401
        assert auth_params(challenge(r))["error"] == "invalid_token"


class TestPreflight:
    CONF = "".join([
        loc("/cors", "Require token-scope orders:read",
            extra="AuthTokenAllowPreflight On"),
        loc("/nocors", "Require token-scope orders:read"),
    ])
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def options(self, httpd, path, headers):
        return requests.options(httpd.url + path + "/data.txt",
                                headers=headers, timeout=10)

    PREFLIGHT = {"Origin": "https://app.example",
                 "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"}

    def test_preflight_430_01(self, httpd):
        """A genuine preflight passes without a token, past token-scope."""
        r = self.options(httpd, "/cors", self.PREFLIGHT)
        assert r.status_code == 200
        assert challenge(r) is None

    @pytest.mark.parametrize("drop", ["Origin",
                                      "Access-Control-Request-Method"])
    def test_preflight_430_02(self, httpd, drop):
        """An OPTIONS request that is not a preflight still needs a
        token."""
        h = dict(self.PREFLIGHT)
        del h[drop]
        r = self.options(httpd, "/cors", h)
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="authz"'

    def test_preflight_430_03(self, httpd):
        """Other methods with the same headers still need a token."""
        r = httpd.get("/cors/data.txt", headers=self.PREFLIGHT)
        assert r.status_code == 401

    def test_preflight_430_04(self, httpd):
        """Off (the default): the preflight needs a token too."""
        r = self.options(httpd, "/nocors", self.PREFLIGHT)
        assert r.status_code == 401

    def test_preflight_430_05(self, httpd):
        """With a token, OPTIONS is an ordinary request."""
        h = dict(self.PREFLIGHT, Authorization="Bearer " + mint())
        assert self.options(httpd, "/nocors", h).status_code == 200


class TestErrorDocument:
    """Local ErrorDocument pages keep the challenge (httpd serves them by
    an internal redirect that shares err_headers_out)."""
    CONF = """
ErrorDocument 401 /errors/401.html
ErrorDocument 403 /errors/403.html
ErrorDocument 400 /errors/400.html
""" + loc("/api", "Require token-scope orders:read") + loc(
        "/off", "Require token-scope orders:read", forbidden="Off")
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        for code in (400, 401, 403):
            env.write_file("htdocs/errors/%d.html" % code, "custom %d\n" % code)

    @pytest.mark.parametrize("path,token,status,error", [
        ("/api", None, 401, None),
        ("/api", "bad", 401, "invalid_token"),
        ("/api", "scope=x", 403, "insufficient_scope"),
        ("/off", "scope=x", 401, "insufficient_scope"),
    ])
    def test_errdoc_440_01(self, httpd, path, token, status, error):
        if token and token.startswith("scope="):
            token = mint(scope=token[6:])
        r = httpd.get(path + "/data.txt", token=token)
        assert r.status_code == status
        assert r.text == "custom %d\n" % status
        p = auth_params(challenge(r))
        assert p.get("error") == error
        assert p["realm"] == "authz"

    def test_errdoc_440_02(self, httpd):
        r = httpd.get("/api/data.txt", headers={"Authorization": "Bearer"})
        assert r.status_code == 400
        assert auth_params(challenge(r))["error"] == "invalid_request"
