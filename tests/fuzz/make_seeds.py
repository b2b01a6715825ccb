#!/usr/bin/python3
"""Writes the seed corpora of the libFuzzer targets, one directory per
target under tests/fuzz/corpus/, one file per seed, named after what it
carries. Tokens are signed with the attack corpus' test keys
(tests/unit/corpus/keys), so that signed seeds verify in fuzz_jws and the
fuzzer starts from tokens that reach the claim rules.

Run: /usr/bin/python3 tests/fuzz/make_seeds.py (rewrites every seed; the
ES256 and RSA signatures differ from run to run).
"""
import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "unit", "corpus"))
from make_corpus import EXP, KEYS, b64, j  # noqa: E402

OUT = os.path.join(HERE, "corpus")
NOW = 1700000000  # fuzz_jws checks claims at this time


def key_file(name):
    with open(os.path.join(KEYS, name), "rb") as f:
        return f.read()


HS256 = key_file("hs256.secret").rstrip(b"\n")
ES256 = serialization.load_pem_private_key(key_file("es256.key.pem"), None)


def hs256(header, claims):
    si = b64(j(dict({"alg": "HS256", "kid": "hs256"}, **header))) + "." \
        + b64(claims if isinstance(claims, str) else j(claims))
    return si + "." + b64(hmac.new(HS256, si.encode(), hashlib.sha256)
                          .digest())


def es256(header, claims):
    si = b64(j(dict({"alg": "ES256"}, **header))) + "." + b64(j(claims))
    r, s = decode_dss_signature(ES256.sign(si.encode(),
                                           ec.ECDSA(hashes.SHA256())))
    return si + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def claims(**extra):
    c = {"iss": "https://issuer.example", "sub": "alice", "aud": "api",
         "exp": EXP, "iat": NOW}
    c.update(extra)
    return c


def jws_seeds():
    ok = hs256({}, claims(scope="read orders:write"))
    h, p, s = ok.split(".")
    nested = {"realm": {"roles": ["admin", "ops"]}, "groups": ["ops"]}
    return {
        "ok-hs256-scope-string": ok,
        "ok-hs256-scp-array": hs256({}, claims(scp=["read", "orders:write"])),
        "ok-hs256-aud-array": hs256({}, claims(aud=["other", "api"])),
        "ok-hs256-nested-claims": hs256({}, claims(**nested)),
        "ok-hs256-typ-at-jwt": hs256({"typ": "at+jwt"},
                                     claims(client_id="svc")),
        "ok-es256-no-kid": es256({}, claims()),
        "alg-none": b64(j({"alg": "none"})) + "." + p + ".",
        "two-segments": h + "." + p,
        "four-segments": ok + "." + s,
        "five-segments": ok + ".." + s,
        "empty-signature": h + "." + p + ".",
        "header-array": b64("[]") + "." + p + "." + s,
        "payload-deep-nesting": hs256({}, "[" * 20 + "]" * 20),
        "signature-trailing-bits": ok[:-1] + ("B" if ok[-1] == "A" else "A"),
        "padded-segments": h + "==." + p + "." + s,
        "exp-fraction": hs256({}, claims(exp=EXP + 0.5)),
        "exp-huge-integer": hs256({}, '{"sub":"a","exp":%d}' % (10 ** 30)),
        "nbf-string": hs256({}, claims(nbf="1700000000")),
        "iat-negative": hs256({}, claims(iat=-1)),
        "sub-unicode": hs256({}, claims(sub="\u00e9\U0001F600")),
        "claim-nul-escape": hs256({}, claims(tenant="a\u0000b")),
        "kid-long": hs256({"kid": "k" * 1000}, claims()),
        "claims-many-members": hs256({}, dict(claims(), **{
            "c%d" % i: i for i in range(200)})),
        "crit-header": hs256({"crit": ["exp"]}, claims()),
    }


def ec_jwk(key, crv, size):
    n = key.public_key().public_numbers()
    return {"kty": "EC", "crv": crv,
            "x": b64(n.x.to_bytes(size, "big")),
            "y": b64(n.y.to_bytes(size, "big"))}


def jwks_seeds():
    full = json.loads(key_file("jwks.json"))
    by_kid = {k["kid"]: k for k in full["keys"]}
    p256 = dict(ec_jwk(ES256, "P-256", 32), kid="es256")
    rsa1024 = rsa.generate_private_key(65537, 1024).public_key()
    n = rsa1024.public_numbers()
    off_curve = dict(p256, y=b64((int.from_bytes(
        base64.urlsafe_b64decode(p256["y"] + "="), "big") ^ 1)
        .to_bytes(32, "big")))
    return {
        "set-of-all-kinds": j(full),
        "rsa-2048": j({"keys": [by_kid["rs256"]]}),
        "ec-p256": j({"keys": [p256]}),
        "ec-p384": j({"keys": [by_kid["es384"]]}),
        "ec-p521": j({"keys": [by_kid["es512"]]}),
        "okp-ed25519": j({"keys": [by_kid["eddsa"]]}),
        "oct-hs256": j({"keys": [by_kid["hs256"]]}),
        "single-jwk": j(p256),
        "use-enc-only": j({"keys": [by_kid["enc"]]}),
        "key-ops-verify": j({"keys": [dict(p256, key_ops=["verify"])]}),
        "key-ops-encrypt": j({"keys": [dict(p256, key_ops=["encrypt"])]}),
        "alg-rs256-on-ec-key": j({"keys": [dict(p256, alg="RS256")]}),
        "ec-point-off-curve": j({"keys": [off_curve]}),
        "ec-x-short": j({"keys": [dict(p256, x=p256["x"][:-2])]}),
        "ec-crv-unknown": j({"keys": [dict(p256, crv="secp256k1")]}),
        "rsa-1024-modulus": j({"keys": [{
            "kty": "RSA", "n": b64(n.n.to_bytes(128, "big")),
            "e": b64(n.e.to_bytes(3, "big"))}]}),
        "rsa-e-zero": j({"keys": [dict(by_kid["rs256"], e="AA")]}),
        "okp-x25519": j({"keys": [dict(by_kid["eddsa"], crv="X25519")]}),
        "private-member-d": j({"keys": [dict(p256, d=b64(b"\x01" * 32))]}),
        "x5c-member": j({"keys": [dict(p256, x5c=["MIIB"])]}),
        "kid-duplicate": j({"keys": [p256, dict(by_kid["es384"],
                                                kid="es256")]}),
        "oct-short-secret": j({"keys": [{"kty": "oct", "alg": "HS256",
                                         "k": b64(b"short")}]}),
        "keys-empty": j({"keys": []}),
        "keys-not-array": j({"keys": {}}),
        "duplicate-members": '{"keys":[],"keys":[]}',
    }


def form_seeds():
    return {
        "client-credentials": "grant_type=client_credentials&scope=read+orders%3Awrite",
        "refresh-token": "grant_type=refresh_token&refresh_token=abc.def&scope=read",
        "revoke-with-hint": "token=eyJhbGciOiJIUzI1NiJ9.e30.sig&token_type_hint=access_token",
        "client-secret-post": "grant_type=client_credentials&client_id=svc&client_secret=s3cr%2Bt",
        "repeated-grant-type": "grant_type=client_credentials&grant_type=refresh_token",
        "repeated-empty-then-set": "scope=&scope=read",
        "empty-values": "scope=&grant_type=client_credentials&x=",
        "name-without-equals": "grant_type=client_credentials&flag",
        "only-ampersands": "&&&",
        "broken-escape": "scope=%zz",
        "truncated-escape": "scope=%4",
        "encoded-nul": "scope=a%00b",
        "upper-case-name": "GRANT_TYPE=password&grant_type=client_credentials",
        "name-encoded-equals": "a%3Db=c%3D%26",
        "utf8-value": "scope=%C3%A9t%C3%A9",
        "empty-name": "=value",
    }


def basic(raw, scheme="Basic "):
    return scheme + base64.b64encode(raw).decode()


def basic_seeds():
    return {
        "canonical": basic(b"svc:s3cret"),
        "scheme-lower-case": basic(b"svc:s3cret", "basic "),
        "tab-separator": basic(b"svc:s3cret", "Basic\t"),
        "many-blanks": basic(b"svc:s3cret", "Basic  \t  "),
        "colon-encoded-in-id": basic(b"a%3Ab:c"),
        "plus-in-secret": basic(b"svc:a+b%2B"),
        "colon-in-secret": basic(b"svc:a:b"),
        "secret-empty": basic(b"svc:"),
        "colon-missing": basic(b"svcs3cret"),
        "id-empty": basic(b":s3cret"),
        "padding-missing": basic(b"svc:s3cre").rstrip("="),
        "padding-extra": basic(b"svc:s3cre") + "=",
        "base64url-alphabet": "Basic " + base64.urlsafe_b64encode(
            b"svc:s3cr3t?>").decode(),
        "trailing-bits-set": basic(b"id:s")[:-3] + "x==",
        "nul-byte": basic(b"svc\x00:s"),
        "encoded-nul": basic(b"svc:s%00"),
        "broken-escape": basic(b"s%zzc:s"),
        "bearer-scheme": "Bearer abc.def.ghi",
        "scheme-only": "Basic",
        "blank-after": basic(b"svc:s3cret") + " ",
        "long-credentials": basic(b"svc:" + b"x" * 600),
    }


def console_form_seeds():
    # Each is the query string, PATH_INFO and the POST body at once.
    return {
        "query-page-and-search": "page=2&q=billing",
        "query-utf8-search": "q=caf%C3%A9",
        "query-bad-utf8": "q=%C3%28",
        "query-overlong-utf8": "q=%C0%AF",
        "query-surrogate": "q=%ED%A0%80",
        "semicolon-separator": "a=1;b=2",
        "broken-escape": "q=%G1",
        "truncated-escape": "q=%4",
        "form-app-edit": "csrf=1700000000.ab12&name=Billing+API&description="
                         "x&grant=client_credentials&grant=refresh_token&"
                         "scope=read&audience=api",
        "empty-key-and-pairs": "=x&&y&;",
        "path-segments": "/apps/abc%2Fdef/edit",
        "path-many-slashes": "//apps///x/",
        "nul-in-body": "a=1\0b=2",
        "plus-and-encoded-plus": "name=a+b+%2B",
    }


def console_cookie_seeds():
    hexv = "00" * 12 + "41" * 20 + "ff" * 16
    return {
        "m0-one-cookie": "\0token_admin_secret=" + hexv,
        "m0-among-others": "\0theme=dark; token_admin_secret=" + hexv
                           + "; lang=en",
        "m0-hex-upper-case": "\0token_admin_secret=" + hexv.upper(),
        "m0-hex-odd-length": "\0token_admin_secret=" + hexv[:-1],
        "m0-nonce-and-tag-only": "\0token_admin_secret=" + "00" * 28,
        "m0-value-empty": "\0token_admin_secret=",
        "m0-name-prefix-suffix": "\0xtoken_admin_secret=00; "
                                 "token_admin_secretx=11",
        "m1-plain": "\1app-1\0s3cret",
        "m1-newline-in-secret": "\1app-1\0a\nb",
        "m1-newline-in-client-id": "\1app\n1\0secret",
        "m1-secret-empty": "\1app-1\0",
        "m1-client-id-not-utf8": "\1\xff\xfe\0secret",
        "m2-token-shape": "\2operator\0" "1700000000." + "ab" * 32,
        "m2-no-dot": "\2operator\0" "1700000000",
        "m2-future": "\2operator\0" "99999999999." + "00" * 32,
        "m2-operator-empty": "\2\0" "1.00",
        # once a signed overflow in console_csrf_check
        "m2-issued-most-negative": "\2op\0" "-9223372036854775808.00",
    }


def main():
    for target, seeds in (("jws", jws_seeds()), ("jwks", jwks_seeds()),
                          ("form", form_seeds()), ("basic", basic_seeds()),
                          ("console_form", console_form_seeds()),
                          ("console_cookie", console_cookie_seeds())):
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for name, text in seeds.items():
            data = text.encode("latin-1") if any(
                ord(c) > 127 for c in text) and all(
                ord(c) < 256 for c in text) else text.encode()
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
