"""Token sizes (docs/resource-server.md): an Authorization header over
httpd's LimitRequestFieldSize (8190 bytes by default) gets httpd's own 400
before the module sees it; raised, such a token is checked as any other,
up to the module's own limit of 16 KiB for the token itself."""
import pytest

from resource_tokens import (auth_params, challenge, mint, no_token_in_log,
                             write_keys)  # noqa: F401

LOCATION = """
<Location /api>
    AuthType Bearer
    AuthName sizes
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    Require valid-user
</Location>
"""


def token_of_size(n):
    """A valid token of about N bytes (a padding claim)."""
    base = len(mint(pad=""))
    # base64url: 4 characters per 3 bytes of the claim
    tok = mint(pad="x" * ((n - base) * 3 // 4))
    assert abs(len(tok) - n) < 8, len(tok)
    return tok


class TestDefaultFieldLimit:
    CONF = LOCATION

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    def test_size_800_01(self, httpd):
        """Under 8190 bytes: the module's answer."""
        r = httpd.get("/api/data.txt", token=token_of_size(8000))
        assert r.status_code == 200

    def test_size_800_02(self, httpd):
        """Over it: httpd's 400, no Bearer challenge, nothing from us."""
        r = httpd.get("/api/data.txt", token=token_of_size(9000))
        assert r.status_code == 400
        assert challenge(r) is None
        assert "AT001" not in httpd.new_log()


class TestRaisedFieldLimit:
    CONF = "LimitRequestFieldSize 20000\n" + LOCATION

    @classmethod
    def setup_env(cls, env):
        write_keys(env)

    @pytest.mark.parametrize("size", [9000, 16000])
    def test_size_810_01(self, httpd, size):
        """Raised in the server configuration: larger tokens pass."""
        r = httpd.get("/api/data.txt", token=token_of_size(size))
        assert r.status_code == 200

    def test_size_810_02(self, httpd):
        """Over 16 KiB the module refuses the token itself."""
        r = httpd.get("/api/data.txt", token=token_of_size(17000))
        assert r.status_code == 401
        p = auth_params(challenge(r))
        assert p["error"] == "invalid_token"
        assert "AT00103" in httpd.new_log()
