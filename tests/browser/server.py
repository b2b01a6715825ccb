"""A private httpd for the browser tests: the module with its issuer, a
protected /api location, and the console at /admin/ behind Basic auth, on
a fresh registry. Reuses tests/integration/httpd_env.py.

httpd's children run as www-data, which may not enter the clone (a clone
in /root is mode 0700): the CGI binary and the console's templates and
assets are copied into the server's own root, which it can read.

    python3 tests/browser/server.py    starts one for a person to look at
                                       (an empty console), prints its
                                       address and operator, stops on Enter
"""
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
OPERATOR = "operator"

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
# script served from its htdocs, both staged under the server root.
ScriptAlias /admin "{root}/console/token-admin"
<Location /admin>
    AuthType Basic
    AuthName "token-admin"
    AuthBasicProvider file
    AuthUserFile "{root}/conf/operators.passwd"
    Require valid-user
    SetEnv AUTH_TOKEN_REGISTRY {root}/var/registry.db
    SetEnv AUTH_TOKEN_CONSOLE_HTDOCS "{root}/console/htdocs"
</Location>
Alias /console-assets "{root}/console/htdocs"
<Directory "{root}/console">
    Require all granted
</Directory>
"""


class Server:
    """One running server: url, operator, password, root, registry."""

    def __init__(self, env, password):
        self.env = env
        self.url = env.url
        self.operator = OPERATOR
        self.password = password
        self.root = env.root
        self.registry = env.path("var/registry.db")

    def admin(self, *args):
        """token-admin on this server's registry (as the registry's owner);
        the completed process."""
        return subprocess.run([ADMIN, "--registry", self.registry,
                               "--actor", "cli"] + list(args),
                              capture_output=True, text=True, timeout=30)

    def log_problems(self):
        """Error-log lines at warn or worse, or crashes; the console's own
        CSRF refusals (AT00805) are expected."""
        return self.env.log_problems(self.env.read_log(),
                                     allowed=("AT00805",))


def stage(env):
    """Copies the CGI and its htdocs where www-data can read them."""
    dest = env.path("console")
    os.makedirs(dest, exist_ok=True)
    shutil.copy2(ADMIN, os.path.join(dest, "token-admin"))
    shutil.copytree(os.path.join(REPO, "htdocs"),
                    os.path.join(dest, "htdocs"), dirs_exist_ok=True)
    for top, dirs, files in os.walk(dest):
        os.chmod(top, 0o755)
        for f in files:
            p = os.path.join(top, f)
            os.chmod(p, 0o755 if f == "token-admin" else 0o644)


def start():
    env = HttpdEnv()
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out",
                    env.path("keys/issuer-es256.pem")],
                   check=True, capture_output=True)
    os.chmod(env.path("keys/issuer-es256.pem"), 0o644)
    password = secrets.token_urlsafe(18)
    subprocess.run(["htpasswd", "-cbB", env.path("conf/operators.passwd"),
                    OPERATOR, password], check=True, capture_output=True)
    os.chmod(env.path("conf/operators.passwd"), 0o644)
    stage(env)
    env.install(CONF)
    env.start()
    return Server(env, password)


def stop(server, artifacts):
    """Stops SERVER, keeps its error log in ARTIFACTS, removes its root.
    Returns the error-log problems (empty when none)."""
    log = server.env.read_log()
    bad = server.log_problems()
    server.env.stop()
    os.makedirs(artifacts, exist_ok=True)
    with open(os.path.join(artifacts, "browser-httpd-error_log"), "w") as f:
        f.write(log)
    shutil.rmtree(server.root, ignore_errors=True)
    return bad


if __name__ == "__main__":
    s = start()
    print("console: %s/admin/  operator: %s  password: %s"
          % (s.url, s.operator, s.password))
    try:
        input("Enter stops it. ")
    finally:
        stop(s, os.path.join(REPO, "tests", "artifacts"))
