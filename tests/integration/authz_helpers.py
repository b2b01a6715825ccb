"""Helpers for the delegated-authorization tests (test_authorize*.py): the
issuer's configuration with oauth-authorize, oauth-consents and
oauth-userinfo behind Basic authentication, people in an htpasswd file,
PKCE pairs, and a person working the consent page the way a browser
would (follow the form, send its fields back)."""
import base64
import hashlib
import secrets
import subprocess
import urllib.parse

import lxml.html
import requests

from issuer_helpers import ISSUER_BASE, ISSUER_LOCATIONS, token_admin

CB = "http://127.0.0.1:9/cb"
PEOPLE = {"alice": "alice-pw-1", "bob": "bob-pw-2", "carol": "carol-pw-3",
          "dave": "dave-pw-4", "erin": "erin-pw-5"}

# The person is REMOTE_USER of Basic; their identity claims come from
# variables set after authentication (mod_rewrite's per-directory rules run
# in the fixup phase), as an LDAP or OIDC front would set them.
PERSON_AUTH = """
    AuthType Basic
    AuthName "Example accounts"
    AuthBasicProvider file
    AuthUserFile {root}/conf/people
    Require valid-user
"""

AUTHZ_LOCATIONS = """
<Location /oauth/authorize>
    SetHandler oauth-authorize
%(auth)s
    RewriteEngine On
    RewriteRule ^ - [E=PERSON_MAIL:%%{REMOTE_USER}@example.com,E=PERSON_NAME:Person-%%{REMOTE_USER}]
    AuthTokenIdentityClaim email PERSON_MAIL
    AuthTokenIdentityClaim name PERSON_NAME
    AuthTokenIdentityClaim department PERSON_DEPARTMENT
</Location>
<Location /oauth/consents>
    SetHandler oauth-consents
%(auth)s
</Location>
<Location /oauth/userinfo>
    SetHandler oauth-userinfo
</Location>
<Location /.well-known/openid-configuration>
    SetHandler oauth-metadata
</Location>
<Location /unprotected/authorize>
    SetHandler oauth-authorize
</Location>
<Location /unprotected/consents>
    SetHandler oauth-consents
</Location>
<Location /api/>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
""" % {"auth": PERSON_AUTH}


# The operators' console on the same server, for the console's view of
# consents and grants (any person of the file may operate it here); the
# test server stages the program and its templates ({console_cgi}).
CONSOLE = """
ScriptAlias /admin "{console_cgi}"
<Location /admin>
%(auth)s
    SetEnv AUTH_TOKEN_REGISTRY {root}/var/registry.db
    SetEnv AUTH_TOKEN_CONSOLE_HTDOCS {console_htdocs}
</Location>
""" % {"auth": PERSON_AUTH}


def authz_conf(signing_keys=("ES256 keys/es256.pem",), extra=""):
    lines = [ISSUER_BASE]
    for k in signing_keys:
        alg, rest = k.split(" ", 1)
        lines.append("AuthTokenSigningKey %s {root}/%s" % (alg, rest))
    lines += [ISSUER_LOCATIONS, AUTHZ_LOCATIONS, extra]
    return "\n".join(lines)


def make_people(env, people=PEOPLE):
    path = env.path("conf/people")
    first = True
    for name, pw in people.items():
        subprocess.run(["htpasswd", "-b" + ("c" if first else ""), "-B",
                        path, name, pw], check=True, capture_output=True)
        first = False


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location):
    """The query parameters of a redirect (each a single value)."""
    q = urllib.parse.urlsplit(location).query
    return dict(urllib.parse.parse_qsl(q, keep_blank_values=True))


class Person:
    """Someone signed in with Basic who uses the authorization endpoint."""

    def __init__(self, env, name, password=None):
        self.env = env
        self.name = name
        self.http = requests.Session()
        self.http.auth = (name, password or PEOPLE[name])

    def authorize(self, params, method="GET", path="/oauth/authorize"):
        url = self.env.url + path
        if method == "GET":
            return self.http.get(url, params=params, allow_redirects=False,
                                 timeout=10)
        return self.http.post(url, data=params, allow_redirects=False,
                              timeout=10)

    @staticmethod
    def form_fields(page):
        """(action, fields) of the consent page's form: the hidden fields
        by name, the buttons by their text."""
        doc = lxml.html.fromstring(page.text)
        forms = doc.xpath("//form[@method='post']")
        assert len(forms) == 1, "one POST form on the consent page"
        form = forms[0]
        fields = {i.get("name"): i.get("value")
                  for i in form.xpath(".//input[@type='hidden']")}
        buttons = {b.text_content().strip(): (b.get("name"), b.get("value"))
                   for b in form.xpath(".//button")}
        return form.get("action"), fields, buttons

    def decide(self, page, choice="Allow", drop=(), change=None, by=None):
        """Presses the button CHOICE on PAGE (as BY when given); DROP
        leaves fields out, CHANGE overrides them."""
        action, fields, buttons = self.form_fields(page)
        name, value = buttons[choice]
        data = {k: v for k, v in fields.items() if k not in drop}
        data[name] = value
        data.update(change or {})
        who = by or self
        return who.http.post(urllib.parse.urljoin(self.env.url, action),
                             data=data, allow_redirects=False, timeout=10)

    def walk(self, url, choice="Allow"):
        """A browser following URL (an authorization request built by a
        client library): the consent page answered with CHOICE when shown;
        returns where the person is sent back to."""
        r = self.http.get(url, allow_redirects=False, timeout=10)
        if r.status_code == 200:
            r = self.decide(r, choice)
        assert r.status_code == 302, (r.status_code, r.text[:300])
        return r.headers["Location"]

    def code_for(self, params, choice="Allow"):
        """The redirect's query after the consent page (or directly)."""
        r = self.authorize(params)
        if r.status_code == 200:
            r = self.decide(r, choice)
        assert r.status_code == 302, (r.status_code, r.text[:500])
        return query_of(r.headers["Location"])


def code_params(client_id, redirect_uri, scope, challenge=None, **extra):
    p = {"response_type": "code", "client_id": client_id,
         "redirect_uri": redirect_uri, "scope": scope,
         "state": secrets.token_urlsafe(12)}
    if challenge:
        p["code_challenge"] = challenge
        p["code_challenge_method"] = "S256"
    p.update(extra)
    return p


def exchange(env, client_id, code, redirect_uri, verifier=None, secret=None,
             **extra):
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri}
    if verifier:
        data["code_verifier"] = verifier
    auth = None
    if secret:
        auth = (client_id, secret)
    else:
        data["client_id"] = client_id
    data.update(extra)
    return requests.post(env.url + "/oauth/token", data=data, auth=auth,
                         timeout=10)


def register(env, name, *extra, type_="public", scopes="read,email,profile",
             grants="authorization_code,refresh_token", uris=(CB,)):
    """Registers an application; (client_id, secret or None)."""
    args = ["app", "add", "--name", name, "--type", type_, "--grant", grants,
            "--scope", scopes]
    for u in uris:
        args += ["--redirect-uri", u]
    doc = token_admin(env, *(args + list(extra)))
    return doc["client_id"], doc.get("client_secret")
