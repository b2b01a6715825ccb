"""Helpers for the resource-server tests (test_resource_*.py): one set of
keys per test run (generated with the `cryptography` module, written into
each server's keys/ directory), tokens minted with PyJWT (python3-jwt) or
by hand where PyJWT refuses to build the hostile ones, and the check that
no token ever reaches the error log."""
import base64
import hashlib
import hmac
import json
import os
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ISSUER = "https://auth.example.com"
AUDIENCE = "orders-api"

# authz_core's own lines when a Require fails (expected in these tests).
AUTHZ_LOG_IDS = ("AH01630", "AH01631")

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
        "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]

_KEYS = {}


def _pem_private(k):
    return k.private_bytes(serialization.Encoding.PEM,
                           serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


def _pem_public(k):
    return k.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def keys():
    """name -> (private PEM or secret bytes, public PEM or secret bytes).
    Names: hs256 hs384 hs512 rsa ec256 ec384 ec521 ed25519, an "other"
    variant of each (a different key of the same kind), and the weak ones
    rsa1024, hs_short."""
    if _KEYS:
        return _KEYS
    for variant in ("", "_other"):
        for n, size in (("hs256", 32), ("hs384", 48), ("hs512", 64)):
            s = base64.urlsafe_b64encode(os.urandom(size))[:size]
            _KEYS[n + variant] = (s, s)
        r = rsa.generate_private_key(65537, 2048)
        _KEYS["rsa" + variant] = (_pem_private(r), _pem_public(r))
        for n, curve in (("ec256", ec.SECP256R1()), ("ec384", ec.SECP384R1()),
                         ("ec521", ec.SECP521R1())):
            k = ec.generate_private_key(curve)
            _KEYS[n + variant] = (_pem_private(k), _pem_public(k))
        k = ed25519.Ed25519PrivateKey.generate()
        _KEYS["ed25519" + variant] = (_pem_private(k), _pem_public(k))
    r = rsa.generate_private_key(65537, 1024)
    _KEYS["rsa1024"] = (_pem_private(r), _pem_public(r))
    _KEYS["hs_short"] = (b"tooshort", b"tooshort")
    return _KEYS


def key_for_alg(alg, other=False):
    name = {"HS": "hs" + alg[2:], "RS": "rsa", "PS": "rsa",
            "ES": {"256": "ec256", "384": "ec384", "512": "ec521"}.get(alg[2:]),
            "Ed": "ed25519"}[alg[:2]]
    return name + ("_other" if other else "")


def write_keys(env):
    """Writes every key into ROOT/keys: NAME.key (private PEM or secret)
    and NAME.pub (public PEM or secret)."""
    for name, (priv, pub) in keys().items():
        env.write_file("keys/%s.key" % name, priv)
        env.write_file("keys/%s.pub" % name, pub)


def claims(**over):
    """Valid default claims; a value of None removes the claim."""
    now = int(time.time())
    c = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300,
         "iat": now, "scope": "orders:read orders:write", "jti": "j-%d" % now}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(alg="HS256", key=None, headers=None, other=False, **over):
    """A token from PyJWT, signed by the test key of ALG (or KEY NAME)."""
    priv = keys()[key or key_for_alg(alg, other)][0]
    return jwt.encode(claims(**over), priv, algorithm=alg, headers=headers)


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header, payload, secret=None, sig=None, digest=hashlib.sha256):
    """A compact JWS built by hand: HMAC over the signing input with SECRET,
    or the given SIG bytes (b"" for none)."""
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    si = b64u(h) + "." + b64u(p)
    if secret is not None:
        if isinstance(secret, str):
            secret = secret.encode()
        sig = hmac.new(secret, si.encode(), digest).digest()
    return si + "." + b64u(sig or b"")


def challenge(resp):
    return resp.headers.get("WWW-Authenticate")


def auth_params(value):
    """'Bearer realm="x", error="y"' -> {"realm": "x", "error": "y"}."""
    assert value and value.startswith("Bearer"), value
    out = {}
    for m in re.finditer(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', value):
        out[m.group(1)] = re.sub(r"\\(.)", r"\1", m.group(2))
    return out


TOKEN_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}")


@pytest.fixture(autouse=True)
def no_token_in_log(request):
    """After each test: no JWT (they all start with eyJ) in the error
    log."""
    yield
    if "httpd" not in request.fixturenames:
        return
    env = request.getfixturevalue("httpd")
    found = TOKEN_RE.findall(env.read_log())
    assert not found, "token material in the error log: %s" % found[:3]


ENV_CGI = """#!/usr/bin/python3
import json, os
print("Content-Type: application/json")
print()
print(json.dumps(dict(os.environ)))
"""


def install_env_cgi(env, name="env.py"):
    """cgi-bin/NAME printing the CGI environment as JSON (ScriptAlias
    /cgi-bin/ to it in CONF)."""
    env.write_file("cgi-bin/" + name, ENV_CGI, mode=0o755)


def line_of(env, needle):
    """The line number of the first line of ENV's httpd.conf holding
    NEEDLE (configtest messages name it)."""
    with open(env.path("conf/httpd.conf")) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n
    raise AssertionError("needle %r not in the config" % needle)


def bearer_cgi(path, require, name, forbidden="On", extra=""):
    """PATH served by the environment-printing CGI (install_env_cgi) in a
    Bearer location named NAME, keyed with keys/hs256.key, under the
    REQUIRE lines."""
    return """
ScriptAlias {path} {{root}}/cgi-bin/env.py
<Location {path}>
    AuthType Bearer
    AuthName {name}
    AuthTokenVerifyKey HS256 {{root}}/keys/hs256.key
    AuthzSendForbiddenOnFailure {forbidden}
    {extra}
    {require}
</Location>""".format(path=path, require=require, name=name,
                      forbidden=forbidden, extra=extra)
