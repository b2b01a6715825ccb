#!/usr/bin/python3
"""Verifies tokens signed by libauthtoken with independent JOSE libraries
(python3-jwt, python3-jwcrypto, python3-authlib); run by test_interop.

Usage: verify_interop.py FILE, FILE holding lines "ALG TOKEN". Prints one
line per failure and exits non-zero if any library refused any token.
"""
import json
import os
import sys

KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keys")


def key_file(alg):
    if alg.startswith("HS"):
        return alg.lower() + ".secret"
    if alg[:2] in ("RS", "PS"):
        return "rs256.pub.pem"
    return ("eddsa" if alg == "EdDSA" else alg.lower()) + ".pub.pem"


def key_bytes(alg):
    with open(os.path.join(KEYS, key_file(alg)), "rb") as f:
        data = f.read()
    return data.rstrip(b"\n") if alg.startswith("HS") else data


def with_pyjwt(alg, token):
    import jwt
    claims = jwt.decode(token, key_bytes(alg), algorithms=[alg],
                        options={"verify_aud": False})
    return claims


def with_jwcrypto(alg, token):
    from jwcrypto import jwk, jws
    from jwcrypto.common import base64url_encode
    if alg.startswith("HS"):
        key = jwk.JWK(kty="oct", k=base64url_encode(key_bytes(alg)))
    else:
        key = jwk.JWK.from_pem(key_bytes(alg))
    t = jws.JWS()
    t.deserialize(token)
    t.verify(key, alg=alg)
    return json.loads(t.payload)


def with_authlib(alg, token):
    from authlib.jose import JsonWebSignature
    data = JsonWebSignature(algorithms=[alg]).deserialize_compact(
        token, key_bytes(alg))
    return json.loads(data["payload"])


def main():
    failures = 0
    lines = 0
    with open(sys.argv[1]) as f:
        for line in f:
            alg, token = line.split()
            lines += 1
            for name, check in (("pyjwt", with_pyjwt),
                                ("jwcrypto", with_jwcrypto),
                                ("authlib", with_authlib)):
                try:
                    claims = check(alg, token)
                    if claims.get("sub") != "interop":
                        raise ValueError("wrong claims %r" % claims)
                except Exception as e:  # report every library's refusal
                    failures += 1
                    print("%s refuses our %s token: %s: %s"
                          % (name, alg, type(e).__name__, e))
    print("%d tokens, %d refusals" % (lines, failures))
    sys.exit(1 if failures or lines == 0 else 0)


if __name__ == "__main__":
    main()
