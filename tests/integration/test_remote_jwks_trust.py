"""AuthTokenTrustIssuer: a token is routed by its unverified iss to that
issuer's key set only (jwks=URL, jwks=PATH, discover), so one issuer's
keys never verify a token claiming another; discovery demands metadata for
exactly that issuer; a missing set makes only its issuer's tokens 503;
Keycloak- and Auth0-shaped key sets load; jku/x5u are never followed."""
import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from jwks_server import Signer, jwk_set
from remote_env import FETCH_FAILED, auth_params, httpd  # noqa: F401

A, B, C = "https://a.example", "https://b.example", "https://c.example"
KA, KB, KC = Signer("ka"), Signer("kb", "ES256"), Signer("kc")
KD, KF, KK, K0 = Signer("kd"), Signer("kf"), Signer("kk"), Signer("k0")
ENC = Signer("enc-1")


def x5c(signer):
    """A self-signed certificate of SIGNER's key, as x5c holds it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "realm")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(signer.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(signer.key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    thumb = base64.urlsafe_b64encode(
        cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()
    return [base64.b64encode(der).decode()], thumb


def keycloak_set():
    """What Keycloak's /realms/NAME/protocol/openid-connect/certs holds: an
    RS256 signing key with x5c/x5t/x5t#S256, and an RSA-OAEP encryption
    key."""
    chain, thumb = x5c(KK)
    sig = KK.public_jwk(**{"x5c": chain, "x5t": thumb,
                           "x5t#S256": thumb + "AA"})
    enc = ENC.public_jwk(alg="RSA-OAEP", use="enc")
    return json.dumps({"keys": [sig, enc]})


def auth0_set():
    """What https://TENANT.auth0.com/.well-known/jwks.json holds."""
    chain, thumb = x5c(K0)
    k = K0.public_jwk(x5c=chain, x5t=thumb)
    return json.dumps({"keys": [k]})


class TestTrustMap:
    ALLOWED_LOG_IDS = FETCH_FAILED

    @classmethod
    def configure(cls, env):
        ks = cls.ks = cls.key_server()
        ks.serve("/a", jwk_set(KA))
        ks.serve("/b", jwk_set(KB))
        ks.serve("/g", "", mode="fail")
        ks.serve("/kc", keycloak_set())
        ks.serve("/auth0", auth0_set())
        ks.serve("/evil", jwk_set(Signer("ka")))
        env.write_file("keys/c.jwks", jwk_set(KC))
        # Discovery: D by OpenID Connect, F by RFC 8414 only, E lies about
        # its name.
        cls.D, cls.E, cls.F = (ks.url("/realms/d"), ks.url("/realms/e"),
                               ks.url("/realms/f"))
        ks.serve("/d-keys", jwk_set(KD))
        ks.serve("/f-keys", jwk_set(KF))
        ks.serve("/realms/d/.well-known/openid-configuration",
                 {"issuer": cls.D, "jwks_uri": ks.url("/d-keys")})
        ks.serve("/realms/e/.well-known/openid-configuration",
                 {"issuer": cls.E + "/", "jwks_uri": ks.url("/d-keys")})
        ks.serve("/.well-known/oauth-authorization-server/realms/f",
                 {"issuer": cls.F, "jwks_uri": ks.url("/f-keys")})
        cls.G = "https://g.example"
        cls.KC_ISS, cls.AUTH0_ISS = ("https://kc.example/realms/demo",
                                     "https://tenant.auth0.com/")
        return """
AuthTokenFetchCA {root}/keys/fetch-ca.pem
AuthTokenJWKSMinRefetch 600
Alias /t "{root}/htdocs/api"
<Location /t>
    AuthType Bearer
    AuthName trusted
    AuthTokenTrustIssuer %(A)s jwks=%(ua)s
    AuthTokenTrustIssuer %(B)s jwks=%(ub)s
    AuthTokenTrustIssuer %(C)s jwks={root}/keys/c.jwks
    AuthTokenTrustIssuer %(D)s discover
    AuthTokenTrustIssuer %(E)s discover
    AuthTokenTrustIssuer %(F)s discover
    AuthTokenTrustIssuer %(G)s jwks=%(ug)s
    AuthTokenTrustIssuer %(KC)s jwks=%(ukc)s
    AuthTokenTrustIssuer %(AUTH0)s jwks=%(uauth0)s
    Require valid-user
</Location>
Alias /crossed "{root}/htdocs/api"
<Location /crossed>
    AuthType Bearer
    AuthName crossed
    AuthTokenTrustIssuer %(B)s jwks=%(ua)s
    Require valid-user
</Location>
""" % {"A": A, "B": B, "C": C, "D": cls.D, "E": cls.E, "F": cls.F,
           "G": cls.G, "KC": cls.KC_ISS, "AUTH0": cls.AUTH0_ISS,
           "ua": ks.url("/a"), "ub": ks.url("/b"), "ug": ks.url("/g"),
           "ukc": ks.url("/kc"), "uauth0": ks.url("/auth0")}

    def status(self, httpd, token, path="/t"):
        r = httpd.get(path + "/data.txt", token=token)
        return r.status_code, r

    @pytest.mark.parametrize("name", ["A", "B", "C", "D", "F", "KC",
                                      "AUTH0"])
    def test_trust_001_01(self, httpd, name):
        """Each issuer's own token is accepted: URL, file, OpenID Connect
        discovery, RFC 8414 discovery, Keycloak and Auth0 shaped sets."""
        signer, iss = {"A": (KA, A), "B": (KB, B), "C": (KC, C),
                       "D": (KD, self.D), "F": (KF, self.F),
                       "KC": (KK, self.KC_ISS),
                       "AUTH0": (K0, self.AUTH0_ISS)}[name]
        code, r = self.status(httpd, signer.token(iss))
        assert code == 200, r.headers

    @pytest.mark.parametrize("signer,iss", [
        (KA, B), (KB, A), (KC, A), (KA, C), (KD, "F"), (KK, "AUTH0")])
    def test_trust_001_02(self, httpd, signer, iss):
        """A token signed by one issuer's key but claiming another issuer
        is invalid_token, whatever its kid."""
        iss = {"F": self.F, "AUTH0": self.AUTH0_ISS}.get(iss, iss)
        code, r = self.status(httpd, signer.token(iss))
        assert code == 401
        assert auth_params(r.headers["WWW-Authenticate"])["error"] == \
            "invalid_token"

    def test_trust_001_03(self, httpd):
        """B's key with A's kid, claiming A: not verified."""
        code, _ = self.status(httpd, KB.token(A, kid="ka"))
        assert code == 401

    def test_trust_001_04(self, httpd):
        """An issuer not in the map, or no iss at all: rejected, with the
        reason."""
        for tok in (KA.token("https://other.example"), KA.token(None)):
            code, r = self.status(httpd, tok)
            assert code == 401
            desc = auth_params(r.headers["WWW-Authenticate"])[
                "error_description"]
            assert "issuer" in desc or "iss" in desc, desc

    def test_trust_001_05(self, httpd):
        """A token accepted (and cached) for A at /t is not accepted at
        /crossed, where A's keys serve B only."""
        tok = KA.token(A)
        assert self.status(httpd, tok)[0] == 200
        assert self.status(httpd, tok, "/crossed")[0] == 401
        assert self.status(httpd, KA.token(B), "/crossed")[0] == 200

    def test_trust_001_06(self, httpd):
        """Metadata naming another issuer (even by a trailing slash) gives
        no keys: E's tokens are 503, logged with the reason."""
        code, r = self.status(httpd, KD.token(self.E))
        assert code == 503
        assert "Retry-After" in r.headers
        lines = [l for l in httpd.log_lines("AT01153") if self.E in l]
        assert lines and "not the trusted one" in lines[0], lines

    def test_trust_001_07(self, httpd):
        """G's set was never obtained: G's tokens 503, A's still 200."""
        assert self.status(httpd, KA.token(self.G))[0] == 503
        assert self.status(httpd, KA.token(A))[0] == 200

    def test_trust_001_08(self, httpd):
        """jku and x5u headers are never followed."""
        evil = Signer("ka")
        for h in ("jku", "x5u"):
            import jwt
            tok = jwt.encode({"iss": A, "sub": "x", "exp": 2 ** 31},
                             evil.jwk.export_to_pem(True, None),
                             algorithm="RS256",
                             headers={"kid": "ka", h: self.ks.url("/evil")})
            assert self.status(httpd, tok)[0] == 401
        assert self.ks.count("/evil") == 0

    def test_trust_001_09(self, httpd):
        """Discovery fetched each issuer's metadata and set once; unknown
        kids add at most one fetch per AuthTokenJWKSMinRefetch (600 s)."""
        assert self.ks.count("/realms/d/.well-known/openid-configuration") \
            == 1
        assert self.ks.count("/d-keys") == 1
        assert self.ks.count("/realms/f/.well-known/openid-configuration") \
            >= 1  # tried first: 404, then the RFC 8414 place
        for i in range(5):
            assert self.status(httpd, KF.token(self.F, kid="new-%d" % i))[0] \
                == 401
        assert self.ks.count("/f-keys") == 2
