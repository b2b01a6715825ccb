"""Configuration of remote key sets and trusted issuers: every mistake stops
`apachectl configtest` with the file, the line and what to do; the good
forms pass (and fetch nothing: see test_remote_jwks.py); a graceful restart
reads the server-wide settings again."""
import re
import time

import pytest

from httpd_env import HttpdEnv
from jwks_server import Signer, jwk_set
from remote_env import FETCH_FAILED, ISSUER, httpd  # noqa: F401


@pytest.fixture(scope="module")
def env():
    e = HttpdEnv()
    e.write_file("keys/set.jwks", jwk_set(Signer("k1", "ES256")))
    e.write_file("keys/ca.pem", "not a certificate\n")
    yield e
    e.cleanup()


def section(*lines):
    body = "\n".join("    " + l for l in lines)
    return """
<Location /api>
    AuthType Bearer
    AuthName api
%s
    Require valid-user
</Location>
""" % body


def configtest(env, conf):
    env.install(conf)
    return env.configtest()


def error_line(env, out, text):
    """The line number httpd reports, checking file and TEXT are named."""
    m = re.search(r"Syntax error on line (\d+) of ([^:]+):", out)
    assert m, out
    assert m.group(2) == env.path("conf/httpd.conf"), out
    assert text in out, out
    return int(m.group(1))


def line_of(env, needle):
    with open(env.path("conf/httpd.conf")) as f:
        for i, l in enumerate(f, 1):
            if needle in l:
                return i
    raise AssertionError(needle)


BAD = [
    ("AuthTokenJWKS http://keys.example.com/jwks",
     "plain http:// is allowed only to a loopback address"),
    ("AuthTokenJWKS http://127.0.0.1.nip.example/jwks",
     "plain http:// is allowed only to a loopback address"),
    ("AuthTokenJWKS http://127.0.0.1@keys.example/jwks",
     "user information in the URL is not supported"),
    ("AuthTokenJWKS http://[::2]/jwks", "use https://"),
    ("AuthTokenJWKS ftp://keys.example/jwks", "use https://"),
    ("AuthTokenJWKS https://keys.example/jwks#frag", "no #fragment"),
    ("AuthTokenTrustIssuer https://a.example jwks=",
     "jwks= needs the URL or the file"),
    ("AuthTokenTrustIssuer https://a.example jwks",
     "unknown option 'jwks'; the second argument is jwks=URL, jwks=PATH "
     "or discover"),
    ("AuthTokenTrustIssuer https://a.example fetch=https://a.example/k",
     "unknown option"),
    ("AuthTokenTrustIssuer http://idp.example.com discover",
     "plain http:// is allowed only to a loopback address"),
    ("AuthTokenTrustIssuer https://a.example?x=1 discover",
     "use jwks=URL instead"),
    ("AuthTokenTrustIssuer https://a.example jwks=http://keys.example/k",
     "use https://"),
    ("AuthTokenTrustIssuer https://a.example jwks={root}/keys/none.jwks",
     "does not exist"),
]


@pytest.mark.parametrize("line,text", BAD)
def test_config_001_01(env, line, text):
    ok, out = configtest(env, section(line))
    assert not ok
    n = error_line(env, out, text)
    assert n == line_of(env, line.split()[0] + " " + line.split()[1])


def test_config_001_02(env):
    """One issuer twice in one section."""
    ok, out = configtest(env, section(
        "AuthTokenTrustIssuer https://a.example jwks=https://k.example/1",
        "AuthTokenTrustIssuer https://a.example jwks=https://k.example/2"))
    assert not ok
    error_line(env, out, "already trusted in this section")


@pytest.mark.parametrize("line,text", [
    ("AuthTokenJWKSRefresh 0", "from 1 to"),
    ("AuthTokenJWKSRefresh soon", "is not a number of seconds"),
    ("AuthTokenJWKSMinRefetch -1", "is not a number of seconds"),
    ("AuthTokenFetchCA {root}/keys/ca.pem", "PEM certificates"),
    ("AuthTokenFetchCA {root}/keys/missing.pem", "PEM certificates"),
])
def test_config_001_03(env, line, text):
    ok, out = configtest(env, line + "\n")
    assert not ok
    error_line(env, out, text)


@pytest.mark.parametrize("line", ["AuthTokenJWKSRefresh 60",
                                  "AuthTokenJWKSMinRefetch 5",
                                  "AuthTokenFetchCA /etc/ssl/certs/"
                                  "ca-certificates.crt"])
def test_config_001_04(env, line):
    """The server-wide directives are refused inside a section."""
    ok, out = configtest(env, section("AuthTokenJWKS https://k.example/j",
                                      line))
    assert not ok
    assert "not allowed" in out, out


def test_config_001_05(env):
    """AuthTokenVerifyKey/AuthTokenJWKS beside trusted issuers in one
    section would serve nothing: AT01150 names both lines."""
    ok, out = configtest(env, section(
        "AuthTokenTrustIssuer https://a.example jwks={root}/keys/set.jwks",
        "AuthTokenJWKS {root}/keys/set.jwks"))
    assert not ok
    assert "AT01150" in out, out
    assert "line %d" % line_of(env, "AuthTokenJWKS {}".format(
        env.path("keys"))) in out, out


@pytest.mark.parametrize("lines", [
    ["AuthTokenJWKS https://keys.example/jwks"],
    ["AuthTokenJWKS http://127.0.0.1:9/jwks"],
    ["AuthTokenJWKS http://127.42.0.1:9/jwks"],
    ["AuthTokenJWKS http://[::1]:9/jwks"],
    ["AuthTokenJWKS http://LOCALHOST:9/jwks"],
    ["AuthTokenJWKS https://keys.example/jwks",
     "AuthTokenJWKS {root}/keys/set.jwks"],
    ["AuthTokenTrustIssuer https://a.example discover"],
    ["AuthTokenTrustIssuer https://a.example/realms/x/ discover",
     "AuthTokenTrustIssuer accounts.google.com "
     "jwks=https://www.googleapis.com/oauth2/v3/certs",
     "AuthTokenTrustIssuer https://c.example jwks={root}/keys/set.jwks"],
])
def test_config_001_06(env, lines):
    """Good forms pass; a location with only trusted issuers has keys."""
    conf = ("AuthTokenJWKSRefresh 600\nAuthTokenJWKSMinRefetch 10\n"
            "AuthTokenFetchCA /etc/ssl/certs/ca-certificates.crt\n"
            + section(*lines))
    ok, out = configtest(env, conf)
    assert ok, out


K1 = Signer("k1", "ES256")


class TestGracefulRereads:
    """A graceful restart reads the server-wide settings again: a changed
    AuthTokenJWKSRefresh or AuthTokenJWKSMinRefetch is taken, a removed one
    is back at its default, and without AuthTokenFetchCA the system store
    (which does not hold the test CA) is used. A URL that the main server
    and a virtual host both name is one source: one fetch."""
    ALLOWED_LOG_IDS = FETCH_FAILED

    @classmethod
    def configure(cls, env):
        cls.ks = cls.key_server()
        cls.ks.serve("/jwks", jwk_set(K1))
        cls.ks.serve("/broken", "", mode="fail")
        return cls.conf(ca=True, refresh=600, min_refetch=7)

    @classmethod
    def conf(cls, ca, refresh=None, min_refetch=None):
        lines = []
        if ca:
            lines.append("AuthTokenFetchCA {root}/keys/fetch-ca.pem")
        if refresh:
            lines.append("AuthTokenJWKSRefresh %d" % refresh)
        if min_refetch:
            lines.append("AuthTokenJWKSMinRefetch %d" % min_refetch)
        url = cls.ks.url("/jwks")
        return "\n".join(lines) + """
Alias /a "{root}/htdocs/api"
Alias /v "{root}/htdocs/api"
Alias /b "{root}/htdocs/api"
<Location /a>
    AuthType Bearer
    AuthName a
    AuthTokenJWKS %s
    Require valid-user
</Location>
<Location /b>
    AuthType Bearer
    AuthName b
    AuthTokenJWKS %s
    Require valid-user
</Location>
<VirtualHost 127.0.0.1:{port}>
    <Location /v>
        AuthType Bearer
        AuthName v
        AuthTokenJWKS %s
        Require valid-user
    </Location>
</VirtualHost>
""" % (url, cls.ks.url("/broken"), url)

    def wait_line(self, httpd, since, *parts):
        """The first error-log line after offset SINCE holding all PARTS
        (waits up to 20 s for it)."""
        deadline = time.time() + 20
        while True:
            for line in httpd.read_log()[since:].splitlines():
                if all(p in line for p in parts):
                    return line
            assert time.time() < deadline, (parts, httpd.read_log()[since:])
            time.sleep(0.1)

    def step(self, httpd, since, fetched, refresh, min_refetch):
        """The generation started after log offset SINCE published the set
        with the REFRESH schedule, fetching it once for both servers (the
        key server had seen FETCHED fetches before), and retries the broken
        source after MIN_REFETCH."""
        jwks, broken = self.ks.url("/jwks"), self.ks.url("/broken")
        self.wait_line(httpd, since, "AT01151", jwks,
                       "next fetch in %d s" % refresh)
        self.wait_line(httpd, since, "AT01153", broken,
                       "next attempt in %d s" % min_refetch)
        tok = K1.token(ISSUER)
        for path in ("/a/data.txt", "/v/data.txt"):
            assert httpd.get(path, token=tok).status_code == 200, path
        time.sleep(1)
        assert self.ks.count("/jwks") == fetched + 1
        published = [l for l in httpd.read_log()[since:].splitlines()
                     if "AT01151" in l and jwks in l]
        assert len(published) == 1, published

    def test_config_002_01(self, httpd):
        self.step(httpd, 0, 0, 600, 7)
        for refresh, min_refetch in ((900, 11), (None, None)):
            since = len(httpd.read_log())
            fetched = self.ks.count("/jwks")
            httpd.install(self.conf(True, refresh, min_refetch))
            httpd.graceful()
            self.step(httpd, since, fetched, refresh or 3600,
                      min_refetch or 30)
        since = len(httpd.read_log())
        httpd.install(self.conf(False))
        httpd.graceful()
        line = self.wait_line(httpd, since, "AT01153", self.ks.url("/jwks"))
        assert "certificate" in line, line
        assert httpd.get("/a/data.txt",
                         token=K1.token(ISSUER)).status_code == 503
