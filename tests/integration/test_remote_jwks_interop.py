"""Interop with our own issuer: its access tokens are accepted by a
location that fetches the issuer's JWK Set by URL (oauth-jwks, published
at /.well-known/jwks.json) and by one that trusts the issuer by discovery
(oauth-metadata at /.well-known/openid-configuration, or only at the RFC
8414 place /.well-known/oauth-authorization-server)."""
import pytest

from issuer_helpers import add_app, add_scopes, make_key, token_request
from jwks_server import Signer, jwk_set
from remote_env import httpd  # noqa: F401

OTHER = Signer("other-1")

ISSUER_CONF = """
AuthTokenRegistry {root}/var/registry.db
AuthTokenIssuerName http://127.0.0.1:{port}
AuthTokenSigningKey ES256 {root}/keys/es256.pem kid=es1
AuthTokenEndpointURL jwks http://127.0.0.1:{port}/.well-known/jwks.json
<Location /oauth/token>
    SetHandler oauth-token
</Location>
<Location /.well-known/jwks.json>
    SetHandler oauth-jwks
</Location>
<Location %(metadata)s>
    SetHandler oauth-metadata
</Location>
Alias /byurl "{root}/htdocs/api"
<Location /byurl>
    AuthType Bearer
    AuthName byurl
    AuthTokenJWKS http://127.0.0.1:{port}/.well-known/jwks.json
    AuthTokenIssuer http://127.0.0.1:{port}
    Require token-scope read
</Location>
Alias /bydiscovery "{root}/htdocs/api"
<Location /bydiscovery>
    AuthType Bearer
    AuthName bydiscovery
    AuthTokenTrustIssuer http://127.0.0.1:{port} discover
    Require token-scope read
</Location>
Alias /mixed "{root}/htdocs/api"
<Location /mixed>
    AuthType Bearer
    AuthName mixed
    AuthTokenTrustIssuer https://other.example jwks={root}/keys/other.jwks
    AuthTokenVerifyLocal On
    Require token-scope read
</Location>
"""


class OwnIssuer:
    METADATA = None
    APPS = {}

    @classmethod
    def configure(cls, env):
        make_key(env, "ES256", "es256.pem")
        env.write_file("keys/other.jwks", jwk_set(OTHER))
        add_scopes(env, "read")
        cls.APPS["reader"] = add_app(env, "reader", scopes="read")
        return ISSUER_CONF % {"metadata": cls.METADATA}

    def token(self, httpd):
        r = token_request(httpd, {"grant_type": "client_credentials",
                                  "scope": "read"},
                          auth=self.APPS["reader"])
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    @pytest.mark.parametrize("where", ["/byurl", "/bydiscovery"])
    def test_interop_001_01(self, httpd, where):
        tok = self.token(httpd)
        r = httpd.get(where + "/data.txt", token=tok)
        assert r.status_code == 200, (r.status_code, r.headers)
        assert r.text == "protected data\n"

    def test_interop_001_03(self, httpd):
        """Trusted issuers plus AuthTokenVerifyLocal On: this server's
        tokens and the other issuer's are accepted, each only under its own
        name."""
        port = httpd.port
        assert httpd.get("/mixed/data.txt",
                         token=self.token(httpd)).status_code == 200
        other = OTHER.token("https://other.example", scope="read")
        assert httpd.get("/mixed/data.txt", token=other).status_code == 200
        claiming_us = OTHER.token("http://127.0.0.1:%d" % port, scope="read")
        assert httpd.get("/mixed/data.txt",
                         token=claiming_us).status_code == 401

    def test_interop_001_02(self, httpd):
        """A token the issuer did not sign is refused at both."""
        tok = self.token(httpd)
        h, p, s = tok.split(".")
        forged = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
        for where in ("/byurl", "/bydiscovery"):
            assert httpd.get(where + "/data.txt",
                             token=forged).status_code == 401


class TestOpenIDConfiguration(OwnIssuer):
    METADATA = "/.well-known/openid-configuration"


class TestAuthorizationServerMetadata(OwnIssuer):
    METADATA = "/.well-known/oauth-authorization-server"
