#!/usr/bin/python3
"""Writes the negative corpus for tests/unit/test_corpus.c.

One seed file per attack, NAME.jwt, each holding one compact token that must
be rejected; ok-*.jwt are controls that must be accepted (so the test can
tell "rejected for the right reason" from "rejects everything"). expect.txt
names the stage that must reject each seed: parse (at_jws_parse), verify
(at_jws_verify_keys with the keys in keys/, each bound to the algorithm and
kid its file name says), or claims (at_claims_check, user claim "sub").

Seeds are built by hand from base64url, hmac and python3-cryptography, not
with a JOSE library, because most of them are tokens a JOSE library refuses
to produce. Keys are generated once and kept (they are test keys only), so
rerunning rewrites identical seeds except for randomized signatures.

Run: /usr/bin/python3 tests/unit/corpus/make_corpus.py
"""
import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
EXP = 4102444800          # 2100-01-01: far enough for committed seeds
P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
                 16)


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def j(obj):
    return json.dumps(obj, separators=(",", ":"))


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)


def load_or_make_keys():
    """Private keys by name; public PEM / secret files are what the test
    loads."""
    os.makedirs(KEYS, exist_ok=True)
    makers = {
        "rs256": lambda: rsa.generate_private_key(65537, 2048),
        "es256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "eddsa": ed25519.Ed25519PrivateKey.generate,
        "es384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "es512": lambda: ec.generate_private_key(ec.SECP521R1()),
        "attacker-es256": lambda: ec.generate_private_key(ec.SECP256R1()),
    }
    keys = {}
    for name, make in makers.items():
        path = os.path.join(KEYS, name + ".key.pem")
        if os.path.exists(path):
            with open(path, "rb") as f:
                keys[name] = serialization.load_pem_private_key(f.read(), None)
        else:
            keys[name] = make()
            with open(path, "wb") as f:
                f.write(pem_private(keys[name]))
        if not name.startswith("attacker"):
            with open(os.path.join(KEYS, name + ".pub.pem"), "wb") as f:
                f.write(pem_public(keys[name]))
    # PS256 is bound separately but uses the same RSA key pair.
    with open(os.path.join(KEYS, "ps256.pub.pem"), "wb") as f:
        f.write(pem_public(keys["rs256"]))
    # HMAC secrets: printable (hex), exactly the hash length, one newline.
    for name, size in (("hs256", 32), ("hs384", 48), ("hs512", 64)):
        path = os.path.join(KEYS, name + ".secret")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(os.urandom(size // 2).hex().encode() + b"\n")
        with open(path, "rb") as f:
            keys[name] = f.read().rstrip(b"\n")
    return keys


def write_jwks(keys):
    """keys/jwks.json: the public keys as jwcrypto exports them, bound by
    the contract's default rules (RSA -> RS256, EC and OKP by curve), the
    HS256 secret as an oct key with "alg", plus an encryption key that a
    verifier must skip. kids as in the file names."""
    from jwcrypto import jwk
    out = []
    for name in ("rs256", "es256", "es384", "es512", "eddsa"):
        k = jwk.JWK.from_pem(pem_public(keys[name]))
        d = json.loads(k.export_public())
        d["kid"] = name
        out.append(d)
    out.append({"kty": "oct", "kid": "hs256", "alg": "HS256",
                "k": b64(keys["hs256"])})
    enc = json.loads(jwk.JWK.from_pem(pem_public(keys["rs256"]))
                     .export_public())
    enc.update({"kid": "enc", "use": "enc", "alg": "RSA-OAEP-256"})
    out.append(enc)
    with open(os.path.join(KEYS, "jwks.json"), "w") as f:
        json.dump({"keys": out}, f, indent=1)
        f.write("\n")


ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
        "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


def library_key(keys, alg):
    """The private key (or secret) a JOSE library signs ALG with."""
    if alg.startswith("HS"):
        return keys[alg.lower()]
    if alg[:2] in ("RS", "PS"):
        return keys["rs256"]
    return keys[alg.lower()] if alg != "EdDSA" else keys["eddsa"]


def mint_pyjwt(keys, alg, payload):
    import jwt
    return jwt.encode(payload, library_key(keys, alg), algorithm=alg,
                      headers={"kid": alg.lower()})


def mint_jwcrypto(keys, alg, payload):
    from jwcrypto import jwk, jws
    k = library_key(keys, alg)
    if isinstance(k, bytes):
        key = jwk.JWK(kty="oct", k=b64(k))
    else:
        key = jwk.JWK.from_pem(pem_private(k))
    t = jws.JWS(j(payload).encode())
    t.add_signature(key, None, j({"alg": alg, "kid": alg.lower()}))
    return t.serialize(compact=True)


def mint_authlib(keys, alg, payload):
    from authlib.jose import JsonWebSignature
    k = library_key(keys, alg)
    if not isinstance(k, bytes):
        k = pem_private(k)
    return JsonWebSignature().serialize_compact(
        {"alg": alg, "kid": alg.lower()}, j(payload).encode(), k).decode()


def claims(**extra):
    c = {"iss": "https://issuer.example", "sub": "alice", "aud": "api",
         "exp": EXP, "iat": 1700000000}
    c.update(extra)
    for k in [k for k, v in c.items() if v is DROP]:
        del c[k]
    return c


DROP = object()


class Signer:
    def __init__(self, keys):
        self.k = keys

    def hs256(self, si, secret=None):
        return hmac.new(secret or self.k["hs256"], si.encode(),
                        hashlib.sha256).digest()

    def rs256(self, si):
        return self.k["rs256"].sign(si.encode(), padding.PKCS1v15(),
                                    hashes.SHA256())

    def ps256(self, si):
        return self.k["rs256"].sign(
            si.encode(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256())

    def es256_der(self, si, key="es256"):
        return self.k[key].sign(si.encode(), ec.ECDSA(hashes.SHA256()))

    def es256(self, si, key="es256"):
        r, s = decode_dss_signature(self.es256_der(si, key))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def eddsa(self, si):
        return self.k["eddsa"].sign(si.encode())


def token(header, payload, sign, raw_header=None, raw_payload=None):
    """header/payload as objects (or raw JSON text); sign(signing_input) ->
    signature bytes."""
    h = b64(raw_header if raw_header is not None else j(header))
    p = b64(raw_payload if raw_payload is not None else j(payload))
    si = h + "." + p
    return si + "." + b64(sign(si))


def main():
    keys = load_or_make_keys()
    write_jwks(keys)
    s = Signer(keys)
    hs = {"alg": "HS256", "kid": "hs256"}
    seeds = {}      # name -> (token, stage)

    def add(name, tok, stage):
        seeds[name] = (tok, stage)

    # Controls: well-formed tokens for every corpus key.
    add("ok-hs256", token(hs, claims(), s.hs256), "accept")
    add("ok-rs256", token({"alg": "RS256", "kid": "rs256"}, claims(),
                          s.rs256), "accept")
    add("ok-ps256", token({"alg": "PS256", "kid": "ps256"}, claims(),
                          s.ps256), "accept")
    add("ok-es256", token({"alg": "ES256", "kid": "es256", "typ": "at+jwt"},
                          claims(), s.es256), "accept")
    add("ok-eddsa", token({"alg": "EdDSA", "kid": "eddsa"}, claims(),
                          s.eddsa), "accept")

    # Tokens minted by independent JOSE libraries, every algorithm: the
    # keys in keys/ are loaded bound to the algorithm their kid names.
    for lib, mint in (("pyjwt", mint_pyjwt), ("jwcrypto", mint_jwcrypto),
                      ("authlib", mint_authlib)):
        for alg in ALGS:
            add("ok-%s-%s" % (lib, alg.lower()),
                mint(keys, alg, claims()), "accept")

    # alg "none" in its spellings, with and without a signature.
    for spelling in ("none", "None", "NONE", "nOnE"):
        h = b64(j({"alg": spelling}))
        p = b64(j(claims()))
        add("alg-" + spelling, h + "." + p + ".", "parse")
        add("alg-" + spelling + "-with-signature",
            h + "." + p + "." + b64(s.hs256(h + "." + p)), "parse")
    add("alg-missing", token({"kid": "hs256"}, claims(), s.hs256), "parse")
    add("alg-not-string", token({"alg": ["HS256"], "kid": "hs256"}, claims(),
                                s.hs256), "parse")
    add("alg-lowercase", token({"alg": "hs256", "kid": "hs256"}, claims(),
                               s.hs256), "parse")
    add("alg-unknown", token({"alg": "HS1024", "kid": "hs256"}, claims(),
                             s.hs256), "parse")
    add("alg-es256k", token({"alg": "ES256K"}, claims(), s.es256), "parse")

    # Key confusion: HS256 keyed with the RSA public key PEM (RFC 8725 2.1).
    pub_pem = open(os.path.join(KEYS, "rs256.pub.pem"), "rb").read()
    add("hs256-with-public-key-pem-as-secret",
        token({"alg": "HS256", "kid": "rs256"}, claims(),
              lambda si: s.hs256(si, pub_pem)), "verify")
    add("hs256-with-public-key-pem-as-secret-no-kid",
        token({"alg": "HS256"}, claims(),
              lambda si: s.hs256(si, pub_pem)), "verify")
    add("alg-kty-mismatch-es256-on-rsa-key",
        token({"alg": "ES256", "kid": "rs256"}, claims(), s.rs256), "verify")
    add("alg-kty-mismatch-rs256-on-ec-key",
        token({"alg": "RS256", "kid": "es256"}, claims(), s.es256), "verify")
    add("alg-kty-mismatch-eddsa-on-ec-key",
        token({"alg": "EdDSA", "kid": "es256"}, claims(), s.es256), "verify")
    add("rs256-header-pss-signature",
        token({"alg": "RS256", "kid": "rs256"}, claims(), s.ps256), "verify")
    add("ps256-header-pkcs1-signature",
        token({"alg": "PS256", "kid": "ps256"}, claims(), s.rs256), "verify")

    # ECDSA encodings (RFC 7518 3.4) and CVE-2022-21449 style values.
    es = {"alg": "ES256", "kid": "es256"}
    add("ecdsa-der-signature", token(es, claims(), s.es256_der), "verify")
    add("ecdsa-r-s-zero", token(es, claims(), lambda si: bytes(64)),
        "verify")
    add("ecdsa-r-s-order", token(es, claims(), lambda si:
                                 P256_ORDER.to_bytes(32, "big") * 2),
        "verify")
    add("ecdsa-signature-truncated",
        token(es, claims(), lambda si: s.es256(si)[:63]), "verify")
    add("ecdsa-signature-extended",
        token(es, claims(), lambda si: b"\0" + s.es256(si)), "verify")
    add("hmac-signature-truncated",
        token(hs, claims(), lambda si: s.hs256(si)[:16]), "verify")
    add("signature-of-other-payload",
        token(hs, claims(), lambda si: s.hs256(si + "x")), "verify")

    # Keys named or carried by the token are never used.
    add("kid-path-traversal", token({"alg": "HS256",
                                     "kid": "../../etc/passwd"},
                                    claims(), s.hs256), "verify")
    add("kid-not-string", token({"alg": "HS256", "kid": 1}, claims(),
                                s.hs256), "parse")
    att = keys["attacker-es256"].public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256",
           "x": b64(att.x.to_bytes(32, "big")),
           "y": b64(att.y.to_bytes(32, "big"))}
    attacker = lambda si: s.es256(si, "attacker-es256")  # noqa: E731
    add("jwk-header-embedded-key",
        token({"alg": "ES256", "jwk": jwk}, claims(), attacker), "verify")
    add("jwk-header-embedded-key-with-kid",
        token({"alg": "ES256", "kid": "es256", "jwk": jwk}, claims(),
              attacker), "verify")
    add("jku-header", token({"alg": "ES256", "jku":
                             "https://attacker.example/jwks.json"},
                            claims(), attacker), "verify")
    add("x5u-header", token({"alg": "ES256", "x5u":
                             "https://attacker.example/cert.pem"},
                            claims(), attacker), "verify")
    add("x5c-header", token({"alg": "ES256", "x5c": ["MIIB"]}, claims(),
                            attacker), "verify")

    # Header rules.
    add("crit-header", token(dict(hs, crit=["exp"], exp=EXP), claims(),
                             s.hs256), "parse")
    add("crit-header-empty", token(dict(hs, crit=[]), claims(), s.hs256),
        "parse")
    add("crit-b64-false", token(dict(hs, b64=False, crit=["b64"]), claims(),
                                s.hs256), "parse")
    add("typ-not-string", token(dict(hs, typ=["JWT"]), claims(), s.hs256),
        "parse")
    add("typ-dpop", token(dict(hs, typ="dpop+jwt"), claims(), s.hs256),
        "claims")

    # Segments and base64url.
    good = token(hs, claims(), s.hs256)
    h, p, sig = good.split(".")
    add("padding", good + "=", "parse")
    # Signed over the padded header, so only the padding is wrong.
    ph = b64(j(dict(hs, x="ab"))) + "=="
    add("padding-header", ph + "." + p + "." + b64(s.hs256(ph + "." + p)),
        "parse")
    add("extra-segment-four", good + "." + sig, "parse")
    add("extra-segment-five", good + "." + sig + "." + sig, "parse")
    add("two-segments", h + "." + p, "parse")
    add("empty-segment-header", "." + p + "." + sig, "parse")
    add("empty-segment-payload", h + ".." + sig, "parse")
    add("empty-segment-signature", h + "." + p + ".", "parse")
    add("empty-segments", "..", "parse")
    add("bad-base64-alphabet", h + "." + p + "." + sig[:20] + "+" + sig[21:],
        "parse")
    add("bad-base64-standard-alphabet",
        h + "." + p + "." + base64.b64encode(s.hs256(h + "." + p))
        .decode().rstrip("=").replace("-", "+").replace("_", "/") + "/+",
        "parse")
    add("bad-base64-whitespace", h + "." + p[:10] + " " + p[10:] + "." + sig,
        "parse")
    add("bad-base64-newline", h + "." + p + "." + sig[:10] + "\n" + sig[10:],
        "parse")
    # Same bytes, non-canonical spelling: the unused low bits of the last
    # character set (HS256 signatures are 32 bytes -> 43 chars, 2 spare bits).
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-_")
    last = alphabet.index(sig[-1])
    add("bad-base64-trailing-bits",
        h + "." + p + "." + sig[:-1] + alphabet[last | 1], "parse")

    # JSON rules.
    # Both sides of AT_JWS_MAX_LEN (16384): the largest token accepted and
    # the smallest refused.
    sized = {}
    for n in range(12000, 12300):
        t = token(hs, claims(pad="x" * n), s.hs256)
        sized.setdefault(len(t), t)
    add("ok-size-limit", sized[max(k for k in sized if k <= 16384)],
        "accept")
    add("oversize", sized[min(k for k in sized if k > 16384)], "parse")
    add("oversize-large", token(hs, claims(pad="x" * 40000), s.hs256),
        "parse")
    deep = "[" * 17 + "]" * 17
    add("deep-nesting", token(hs, None, s.hs256, raw_payload=
                              j(claims())[:-1] + ',"deep":' + deep + "}"),
        "parse")
    add("deep-nesting-header", token(None, claims(), s.hs256, raw_header=
                                     j(hs)[:-1] + ',"x":' + deep + "}"),
        "parse")
    add("duplicate-members-header", token(None, claims(), s.hs256,
        raw_header='{"alg":"none","alg":"HS256","kid":"hs256"}'), "parse")
    add("duplicate-members-payload", token(hs, None, s.hs256, raw_payload=
        '{"sub":"alice","exp":%d,"sub":"admin"}' % EXP), "parse")
    add("duplicate-members-exp", token(hs, None, s.hs256, raw_payload=
        '{"sub":"alice","exp":1000,"exp":%d}' % EXP), "parse")
    # valid JSON; the user claim must not be cut at the NUL into "alice"
    add("nul-escape-in-payload", token(hs, None, s.hs256, raw_payload=
        '{"sub":"alice\\u0000admin","exp":%d}' % EXP), "claims")
    add("nul-byte-in-payload", token(hs, None, s.hs256, raw_payload=
        '{"sub":"alice","exp":%d}\0' % EXP), "parse")
    add("payload-not-object", token(hs, None, s.hs256,
                                    raw_payload='["exp",%d]' % EXP), "parse")
    add("payload-not-json", token(hs, None, s.hs256,
                                  raw_payload="exp=%d" % EXP), "parse")
    add("payload-trailing-garbage", token(hs, None, s.hs256, raw_payload=
        '{"sub":"alice","exp":%d} {}' % EXP), "parse")
    add("header-not-object", token(None, claims(), s.hs256,
                                   raw_header='"HS256"'), "parse")
    add("integer-overflow-exp", token(hs, None, s.hs256, raw_payload=
        '{"sub":"alice","exp":99999999999999999999999}'), "parse")

    # Claims.
    add("string-exp", token(hs, claims(exp=str(EXP)), s.hs256), "claims")
    add("missing-exp", token(hs, claims(exp=DROP), s.hs256), "claims")
    add("null-exp", token(hs, claims(exp=None), s.hs256), "claims")
    add("expired", token(hs, claims(exp=1000000000), s.hs256), "claims")
    add("string-nbf", token(hs, claims(nbf="0"), s.hs256), "claims")
    add("nbf-future", token(hs, claims(nbf=EXP - 1), s.hs256), "claims")
    add("iat-future", token(hs, claims(iat=EXP - 1), s.hs256), "claims")
    add("boolean-iat", token(hs, claims(iat=True), s.hs256), "claims")
    add("missing-sub", token(hs, claims(sub=DROP), s.hs256), "claims")
    add("object-sub", token(hs, claims(sub={"name": "alice"}), s.hs256),
        "claims")

    for old in os.listdir(HERE):
        if old.endswith(".jwt"):
            os.unlink(os.path.join(HERE, old))
    with open(os.path.join(HERE, "expect.txt"), "w") as f:
        f.write("# seed stage (parse|verify|claims: the stage that must "
                "reject it; accept: control)\n")
        for name in sorted(seeds):
            tok, stage = seeds[name]
            with open(os.path.join(HERE, name + ".jwt"), "w") as t:
                t.write(tok)
            f.write("%s %s\n" % (name, stage))
    print("%d seeds written" % len(seeds), file=sys.stderr)


if __name__ == "__main__":
    main()
