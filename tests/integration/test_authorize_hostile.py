"""Delegated authorization under attack: open redirects (the 400 page never
redirects to an address the application did not register), errors in the
contract's order, a parameter sent twice, code replay (revoking what the
code issued) and concurrent double redemption (exactly one wins), PKCE
downgrade (plain, no method, a missing or wrong verifier, a verifier for a
code without challenge), a code presented by another client, expired codes,
CSRF-less decisions and decisions by another person or for another request,
framing, XSS through application name, description and scope descriptions,
and state and nonce round trips."""
import base64
import concurrent.futures
import http.client
import time

import lxml.html
import pytest
import requests

from authz_helpers import (CB, Person, authz_conf, code_params, exchange,
                           make_people, pkce_pair, query_of, register)
from issuer_helpers import make_key, token_admin, unverified_claims

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&amp;'


def refused(r):
    """The 400 page: HTML to the person, nothing sent to the application."""
    assert r.status_code == 400, (r.status_code, r.headers, r.text[:300])
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    return lxml.html.fromstring(r.text).get_element_by_id(
        "error-text").text_content()


def redirected_error(r, error, state=None):
    assert r.status_code == 302, (r.status_code, r.text[:300])
    loc = r.headers["Location"]
    assert loc.startswith(CB + "?")
    q = query_of(loc)
    assert q["error"] == error, q
    assert q["error_description"]
    assert q["iss"].startswith("http://127.0.0.1:")
    if state is not None:
        assert q["state"] == state
    assert "code" not in q
    return q


class TestAuthorizeHostile:
    ALLOWED_LOG_IDS = ("AT01261", "AT01273", "AT01275", "AT01278",
                       "AT01291")
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        make_people(env)
        cls.CONF = authz_conf()
        token_admin(env, "scope", "add", "read", "--description", "Read")
        token_admin(env, "scope", "add", "evil:scope", "--description", XSS)
        cls.APPS["spa"] = register(env, "SPA", scopes="read",
                                   uris=(CB, "https://app.example/cb"))
        cls.APPS["other"] = register(env, "Other SPA", scopes="read")
        cls.APPS["web"] = register(env, "Web", type_="confidential",
                                   scopes="read")
        cls.APPS["off"] = register(env, "Disabled", scopes="read")
        token_admin(env, "app", "disable", cls.APPS["off"][0])
        cls.APPS["xss"] = register(env, XSS, "--description", XSS + " (d)",
                                   scopes="read,evil:scope")
        cls.APPS["cc"] = register(env, "Machine", type_="confidential",
                                  grants="client_credentials",
                                  scopes="read")

    def params(self, app="spa", scope="read", **extra):
        verifier, challenge = pkce_pair()
        p = code_params(self.APPS[app][0], CB, scope, challenge)
        p.update(extra)
        return verifier, p

    def code(self, app="spa", person="alice", **extra):
        verifier, p = self.params(app, **extra)
        return verifier, p, Person(self.env, person).code_for(p)["code"]

    @pytest.fixture(autouse=True)
    def _env(self, httpd):
        self.env = httpd

    # -- step 1: the 400 page, never a redirect --------------------------
    @pytest.mark.parametrize("uri", [
        "https://evil.example/cb",
        CB + "/x", CB + "x", CB + "?x=1", CB + "#frag", CB.upper(),
        CB.replace("127.0.0.1", "127.0.0.1."), CB + "%2f..",
        "http://127.0.0.1:9@evil.example/cb", "//evil.example/cb",
        "https://app.example/cb/../cb", "https://APP.example/cb",
        " " + CB, CB + " ",
    ])
    def test_authorize_hostile_001_01_open_redirect(self, httpd, uri):
        _, p = self.params(redirect_uri=uri)
        text = refused(Person(httpd, "alice").authorize(p))
        assert "not one the application registered" in text

    def test_authorize_hostile_001_02_client_problems(self, httpd):
        alice = Person(httpd, "alice")
        _, p = self.params()
        for change, words in (
                ({"client_id": None}, "client_id is missing"),
                ({"client_id": "nope"}, "not known"),
                ({"client_id": self.APPS["off"][0]}, "not known"),
                ({"redirect_uri": None}, "registered several")):
            q = dict(p)
            for k, v in change.items():
                if v is None:
                    del q[k]
                else:
                    q[k] = v
            assert words in refused(alice.authorize(q)), change
        # client_id or redirect_uri twice: the page, not a redirect.
        base = "/oauth/authorize?response_type=code&state=s&scope=read&"
        cid = self.APPS["spa"][0]
        for qs in ("client_id=%s&client_id=%s&redirect_uri=%s" % (cid, cid,
                                                                  CB),
                   "client_id=%s&redirect_uri=%s&redirect_uri=%s" % (cid, CB,
                                                                     CB)):
            r = alice.http.get(httpd.url + base + qs, allow_redirects=False,
                               timeout=10)
            assert "more than once" in refused(r)

    # -- step 2: redirected errors ---------------------------------------
    def test_authorize_hostile_002_01_errors_in_order(self, httpd):
        alice = Person(httpd, "alice")
        cases = [
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"response_type": "code id_token"}, "unsupported_response_type"),
            ({"response_type": None}, "invalid_request"),
            ({"scope": "read admin"}, "invalid_scope"),
            ({"scope": "re\"ad"}, "invalid_scope"),
            ({"scope": "evil:scope"}, "invalid_scope"),  # not this app's
            ({"code_challenge": None}, "invalid_request"),   # public: PKCE
            ({"code_challenge_method": "plain"}, "invalid_request"),
            ({"code_challenge_method": None}, "invalid_request"),
            ({"code_challenge": "short"}, "invalid_request"),
            ({"code_challenge": "!" * 43}, "invalid_request"),
            ({"response_mode": "fragment"}, "invalid_request"),
            ({"prompt": "none consent"}, "invalid_request"),
            ({"request": "eyJ.x.y"}, "request_not_supported"),
        ]
        for change, error in cases:
            _, p = self.params()
            for k, v in change.items():
                if v is None:
                    p.pop(k, None)
                else:
                    p[k] = v
            redirected_error(alice.authorize(p), error, p["state"])
        # A client without the grant.
        cid = self.APPS["cc"][0]
        r = alice.authorize(code_params(cid, CB, "read", pkce_pair()[1],
                                        state="s1"))
        # (its redirect URI is registered for the test, so the error can go
        # there)
        redirected_error(r, "unauthorized_client", "s1")

    @pytest.mark.parametrize("name", ["state", "scope", "response_type",
                                      "code_challenge", "nonce", "prompt",
                                      "unknown_extension"])
    def test_authorize_hostile_002_02_parameter_twice(self, httpd, name):
        _, p = self.params(nonce="n1", prompt="consent",
                           unknown_extension="x")
        pairs = list(p.items()) + [(name, p[name])]
        r = Person(httpd, "alice").http.get(
            httpd.url + "/oauth/authorize", params=pairs,
            allow_redirects=False, timeout=10)
        q = redirected_error(r, "invalid_request")
        assert name in q["error_description"]
        # Which state would be echoed? None.
        assert ("state" in q) == (name != "state")

    def test_authorize_hostile_002_03_malformed_query(self, httpd):
        alice = Person(httpd, "alice")
        basic = "Basic " + base64.b64encode(b"alice:alice-pw-1").decode()
        for qs in ("client_id=%zz", "client_id=a%00b", "=x", "a=%4"):
            # Sent as is (requests and urllib3 would repair the escapes).
            conn = http.client.HTTPConnection("127.0.0.1", httpd.port,
                                              timeout=10)
            conn.request("GET", "/oauth/authorize?" + qs,
                         headers={"Authorization": basic})
            resp = conn.getresponse()
            body = resp.read().decode()
            conn.close()
            assert resp.status == 400 and resp.getheader("Location") is None
            assert "cannot be read" in body, qs
        r = alice.http.post(httpd.url + "/oauth/authorize", data="{}",
                            headers={"Content-Type": "application/json"},
                            allow_redirects=False, timeout=10)
        refused(r)
        r = alice.http.put(httpd.url + "/oauth/authorize", timeout=10)
        assert r.status_code == 405 and "POST" in r.headers["Allow"]
        # HEAD would issue a code nobody sees.
        _, p = self.params()
        r = alice.http.head(httpd.url + "/oauth/authorize", params=p,
                            timeout=10)
        assert r.status_code == 405 and "Location" not in r.headers
        # No person at all: Apache's own 401.
        r = requests.get(httpd.url + "/oauth/authorize", timeout=10)
        assert r.status_code == 401

    # -- codes at the token endpoint -------------------------------------
    def test_authorize_hostile_003_01_code_replay(self, httpd):
        verifier, p, code = self.code(scope="read offline_access")
        cid = p["client_id"]
        first = exchange(httpd, cid, code, CB, verifier)
        assert first.status_code == 200
        tok = first.json()
        assert httpd.get("/api/data.txt",
                         token=tok["access_token"]).status_code == 200
        again = exchange(httpd, cid, code, CB, verifier)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        # Everything the code issued is revoked.
        time.sleep(1.2)
        assert httpd.get("/api/data.txt",
                         token=tok["access_token"]).status_code == 401
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token", "client_id": cid,
            "refresh_token": tok["refresh_token"]})
        assert r.json()["error"] == "invalid_grant"
        assert "AT01273" in httpd.new_log()

    def test_authorize_hostile_003_02_concurrent_redemption(self, httpd):
        for _ in range(3):
            verifier, p, code = self.code()
            with concurrent.futures.ThreadPoolExecutor(10) as pool:
                rs = list(pool.map(
                    lambda _: exchange(httpd, p["client_id"], code, CB,
                                       verifier), range(10)))
            codes = sorted(r.status_code for r in rs)
            assert codes == [200] + [400] * 9, codes
            assert {r.json()["error"] for r in rs
                    if r.status_code == 400} == {"invalid_grant"}

    def test_authorize_hostile_003_03_pkce_downgrade(self, httpd):
        verifier, p, code = self.code()
        cid = p["client_id"]
        for v in (None, "wrong" * 10, verifier + "x", verifier[:-1],
                  p["code_challenge"]):
            r = exchange(httpd, cid, code, CB, v)
            assert r.status_code == 400 and \
                r.json()["error"] == "invalid_grant", v
        # None of that spent the code: its own verifier still works.
        assert exchange(httpd, cid, code, CB, verifier).status_code == 200
        # A confidential client's code without challenge: a verifier sent
        # anyway means someone injected the code into a PKCE flow.
        cid, secret = self.APPS["web"]
        q = Person(httpd, "bob").code_for(code_params(cid, CB, "read"))
        r = exchange(httpd, cid, q["code"], CB, verifier, secret=secret)
        assert r.json()["error"] == "invalid_grant"
        assert exchange(httpd, cid, q["code"], CB,
                        secret=secret).status_code == 200

    def test_authorize_hostile_003_04_code_of_another_client(self, httpd):
        verifier, p, code = self.code()
        other = self.APPS["other"][0]
        r = exchange(httpd, other, code, CB, verifier)
        assert r.json()["error"] == "invalid_grant"
        cid, secret = self.APPS["web"]
        r = exchange(httpd, cid, code, CB, verifier, secret=secret)
        assert r.json()["error"] == "invalid_grant"
        # Still good for its own client.
        r = exchange(httpd, p["client_id"], code, CB, verifier)
        assert r.status_code == 200
        assert unverified_claims(r.json()["access_token"])[1]["client_id"] \
            == p["client_id"]

    def test_authorize_hostile_003_05_redirect_uri_binding(self, httpd):
        verifier, p, code = self.code()
        cid = p["client_id"]
        for uri in (None, "https://app.example/cb", CB + "/"):
            data = {"grant_type": "authorization_code", "code": code,
                    "client_id": cid, "code_verifier": verifier}
            if uri:
                data["redirect_uri"] = uri
            r = requests.post(httpd.url + "/oauth/token", data=data,
                              timeout=10)
            assert r.json()["error"] == "invalid_grant", uri
        assert exchange(httpd, cid, code, CB, verifier).status_code == 200

    def test_authorize_hostile_003_06_public_client_limits(self, httpd):
        cid = self.APPS["spa"][0]
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": cid})
        assert r.json()["error"] == "unauthorized_client"
        # A public client cannot authenticate with a made-up secret, and a
        # confidential one cannot skip its secret.
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "authorization_code", "code": "x",
            "client_id": cid, "client_secret": "guess"})
        assert r.status_code == 401
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "authorization_code", "code": "x",
            "client_id": self.APPS["web"][0]})
        assert r.status_code == 401
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "authorization_code", "code": "x",
            "client_id": self.APPS["off"][0]})
        assert r.status_code == 401

    # -- the consent decision --------------------------------------------
    def test_authorize_hostile_004_01_decision_without_csrf(self, httpd):
        carol = Person(httpd, "carol")
        _, p = self.params()
        page = carol.authorize(p)
        assert page.status_code == 200
        for drop, change in ((("csrf",), None),
                             ((), {"csrf": "garbage"}),
                             ((), {"csrf": "1.AAAA"}),
                             ((), {"csrf": ""})):
            r = carol.decide(page, "Allow", drop=drop, change=change)
            assert "Nothing was changed" in refused(r)
        # Nothing was remembered: prompt=none still needs consent.
        _, p2 = self.params(prompt="none")
        redirected_error(carol.authorize(p2), "consent_required")

    def test_authorize_hostile_004_02_decision_by_another_person(self,
                                                                 httpd):
        erin, dave = Person(httpd, "erin"), Person(httpd, "dave")
        _, p = self.params()
        page = erin.authorize(p)
        r = erin.decide(page, "Allow", by=dave)
        assert "Nothing was changed" in refused(r)
        _, p2 = self.params(prompt="none")
        redirected_error(dave.authorize(p2), "consent_required")
        redirected_error(erin.authorize(p2), "consent_required")

    def test_authorize_hostile_004_03_decision_for_another_request(self,
                                                                   httpd):
        """The token of one request does not carry another: a different
        scope, client, redirect or challenge."""
        alice = Person(httpd, "alice")
        _, p = self.params(prompt="consent")
        page = alice.authorize(p)
        for change in ({"scope": "read offline_access"},
                       {"redirect_uri": "https://app.example/cb"},
                       {"code_challenge": pkce_pair()[1]},
                       {"state": "other"},
                       {"client_id": self.APPS["other"][0]}):
            r = alice.decide(page, "Allow", change=change)
            assert r.status_code == 400, change
        # A GET carrying a decision is no decision: the page again.
        _, fields, _ = Person.form_fields(page)
        r = alice.authorize(dict(fields, decision="allow"))
        assert r.status_code == 200
        assert "csrf" in r.text

    def test_authorize_hostile_004_04_framing_headers(self, httpd):
        alice = Person(httpd, "alice")
        _, p = self.params(prompt="consent")
        pages = [alice.authorize(p),
                 alice.authorize(dict(p, client_id="nope")),
                 alice.http.get(httpd.url + "/oauth/consents", timeout=10),
                 alice.decide(alice.authorize(p), "Deny")]
        for r in pages:
            csp = r.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp, r.status_code
            assert r.headers["X-Frame-Options"] == "DENY"
            assert r.headers["Cache-Control"] == "no-store"

    def test_authorize_hostile_004_05_xss_through_registry(self, httpd):
        verifier, challenge = pkce_pair()
        cid = self.APPS["xss"][0]
        p = code_params(cid, CB, "read evil:scope", challenge,
                        state=XSS)
        r = Person(httpd, "alice").authorize(p)
        assert r.status_code == 200
        doc = lxml.html.fromstring(r.text)
        assert not doc.xpath("//script") and not doc.xpath("//img")
        assert not [e for e in doc.iter() if any(
            a.startswith("on") for a in e.attrib)]
        assert "<script>" not in r.text
        assert doc.get_element_by_id("app-name").text_content() == XSS
        assert doc.get_element_by_id("app-description").text_content() == \
            XSS + " (d)"
        descs = [s.text_content() for s in
                 doc.xpath("//*[@class='scope-desc']")]
        assert XSS in descs
        # The state round-trips exactly through the hidden field.
        _, fields, _ = Person.form_fields(r)
        assert fields["state"] == XSS
        q = query_of(Person(httpd, "alice").decide(r).headers["Location"])
        assert q["state"] == XSS

    def test_authorize_hostile_004_06_state_and_nonce_echo(self, httpd):
        odd = "a b&c=d/é?#%20+%"
        verifier, p = self.params(scope="openid read", nonce=odd, state=odd)
        q = Person(httpd, "bob").code_for(p)
        assert q["state"] == odd
        tok = exchange(httpd, p["client_id"], q["code"], CB, verifier).json()
        assert unverified_claims(tok["id_token"])[1]["nonce"] == odd
        # A state too long to echo is refused rather than cut.
        _, p = self.params(state="s" * 3000)
        redirected_error(Person(httpd, "bob").authorize(p),
                         "invalid_request")


class TestAuthorizeCodeExpiry:
    ALLOWED_LOG_IDS = ()

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        make_people(env)
        cls.CONF = authz_conf(extra="AuthTokenCodeLifetime 1")
        token_admin(env, "scope", "add", "read")
        cls.CID = register(env, "SPA", scopes="read")[0]

    def test_authorize_hostile_005_01_expired_code(self, httpd):
        verifier, challenge = pkce_pair()
        q = Person(httpd, "alice").code_for(
            code_params(self.CID, CB, "read", challenge))
        time.sleep(2.2)
        r = exchange(httpd, self.CID, q["code"], CB, verifier)
        assert r.status_code == 400
        assert r.json()["error"] == "invalid_grant"
        assert "expired" in r.json()["error_description"]
