"""Configuration of remote key sets and trusted issuers: every mistake stops
`apachectl configtest` with the file, the line and what to do; the good
forms pass (and fetch nothing: see test_remote_jwks.py)."""
import re

import pytest

from httpd_env import HttpdEnv
from jwks_server import Signer, jwk_set


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
