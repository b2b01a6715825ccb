"""A private httpd for the browser tests: the module with its issuer, a
protected /api location, and the console at /admin/ behind Basic auth.
Reuses tests/integration/httpd_env.py.

    server.py start ENVFILE   starts it; writes url, operator, password,
                              root and registry to ENVFILE (JSON)
    server.py stop ENVFILE    stops it by its pid file and removes it;
                              fails on unexpected error-log lines
"""
import json
import os
import secrets
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from httpd_env import HttpdEnv, TOKEN_ADMIN  # noqa: E402

ADMIN = os.environ.get("AT_TOKEN_ADMIN") or TOKEN_ADMIN

CONF = """
AuthTokenRegistry {root}/var/registry.db
AuthTokenIssuerName http://127.0.0.1:{port}
AuthTokenSigningKey ES256 {root}/keys/issuer-es256.pem kid=k1
<Location /oauth/token>
    SetHandler oauth-token
</Location>

<Location /api>
    AuthType Bearer
    AuthName "orders-api"
    AuthTokenVerifyLocal On
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>

# The same documents where revoked tokens are refused.
Alias /checked "{root}/htdocs/api"
<Location /checked>
    AuthType Bearer
    AuthName "checked"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>

# The console: token-admin as a CGI behind Basic auth, its stylesheet and
# script served from htdocs/.
ScriptAlias /admin "%(admin)s"
<Location /admin>
    AuthType Basic
    AuthName "token-admin"
    AuthBasicProvider file
    AuthUserFile "{root}/conf/operators.passwd"
    Require valid-user
    SetEnv AUTH_TOKEN_REGISTRY {root}/var/registry.db
    SetEnv AUTH_TOKEN_CONSOLE_HTDOCS "%(htdocs)s"
</Location>
Alias /console-assets "%(htdocs)s"
<Directory "%(htdocs)s">
    Require all granted
</Directory>
<Directory "%(admin_dir)s">
    Require all granted
</Directory>
"""


class Existing(HttpdEnv):
    """An HttpdEnv started by an earlier `start`, found by its root."""

    def __init__(self, root):
        self.root = root
        self.running = True


def start(envfile):
    env = HttpdEnv()
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out",
                    env.path("keys/issuer-es256.pem")],
                   check=True, capture_output=True)
    os.chmod(env.path("keys/issuer-es256.pem"), 0o644)
    password = secrets.token_urlsafe(18)
    subprocess.run(["htpasswd", "-cbB", env.path("conf/operators.passwd"),
                    "operator", password], check=True, capture_output=True)
    os.chmod(env.path("conf/operators.passwd"), 0o644)
    env.install(CONF % {"admin": ADMIN, "admin_dir": os.path.dirname(ADMIN),
                        "htdocs": os.path.join(REPO, "htdocs")})
    env.start()
    with open(envfile, "w") as f:
        json.dump({"url": env.url, "operator": "operator",
                   "password": password, "root": env.root,
                   "registry": env.path("var/registry.db")}, f)


def stop(envfile):
    with open(envfile) as f:
        root = json.load(f)["root"]
    env = Existing(root)
    log = env.read_log()
    env.stop()
    # Keep the error log with the artifacts for whoever reads a failure.
    art = os.path.join(REPO, "tests", "artifacts")
    os.makedirs(art, exist_ok=True)
    with open(os.path.join(art, "browser-httpd-error_log"), "w") as f:
        f.write(log)
    shutil.rmtree(root, ignore_errors=True)
    # The console's own refusals (AT00805) are expected; anything else at
    # warn or worse, or a crash, fails the run.
    bad = env.log_problems(log, allowed=("AT00805",))
    if bad:
        sys.exit("unexpected error-log lines:\n" + "\n".join(bad))


if __name__ == "__main__":
    {"start": start, "stop": stop}[sys.argv[1]](sys.argv[2])
