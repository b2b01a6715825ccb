"""The httpd side of the remote-key-set tests: a private server that may run
prefork with several children, the test PKI (written into the server's
keys/), and the class fixture that starts a class's key servers before
httpd and stops them after.

A test class defines `configure(cls, env)`: it starts its key servers with
`cls.key_server(...)` and returns the httpd.conf fragment. Import the
fixture into a test module with `from remote_env import httpd`.
"""
import collections
import re

import pytest

from httpd_env import HttpdEnv
from jwks_server import KeyServer, TestCA

ISSUER = "https://idp.example.com"
AUDIENCE = "orders-api"

# Every id these tests may expect at warn or worse.
FETCH_FAILED = ("AT01152", "AT01153")

PREFORK = """
<IfModule mpm_prefork_module>
    StartServers 4
    MinSpareServers 4
    MaxSpareServers 8
    ServerLimit 8
    MaxRequestWorkers 8
</IfModule>
LogFormat "%P %>s %U" pidlog
CustomLog "{root}/logs/pid_log" pidlog
"""


class Pki:
    """One test CA with a certificate for localhost/127.0.0.1, one for a
    wrong name, and another CA with a certificate for the right name. Made
    once per run (key generation is the slow part)."""
    _made = None

    def __new__(cls):
        if cls._made is None:
            self = super().__new__(cls)
            self.ca = TestCA()
            self.good = self.ca.issue(["localhost", "127.0.0.1"])
            self.wrong_name = self.ca.issue(["keys.wrong.example"])
            self.other_ca = TestCA("another test CA")
            self.wrong_ca = self.other_ca.issue(["localhost", "127.0.0.1"])
            cls._made = self
        return cls._made


class RemoteHttpd(HttpdEnv):
    """HttpdEnv that may run mpm_prefork with four children."""

    def __init__(self, prefork=False):
        super().__init__()
        self.prefork = prefork

    def base_conf(self, load_module=True):
        conf = super().base_conf(load_module)
        if self.prefork:
            conf = conf.replace("mod_mpm_event.so", "mod_mpm_prefork.so")
            conf = conf.replace("mpm_event_module", "mpm_prefork_module", 1)
            conf += PREFORK.replace("{root}", self.root)
        return conf

    def pids_served(self, status=200, path_prefix="/"):
        """Counter of child pids that answered STATUS under PATH_PREFIX
        (pid_log, prefork only)."""
        c = collections.Counter()
        try:
            with open(self.path("logs/pid_log")) as f:
                for line in f:
                    pid, st, path = line.split()
                    if int(st) == status and path.startswith(path_prefix):
                        c[pid] += 1
        except OSError:
            pass
        return c

    def log_lines(self, logid, text=None):
        """Error-log lines carrying LOGID (in TEXT, default the whole
        log)."""
        text = self.read_log() if text is None else text
        return [l for l in text.splitlines() if logid + ":" in l]


@pytest.fixture(scope="class")
def httpd(request):
    cls = request.cls
    env = RemoteHttpd(prefork=getattr(cls, "PREFORK", False))
    cls.pki = Pki()
    env.write_file("keys/fetch-ca.pem", cls.pki.ca.pem())
    cls.servers = []

    def key_server(tls="good", host="localhost"):
        if tls is None:
            ks = KeyServer(host="127.0.0.1")
        else:
            ks = KeyServer(*getattr(cls.pki, tls), host=host)
        cls.servers.append(ks)
        return ks
    cls.key_server = staticmethod(key_server)
    try:
        env.install(cls.configure(env))
        env.start()
        env.mark_log()
        yield env
    finally:
        env.cleanup()
        for ks in cls.servers:
            ks.stop()


def auth_params(value):
    """'Bearer realm="x", error="y"' -> {"realm": "x", "error": "y"}."""
    assert value and value.startswith("Bearer"), value
    return {m.group(1): m.group(2)
            for m in re.finditer(r'([a-z_]+)="([^"]*)"', value)}
