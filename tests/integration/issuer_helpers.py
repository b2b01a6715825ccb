"""Helpers for the issuer tests (test_issuer_*.py): signing keys made with
the openssl CLI, applications registered with the token-admin CLI, the
issuer's httpd configuration, and token checks with jwcrypto against the
published JWK Set."""
import base64
import json
import os
import subprocess

import requests
from jwcrypto import jwk, jws

from httpd_env import TOKEN_ADMIN

ISSUER_LOCATIONS = """
<Location /oauth/token>
    SetHandler oauth-token
</Location>
<Location /oauth/revoke>
    SetHandler oauth-revoke
</Location>
<Location /oauth/introspect>
    SetHandler oauth-introspect
</Location>
<Location /oauth/jwks>
    SetHandler oauth-jwks
</Location>
<Location /.well-known/oauth-authorization-server>
    SetHandler oauth-metadata
</Location>
"""

# The issuer name is the server's own URL, so that the metadata's endpoint
# URLs can be followed by the client library.
ISSUER_BASE = """
AuthTokenRegistry {root}/var/registry.db
AuthTokenIssuerName http://127.0.0.1:{port}
"""


def issuer_conf(signing_keys, extra=""):
    """An issuer config: SIGNING_KEYS is a list of "ALG keys/FILE [kid=..]"
    strings, in order (the first signs)."""
    lines = [ISSUER_BASE]
    for k in signing_keys:
        alg, rest = k.split(" ", 1)
        lines.append("AuthTokenSigningKey %s {root}/%s" % (alg, rest))
    lines.append(ISSUER_LOCATIONS)
    lines.append(extra)
    return "\n".join(lines)


def make_key(env, alg, name):
    """Writes a private key for ALG to keys/NAME with the openssl CLI (HS*:
    a random secret) and returns its path relative to the server root."""
    rel = "keys/%s" % name
    path = env.path(rel)
    if alg.startswith("HS"):
        env.write_file(rel, os.urandom(48).hex() + "\n", 0o644)
        return rel
    if alg.startswith("ES"):
        curve = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
        args = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + curve]
    elif alg == "EdDSA":
        args = ["-algorithm", "ED25519"]
    else:
        args = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    subprocess.run(["openssl", "genpkey"] + args + ["-out", path],
                   check=True, capture_output=True)
    os.chmod(path, 0o644)
    return rel


def registry(env):
    return env.path("var/registry.db")


def token_admin(env, *args, check=True):
    """Runs token-admin --json on the test registry; the parsed JSON output
    (or None when it printed nothing), raising when CHECK and it failed."""
    r = subprocess.run([TOKEN_ADMIN, "--registry", registry(env), "--json"]
                       + list(args), capture_output=True, text=True,
                       timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("token-admin %s failed (%d): %s" % (
            " ".join(args), r.returncode, r.stderr))
    if r.returncode != 0:
        return r
    out = r.stdout.strip()
    return json.loads(out) if out else None


def _field(doc, *names):
    """The first of NAMES found in DOC or in an object nested in it."""
    for n in names:
        if n in doc:
            return doc[n]
    for v in doc.values():
        if isinstance(v, dict):
            found = _field(v, *names)
            if found is not None:
                return found
    return None


def add_app(env, name, grants="client_credentials", scopes=None,
            audiences=None, extra=()):
    """Registers an application; returns (client_id, client_secret)."""
    args = ["app", "add", "--name", name, "--grant", grants]
    if scopes:
        args += ["--scope", scopes]
    if audiences:
        args += ["--audience", audiences]
    doc = token_admin(env, *(args + list(extra)))
    return (_field(doc, "client_id"),
            _field(doc, "client_secret", "secret"))


def add_scopes(env, *names):
    for n in names:
        token_admin(env, "scope", "add", n, "--description", "scope " + n)


def jwks(env):
    r = requests.get(env.url + "/oauth/jwks", timeout=10)
    assert r.status_code == 200, r.text
    return jwk.JWKSet.from_json(r.text)


def verify_access_token(env, token, keyset=None):
    """Verifies TOKEN against the published JWK Set by its kid (jwcrypto)
    and checks the RFC 9068 header; returns (header, claims)."""
    keyset = keyset or jwks(env)
    obj = jws.JWS()
    obj.deserialize(token)
    header = obj.jose_header
    assert header["typ"] == "at+jwt"
    key = keyset.get_key(header["kid"])
    assert key is not None, "kid %s not in the JWKS" % header["kid"]
    obj.verify(key, alg=header["alg"])
    return header, json.loads(obj.payload)


def _b64(seg):
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def unverified_claims(token):
    """(header, claims) of a compact JWS without checking anything."""
    h, p, _ = token.split(".")
    return json.loads(_b64(h)), json.loads(_b64(p))


def token_request(env, data, auth=None, headers=None, path="/oauth/token"):
    """A raw POST with requests (for cases a client library would not send)."""
    return requests.post(env.url + path, data=data, auth=auth,
                         headers=headers, timeout=10)
