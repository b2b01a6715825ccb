"""Strings a client chose reach the error log cut to 128 bytes (marked
"...(N bytes)") and escaped, whichever handler logs them: an unknown
client_id, a refused scope, a token's kid or user, a claim-prefixed header
name, the URI. One helper (at_log_item) does it for every such log line."""
import re

import pytest

from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            token_request)
from resource_tokens import mint, no_token_in_log, write_keys  # noqa

MAX = 128
RESOURCE = """
<Location /api>
    AuthType Bearer
    AuthName logs
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenClaimsHeader X-Token-
    Require valid-user
</Location>
"""


def lines_with(log, logid):
    return [ln for ln in log.splitlines() if logid + ":" in ln]


def assert_cut(line, char, total, run=MAX):
    """LINE holds a run of exactly RUN CHARs (the first 128 bytes of the
    string) and says how long the string was."""
    runs = [len(m) for m in re.findall(re.escape(char) + "+", line)]
    assert max(runs) == run, (runs, line[:300])
    assert "...(%d bytes)" % total in line, line[:300]
    assert len(line) < 1000, len(line)


class TestClientStringsInLogs:
    # 400/401 answers of the issuer are logged at info; nothing at warn
    ALLOWED_LOG_IDS = ()
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        write_keys(env)
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"]) + RESOURCE
        add_scopes(env, "read")
        cls.APPS["app"] = add_app(env, "app", scopes="read")

    def test_logitem_700_01(self, httpd):
        """An unknown 5,000-character client_id."""
        cid = "A" * 5000
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": cid,
                                  "client_secret": "x" * 40})
        assert r.status_code == 401
        found = lines_with(httpd.new_log(), "AT00410")
        assert len(found) == 1
        assert_cut(found[0], "A", 5000)

    def test_logitem_700_02(self, httpd):
        """Control characters cannot start a line of their own."""
        cid = 'evil"\r\nAT99999: [error] forged\x1b[31m'
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "client_id": cid,
                                  "client_secret": "x" * 40})
        assert r.status_code == 401
        log = httpd.new_log()
        for line in log.splitlines():
            if "AT99999" in line:
                assert "AT00410" in line, line
                assert "\x1b" not in line
        assert "\\x1b" in lines_with(log, "AT00410")[0]

    def test_logitem_700_03(self, httpd):
        """A refused scope of 3,000 characters: the description the client
        gets is its business; the log line is cut."""
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "scope": "s" * 3000},
                          auth=self.APPS["app"])
        assert r.status_code == 400
        assert r.json()["error"] == "invalid_scope"
        found = lines_with(httpd.new_log(), "AT00401")
        assert found
        assert len(found[0]) < 1000
        assert "s" * (MAX + 1) not in found[0]

    def test_logitem_700_04(self, httpd):
        """A token's kid, before any signature check (debug)."""
        tok = mint(key="hs256_other", headers={"kid": "K" * 5000})
        r = httpd.get("/api/data.txt", token=tok)
        assert r.status_code == 401
        found = lines_with(httpd.new_log(), "AT00107")
        assert len(found) == 1
        assert_cut(found[0], "K", 5000)

    def test_logitem_700_05(self, httpd):
        """The user a valid token names (debug), and the URI."""
        r = httpd.get("/api/data.txt", token=mint(sub="U" * 3000))
        assert r.status_code == 200
        found = lines_with(httpd.new_log(), "AT00113")
        assert len(found) == 1
        assert_cut(found[0], "U", 3000)
        path = "/api" + "/p" * 2000      # no file name over 255 bytes
        r = httpd.get(path)
        assert r.status_code == 401
        found = lines_with(httpd.new_log(), "AT00101")
        assert len(found) == 1
        assert "for " + path[:MAX] + "...(%d bytes)" % len(path) in found[0]
        assert len(found[0]) < 1000

    def test_logitem_700_06(self, httpd):
        """A client-sent header carrying the claims prefix (debug)."""
        name = "X-Token-" + "h" * 3000
        r = httpd.get("/api/data.txt", token=mint(), headers={name: "x"})
        assert r.status_code == 200
        found = lines_with(httpd.new_log(), "AT00301")
        assert found
        assert_cut(found[0], "h", len(name), run=MAX - len("X-Token-"))

    @pytest.mark.parametrize("cid", ["short-id", "x" * MAX])
    def test_logitem_700_07(self, httpd, cid):
        """Up to 128 bytes, a string is logged whole and unmarked."""
        token_request(httpd, {"grant_type": "client_credentials",
                              "client_id": cid, "client_secret": "y" * 40})
        line = lines_with(httpd.new_log(), "AT00410")[0]
        assert "client %s failed" % cid in line
        assert "bytes)" not in line
