"""Configuration mistakes stop `apachectl configtest` with the file, the
line and what to change; correct configurations that look alike pass.
Also AuthTokenVerifyLocal's rules for this server's own tokens."""
import json
import os
import time

import pytest
from jwcrypto import jwk

from httpd_env import HttpdEnv
from resource_tokens import (AUTHZ_LOG_IDS, ISSUER, auth_params, b64u,
                             challenge, claims, keys, line_of, mint,
                             no_token_in_log, write_keys)  # noqa: F401


def bearer(*lines, path="/api"):
    return "<Location %s>\n    AuthType Bearer\n    %s\n    " \
           "Require valid-user\n</Location>\n" % (path, "\n    ".join(lines))


@pytest.fixture(scope="module")
def cenv():
    """One server root for the configtest cases (never started)."""
    env = HttpdEnv()
    write_keys(env)
    os.makedirs(env.path("keys/adir"), exist_ok=True)
    env.write_file("keys/oct-noalg.jwks", json.dumps(
        {"keys": [{"kty": "oct", "k": b64u(os.urandom(32))}]}))
    env.write_file("keys/notjson.jwks", "{keys: [")
    env.write_file("keys/empty.jwks", '{"keys": []}')
    env.write_file("keys/ec-as-rs.jwks", json.dumps({"keys": [dict(
        json.loads(jwk.JWK.from_pem(keys()["ec256"][1].encode())
                   .export_public()), alg="RS256")]}))
    yield env
    env.cleanup()


KEY = "AuthTokenVerifyKey HS256 {root}/keys/hs256.key"

BAD = [
    # (id, config fragment, needle on the offending line, message parts)
    ("alg-unknown", bearer("AuthTokenVerifyKey XS256 {root}/keys/hs256.key"),
     "XS256", ["unknown algorithm 'XS256'", "HS256", "EdDSA"]),
    ("alg-case", bearer("AuthTokenVerifyKey hs256 {root}/keys/hs256.key"),
     "hs256 ", ["unknown algorithm", "case-sensitive"]),
    ("alg-none", bearer("AuthTokenVerifyKey none {root}/keys/hs256.key"),
     "none", ["unknown algorithm"]),
    ("file-missing", bearer("AuthTokenVerifyKey HS256 {root}/keys/nope"),
     "keys/nope", ["does not exist", "fix the path"]),
    ("file-dir", bearer("AuthTokenVerifyKey HS256 {root}/keys/adir"),
     "keys/adir", ["not a regular file"]),
    ("rsa-weak", bearer("AuthTokenVerifyKey RS256 {root}/keys/rsa1024.pub"),
     "rsa1024", ["cannot serve", "2048"]),
    ("hs-short", bearer("AuthTokenVerifyKey HS256 {root}/keys/hs_short.key"),
     "hs_short", ["cannot serve", "raw secret"]),
    ("hs512-short", bearer("AuthTokenVerifyKey HS512 {root}/keys/hs256.key"),
     "HS512", ["cannot serve", "hash output"]),
    ("ec-for-rs", bearer("AuthTokenVerifyKey RS256 {root}/keys/ec256.pub"),
     "ec256.pub", ["cannot serve", "RS256"]),
    ("p384-for-es256",
     bearer("AuthTokenVerifyKey ES256 {root}/keys/ec384.pub"),
     "ec384.pub", ["cannot serve", "curve"]),
    ("ed-for-es",
     bearer("AuthTokenVerifyKey ES256 {root}/keys/ed25519.pub"),
     "ed25519.pub", ["cannot serve"]),
    ("rsa-for-eddsa",
     bearer("AuthTokenVerifyKey EdDSA {root}/keys/rsa.pub"),
     "rsa.pub", ["cannot serve"]),
    ("kid-empty", bearer(KEY + " kid="), "kid=", ["kid= needs a key id"]),
    ("kid-syntax", bearer(KEY + " id=k1"), "id=k1", ["kid=ID"]),
    ("too-many", bearer(KEY + " kid=a extra"), "extra",
     ["takes ALG PATH [kid=ID]"]),
    ("leeway-neg", bearer(KEY, "AuthTokenLeeway -1"), "Leeway",
     ["AuthTokenLeeway", "seconds"]),
    ("leeway-word", bearer(KEY, "AuthTokenLeeway soon"), "Leeway",
     ["AuthTokenLeeway"]),
    ("leeway-huge", bearer(KEY, "AuthTokenLeeway 9999999"), "Leeway",
     ["AuthTokenLeeway"]),
    ("jwks-oct-noalg", bearer("AuthTokenJWKS {root}/keys/oct-noalg.jwks"),
     "oct-noalg", ["AuthTokenJWKS", "oct keys always need alg"]),
    ("jwks-notjson", bearer("AuthTokenJWKS {root}/keys/notjson.jwks"),
     "notjson", ["AuthTokenJWKS"]),
    ("jwks-empty", bearer("AuthTokenJWKS {root}/keys/empty.jwks"),
     "empty.jwks", ["AuthTokenJWKS"]),
    ("jwks-mismatch", bearer("AuthTokenJWKS {root}/keys/ec-as-rs.jwks"),
     "ec-as-rs", ["AuthTokenJWKS"]),
    ("jwks-missing", bearer("AuthTokenJWKS {root}/keys/none.jwks"),
     "none.jwks", ["does not exist"]),
    ("no-key", bearer("AuthName x"), "AuthType Bearer",
     ["AT00010", "AuthType Bearer", "AuthTokenVerifyKey",
      "AuthTokenJWKS", "AuthTokenVerifyLocal On"]),
    ("no-key-nested", "<Location /a/b>\n    " + KEY + "\n</Location>\n"
     + bearer("AuthName x", path="/a"), "AuthType Bearer", ["AT00010"]),
    ("no-key-other-vhost",
     "<VirtualHost 127.0.0.1:{port}>\n" + bearer(KEY) + "</VirtualHost>\n"
     "<VirtualHost 127.0.0.2:{port}>\n    ServerName other.test\n"
     "    <Location /x>\n    AuthType  Bearer\n    Require valid-user\n"
     "    </Location>\n</VirtualHost>\n", "AuthType  Bearer", ["AT00010"]),
    ("no-key-ifmodule", "<Location /api>\n    <IfModule auth_token_module>"
     "\n    AuthType Bearer\n    </IfModule>\n    Require valid-user\n"
     "</Location>\n", "AuthType Bearer", ["AT00010"]),
    ("no-key-quoted", bearer("AuthName x").replace("AuthType Bearer",
                                                   'AuthType "Bearer"'),
     "AuthType", ["AT00010"]),
    ("local-no-issuer", bearer("AuthTokenVerifyLocal On"),
     "VerifyLocal", ["AT00011", "AuthTokenIssuerName",
                     "AuthTokenSigningKey"]),
    ("revocation-no-registry", bearer(KEY, "AuthTokenRevocationCheck On"),
     "RevocationCheck", ["AT00012", "AuthTokenRegistry"]),
    ("env-prefix", bearer(KEY, "AuthTokenClaimsEnv X-Y"), "ClaimsEnv",
     ["AuthTokenClaimsEnv", "letters, digits and '_'"]),
    ("env-digit", bearer(KEY, "AuthTokenClaimsEnv 1X"), "ClaimsEnv",
     ["cannot start with a digit"]),
    ("header-on", bearer(KEY, "AuthTokenClaimsHeader On"), "ClaimsHeader",
     ["X-Token-"]),
    ("header-prefix", bearer(KEY, "AuthTokenClaimsHeader X_T"),
     "ClaimsHeader", ["letters, digits and '-'"]),
    ("typ-empty", bearer(KEY, 'AuthTokenRequireTyp ""'), "RequireTyp",
     ["AuthTokenRequireTyp"]),
    ("claim-one-arg", bearer(KEY, "Require token-claim role"),
     "token-claim", ["token-claim needs a claim name and at least one"]),
    ("claim-bad-path", bearer(KEY, "Require token-claim a..b x"),
     "token-claim", ["dotted path"]),
    ("endpoint-name", "AuthTokenEndpointURL tokens https://a.example/t\n",
     "tokens", ["unknown endpoint 'tokens'", "introspect"]),
    ("endpoint-url", "AuthTokenEndpointURL token /oauth/token\n",
     "EndpointURL", ["absolute"]),
    ("issuer-name", "AuthTokenIssuerName auth.example.com\n",
     "IssuerName", ["absolute https://"]),
    ("access-zero", "AuthTokenAccessLifetime 0\n", "AccessLifetime",
     ["from 1 to"]),
    ("refresh-word", "AuthTokenRefreshLifetime month\n", "RefreshLifetime",
     ["from 1 to"]),
    ("signing-public", "AuthTokenSigningKey ES256 {root}/keys/ec256.pub\n",
     "SigningKey", ["AuthTokenSigningKey"]),
    ("signing-dup-kid",
     "AuthTokenSigningKey ES256 {root}/keys/ec256.key kid=a\n"
     "AuthTokenSigningKey ES384 {root}/keys/ec384.key kid=a\n",
     "ec384.key", ["kid 'a' is already used"]),
    ("registry-driver", "AuthTokenRegistry bad-driver! x\n",
     "AuthTokenRegistry", ["apr_dbd driver"]),
    ("cache-word", "AuthTokenVerifyCache lots\n", "VerifyCache",
     ["AuthTokenVerifyCache"]),
]


class TestConfigErrors:

    @pytest.mark.parametrize("conf,needle,parts",
                             [c[1:] for c in BAD], ids=[c[0] for c in BAD])
    def test_config_500_01(self, cenv, conf, needle, parts):
        cenv.install(conf)
        ok, out = cenv.configtest()
        assert not ok, out
        line = line_of(cenv, needle)
        conf_file = cenv.path("conf/httpd.conf")
        assert ("line %d of %s" % (line, conf_file)) in out, out
        for p in parts:
            assert p in out, out
        # key material is never echoed
        for name in ("hs256", "hs_short"):
            assert keys()[name][0].decode() not in out

    GOOD = [
        ("key-same", bearer(KEY)),
        ("key-enclosing", "<Location /a>\n    " + KEY + "\n</Location>\n"
         + bearer("AuthName x", path="/a/b")),
        ("key-top", KEY + "\n" + bearer("AuthName x")),
        ("key-directory", "<Directory {root}/htdocs>\n    " + KEY
         + "\n</Directory>\n" + bearer("AuthName x")),
        ("key-vhost-top", "<VirtualHost 127.0.0.1:{port}>\n    " + KEY
         + "\n" + bearer("AuthName x") + "</VirtualHost>\n"),
        ("key-main-location-for-vhost",
         "<Location /api>\n    " + KEY + "\n</Location>\n"
         "<VirtualHost 127.0.0.1:{port}>\n" + bearer("AuthName x")
         + "</VirtualHost>\n"),
        ("key-if", bearer(KEY, "<If \"-n %{HTTP:X}\">\n    AuthType Bearer"
                          "\n    </If>")),
        ("jwks", bearer("AuthTokenJWKS {root}/keys/good.jwks")),
        ("all-algs", bearer(*["AuthTokenVerifyKey %s {root}/keys/%s" % (a, f)
                              for a, f in [
                                  ("HS256", "hs256.key"),
                                  ("HS384", "hs384.key"),
                                  ("HS512", "hs512.key"),
                                  ("RS256", "rsa.pub"), ("PS512", "rsa.pub"),
                                  ("ES256", "ec256.pub"),
                                  ("ES384", "ec384.pub"),
                                  ("ES512", "ec521.pub"),
                                  ("EdDSA", "ed25519.pub")]])),
        ("local", "AuthTokenIssuerName https://auth.example.com\n"
         "AuthTokenSigningKey ES256 {root}/keys/ec256.key\n"
         + bearer("AuthTokenVerifyLocal On")),
        ("issuer-directives",
         "AuthTokenIssuerName https://auth.example.com/\n"
         "AuthTokenSigningKey EdDSA {root}/keys/ed25519.key kid=ed1\n"
         "AuthTokenSigningKey HS256 {root}/keys/hs256.key\n"
         "AuthTokenEndpointURL token https://auth.example.com/t\n"
         "AuthTokenAccessLifetime 300\nAuthTokenRefreshLifetime 86400\n"
         "AuthTokenVerifyCache Off\n"),
        ("key-ifmodule", "<Location /api>\n    <IfModule auth_token_module>"
         "\n    " + KEY + "\n    </IfModule>\n    AuthType Bearer\n"
         "    Require valid-user\n</Location>\n"),
        ("key-quoted-bearer", bearer(KEY).replace("AuthType Bearer",
                                                  'AuthType "bearer"')),
        ("no-bearer", "<Location /x>\n    AuthType Basic\n"
         "    Require valid-user\n</Location>\n"),
    ]

    @pytest.mark.parametrize("conf", [g[1] for g in GOOD],
                             ids=[g[0] for g in GOOD])
    def test_config_510_01(self, cenv, conf):
        cenv.write_file("keys/good.jwks", json.dumps({"keys": [dict(
            json.loads(jwk.JWK.from_pem(keys()["ec256"][1].encode())
                       .export_public()), kid="e1")]}))
        cenv.install(conf)
        ok, out = cenv.configtest()
        assert ok, out


def thumbprint(pub_pem):
    return jwk.JWK.from_pem(pub_pem.encode()).thumbprint()


class TestVerifyLocal:
    """Tokens verified by this server's signing keys: the kid is bound,
    iss must be AuthTokenIssuerName and typ at+jwt; the location's own keys
    keep their own rules."""
    CONF = """
AuthTokenIssuerName https://auth.example.com
AuthTokenSigningKey ES256 {root}/keys/ec256.key
AuthTokenSigningKey RS256 {root}/keys/rsa.key kid=r1
Alias /local {root}/htdocs/api
<Location /local>
    AuthType Bearer
    AuthName local
    AuthTokenVerifyLocal On
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenIssuer https://partner.example
    Require valid-user
</Location>
Alias /off {root}/htdocs/api
<Location /off>
    AuthType Bearer
    AuthName off
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    Require valid-user
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def local(self, alg="ES256", key="ec256", kid="thumb", typ="at+jwt",
              **over):
        h = {"typ": typ} if typ else {}
        if kid == "thumb":
            kid = thumbprint(keys()[key][1])
        if kid:
            h["kid"] = kid
        c = dict({"iss": ISSUER, "client_id": "c1"}, **over)
        return mint(alg, key=key, headers=h, **c)

    @pytest.mark.parametrize("kw,status", [
        ({}, 200),
        ({"alg": "RS256", "key": "rsa", "kid": "r1"}, 200),
        ({"typ": "JWT"}, 401),
        ({"typ": None}, 401),
        ({"typ": "application/at+jwt"}, 200),   # RFC 7515 4.1.9
        ({"typ": "AT+JWT"}, 200),
        ({"iss": "https://partner.example"}, 401),
        ({"iss": "https://auth.example.com/"}, 401),
        ({"kid": None}, 401),              # signing keys carry a kid
        ({"kid": "r1"}, 401),              # kid of the other key
        ({"key": "ec256_other"}, 401),
        ({"alg": "RS256", "key": "rsa", "kid": None}, 401),
        ({"exp": 1}, 401),
    ])
    def test_local_520_01(self, httpd, kw, status):
        tok = self.local(**kw)
        r = httpd.get("/local/data.txt", token=tok)
        assert r.status_code == status
        if status == 401:
            assert auth_params(challenge(r))["error"] == "invalid_token"

    def test_local_520_02(self, httpd):
        """The location's own keys keep the location's rules."""
        tok = mint("HS256", iss="https://partner.example")
        assert httpd.get("/local/data.txt", token=tok).status_code == 200
        tok = mint("HS256", iss=ISSUER)
        assert httpd.get("/local/data.txt", token=tok).status_code == 401

    def test_local_520_03(self, httpd):
        """Without VerifyLocal the server's keys do not verify."""
        r = httpd.get("/off/data.txt", token=self.local())
        assert r.status_code == 401
        assert time.time()  # nothing else to wait for


class TestMerge:
    """Nested sections: what the inner one sets wins, the rest is
    inherited; lists are replaced; the parent is never changed by a
    child."""
    CONF = """
<Location /api>
    AuthType Bearer
    AuthName parent
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenIssuer https://auth.example.com
    AuthTokenAudience orders-api
    AuthTokenLeeway 0
    AuthTokenUserClaim email
    AuthTokenRequireTyp at+jwt
    Header always set X-User "expr=%{REMOTE_USER}"
    Require valid-user
</Location>
<Location /api/child>
    AuthName child
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub
    AuthTokenAudience billing
    AuthTokenUserClaim sub
</Location>
"""
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        env.write_file("htdocs/api/child/data.txt", "child\n")

    def tok(self, alg="HS256", **over):
        c = dict({"email": "e@example.com"}, **over)
        return mint(alg, headers={"typ": "at+jwt"}, **c)

    def test_merge_530_01(self, httpd):
        r = httpd.get("/api/data.txt", token=self.tok())
        assert r.status_code == 200
        assert r.headers["X-User"] == "e@example.com"

    def test_merge_530_02(self, httpd):
        """The child's keys replace the parent's."""
        r = httpd.get("/api/child/data.txt",
                      token=self.tok("ES256", aud="billing"))
        assert r.status_code == 200
        assert r.headers["X-User"] == "alice"
        r = httpd.get("/api/child/data.txt", token=self.tok(aud="billing"))
        assert r.status_code == 401

    @pytest.mark.parametrize("over,status", [
        ({"aud": "orders-api"}, 401),          # audiences replaced
        ({"aud": "billing", "iss": "https://x.example"}, 401),  # inherited
        ({"aud": "billing", "exp": -5}, 401),  # leeway 0 inherited
    ])
    def test_merge_530_03(self, httpd, over, status):
        if over.get("exp"):
            over["exp"] = int(time.time()) + over["exp"]
        r = httpd.get("/api/child/data.txt", token=self.tok("ES256", **over))
        assert r.status_code == status

    def test_merge_530_04(self, httpd):
        """typ rule inherited; the realm is the child's."""
        tok = mint("ES256", headers={"typ": "JWT"}, aud="billing")
        r = httpd.get("/api/child/data.txt", token=tok)
        assert r.status_code == 401
        assert auth_params(challenge(r))["realm"] == "child"

    def test_merge_530_05(self, httpd):
        """The parent is unchanged by its child."""
        r = httpd.get("/api/data.txt", token=self.tok("ES256"))
        assert r.status_code == 401
        r = httpd.get("/api/data.txt", token=self.tok(aud="billing"))
        assert r.status_code == 401


class TestHtaccess:
    """AuthType Bearer and the rule directives in .htaccess (AllowOverride
    AuthConfig); keys only from the server configuration."""
    CONF = """
<Directory {root}/htdocs/ht>
    AllowOverride AuthConfig
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
</Directory>
<Directory {root}/htdocs/nokey>
    AllowOverride AuthConfig
</Directory>
<Directory {root}/htdocs/badkey>
    AllowOverride AuthConfig
</Directory>
"""
    # the two broken .htaccess files are logged at error/alert
    ALLOWED_LOG_IDS = AUTHZ_LOG_IDS + ("AT00104",
                                       "AuthTokenVerifyKey not allowed here")

    @classmethod
    def setup_env(cls, env):
        write_keys(env)
        env.write_file("htdocs/ht/data.txt", "ht\n")
        env.write_file("htdocs/ht/.htaccess",
                       "AuthType Bearer\nAuthName ht\n"
                       "AuthTokenAudience orders-api\n"
                       "AuthTokenClaimsEnv HT_\n"
                       "Require token-scope orders:read\n")
        env.write_file("htdocs/nokey/data.txt", "nokey\n")
        env.write_file("htdocs/nokey/.htaccess",
                       "AuthType Bearer\nRequire valid-user\n")
        env.write_file("htdocs/badkey/data.txt", "badkey\n")
        env.write_file("htdocs/badkey/.htaccess",
                       "AuthType Bearer\nAuthTokenVerifyKey HS256 "
                       + env.path("keys/hs256.key") + "\nRequire valid-user\n")

    def test_htaccess_540_01(self, httpd):
        assert httpd.get("/ht/data.txt", token=mint()).status_code == 200
        assert httpd.get("/ht/data.txt",
                         token=mint(aud="other")).status_code == 401
        r = httpd.get("/ht/data.txt", token=mint(scope="x"))
        assert auth_params(challenge(r))["error"] == "insufficient_scope"

    def test_htaccess_540_02(self, httpd):
        """No key reaches it: 500, logged with the fix."""
        r = httpd.get("/nokey/data.txt", token=mint())
        assert r.status_code == 500
        assert "AT00104" in httpd.read_log()

    def test_htaccess_540_03(self, httpd):
        """Key files are not read from .htaccess."""
        r = httpd.get("/badkey/data.txt", token=mint())
        assert r.status_code == 500
        assert "AuthTokenVerifyKey not allowed here" in httpd.read_log()
