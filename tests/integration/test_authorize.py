"""Delegated authorization against the contract ("Delegated
authorization", "OpenID Connect"): a person signed in with Basic at
/oauth/authorize sees the consent page, allows or denies, and the
application exchanges the code at the token endpoint. Tokens are checked
with jwcrypto against the published JWK Set; the consent page is read with
lxml the way a browser would read it. The hostile cases (open redirects,
code replay and double redemption, PKCE downgrade, another client's code,
CSRF-less decisions, decisions by another person, framing, XSS through the
registry, parameters sent twice) are in test_authorize_hostile.py."""
import json
import time
import urllib.parse

import lxml.html
import requests
from jwcrypto import jws

from authz_helpers import (CB, CONSOLE, Person, authz_conf, code_params,
                           exchange, make_people, pkce_pair, query_of,
                           register)
from issuer_helpers import (add_scopes, jwks, make_key, token_admin,
                            unverified_claims, verify_access_token)

CB_QUERY = "http://127.0.0.1:9/cb2?tenant=a%20b&x=1"


def verify_id_token(env, token, client_id):
    obj = jws.JWS()
    obj.deserialize(token)
    header = obj.jose_header
    assert header["typ"] == "JWT"
    obj.verify(jwks(env).get_key(header["kid"]), alg=header["alg"])
    claims = json.loads(obj.payload)
    assert claims["iss"] == env.url
    assert claims["aud"] == client_id
    assert claims["exp"] > time.time() > claims["iat"] - 5
    return claims


class TestAuthorize:
    ALLOWED_LOG_IDS = ("AT00443", "AT01260", "AT01261", "AT01273", "AT01278")
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        make_people(env)
        cls.CONF = authz_conf(extra=CONSOLE)
        token_admin(env, "scope", "add", "read", "--description",
                    "Read your orders")
        token_admin(env, "scope", "add", "write", "--description",
                    "Change your orders")
        add_scopes(env, "email", "profile")
        cls.APPS["spa"] = register(
            env, "Orders SPA", "--description", "The orders web app",
            scopes="read,write,email,profile", uris=(CB, CB_QUERY))
        cls.APPS["one"] = register(env, "One URI app", uris=(CB_QUERY,))
        cls.APPS["web"] = register(env, "Orders backend",
                                   type_="confidential")
        cls.APPS["first"] = register(env, "First party", "--skip-consent")
        cls.APPS["nocode"] = register(env, "Machine only",
                                      type_="confidential",
                                      grants="client_credentials")
        cls.APPS["norefresh"] = register(env, "No refresh",
                                         grants="authorization_code")

    def spa(self, scope="openid read offline_access", **extra):
        verifier, challenge = pkce_pair()
        cid = self.APPS["spa"][0]
        return verifier, code_params(cid, CB, scope, challenge, **extra)

    # -- the consent page ------------------------------------------------
    def test_authorize_001_01_consent_page(self, httpd):
        _, params = self.spa("openid read offline_access")
        r = Person(httpd, "alice").authorize(params)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/html")
        assert "frame-ancestors 'none'" in \
            r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Cache-Control"] == "no-store"
        doc = lxml.html.fromstring(r.text)
        text = " ".join(doc.text_content().split())
        assert "Orders SPA" in text and "The orders web app" in text
        assert "alice" in doc.get_element_by_id("person").text_content()
        assert "Read your orders" in text
        # offline_access says what it means for the person.
        assert "while you are away" in text
        assert "Change your orders" not in text     # not asked for
        action, fields, buttons = Person.form_fields(r)
        assert set(buttons) == {"Allow", "Deny"}
        assert fields["csrf"] and fields["client_id"] == params["client_id"]
        assert fields["state"] == params["state"]
        assert urllib.parse.urlsplit(action).path == "/oauth/authorize"
        # The page is styled by the inlined console stylesheet, allowed by
        # its hash and nothing else.
        style = doc.xpath("//style")[0].text
        assert "--accent" in style
        assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]

    def test_authorize_001_02_allow_code_pkce_public(self, httpd):
        verifier, params = self.spa("openid read offline_access",
                                    nonce="n-0S6_WzA2Mj")
        q = Person(httpd, "alice").code_for(params)
        assert q["state"] == params["state"]
        assert q["iss"] == httpd.url
        assert len(q["code"]) >= 22          # >= 128 bits
        r = exchange(httpd, params["client_id"], q["code"], CB, verifier)
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store"
        tok = r.json()
        assert set(tok["scope"].split()) == {"openid", "read",
                                             "offline_access"}
        assert tok["refresh_token"]
        _, claims = verify_access_token(httpd, tok["access_token"])
        assert claims["sub"] == "alice"
        assert claims["client_id"] == params["client_id"]
        idt = verify_id_token(httpd, tok["id_token"], params["client_id"])
        assert idt["sub"] == "alice"
        assert idt["nonce"] == "n-0S6_WzA2Mj"
        assert abs(idt["auth_time"] - time.time()) < 30
        # No email scope: the email claim is not released; a claim that is
        # not a standard one (department) is unset, so left out.
        assert "email" not in idt and "department" not in idt
        # The resource location accepts it: the person is the user.
        r = httpd.get("/api/data.txt", token=tok["access_token"])
        assert r.status_code == 200

    def test_authorize_001_03_existing_query_kept(self, httpd):
        verifier, challenge = pkce_pair()
        cid = self.APPS["spa"][0]
        params = code_params(cid, CB_QUERY, "read", challenge)
        r = Person(httpd, "bob").authorize(params)
        r = Person(httpd, "bob").decide(r, "Allow")
        loc = r.headers["Location"]
        assert loc.startswith("http://127.0.0.1:9/cb2?tenant=a%20b&x=1&")
        q = query_of(loc)
        assert q["tenant"] == "a b" and q["x"] == "1"
        r = exchange(httpd, cid, q["code"], CB_QUERY, verifier)
        assert r.status_code == 200, r.text

    def test_authorize_001_04_redirect_uri_omitted_single(self, httpd):
        """One registered URI: redirect_uri may be left out, and then is
        not required at the token endpoint either."""
        verifier, challenge = pkce_pair()
        cid = self.APPS["one"][0]
        params = code_params(cid, CB_QUERY, "read", challenge)
        del params["redirect_uri"]
        q = Person(httpd, "alice").code_for(params)
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "authorization_code", "code": q["code"],
            "client_id": cid, "code_verifier": verifier})
        assert r.status_code == 200, r.text

    def test_authorize_001_05_deny(self, httpd):
        _, params = self.spa("read write")
        alice = Person(httpd, "alice")
        r = alice.decide(alice.authorize(params), "Deny")
        assert r.status_code == 302
        q = query_of(r.headers["Location"])
        assert q["error"] == "access_denied"
        assert q["state"] == params["state"] and q["iss"] == httpd.url
        assert "code" not in q
        # Nothing remembered: prompt=none cannot pass.
        _, params = self.spa("write", prompt="none")
        r = alice.authorize(params)
        assert query_of(r.headers["Location"])["error"] == "consent_required"

    def test_authorize_001_06_remembered_consent(self, httpd):
        carol = Person(httpd, "bob")
        _, params = self.spa("openid email")
        carol.code_for(params)
        # The same or fewer scopes: straight back with a code.
        for scope in ("openid email", "email", "openid"):
            _, params = self.spa(scope)
            r = carol.authorize(params)
            assert r.status_code == 302, scope
            assert "code" in query_of(r.headers["Location"])
        # A new scope: the page again, for the whole set.
        _, params = self.spa("openid email profile")
        r = carol.authorize(params)
        assert r.status_code == 200
        doc = lxml.html.fromstring(r.text)
        names = [s.text_content() for s in
                 doc.xpath("//*[contains(@class,'scope-name')]")]
        assert names == ["openid", "email", "profile"]
        assert doc.get_element_by_id("again") is not None
        carol.decide(r, "Allow")
        # prompt=consent shows it even when covered.
        _, params = self.spa("email", prompt="consent")
        assert carol.authorize(params).status_code == 200
        # prompt=none passes when covered.
        _, params = self.spa("profile", prompt="none")
        r = carol.authorize(params)
        assert "code" in query_of(r.headers["Location"])

    def test_authorize_001_07_skip_consent(self, httpd):
        verifier, challenge = pkce_pair()
        cid = self.APPS["first"][0]
        for prompt in (None, "consent", "none"):
            params = code_params(cid, CB, "read", challenge)
            if prompt:
                params["prompt"] = prompt
            r = Person(httpd, "alice").authorize(params)
            assert r.status_code == 302, prompt
            assert "code" in query_of(r.headers["Location"])

    def test_authorize_001_08_confidential(self, httpd):
        cid, secret = self.APPS["web"]
        # PKCE is optional for a confidential application.
        params = code_params(cid, CB, "read")
        q = Person(httpd, "alice").code_for(params)
        r = exchange(httpd, cid, q["code"], CB)           # no secret
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_client"
        r = exchange(httpd, cid, q["code"], CB, secret="wrong")
        assert r.status_code == 401
        r = exchange(httpd, cid, q["code"], CB, secret=secret)
        assert r.status_code == 200, r.text
        assert unverified_claims(r.json()["access_token"])[1]["sub"] == \
            "alice"
        # client_secret_post too.
        q = Person(httpd, "alice").code_for(code_params(cid, CB, "read"))
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "authorization_code", "code": q["code"],
            "redirect_uri": CB, "client_id": cid, "client_secret": secret})
        assert r.status_code == 200, r.text

    def test_authorize_001_09_refresh_for_person(self, httpd):
        verifier, params = self.spa("read offline_access")
        q = Person(httpd, "alice").code_for(params)
        tok = exchange(httpd, params["client_id"], q["code"], CB,
                       verifier).json()
        first = tok["refresh_token"]
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": first,
            "client_id": params["client_id"]})
        assert r.status_code == 200, r.text
        new = r.json()
        assert new["refresh_token"] != first
        assert unverified_claims(new["access_token"])[1]["sub"] == "alice"
        # Bound to the client: another application cannot use it.
        other = self.APPS["one"][0]
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token",
            "refresh_token": new["refresh_token"], "client_id": other})
        assert r.json()["error"] in ("invalid_grant", "unauthorized_client")
        # Reuse of the first revokes the family.
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": first,
            "client_id": params["client_id"]})
        assert r.json()["error"] == "invalid_grant"
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token",
            "refresh_token": new["refresh_token"],
            "client_id": params["client_id"]})
        assert r.json()["error"] == "invalid_grant"

    def test_authorize_001_10_offline_without_refresh_grant(self, httpd):
        """offline_access of an application without the refresh_token
        grant is not offered and yields no refresh token."""
        verifier, challenge = pkce_pair()
        cid = self.APPS["norefresh"][0]
        params = code_params(cid, CB, "read offline_access", challenge)
        alice = Person(httpd, "alice")
        r = alice.authorize(params)
        assert "while you are away" not in r.text
        q = query_of(alice.decide(r).headers["Location"])
        tok = exchange(httpd, cid, q["code"], CB, verifier).json()
        assert "refresh_token" not in tok and tok["scope"] == "read"

    def test_authorize_001_11_post_request(self, httpd):
        verifier, params = self.spa("read")
        alice = Person(httpd, "alice")
        r = alice.authorize(params, method="POST")
        assert r.status_code in (200, 302)
        if r.status_code == 200:
            r = alice.decide(r)
        q = query_of(r.headers["Location"])
        assert exchange(httpd, params["client_id"], q["code"], CB,
                        verifier).status_code == 200

    # -- OpenID Connect: claims, userinfo --------------------------------
    def test_authorize_002_01_identity_claims(self, httpd):
        verifier, params = self.spa("openid email profile")
        q = Person(httpd, "bob").code_for(params)
        tok = exchange(httpd, params["client_id"], q["code"], CB,
                       verifier).json()
        idt = verify_id_token(httpd, tok["id_token"], params["client_id"])
        assert idt["email"] == "bob@example.com"
        assert idt["name"] == "Person-bob"
        assert "nonce" not in idt
        r = requests.get(httpd.url + "/oauth/userinfo", timeout=10,
                         headers={"Authorization": "Bearer "
                                  + tok["access_token"]})
        assert r.status_code == 200, r.text
        assert r.json() == {"sub": "bob", "email": "bob@example.com",
                            "name": "Person-bob"}
        # Only email asked: the profile claim stays out.
        verifier, params = self.spa("openid email")
        q = Person(httpd, "bob").code_for(params)
        tok = exchange(httpd, params["client_id"], q["code"], CB,
                       verifier).json()
        r = requests.get(httpd.url + "/oauth/userinfo", timeout=10,
                         headers={"Authorization": "Bearer "
                                  + tok["access_token"]})
        assert r.json() == {"sub": "bob", "email": "bob@example.com"}

    def test_authorize_002_02_userinfo_errors(self, httpd):
        url = httpd.url + "/oauth/userinfo"
        # A CORS preflight is answered (its headers are mod_headers').
        r = requests.options(url, timeout=10)
        assert r.status_code == 204 and "GET" in r.headers["Allow"]
        r = requests.get(url, timeout=10)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer realm=")
        assert "error=" not in r.headers["WWW-Authenticate"]
        r = requests.get(url, timeout=10,
                         headers={"Authorization": "Bearer x.y.z"})
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
        # A token without openid: insufficient_scope.
        verifier, params = self.spa("read")
        q = Person(httpd, "alice").code_for(params)
        tok = exchange(httpd, params["client_id"], q["code"], CB,
                       verifier).json()
        r = requests.get(url, timeout=10, headers={
            "Authorization": "Bearer " + tok["access_token"]})
        assert r.status_code == 403
        assert 'error="insufficient_scope"' in \
            r.headers["WWW-Authenticate"]

    def test_authorize_002_03_discovery(self, httpd):
        a = requests.get(httpd.url + "/.well-known/openid-configuration",
                         timeout=10).json()
        b = requests.get(httpd.url + "/.well-known/oauth-authorization-server",
                         timeout=10).json()
        assert a == b
        assert a["authorization_endpoint"] == httpd.url + "/oauth/authorize"
        assert a["userinfo_endpoint"] == httpd.url + "/oauth/userinfo"
        assert a["response_types_supported"] == ["code"]
        assert a["code_challenge_methods_supported"] == ["S256"]
        assert a["subject_types_supported"] == ["public"]
        assert a["id_token_signing_alg_values_supported"] == ["ES256"]
        assert a["authorization_response_iss_parameter_supported"] is True
        assert "authorization_code" in a["grant_types_supported"]
        assert "none" in a["token_endpoint_auth_methods_supported"]
        assert {"openid", "offline_access", "email"} <= \
            set(a["scopes_supported"])
        assert {"sub", "email", "name", "department"} <= \
            set(a["claims_supported"])

    # -- the person's own page -------------------------------------------
    def test_authorize_003_01_consents_page_and_revoke(self, httpd):
        alice = Person(httpd, "alice")
        verifier, params = self.spa("openid read offline_access")
        q = alice.code_for(params)
        tok = exchange(httpd, params["client_id"], q["code"], CB,
                       verifier).json()
        assert httpd.get("/api/data.txt",
                         token=tok["access_token"]).status_code == 200
        r = alice.http.get(httpd.url + "/oauth/consents", timeout=10)
        assert r.status_code == 200
        assert "frame-ancestors 'none'" in \
            r.headers["Content-Security-Policy"]
        doc = lxml.html.fromstring(r.text)
        rows = doc.xpath("//tbody/tr")
        names = [row.xpath("td")[0].text_content() for row in rows]
        assert "Orders SPA" in names
        row = rows[names.index("Orders SPA")]
        assert "read" in row.xpath("td")[1].text_content()
        assert "UTC" in row.xpath("td")[2].text_content()
        form = row.xpath(".//form")[0]
        assert form.xpath(".//button")[0].text_content() == "Revoke access"
        fields = {i.get("name"): i.get("value")
                  for i in form.xpath(".//input")}
        r = alice.http.post(urllib.parse.urljoin(httpd.url,
                                                 form.get("action")),
                            data=fields, allow_redirects=False, timeout=10)
        assert r.status_code == 303
        r = alice.http.get(httpd.url + r.headers["Location"], timeout=10)
        assert "Access revoked" in r.text
        names = [td.text_content() for td in
                 lxml.html.fromstring(r.text).xpath("//tbody/tr/td[1]")]
        assert "Orders SPA" not in names
        # Tokens revoked: the access token (revocation check, within a
        # second) and the refresh family.
        time.sleep(1.2)
        assert httpd.get("/api/data.txt",
                         token=tok["access_token"]).status_code == 401
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token",
            "refresh_token": tok["refresh_token"],
            "client_id": params["client_id"]})
        assert r.json()["error"] == "invalid_grant"
        # And the page is shown again next time.
        _, params = self.spa("openid read offline_access")
        assert alice.authorize(params).status_code == 200

    def test_authorize_003_02_unprotected_locations(self, httpd):
        _, params = self.spa("read")
        r = requests.get(httpd.url + "/unprotected/authorize", params=params,
                         timeout=10, allow_redirects=False)
        assert r.status_code == 500
        assert "Location" not in r.headers
        r = requests.get(httpd.url + "/unprotected/consents", timeout=10)
        assert r.status_code == 500
        log = httpd.new_log()
        assert "AT01260" in log and "Require valid-user" in log

    # -- token-admin and the console view of consents --------------------
    def test_authorize_004_01_cli_consents(self, httpd):
        cid = self.APPS["spa"][0]
        _, params = self.spa("read email")
        Person(httpd, "bob").code_for(params)
        doc = token_admin(httpd, "consent", "list", "--client", cid)
        people = {c["user"]: c for c in doc["consents"]}
        assert "bob" in people
        assert {"read", "email"} <= set(people["bob"]["scopes"])
        doc = token_admin(httpd, "consent", "list", "--user", "bob")
        assert all(c["user"] == "bob" for c in doc["consents"])
        token_admin(httpd, "consent", "revoke", "--user", "bob", "--client",
                    cid)
        doc = token_admin(httpd, "consent", "list", "--client", cid)
        assert "bob" not in {c["user"] for c in doc["consents"]}
        r = token_admin(httpd, "consent", "revoke", "--user", "bob",
                        "--client", cid, check=False)
        assert r.returncode == 1
        _, params = self.spa("read email")
        assert Person(httpd, "bob").authorize(params).status_code == 200

    def test_authorize_004_02_console_consents(self, httpd):
        """The console: who allowed an application and for what, revoking
        one person's access, the person behind each refresh family, the
        first-party flag in the application's form."""
        cid = self.APPS["spa"][0]
        toks = {}
        for who in ("alice", "erin"):
            verifier, params = self.spa("read offline_access",
                                        prompt="consent")
            q = Person(httpd, who).code_for(params)
            toks[who] = exchange(httpd, cid, q["code"], CB, verifier).json()
        op = Person(httpd, "dave")            # an operator
        r = op.http.get(httpd.url + "/admin/apps/%s/consents" % cid,
                        timeout=10)
        assert r.status_code == 200, r.text[:300]
        doc = lxml.html.fromstring(r.text)
        rows = {tr.xpath("td")[0].text_content(): tr
                for tr in doc.xpath("//tbody[@id='consent-rows']/tr")}
        assert {"alice", "erin"} <= set(rows)
        assert "offline_access" in rows["erin"].xpath("td")[1].text_content()
        form = rows["erin"].xpath(".//form")[0]
        assert form.xpath(".//button")[0].text_content() == "Revoke access"
        fields = {i.get("name"): i.get("value")
                  for i in form.xpath(".//input")}
        assert fields["csrf"] and fields["user"] == "erin"
        r = op.http.post(urllib.parse.urljoin(httpd.url, form.get("action")),
                         data=fields, allow_redirects=False, timeout=10)
        # The console asks first, saying what stops working.
        assert r.status_code == 200 and "Person-" not in r.text
        confirm = lxml.html.fromstring(r.text).xpath(
            "//form[.//button[normalize-space()='Revoke access']]")[0]
        assert "erin" in r.text and "asked for their consent again" in r.text
        fields = {i.get("name"): i.get("value")
                  for i in confirm.xpath(".//input")}
        r = op.http.post(urllib.parse.urljoin(httpd.url,
                                              confirm.get("action")),
                         data=fields, allow_redirects=False, timeout=10)
        assert r.status_code == 303, r.text[:300]
        r = op.http.get(urllib.parse.urljoin(httpd.url,
                                             r.headers["Location"]),
                        timeout=10)
        assert "access was revoked" in r.text
        people = [td.text_content() for td in lxml.html.fromstring(
            r.text).xpath("//tbody[@id='consent-rows']/tr/td[1]")]
        assert "erin" not in people and "alice" in people
        r = requests.post(httpd.url + "/oauth/token", timeout=10, data={
            "grant_type": "refresh_token", "client_id": cid,
            "refresh_token": toks["erin"]["refresh_token"]})
        assert r.json()["error"] == "invalid_grant"
        # A revocation without the console's CSRF token changes nothing.
        r = op.http.post(urllib.parse.urljoin(httpd.url, form.get("action")),
                         data={"user": "alice"}, allow_redirects=False,
                         timeout=10)
        assert r.status_code == 403
        # The grants page names the person of each family.
        r = op.http.get(httpd.url + "/admin/apps/%s/grants" % cid,
                        timeout=10)
        doc = lxml.html.fromstring(r.text)
        heads = [th.text_content() for th in doc.xpath("//thead//th")]
        col = heads.index("Person")
        persons = {tr.xpath("td")[col].text_content()
                   for tr in doc.xpath("//tbody[@id='grant-rows']/tr")}
        assert "alice" in persons and "erin" not in persons
        # The first-party flag, shown and kept by the form.
        first = self.APPS["first"][0]
        r = op.http.get(httpd.url + "/admin/apps/%s" % first, timeout=10)
        assert "never shown" in r.text
        r = op.http.get(httpd.url + "/admin/apps/%s/edit" % first,
                        timeout=10)
        box = lxml.html.fromstring(r.text).get_element_by_id("skip_consent")
        assert box.get("checked") is not None


class TestAuthorizeConfig:
    """The directives at configtest."""

    @staticmethod
    def configtest(extra):
        from httpd_env import HttpdEnv
        env = HttpdEnv()
        try:
            make_key(env, "ES256", "es256.pem")
            env.install(authz_conf(extra=extra))
            return env.configtest()
        finally:
            env.cleanup()

    def test_authorize_010_01_directives(self):
        ok, out = self.configtest("AuthTokenCodeLifetime 120\n"
                                  "AuthTokenEndpointURL userinfo "
                                  "https://auth.example/userinfo\n"
                                  "AuthTokenEndpointURL authorize "
                                  "https://auth.example/authorize\n")
        assert ok, out
        for bad, words in (("AuthTokenCodeLifetime 0", "1 to 600"),
                           ("AuthTokenCodeLifetime 601", "1 to 600"),
                           ("AuthTokenIdentityClaim sub REMOTE_USER",
                            "set by the issuer"),
                           ("AuthTokenIdentityClaim 'a b' X",
                            "not a claim name")):
            ok, out = self.configtest(bad)
            assert not ok and words in out, (bad, out)
