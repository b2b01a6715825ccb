"""The issuer across processes: two httpd children, each with its own
registry connections, write lock and revocation cache. Single use of a
refresh token must hold between processes (the registry's transaction, not
the per-process lock, decides), and a revocation must reach every
process's cache."""
import concurrent.futures
import re
import subprocess
import time

from issuer_helpers import (add_app, add_scopes, issuer_conf, make_key,
                            token_request)

TWO_CHILDREN = """
<IfModule mpm_event_module>
    StartServers 2
    ThreadsPerChild 8
    MaxRequestWorkers 16
    MinSpareThreads 16
    MaxSpareThreads 16
</IfModule>
<Location /api>
    AuthType Bearer
    AuthName "api"
    AuthTokenVerifyLocal On
    AuthTokenRevocationCheck On
    Require valid-user
</Location>
"""


class TestIssuerTwoProcesses:
    ALLOWED_LOG_IDS = ("AT00443",)
    APPS = {}

    @classmethod
    def setup_env(cls, env):
        make_key(env, "ES256", "es256.pem")
        cls.CONF = issuer_conf(["ES256 keys/es256.pem"], TWO_CHILDREN)
        add_scopes(env, "read")
        cls.APPS["app"] = add_app(
            env, "app", grants="client_credentials,refresh_token",
            scopes="read", extra=["--offline-client-credentials"])

    def test_issuer_proc_001_two_children(self, httpd):
        out = subprocess.run(["pgrep", "-P", str(httpd.pid())],
                             capture_output=True, text=True).stdout.split()
        assert len(out) >= 2, out

    def test_issuer_proc_002_parallel_refresh_exactly_one(self, httpd):
        app = self.APPS["app"]
        for _ in range(3):
            r = token_request(httpd, {"grant_type": "client_credentials",
                                      "scope": "read offline_access"},
                              auth=app)
            rt = r.json()["refresh_token"]

            def refresh(_):
                return token_request(httpd, {"grant_type": "refresh_token",
                                             "refresh_token": rt}, auth=app)

            with concurrent.futures.ThreadPoolExecutor(20) as pool:
                codes = [r.status_code for r in pool.map(refresh, range(20))]
            assert codes.count(200) == 1, codes
            assert codes.count(400) == 19, codes

    def test_issuer_proc_003_revocation_reaches_every_process(self, httpd):
        app = self.APPS["app"]
        tok = token_request(httpd, {"grant_type": "client_credentials"},
                            auth=app).json()["access_token"]

        def status(_):
            return httpd.get("/api/data.txt", token=tok).status_code

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            assert set(pool.map(status, range(32))) == {200}
            r = token_request(httpd, {"token": tok}, auth=app,
                              path="/oauth/revoke")
            assert r.status_code == 200
            time.sleep(1.5)
            assert set(pool.map(status, range(32))) == {401}
        # Both children loaded the revocation state (AT00611, with pids).
        pids = set(re.findall(r"\[pid (\d+):[^]]*\].*AT00611",
                              httpd.read_log()))
        assert len(pids) >= 2, pids
