"""authlib (Debian's python3-authlib) as the client of delegated
authorization, configured only from discovery
(/.well-known/openid-configuration): the code flow with PKCE S256 for a
public application (token_endpoint_auth_method none) and a confidential one
(client_secret_basic and client_secret_post), refresh, and the ID token
validated with authlib's own CodeIDToken rules against the key set the
discovery document points at. The person signs in with Basic and allows
the application on the consent page."""
import secrets
import urllib.parse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken, UserInfo

from authz_helpers import (CB, Person, authz_conf, make_people, query_of,
                           register)
from issuer_helpers import add_scopes, make_key


def discover(env):
    r = requests.get(env.url + "/.well-known/openid-configuration",
                     timeout=10)
    assert r.status_code == 200
    return r.json()


def validate_id_token(md, id_token, client_id, nonce):
    keys = JsonWebKey.import_key_set(
        requests.get(md["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        id_token, keys, claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": md["issuer"]}},
        claims_params={"nonce": nonce, "client_id": client_id})
    claims.validate()
    assert claims.header["alg"] in md["id_token_signing_alg_values_supported"]
    return claims


class TestAuthorizeAuthlib:
    ALLOWED_LOG_IDS = ()
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "RS256", "rs256.pem")
        make_people(env)
        cls.CONF = authz_conf(("RS256 keys/rs256.pem",))
        add_scopes(env, "read", "email", "profile")
        cls.APPS["public"] = register(env, "authlib SPA",
                                      scopes="read,email,profile")
        cls.APPS["confidential"] = register(env, "authlib web",
                                            type_="confidential",
                                            scopes="read,email,profile")

    @pytest.fixture(autouse=True)
    def _insecure(self, monkeypatch):
        # The test issuer is http://127.0.0.1; authlib wants https.
        monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")

    def flow(self, env, session, person, scope, **fetch):
        md = discover(env)
        verifier = generate_token(48)
        nonce = secrets.token_urlsafe(16)
        url, state = session.create_authorization_url(
            md["authorization_endpoint"], code_verifier=verifier,
            nonce=nonce)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert q["code_challenge_method"] == "S256"
        callback = Person(env, person).walk(url)
        assert query_of(callback)["iss"] == md["issuer"]
        token = session.fetch_token(md["token_endpoint"],
                                    authorization_response=callback,
                                    state=state, code_verifier=verifier,
                                    **fetch)
        return md, token, nonce

    def test_authorize_authlib_001_01_public_pkce(self, httpd):
        cid = self.APPS["public"][0]
        s = OAuth2Session(cid, token_endpoint_auth_method="none",
                          scope="openid email read offline_access",
                          redirect_uri=CB, code_challenge_method="S256")
        md, token, nonce = self.flow(httpd, s, "alice", None)
        assert token["token_type"] == "Bearer"
        assert set(token["scope"].split()) == {"openid", "email", "read",
                                               "offline_access"}
        claims = validate_id_token(md, token["id_token"], cid, nonce)
        assert claims["sub"] == "alice"
        assert claims["email"] == "alice@example.com"
        # userinfo with the session's own bearer header.
        info = UserInfo(s.get(md["userinfo_endpoint"], timeout=10).json())
        assert info["sub"] == "alice" and info["email"] == "alice@example.com"
        # Refresh, by the public client (client_id, no secret).
        old = token["refresh_token"]
        new = s.refresh_token(md["token_endpoint"])
        assert new["refresh_token"] != old
        assert s.get(md["userinfo_endpoint"], timeout=10).json()["sub"] == \
            "alice"

    @pytest.mark.parametrize("method", ["client_secret_basic",
                                        "client_secret_post"])
    def test_authorize_authlib_001_02_confidential(self, httpd, method):
        cid, secret = self.APPS["confidential"]
        s = OAuth2Session(cid, secret, token_endpoint_auth_method=method,
                          scope="openid profile read offline_access",
                          redirect_uri=CB, code_challenge_method="S256")
        md, token, nonce = self.flow(httpd, s, "bob", None)
        claims = validate_id_token(md, token["id_token"], cid, nonce)
        assert claims["sub"] == "bob" and claims["name"] == "Person-bob"
        assert "email" not in claims
        new = s.refresh_token(md["token_endpoint"])
        assert new["access_token"] != token["access_token"]

    def test_authorize_authlib_001_03_tampered_id_token_refused(self, httpd):
        """The validation above is real: another nonce, another audience
        or a changed payload fail it."""
        cid = self.APPS["public"][0]
        s = OAuth2Session(cid, token_endpoint_auth_method="none",
                          scope="openid", redirect_uri=CB,
                          code_challenge_method="S256")
        md, token, nonce = self.flow(httpd, s, "alice", None)
        with pytest.raises(Exception):
            validate_id_token(md, token["id_token"], cid, "other-nonce")
        with pytest.raises(Exception):
            validate_id_token(md, token["id_token"], "other-client", nonce)
        h, p, sig = token["id_token"].split(".")
        forged = ".".join([h, p[:-4] + ("AAAA" if p[-4:] != "AAAA"
                                        else "BBBB"), sig])
        with pytest.raises(Exception):
            validate_id_token(md, forged, cid, nonce)

    def test_authorize_authlib_001_04_state_mismatch_detected(self, httpd):
        """authlib refuses a callback whose state is not the session's: the
        server echoes state exactly, so this is the client's protection."""
        cid = self.APPS["public"][0]
        s = OAuth2Session(cid, token_endpoint_auth_method="none",
                          scope="read", redirect_uri=CB,
                          code_challenge_method="S256")
        md = discover(httpd)
        verifier = generate_token(48)
        url, state = s.create_authorization_url(
            md["authorization_endpoint"], code_verifier=verifier)
        callback = Person(httpd, "alice").walk(url)
        with pytest.raises(Exception):
            s.fetch_token(md["token_endpoint"],
                          authorization_response=callback,
                          state="not-" + state, code_verifier=verifier)
