"""Claim checks (exp/nbf/iat with leeway, iss, aud, typ, user claim) and
the export of claims to the environment and to request headers."""
import json
import time

import pytest

from resource_tokens import (AUTHZ_LOG_IDS, auth_params, challenge, claims,
                             install_env_cgi, keys, mint, no_token_in_log,
                             raw_token, write_keys)  # noqa: F401


def loc(path, *lines, require="Require valid-user"):
    body = "\n    ".join(lines)
    return """
Alias {path} {{root}}/htdocs/api
<Location {path}>
    AuthType Bearer
    AuthName claims
    AuthTokenVerifyKey HS256 {{root}}/keys/hs256.key
    {body}
    {require}
</Location>""".format(path=path, body=body, require=require)


class TestTimeClaims:
    CONF = (loc("/default") + loc("/strict", "AuthTokenLeeway 0")
            + loc("/loose", "AuthTokenLeeway 120"))
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("path,over,status", [
        ("/default", {}, 200),
        ("/default", {"exp": -60}, 401),          # expired beyond leeway
        ("/default", {"exp": -10}, 200),          # within the 30 s default
        ("/strict", {"exp": -5}, 401),
        ("/loose", {"exp": -100}, 200),
        ("/loose", {"exp": -200}, 401),
        ("/default", {"nbf": 60}, 401),           # not yet valid
        ("/default", {"nbf": 10}, 200),
        ("/strict", {"nbf": 5}, 401),
        ("/default", {"iat": 60}, 401),           # issued in the future
        ("/default", {"iat": 10}, 200),
        ("/strict", {"iat": 5}, 401),
        ("/loose", {"iat": 100}, 200),
    ])
    def test_claims_300_01(self, httpd, path, over, status):
        now = int(time.time())
        c = {k: now + v for k, v in over.items()}
        r = httpd.get(path + "/data.txt", token=mint(**c))
        assert r.status_code == status
        if status == 401:
            assert auth_params(challenge(r))["error"] == "invalid_token"

    @pytest.mark.parametrize("payload,status", [
        ('"exp":1e300', 200), ('"exp":-1e300', 401),
        ('"exp":9223372036854775807', 200),
        ('"exp":99999999999999999999999', 401),   # too big for the parser
        ('"exp":4102444800.5', 200), ('"exp":1000000000.5', 401),
        ('"exp":4102444800,"iat":1e300', 401),
        ('"exp":4102444800,"nbf":-1e300', 200),
    ])
    def test_claims_300_03(self, httpd, payload, status):
        """Extreme numbers are compared, never overflowed (twice: the
        second answer may come from the verified-token cache)."""
        body = '{"sub":"alice",%s}' % payload
        tok = raw_token({"alg": "HS256"}, body, secret=keys()["hs256"][0])
        for _ in range(2):
            r = httpd.get("/default/data.txt", token=tok)
            assert r.status_code == status

    @pytest.mark.parametrize("over", [
        {"exp": None},                             # exp is required
        {"exp": "9999999999"},                     # must be a number
        {"exp": True},
        {"nbf": "0"},
        {"iat": [1]},
    ])
    def test_claims_300_02(self, httpd, over):
        r = httpd.get("/default/data.txt", token=mint(**over))
        assert r.status_code == 401


class TestIssuerAudience:
    CONF = (loc("/one", "AuthTokenIssuer https://auth.example.com")
            + loc("/two", "AuthTokenIssuer https://a.example https://b.example",
                  "AuthTokenIssuer https://c.example")
            + loc("/aud", "AuthTokenAudience orders-api billing")
            + loc("/both", "AuthTokenIssuer https://auth.example.com",
                  "AuthTokenAudience orders-api"))
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("path,over,status", [
        ("/one", {}, 200),
        ("/one", {"iss": "https://auth.example.com/"}, 401),
        ("/one", {"iss": "https://AUTH.example.com"}, 401),
        ("/one", {"iss": None}, 401),
        ("/one", {"iss": ["https://auth.example.com"]}, 401),
        ("/two", {"iss": "https://b.example"}, 200),
        ("/two", {"iss": "https://c.example"}, 200),
        ("/two", {"iss": "https://auth.example.com"}, 401),
        ("/aud", {"aud": "billing"}, 200),
        ("/aud", {"aud": ["x", "orders-api"]}, 200),
        ("/aud", {"aud": ["x", "y"]}, 401),
        ("/aud", {"aud": "orders"}, 401),
        ("/aud", {"aud": None}, 401),
        ("/aud", {"aud": []}, 401),
        ("/both", {}, 200),
        ("/both", {"aud": "other"}, 401),
        ("/default", {"iss": "anything", "aud": "anything"}, 200),
    ])
    def test_claims_310_01(self, httpd, path, over, status):
        if path == "/default":
            path = "/one"
            over = {}
        r = httpd.get(path + "/data.txt", token=mint(**over))
        assert r.status_code == status


class TestTyp:
    CONF = loc("/default") + loc("/at", "AuthTokenRequireTyp at+jwt")
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("path,typ,status", [
        ("/default", None, 200),
        ("/default", "JWT", 200),
        ("/default", "jwt", 200),
        ("/default", "at+jwt", 200),
        ("/default", "AT+JWT", 200),
        ("/default", "application/at+jwt", 200),
        ("/default", "JOSE", 401),
        ("/default", "secevent+jwt", 401),
        ("/at", "at+jwt", 200),
        ("/at", "JWT", 401),
        ("/at", None, 401),
    ])
    def test_claims_320_01(self, httpd, path, typ, status):
        secret = keys()["hs256"][0]
        header = {"alg": "HS256"}
        if typ:
            header["typ"] = typ
        tok = raw_token(header, claims(), secret=secret)
        assert httpd.get(path + "/data.txt", token=tok).status_code == status


class TestUserClaim:
    CONF = (loc("/default", 'Header always set X-User "expr=%{REMOTE_USER}"')
            + loc("/email", "AuthTokenUserClaim email",
                  'Header always set X-User "expr=%{REMOTE_USER}"')
            + loc("/uid", "AuthTokenUserClaim uid",
                  'Header always set X-User "expr=%{REMOTE_USER}"'))
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def test_claims_330_01(self, httpd):
        r = httpd.get("/default/data.txt", token=mint(sub="bob"))
        assert r.status_code == 200
        assert r.headers["X-User"] == "bob"

    def test_claims_330_02(self, httpd):
        """A token without the user claim is invalid."""
        r = httpd.get("/default/data.txt", token=mint(sub=None))
        assert r.status_code == 401
        assert auth_params(challenge(r))["error"] == "invalid_token"

    def test_claims_330_03(self, httpd):
        r = httpd.get("/email/data.txt", token=mint(email="b@example.com"))
        assert r.status_code == 200
        assert r.headers["X-User"] == "b@example.com"
        r = httpd.get("/email/data.txt", token=mint())
        assert r.status_code == 401

    def test_claims_330_04(self, httpd):
        """REMOTE_USER reaches the access log."""
        httpd.get("/default/data.txt", token=mint(sub="carol"))
        assert httpd.access_logged(" carol [", "/default/data.txt")

    @pytest.mark.parametrize("uid,status,user", [
        (1001, 200, "1001"),        # a number is the user, as its JSON text
        (0, 200, "0"),
        ("1001", 200, "1001"),
        (1.5, 200, "1.5"),
        ("", 401, None),
        (True, 401, None),
        ([1001], 401, None),
        ({"id": 1}, 401, None),
    ])
    def test_claims_330_05(self, httpd, uid, status, user):
        """AuthTokenUserClaim naming a numeric claim (twice: the second
        answer may come from the verified-token cache)."""
        tok = mint(uid=uid)
        for _ in range(2):
            r = httpd.get("/uid/data.txt", token=tok)
            assert r.status_code == status
            if user is None:
                assert auth_params(challenge(r))["error"] == "invalid_token"
            else:
                assert r.headers["X-User"] == user

    def test_claims_330_06(self, httpd):
        """The numeric user reaches the access log."""
        assert httpd.get("/uid/data.txt", token=mint(uid=4242)).status_code \
            == 200
        assert httpd.access_logged(" 4242 [", "/uid/data.txt")


EXPORT_CLAIMS = {
    "sub": "alice",
    "scope": "orders:read",
    "roles": ["a", "b"],
    "obj": {"k": 1, "n": None},
    "n": 42,
    "f": 1.5,
    "t": True,
    "my-claim.x": "dots",
    "multi": "line\nbreak",
    "utf": "caf\u00e9",
}


class TestClaimsEnv:
    CONF = """
ScriptAlias /cgi-bin/ {root}/cgi-bin/
<Location /cgi-bin>
    AuthType Bearer
    AuthName env
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    Require valid-user
</Location>
<Location /cgi-bin/env.py/custom>
    AuthTokenClaimsEnv JWT_
</Location>
<Location /cgi-bin/env.py/off>
    AuthTokenClaimsEnv Off
</Location>
<Location /cgi-bin/env.py/reset>
    AuthTokenClaimsEnv On
</Location>
""" + loc("/hdr", 'Header always set X-Seen "%{TOKEN_CLAIM_sub}e"') + loc(
        "/expr", require="Require expr %{reqenv:TOKEN_CLAIM_role} == 'admin'"
    ) + loc("/preset", 'SetEnvIf X-Role (.*) TOKEN_CLAIM_role=$1',
            'SetEnvIf X-Sub (.*) token_claim_sub=$1',
            'Header always set X-Seen "%{TOKEN_CLAIM_sub}e"',
            require="Require expr %{reqenv:TOKEN_CLAIM_role} == 'admin'")
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        install_env_cgi(env)

    def env_of(self, httpd, path, **over):
        c = dict(EXPORT_CLAIMS)
        c.update(over)
        r = httpd.get("/cgi-bin/env.py" + path, token=mint(**c))
        assert r.status_code == 200, r.text
        return r.json()

    def test_env_340_01(self, httpd):
        e = self.env_of(httpd, "")
        assert e["TOKEN_CLAIM_sub"] == "alice"
        assert e["TOKEN_CLAIM_scope"] == "orders:read"
        assert e["TOKEN_CLAIM_roles"] == '["a","b"]'
        assert json.loads(e["TOKEN_CLAIM_obj"]) == {"k": 1, "n": None}
        assert " " not in e["TOKEN_CLAIM_obj"]
        assert e["TOKEN_CLAIM_n"] == "42"
        assert float(e["TOKEN_CLAIM_f"]) == 1.5
        assert e["TOKEN_CLAIM_t"] == "true"
        assert e["TOKEN_CLAIM_my_claim_x"] == "dots"
        assert e["TOKEN_CLAIM_multi"] == "line\nbreak"
        assert e["TOKEN_CLAIM_utf"] == "caf\u00e9"
        assert e["REMOTE_USER"] == "alice"
        assert e["AUTH_TYPE"] == "Bearer"

    def test_env_340_02(self, httpd):
        e = self.env_of(httpd, "/custom")
        assert e["JWT_sub"] == "alice"
        assert not any(k.startswith("TOKEN_CLAIM_") for k in e)

    def test_env_340_03(self, httpd):
        e = self.env_of(httpd, "/off")
        assert not any(k.startswith("TOKEN_CLAIM_") for k in e)
        assert e["REMOTE_USER"] == "alice"

    def test_env_340_04(self, httpd):
        """A nested section sets the export back on."""
        e = self.env_of(httpd, "/reset")
        assert e["TOKEN_CLAIM_sub"] == "alice"

    @pytest.mark.parametrize("name", ["PATH", "../x", "a b", "REMOTE_USER",
                                      "sub\nX"])
    def test_env_340_05(self, httpd, name):
        """A claim name cannot leave the prefix's namespace."""
        e = self.env_of(httpd, "", **{name: "evil"})
        assert e.get("PATH") != "evil"
        assert e["REMOTE_USER"] == "alice"
        mangled = "TOKEN_CLAIM_" + "".join(
            c if c.isalnum() else "_" for c in name)
        assert e[mangled] == "evil"

    def test_env_340_06(self, httpd):
        """mod_headers sees the variable too."""
        r = httpd.get("/hdr/data.txt", token=mint(sub="dave"))
        assert r.headers["X-Seen"] == "dave"

    @pytest.mark.parametrize("role,status", [("admin", 200), ("user", 403),
                                             (None, 403)])
    def test_env_340_07(self, httpd, role, status):
        """Require expr reads the claims from the environment."""
        r = httpd.get("/expr/data.txt", token=mint(role=role))
        assert r.status_code in ((401, 403) if status == 403 else (200,))
        if status == 403:
            assert auth_params(challenge(r))["error"] == "insufficient_scope"


    @pytest.mark.parametrize("role,status", [("admin", 200), ("user", 403)])
    def test_env_340_08(self, httpd, role, status):
        """A variable of the prefix set before authentication (here by
        SetEnvIf from a request header, in either case) is replaced by the
        token's claim, never read in its place."""
        r = httpd.get("/preset/data.txt", token=mint(role=role, sub="dave"),
                      headers={"X-Role": "admin", "X-Sub": "mallory"})
        assert r.status_code in ((401, 403) if status == 403 else (200,))
        if status == 200:
            assert r.headers["X-Seen"] == "dave"


class TestClaimsHeader:
    CONF = """
ScriptAlias /cgi-bin/ {root}/cgi-bin/
<Location /cgi-bin>
    AuthType Bearer
    AuthName hdr
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenClaimsHeader X-Token-
    AuthTokenClaimsEnv Off
    AuthTokenAllowPreflight On
    Require valid-user
</Location>
<Location /cgi-bin/env.py/off>
    AuthTokenClaimsHeader Off
</Location>
<Location /cgi-bin/env.py/public>
    Require all granted
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        install_env_cgi(env)

    @pytest.mark.parametrize("token,status", [(None, 200), ("bad", 401),
                                              ("good", 200)])
    def test_header_350_05(self, httpd, token, status):
        """A section that lets anyone in still drops forged headers. A
        token presented there is still authenticated: a bad one is 401,
        a good one makes the request its user's."""
        if token == "good":
            token = mint()
        r = httpd.get("/cgi-bin/env.py/public", token=token,
                      headers={"X-Token-Sub": "forged-77"})
        assert r.status_code == status
        assert "forged-77" not in r.text
        if token and status == 200:
            assert r.json()["REMOTE_USER"] == "alice"
            assert r.json()["HTTP_X_TOKEN_SUB"] == "alice"
        elif token:
            assert auth_params(challenge(r))["error"] == "invalid_token"

    def test_header_350_01(self, httpd):
        r = httpd.get("/cgi-bin/env.py", token=mint(**EXPORT_CLAIMS))
        e = r.json()
        assert e["HTTP_X_TOKEN_SUB"] == "alice"
        assert e["HTTP_X_TOKEN_ROLES"] == '["a","b"]'
        assert e["HTTP_X_TOKEN_N"] == "42"
        assert e["HTTP_X_TOKEN_T"] == "true"
        assert e["HTTP_X_TOKEN_MY_CLAIM_X"] == "dots"
        # a control character keeps the value out of the headers
        assert "HTTP_X_TOKEN_MULTI" not in e
        assert not any(k.startswith("TOKEN_CLAIM_") for k in e)

    @pytest.mark.parametrize("sent", ["X-Token-Admin", "x-token-admin",
                                      "X-TOKEN-sub", "X-Token-Sub"])
    def test_header_350_02(self, httpd, sent):
        """Client-sent headers with the prefix are removed first."""
        r = httpd.get("/cgi-bin/env.py", token=mint(),
                      headers={sent: "forged"})
        e = r.json()
        assert "forged" not in e.values()
        assert e["HTTP_X_TOKEN_SUB"] == "alice"

    def test_header_350_03(self, httpd):
        """Also when the token is refused or absent (nothing forged passes
        with an error page or a preflight)."""
        r = httpd.get("/cgi-bin/env.py", headers={
            "X-Token-Sub": "forged-1f3a", "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET"})
        assert r.status_code == 401
        import requests
        r = requests.options(httpd.url + "/cgi-bin/env.py", timeout=10,
                             headers={"X-Token-Sub": "forged-1f3a",
                                      "Origin": "https://app.example",
                                      "Access-Control-Request-Method":
                                      "GET"})
        assert r.status_code != 401
        assert "forged-1f3a" not in r.text

    def test_header_350_04(self, httpd):
        r = httpd.get("/cgi-bin/env.py/off", token=mint())
        e = r.json()
        assert not any(k.startswith("HTTP_X_TOKEN_") for k in e)
