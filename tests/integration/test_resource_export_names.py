"""What the claims export leaves out, and why the token stays valid:
- a claim string holding "\\u0000" (valid JSON): the token is accepted,
  only that claim is not exported (AT01002); where the string is compared
  (user claim, iss, aud, Require token-claim/-scope) it equals nothing, so
  "alice\\u0000x" never passes for "alice";
- claims whose export names coincide after the character mapping ("a-b",
  "a_b", "a.b"; "Role"/"role" in httpd's case-insensitive tables): none of
  them is exported, one debug line (AT01001) says so."""
import re

import pytest

from resource_tokens import (AUDIENCE, AUTHZ_LOG_IDS, ISSUER, auth_params,
                             bearer_cgi, challenge, install_env_cgi, mint,
                             no_token_in_log, write_keys)  # noqa: F401


def cgi_loc(path, require="Require valid-user", extra=""):
    return bearer_cgi(path, require, "names",
                      extra="AuthTokenClaimsHeader X-Token-\n    " + extra)


CONF = "".join([
    cgi_loc("/env"),
    cgi_loc("/checked", extra="AuthTokenIssuer %s\n    AuthTokenAudience %s"
            % (ISSUER, AUDIENCE)),
    cgi_loc("/role", require="Require token-claim role admin"),
    cgi_loc("/scope", require="Require token-scope orders:write"),
    cgi_loc("/scope-read", require="Require token-scope orders:read"),
    cgi_loc("/dashed", require="Require token-claim a-b 1"),
    cgi_loc("/user", extra="AuthTokenUserClaim email"),
])


class CgiServer:
    """One server per test class: the locations above, the CGI."""
    CONF = CONF
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        install_env_cgi(env)


class TestNulInClaims(CgiServer):

    @pytest.mark.parametrize("value", ["a\x00b", "\x00", "x\x00"])
    def test_nul_200_01(self, httpd, value):
        """The token is valid; only the claim holding NUL is left out."""
        r = httpd.get("/env", token=mint(note=value, tenant="acme"))
        assert r.status_code == 200, r.text
        e = r.json()
        assert e["REMOTE_USER"] == "alice"
        assert "TOKEN_CLAIM_note" not in e
        assert "HTTP_X_TOKEN_NOTE" not in e
        assert e["TOKEN_CLAIM_tenant"] == "acme"
        assert e["HTTP_X_TOKEN_TENANT"] == "acme"
        assert "AT01002: claim note not exported" in httpd.new_log()

    def test_nul_200_02(self, httpd):
        """A NUL deeper inside a value is exported as its JSON escape."""
        r = httpd.get("/env", token=mint(obj={"k": "a\x00b"},
                                         arr=["x\x00"]))
        assert r.status_code == 200
        e = r.json()
        assert e["TOKEN_CLAIM_obj"] == '{"k":"a\\u0000b"}'
        assert e["TOKEN_CLAIM_arr"] == '["x\\u0000"]'

    @pytest.mark.parametrize("path,claims", [
        ("/env", {"sub": "alice\x00admin"}),
        ("/env", {"sub": "\x00"}),
        ("/user", {"email": "alice@example.com\x00x"}),
        ("/checked", {"iss": ISSUER + "\x00"}),
        ("/checked", {"iss": ISSUER + "\x00.evil"}),
        ("/checked", {"aud": AUDIENCE + "\x00x"}),
        ("/checked", {"aud": [AUDIENCE + "\x00"]}),
    ])
    def test_nul_200_03(self, httpd, path, claims):
        """Where the string decides (the user, the issuer, the audience), a
        NUL makes it match nothing: the token is invalid, never taken for
        the prefix before the NUL."""
        r = httpd.get(path, token=mint(**claims))
        assert r.status_code == 401
        p = auth_params(challenge(r))
        assert p["error"] == "invalid_token"
        assert "alice" not in r.text

    def test_nul_200_04(self, httpd):
        """... the same audience without the NUL, among others, passes."""
        r = httpd.get("/checked", token=mint(aud=[AUDIENCE + "\x00",
                                                 AUDIENCE]))
        assert r.status_code == 200

    @pytest.mark.parametrize("path,claims,status", [
        ("/role", {"role": "admin\x00"}, 403),
        ("/role", {"role": "admin\x00x"}, 403),
        ("/role", {"role": ["admin\x00", "user"]}, 403),
        ("/role", {"role": ["admin\x00", "admin"]}, 200),
        ("/scope", {"scope": "orders:write\x00"}, 403),
        ("/scope", {"scope": "orders:read\x00x orders:write"}, 200),
        ("/scope-read", {"scope": "orders:read\x00x orders:write"}, 403),
        ("/scope", {"scope": None, "scp": ["orders:write\x00"]}, 403),
    ])
    def test_nul_200_05(self, httpd, path, claims, status):
        """Require token-claim / token-scope compare whole strings."""
        r = httpd.get(path, token=mint(**claims))
        assert r.status_code == status
        if status == 403:
            assert auth_params(challenge(r))["error"] == "insufficient_scope"

    def test_nul_200_06(self, httpd):
        """A NUL in a claim *name* is not something jansson can hold: such
        a token stays malformed."""
        from resource_tokens import claims, keys, raw_token
        import json
        body = json.dumps(claims())[:-1] + ', "a\\u0000b": 1}'
        tok = raw_token({"alg": "HS256"}, body, secret=keys()["hs256"][0])
        r = httpd.get("/env", token=tok)
        assert r.status_code == 401
        assert auth_params(challenge(r))["error"] == "invalid_token"


class TestNameCollisions(CgiServer):

    @pytest.mark.parametrize("names", [
        ("a-b", "a_b"), ("a-b", "a_b", "a.b"), ("a.b", "a b"),
        ("Role", "role"), ("ROLE", "role", "Role"), ("x-y", "X_Y"),
        ("caf\u00e9", "caf\u00e8"),
    ])
    def test_collide_210_01(self, httpd, names):
        """None of the colliding claims is exported, in either channel;
        the others are; one debug line names them."""
        over = {n: "v%d" % i for i, n in enumerate(names)}
        httpd.new_log()
        r = httpd.get("/env", token=mint(tenant="acme", **over))
        assert r.status_code == 200, r.text
        e = r.json()
        values = set(over.values())
        assert not values & set(e.values()), e
        assert e["TOKEN_CLAIM_tenant"] == "acme"
        assert e["HTTP_X_TOKEN_TENANT"] == "acme"
        assert e["REMOTE_USER"] == "alice"
        lines = [ln for ln in httpd.new_log().splitlines()
                 if "AT01001" in ln]
        assert len(lines) == 1, lines
        for n in names:
            # escaped as ap_escape_logitem does (httpd may double the \)
            esc = "".join("\\x%02x" % b if b >= 0x80 else chr(b)
                          for b in n.encode())
            assert esc in lines[0] or esc.replace("\\", "\\\\") in \
                lines[0], (esc, lines[0])

    def test_collide_210_02(self, httpd):
        """Two separate collisions: one line each; unrelated claims stay."""
        r = httpd.get("/env", token=mint(**{"a-b": 1, "a_b": 2, "Role": 3,
                                            "role": 4, "plain": 5}))
        e = r.json()
        assert e["TOKEN_CLAIM_plain"] == "5"
        assert not any(k.lower() in ("token_claim_a_b", "token_claim_role")
                       for k in e)
        assert not any(k in ("HTTP_X_TOKEN_A_B", "HTTP_X_TOKEN_ROLE")
                       for k in e)
        assert len(re.findall("AT01001", httpd.new_log())) == 2

    def test_collide_210_06(self, httpd):
        """Many claims (the sorted path): the same rule."""
        over = {"c%02d" % i: "v%d" % i for i in range(40)}
        over.update({"a-b": "x1", "A.B": "x2", "Role": "x3", "role": "x4",
                     "C05": "x5"})
        r = httpd.get("/env", token=mint(**over))
        e = r.json()
        for i in range(40):
            if i != 5:
                assert e["TOKEN_CLAIM_c%02d" % i] == "v%d" % i
        assert not {"x1", "x2", "x3", "x4", "x5", "v5"} & set(e.values())
        assert len(re.findall("AT01001", httpd.new_log())) == 3

    @pytest.mark.parametrize("name,env_name,hdr_name", [
        ("a-b", "TOKEN_CLAIM_a_b", "HTTP_X_TOKEN_A_B"),
        ("a.b", "TOKEN_CLAIM_a_b", "HTTP_X_TOKEN_A_B"),
        ("Role", "TOKEN_CLAIM_Role", "HTTP_X_TOKEN_ROLE"),
    ])
    def test_collide_210_03(self, httpd, name, env_name, hdr_name):
        """Alone, such a name is exported as before."""
        r = httpd.get("/env", token=mint(**{name: "only"}))
        e = r.json()
        assert e[env_name] == "only"
        assert e[hdr_name] == "only"
        assert "AT01001" not in httpd.new_log()

    def test_collide_210_04(self, httpd):
        """Colliding claims are still there for Require token-claim."""
        r = httpd.get("/dashed", token=mint(**{"a-b": 1, "a_b": 2}))
        assert r.status_code == 200
        r = httpd.get("/dashed", token=mint(**{"a-b": 2, "a_b": 1}))
        assert r.status_code == 403

    def test_collide_210_05(self, httpd):
        """A claim colliding with the user claim's name does not hide the
        user: REMOTE_USER comes from the claim itself."""
        r = httpd.get("/env", token=mint(**{"SUB": "mallory"}))
        e = r.json()
        assert e["REMOTE_USER"] == "alice"
        assert "TOKEN_CLAIM_sub" not in e and "TOKEN_CLAIM_SUB" not in e
