"""HTTP Basic client authentication is decoded strictly at the token,
revocation and introspection endpoints (RFC 6749 section 2.3.1): strict
padded base64, a colon, then form-urlencoded id and secret. Anything else is
401 invalid_client with a Basic challenge (section 5.2), never a lenient
guess: each malformed value below is built from the right credentials, so a
decoder that guessed would have authenticated the client."""
import base64
import itertools
import urllib.parse

import pytest

from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            token_request)

ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]
DATA = {"grant_type": "client_credentials", "token": "not-a-token"}


def pct(ch, lower):
    s = "%%%02X" % ord(ch)
    return s.lower() if lower else s


def spellings(cid, secret):
    """Raw "id:secret" byte strings that all form-decode to CID and SECRET:
    the plain one, then with leading characters of the secret %-escaped
    (upper- or lower-case hex), which changes the length and the bytes and
    so the base64 text, not the meaning."""
    for k in range(len(secret) + 1):
        for lower in (False, True):
            yield (urllib.parse.quote(cid, safe="") + ":"
                   + "".join(pct(c, lower) for c in secret[:k])
                   + secret[k:]).encode()


def raw_where(cid, secret, pred):
    return next(r for r in spellings(cid, secret) if pred(r))


def basic(raw):
    return "Basic " + base64.b64encode(raw).decode()


def flip_trailing_bits(b64):
    """Same text with the unused low bits of the last group set: a lenient
    decoder reads the same bytes."""
    body = b64.rstrip("=")
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789+/")
    v = alphabet.index(body[-1]) | (1 if len(body) % 4 == 3 else 15)
    return body[:-1] + alphabet[v] + b64[len(body):]


class TestIssuerBasicAuth:
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"])
        add_scopes(env, "read")
        cls.APPS["svc"] = add_app(env, "svc", scopes="read")

    def malformed(self):
        """name -> Authorization value, each a misspelling of the right
        credentials (or of their structure). The base64url alphabet is left
        to tests/unit/test_form.c: ASCII ids and secrets without '>', '?'
        or '~' never encode to '+' or '/'."""
        cid, secret = self.APPS["svc"]
        padded = raw_where(cid, secret, lambda r: len(r) % 3 != 0)
        two_pad = raw_where(cid, secret, lambda r: len(r) % 3 == 1)
        std = base64.b64encode(padded).decode()
        mid = len(std) // 2
        return {
            "padding-missing": "Basic " + std.rstrip("="),
            "padding-short": "Basic " + base64.b64encode(two_pad).decode()[:-1],
            "padding-extra": "Basic " + std + "=",
            "trailing-bits-set": "Basic " + flip_trailing_bits(std),
            "blank-inside": "Basic " + std[:mid] + " " + std[mid:],
            "junk-after": "Basic " + std + "!",
            "not-base64": "Basic !!" + std,
            "colon-missing": basic((cid + secret).encode()),
            "id-empty": basic((":" + secret).encode()),
            "id-bad-escape": basic((cid + "%zz:" + secret).encode()),
            "secret-bad-escape": basic((cid + ":" + secret + "%4").encode()),
            "secret-encoded-nul": basic((cid + ":" + secret + "%00").encode()),
            "nul-byte": basic((cid + "\0:" + secret).encode()),
            "credentials-missing": "Basic",
            "blanks-only": "Basic  \t ",
        }

    @pytest.mark.parametrize("path", ENDPOINTS)
    def test_basic_auth_001_canonical_accepted(self, httpd, path):
        """The same credentials, spelled right (and %-escaped, which is
        form-urlencoding), authenticate at every endpoint."""
        cid, secret = self.APPS["svc"]
        for raw in itertools.islice(spellings(cid, secret), 0, 5):
            r = token_request(httpd, DATA, path=path,
                              headers={"Authorization": basic(raw)})
            assert r.status_code == 200, (raw, r.text)

    @pytest.mark.parametrize("path", ENDPOINTS)
    def test_basic_auth_002_malformed_is_invalid_client(self, httpd, path):
        for name, value in self.malformed().items():
            r = token_request(httpd, DATA, path=path,
                              headers={"Authorization": value})
            assert r.status_code == 401, (name, value, r.text)
            body = r.json()
            assert body["error"] == "invalid_client", (name, body)
            assert body["error_description"] == \
                "malformed Basic credentials", (name, body)
            assert r.headers["WWW-Authenticate"].startswith("Basic realm="), \
                name
            assert r.headers["Cache-Control"] == "no-store", name

    def test_basic_auth_003_malformed_issues_nothing(self, httpd):
        """Not even with a client_id beside it in the body."""
        cid, _ = self.APPS["svc"]
        for name, value in self.malformed().items():
            r = token_request(httpd, dict(DATA, client_id=cid),
                              headers={"Authorization": value})
            assert r.status_code == 401, (name, r.text)
            assert "access_token" not in r.json()

    def test_basic_auth_004_scheme_only_when_separated(self, httpd):
        """"Basicx ..." is not the Basic scheme: no client authentication
        at all, also 401 invalid_client, but not a malformed Basic one."""
        cid, secret = self.APPS["svc"]
        value = basic((cid + ":" + secret).encode()).replace(
            "Basic ", "Basicx ", 1)
        r = token_request(httpd, DATA, headers={"Authorization": value})
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_client"
        assert r.json()["error_description"] != "malformed Basic credentials"
