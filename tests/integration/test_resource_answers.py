"""RFC 6750 answers of AuthType Bearer: the challenge for each case of the
contract's table, where the token may come from, the size limit, and the
quoting of the realm."""
import pytest
import requests

from resource_tokens import (AUTHZ_LOG_IDS, auth_params, challenge, mint,
                             no_token_in_log, write_keys)  # noqa: F401

CONTRACT_CONF = """
LimitRequestFieldSize 32768
<Location /api>
    AuthType Bearer
    AuthName "orders-api"
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub kid=k1
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenIssuer https://auth.example.com
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>
"""


class TestAnswers:
    CONF = CONTRACT_CONF
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def test_answers_100_01(self, httpd):
        """No credentials: 401 with a bare challenge."""
        r = httpd.get("/api/data.txt")
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="orders-api"'

    @pytest.mark.parametrize("value", [
        "Basic YWxpY2U6c2VjcmV0", "Digest username=\"a\"", "Bearerx abc",
        "Token abc"])
    def test_answers_100_02(self, httpd, value):
        """Another scheme: 401, challenge without error."""
        r = httpd.get("/api/data.txt", headers={"Authorization": value})
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="orders-api"'

    @pytest.mark.parametrize("value", ["Bearer", "Bearer ", "bearer   ",
                                       "BEARER\t"])
    def test_answers_100_03(self, httpd, value):
        """Bearer without a token: 400 invalid_request."""
        r = httpd.get("/api/data.txt", headers={"Authorization": value})
        assert r.status_code == 400
        p = auth_params(challenge(r))
        assert p["realm"] == "orders-api"
        assert p["error"] == "invalid_request"

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER",
                                        "BeArEr"])
    def test_answers_100_04(self, httpd, scheme):
        """The scheme is case-insensitive."""
        r = httpd.get("/api/data.txt",
                      headers={"Authorization": scheme + " " + mint()})
        assert r.status_code == 200
        assert r.text == "protected data\n"
        assert challenge(r) is None

    @pytest.mark.parametrize("token", [
        "garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "x y",
        "Bearer abc"])
    def test_answers_100_05(self, httpd, token):
        """Not a valid JWS: 401 invalid_token with a description."""
        r = httpd.get("/api/data.txt", token=token)
        assert r.status_code == 401
        p = auth_params(challenge(r))
        assert p["realm"] == "orders-api"
        assert p["error"] == "invalid_token"
        assert p["error_description"]

    def test_answers_100_06(self, httpd):
        """Valid token without the scope: 403 insufficient_scope with
        scope."""
        r = httpd.get("/api/data.txt", token=mint(scope="orders:write"))
        assert r.status_code == 403
        p = auth_params(challenge(r))
        assert p == {"realm": "orders-api", "error": "insufficient_scope",
                     "scope": "orders:read"}

    def test_answers_100_07(self, httpd):
        """A token in the query string is ignored."""
        r = httpd.get("/api/data.txt?access_token=" + mint())
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="orders-api"'

    def test_answers_100_08(self, httpd):
        """A token in a form body is ignored."""
        r = httpd.post("/api/data.txt", data={"access_token": mint()})
        assert r.status_code == 401
        assert challenge(r) == 'Bearer realm="orders-api"'

    def test_answers_100_09(self, httpd):
        """Both keys serve: ES256 with its kid, HS256 without one."""
        assert httpd.get("/api/data.txt",
                         token=mint("ES256", headers={"kid": "k1"})
                         ).status_code == 200
        assert httpd.get("/api/data.txt", token=mint("HS256")
                         ).status_code == 200

    def test_answers_100_10(self, httpd):
        """The rejection is logged at info with its id and reason."""
        httpd.get("/api/data.txt", token=mint(iss="https://evil.example"))
        log = httpd.read_log()
        assert "AT00109" in log
        assert "[auth_token:info]" in log

    def test_answers_100_11(self, httpd):
        """Outside the protected location nothing is asked."""
        r = httpd.get("/index.html")
        assert r.status_code == 200
        assert challenge(r) is None


class TestTokenSize:
    """Tokens over 16 KiB (the token itself) are invalid_token."""
    CONF = CONTRACT_CONF
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("size,status", [(16000, 200), (16385, 401),
                                             (24000, 401)])
    def test_limits_120_01(self, httpd, size, status):
        tok = mint(pad="x" * 10)
        extra = size - len(tok)
        tok = mint(pad="x" * (10 + int(extra * 3 / 4)))
        while len(tok) < size:
            extra += 1
            tok = mint(pad="x" * (10 + int(extra * 3 / 4)))
        if status == 200:
            assert len(tok) <= 16384
        else:
            assert len(tok) > 16384
        r = httpd.get("/api/data.txt", token=tok)
        assert r.status_code == status
        if status == 401:
            assert auth_params(challenge(r))["error"] == "invalid_token"


class TestRealmQuoting:
    """The realm is a quoted-string: '"' is escaped."""
    CONF = r"""
<Location /api>
    AuthType Bearer
    AuthName 'say "hi" now' 
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    Require valid-user
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def test_realm_110_01(self, httpd):
        r = httpd.get("/api/data.txt")
        assert r.status_code == 401
        assert challenge(r) == r'Bearer realm="say \"hi\" now"'
        assert auth_params(challenge(r))["realm"] == 'say "hi" now'

    def test_realm_110_02(self, httpd):
        r = httpd.get("/api/data.txt", token="nope")
        p = auth_params(challenge(r))
        assert p["realm"] == 'say "hi" now'
        assert p["error"] == "invalid_token"

    def test_realm_110_03(self, httpd):
        """Require valid-user: any valid token."""
        r = httpd.get("/api/data.txt", token=mint(scope=None, aud=None))
        assert r.status_code == 200


class TestProxy:
    """Forward-proxy requests read Proxy-Authorization and answer 407
    with Proxy-Authenticate."""
    CONF = """
ProxyRequests On
<Proxy "*">
    AuthType Bearer
    AuthName "egress"
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    Require token-scope orders:read
</Proxy>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def proxied(self, httpd, headers):
        return requests.get(httpd.url + "/api/data.txt", headers=headers,
                            proxies={"http": httpd.url}, timeout=10)

    def test_proxy_130_01(self, httpd):
        r = self.proxied(httpd, {"Proxy-Authorization": "Bearer " + mint()})
        assert r.status_code == 200
        assert r.text == "protected data\n"

    def test_proxy_130_02(self, httpd):
        """Without credentials: 407 and a Proxy-Authenticate challenge."""
        r = self.proxied(httpd, {})
        assert r.status_code == 407
        assert r.headers.get("Proxy-Authenticate") == 'Bearer realm="egress"'

    def test_proxy_130_03(self, httpd):
        """Authorization is the origin server's, not the proxy's."""
        r = self.proxied(httpd, {"Authorization": "Bearer " + mint()})
        assert r.status_code == 407

    def test_proxy_130_05(self, httpd):
        """A missing scope on a proxy request: httpd's 401 becomes 407 and
        the challenge says insufficient_scope."""
        r = self.proxied(httpd, {"Proxy-Authorization":
                                 "Bearer " + mint(scope="x")})
        assert r.status_code == 407
        p = auth_params(r.headers["Proxy-Authenticate"])
        assert p == {"realm": "egress", "error": "insufficient_scope",
                     "scope": "orders:read"}
        assert "WWW-Authenticate" not in r.headers

    def test_proxy_130_04(self, httpd):
        r = self.proxied(httpd, {"Proxy-Authorization": "Bearer bad"})
        assert r.status_code == 407
        assert auth_params(r.headers["Proxy-Authenticate"])["error"] \
            == "invalid_token"


def raw_get(httpd, path, header_lines):
    """A GET sent byte for byte (requests cannot repeat a header)."""
    import socket
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % path
    req += "".join(h + "\r\n" for h in header_lines) + "\r\n"
    with socket.create_connection(("127.0.0.1", httpd.port), timeout=10) as s:
        s.sendall(req.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    headers = {}
    for line in head.split("\r\n")[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers


class TestRawHeaders:
    CONF = CONTRACT_CONF
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def test_raw_140_01(self, httpd):
        """Two Authorization headers are never read as the first one."""
        good = mint()
        status, h = raw_get(httpd, "/api/data.txt", [
            "Authorization: Bearer " + good,
            "Authorization: Bearer " + mint(scope="x")])
        assert status == 401
        assert auth_params(h["www-authenticate"])["error"] == "invalid_token"
        status, h = raw_get(httpd, "/api/data.txt", [
            "Authorization: Basic YTpi", "Authorization: Bearer " + good])
        assert status == 401

    @pytest.mark.parametrize("fmt", ["Bearer  %s", "Bearer\t%s",
                                     "Bearer %s  ", " Bearer %s"])
    def test_raw_140_02(self, httpd, fmt):
        """Whitespace around the token is not part of it."""
        status, _ = raw_get(httpd, "/api/data.txt",
                            ["Authorization: " + fmt % mint()])
        assert status == 200

    def test_raw_140_03(self, httpd):
        """A token split by a space is not a token."""
        t = mint()
        status, h = raw_get(httpd, "/api/data.txt",
                            ["Authorization: Bearer %s %s" % (t[:20], t[20:])])
        assert status == 401
        assert auth_params(h["www-authenticate"])["error"] == "invalid_token"


class TestDescriptionCharset:
    """error_description only ever holds RFC 6750's characters (%x20-21 /
    %x23-5B / %x5D-7E), whatever the token holds."""
    CONF = CONTRACT_CONF
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("payload", [
        '{"a\\"b":1,"a\\"b":2}', '{"caf\\u00e9":1,"caf\\u00e9":2}',
        '{"x\\\\y":1,"x\\\\y":2}', '{"\\u0001":1,"\\u0001":1}',
        '{"exp":"\\u00e9\\""}', '[', '{"a":1}x'])
    def test_descr_150_01(self, httpd, payload):
        import re
        from resource_tokens import keys, raw_token
        tok = raw_token({"alg": "HS256"}, payload, secret=keys()["hs256"][0])
        r = httpd.get("/api/data.txt", token=tok)
        assert r.status_code == 401
        raw = challenge(r)
        m = re.search(r'error_description="([^"]*)"', raw)
        assert m, raw
        assert re.fullmatch(r'[\x20\x21\x23-\x5b\x5d-\x7e]+', m.group(1)), raw
