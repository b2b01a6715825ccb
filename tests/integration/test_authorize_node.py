"""Node's openid-client (v5, which runs on Debian 12's Node 18) as a
relying party, configured by discovery: the code flow with PKCE for a
public application, the ID token checked by openid-client itself
(signature from jwks_uri, iss, aud, nonce; iss in the response, RFC 9207),
userinfo and refresh. The person signs in with Basic and allows the
application on the consent page. openid-client comes from the committed
package-lock.json (npm ci into tests/oidc-node/node_modules)."""
import json
import os
import shutil
import subprocess

import pytest

from authz_helpers import CB, Person, authz_conf, make_people, register
from issuer_helpers import add_scopes, make_key

NODE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                        "oidc-node"))


@pytest.fixture(scope="module")
def node_rp():
    node = shutil.which("node")
    assert node, "node is needed (scripts/install-deps.sh --tests)"
    version = subprocess.run([node, "--version"], capture_output=True,
                             text=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 18, version
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules",
                                      "openid-client")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                       cwd=NODE_DIR, check=True, capture_output=True,
                       timeout=300)

    def run(*args):
        r = subprocess.run([node, os.path.join(NODE_DIR, "rp.mjs")]
                           + list(args), capture_output=True, text=True,
                           timeout=60)
        return r.returncode, r.stdout, r.stderr
    return run


class TestAuthorizeNode:
    ALLOWED_LOG_IDS = ()

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        make_people(env)
        cls.CONF = authz_conf()
        add_scopes(env, "email")
        cls.CID = register(env, "Node app", scopes="email")[0]

    def start(self, httpd, node_rp):
        rc, out, err = node_rp("start", httpd.url, self.CID, CB)
        assert rc == 0, err
        return json.loads(out)

    def test_authorize_node_001_01_code_flow(self, httpd, node_rp):
        s = self.start(httpd, node_rp)
        assert "code_challenge_method=S256" in s["url"]
        callback = Person(httpd, "alice").walk(s["url"])
        rc, out, err = node_rp("finish", httpd.url, self.CID, CB, callback,
                               s["code_verifier"], s["nonce"], s["state"])
        assert rc == 0, err
        res = json.loads(out)
        assert res["claims"]["sub"] == "alice"
        assert res["claims"]["nonce"] == s["nonce"]
        assert res["claims"]["aud"] == self.CID
        assert res["claims"]["email"] == "alice@example.com"
        assert res["userinfo"] == {"sub": "alice",
                                   "email": "alice@example.com"}
        assert set(res["scope"].split()) == {"openid", "email",
                                             "offline_access"}
        assert res["refreshed"] == {"has_access_token": True,
                                    "rotated": True}

    def test_authorize_node_001_02_checks_are_real(self, httpd, node_rp):
        """openid-client refuses what does not hold: another state, another
        nonce, a wrong verifier, a denied request."""
        for change in ("state", "nonce", "verifier"):
            s = self.start(httpd, node_rp)
            callback = Person(httpd, "bob").walk(s["url"])
            args = [s["code_verifier"], s["nonce"], s["state"]]
            i = {"verifier": 0, "nonce": 1, "state": 2}[change]
            args[i] = args[i][:-2] + ("xx" if args[i][-2:] != "xx" else "yy")
            rc, _, err = node_rp("finish", httpd.url, self.CID, CB, callback,
                                 *args)
            assert rc == 1, change
            want = {"state": "state mismatch", "nonce": "nonce mismatch",
                    "verifier": "invalid_grant"}[change]
            assert want in err, (change, err)
        # Deny: openid-client reports the access_denied error.
        s = self.start(httpd, node_rp)
        p = Person(httpd, "carol")
        r = p.http.get(s["url"], allow_redirects=False, timeout=10)
        r = p.decide(r, "Deny")
        rc, _, err = node_rp("finish", httpd.url, self.CID, CB,
                             r.headers["Location"], s["code_verifier"],
                             s["nonce"], s["state"])
        assert rc == 1 and "access_denied" in err, err
