"""The demo on HTTPS with the OAuth clients people use (issue 10 item 3).

The real scripts/demo.sh is started on a private port with a private state
folder (DEMO_PORT, DEMO_RUN), so a demo a user runs on 8080 is left alone.
The folder is private to root (0700), as a clone under /root is, so the demo
must put what www-data needs under /var/lib. Then requests-oauthlib
(BackendApplicationClient) and Node's openid-client 5.x (tests/demo/,
installed from its package-lock.json) get a token with client_credentials
and call the protected API, with certificate checks on: they trust the
demo's CA only through REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS, the lines
the demo prints, and fail without them.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
import requests

from httpd_env import REPO, free_port

DEMO = os.path.join(REPO, "scripts", "demo.sh")
CLIENTS = os.path.join(REPO, "tests", "demo")

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the demo runs as root")


def npm_install():
    """openid-client from the committed lock file, once."""
    if os.path.isdir(os.path.join(CLIENTS, "node_modules", "openid-client")):
        return
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=CLIENTS,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def start(env, *args):
    r = subprocess.run([DEMO] + list(args), env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    return r.stdout


def stop(env):
    return subprocess.run([DEMO, "stop"], env=env, capture_output=True,
                          text=True, timeout=120)


class Demo:
    def __init__(self, root, port, out):
        self.root = root
        self.run = os.path.join(root, "run")
        self.env = dict(os.environ, DEMO_RUN=self.run, DEMO_PORT=str(port))
        self.port = port
        self.out = out
        self.url = re.search(r"demo running on (\S+) ", out).group(1)
        self.state = re.search(r"\(logs: (\S+)/logs/\)", out).group(1)
        m = re.search(r"own CA \(made once, in \S+\):\n  (\S+)\n", out)
        self.ca = m.group(1) if m else None
        with open(os.path.join(self.run, "demo-client")) as f:
            self.client_id, self.client_secret = f.read().split()

    def client_env(self, **extra):
        env = dict(os.environ, DEMO_URL=self.url,
                   DEMO_CLIENT_ID=self.client_id,
                   DEMO_CLIENT_SECRET=self.client_secret)
        for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                  "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE",
                  "NODE_TLS_REJECT_UNAUTHORIZED"):
            env.pop(k, None)
        env.update(extra)
        return env


@pytest.fixture(scope="module")
def demo():
    npm_install()
    root = tempfile.mkdtemp(prefix="at-demo-")   # 0700, like /root
    port = free_port()
    env = dict(os.environ, DEMO_RUN=os.path.join(root, "run"),
               DEMO_PORT=str(port))
    d = None
    try:
        d = Demo(root, port, start(env))
        yield d
    finally:
        stop(env)
        shutil.rmtree(root, ignore_errors=True)
        if d and d.state.startswith("/var/lib/mod_auth_token-demo-"):
            shutil.rmtree(d.state, ignore_errors=True)


class TestDemoHttps:

    def test_demo_001_01_https_and_the_ca_lines(self, demo):
        assert demo.url == "https://127.0.0.1:%d" % demo.port
        # The state folder is out of www-data's reach: its files went to
        # /var/lib, and the CA's public copy with them.
        assert demo.state.startswith("/var/lib/mod_auth_token-demo-")
        assert demo.ca == demo.state + "/ca.pem"
        assert os.stat(demo.ca).st_mode & 0o044 == 0o044
        for line in ("curl --cacert %s" % demo.ca,
                     "export REQUESTS_CA_BUNDLE=%s" % demo.ca,
                     "export NODE_EXTRA_CA_CERTS=%s" % demo.ca):
            assert line in demo.out, line
        assert "http://" not in demo.out
        meta = requests.get(demo.url + "/.well-known/oauth-authorization-"
                            "server", verify=demo.ca, timeout=10).json()
        assert meta["issuer"] == demo.url
        for k in ("token_endpoint", "revocation_endpoint",
                  "introspection_endpoint", "jwks_uri"):
            assert meta[k].startswith(demo.url + "/"), (k, meta[k])
        # The server's certificate: from that CA, for 127.0.0.1 and
        # localhost, a server certificate and nothing more.
        tls = os.path.join(demo.run, "tls")
        r = subprocess.run(["openssl", "verify", "-CAfile", demo.ca,
                            "-purpose", "sslserver",
                            os.path.join(tls, "server.pem")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                               os.path.join(tls, "server.pem")],
                              capture_output=True, text=True).stdout
        assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text
        assert "CA:FALSE" in text
        assert os.stat(tls).st_mode & 0o077 == 0
        # localhost is in the certificate too.
        assert requests.get("https://localhost:%d/" % demo.port,
                            verify=demo.ca, timeout=10).status_code == 200

    def test_demo_001_02_printed_curl_lines_run(self, demo):
        block = demo.out[demo.out.index("  TOKEN=$("):]
        token_cmd = block[:block.index("\n\n")]
        api = re.search(r"^  (curl -i .*Authorization: Bearer .*)$",
                        demo.out, re.M).group(1)
        script = token_cmd + "\n" + api.replace("curl -i", "curl -s -o "
                                                "/dev/null -w '%{http_code}'")
        r = subprocess.run(["sh", "-c", script], capture_output=True,
                           text=True, timeout=60)
        assert r.stdout == "200", (script, r.stdout, r.stderr)

    def test_demo_001_03_requests_oauthlib(self, demo):
        script = os.path.join(CLIENTS, "client_oauthlib.py")
        r = subprocess.run(["/usr/bin/python3", script], capture_output=True,
                           text=True, timeout=60,
                           env=demo.client_env(REQUESTS_CA_BUNDLE=demo.ca))
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["api_status"] == 200 and out["token_type"] == "Bearer"
        assert out["api_body"]["orders"][0]["item"] == "tea"
        # Checks stay on: without the demo's CA the same client refuses.
        r = subprocess.run(["/usr/bin/python3", script], capture_output=True,
                           text=True, timeout=60, env=demo.client_env())
        assert r.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in r.stderr

    def test_demo_001_04_openid_client(self, demo):
        script = os.path.join(CLIENTS, "client_openid.mjs")
        r = subprocess.run(["node", script], capture_output=True, text=True,
                           timeout=60, cwd=CLIENTS,
                           env=demo.client_env(NODE_EXTRA_CA_CERTS=demo.ca))
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["issuer"] == demo.url
        assert out["api_status"] == 200 and out["scope"] == "orders:read"
        assert out["api_body"]["orders"][1]["item"] == "scones"
        assert out["introspected_active"] is True and out["revoked"] is True
        r = subprocess.run(["node", script], capture_output=True, text=True,
                           timeout=60, cwd=CLIENTS, env=demo.client_env())
        assert r.returncode == 1
        assert re.search(r"certificate|UNABLE_TO_VERIFY", r.stderr), r.stderr

    def test_demo_001_05_restart_keeps_the_ca_and_stop_says_so(self, demo):
        with open(demo.ca, "rb") as f:
            ca = f.read()
        r = stop(demo.env)
        assert r.returncode == 0
        assert r.stdout.startswith("demo stopped (httpd pid "), r.stdout
        r = stop(demo.env)
        assert r.returncode == 0 and r.stdout.startswith(
            "demo was not running"), r.stdout
        again = Demo(demo.root, demo.port, start(demo.env))
        with open(again.ca, "rb") as f:
            assert f.read() == ca
        assert again.client_id == demo.client_id
        assert requests.get(demo.url + "/", verify=demo.ca,
                            timeout=10).status_code == 200

    def test_demo_001_06_plain_http_on_request(self, demo):
        try:
            out = start(demo.env, "--http")
            url = "http://127.0.0.1:%d" % demo.port
            assert "demo running on %s " % url in out
            assert "--cacert" not in out and "REQUESTS_CA_BUNDLE" not in out
            meta = requests.get(url + "/.well-known/oauth-authorization-"
                                "server", timeout=10).json()
            assert meta["issuer"] == url
        finally:
            # Back to HTTPS for any test after this one.
            start(demo.env)
