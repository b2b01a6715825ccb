"""A private httpd for integration tests, in the manner of httpd's test/pyhttpd.

Each HttpdEnv owns a temporary ServerRoot with conf/, htdocs/, logs/ and a
free loopback port. A test class installs its config fragment with
`env.install(conf)` and `env.restart()`; httpd is driven with
`apachectl -d ROOT -f conf/httpd.conf -k start|stop`. After every test the
error log is checked: an unexpected [error]/[warn]/[crit]/[emerg] line or a
crash fails the test, unless the line carries a log id the test whitelisted.

The children run as www-data, which may not enter the clone (a clone in
/root is 0700). So nothing they read at request time may point into it:
a config names the console as {console_cgi} and {console_htdocs}, and
install() copies both into the ServerRoot (0755, in /tmp). Only the module
is loaded from the clone, by root before the children start.
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

import requests

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULE = os.path.join(REPO, "mod_auth_token", "mod_auth_token.so")
TOKEN_ADMIN = os.environ.get("AT_TOKEN_ADMIN") or \
    os.path.join(REPO, "admin-cgi", "token-admin")
CONSOLE_HTDOCS = os.path.join(REPO, "htdocs")
APACHECTL = shutil.which("apachectl") or "/usr/sbin/apachectl"
MODULES_DIR = "/usr/lib/apache2/modules"
RUN_USER = "www-data"

BASE_CONF = """\
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/logs/httpd.pid"
ErrorLog "{root}/logs/error_log"
LogLevel {loglevel}
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/logs/access_log" common
User {user}
Group {user}
DocumentRoot "{root}/htdocs"
Mutex file:{root}/logs
DefaultRuntimeDir "{root}/logs"
{modules}
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadsPerChild 16
    MaxRequestWorkers 32
    # below the defaults (75/250), which exceed MaxRequestWorkers here and
    # make the idle server log AH10159 at [error] every second
    MinSpareThreads 16
    MaxSpareThreads 32
</IfModule>
<Directory "{root}/htdocs">
    Require all granted
</Directory>
TypesConfig /etc/mime.types
"""

STD_MODULES = [
    "mpm_event", "authn_core", "authz_core", "mime", "log_config", "env",
    "setenvif", "headers", "alias", "cgid", "auth_basic", "authn_file",
    "authz_user", "unixd", "dir", "rewrite", "proxy", "proxy_http",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpdEnv:
    """One private server. Not thread-safe; one per test class."""

    def __init__(self, loglevel="info auth_token:debug"):
        self.root = tempfile.mkdtemp(prefix="at-httpd-")
        os.chmod(self.root, 0o755)
        for d in ("conf", "htdocs", "logs", "keys", "cgi-bin", "var"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
            os.chmod(os.path.join(self.root, d), 0o755)
        shutil.chown(os.path.join(self.root, "var"), RUN_USER, RUN_USER) \
            if os.geteuid() == 0 else None
        self.port = free_port()
        self.loglevel = loglevel
        self.url = "http://127.0.0.1:%d" % self.port
        self.extra = ""
        self.log_offset = 0
        self.running = False
        # Set once `apachectl -k start` succeeded: from then on a parent
        # may be running even before it has written its pid file.
        self.launched = False
        self.write_file("htdocs/index.html", "hello\n")
        self.write_file("htdocs/api/data.txt", "protected data\n")

    # -- files -------------------------------------------------------------
    def path(self, rel):
        return os.path.join(self.root, rel)

    def write_file(self, rel, content, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
        os.chmod(p, mode)
        return p

    # -- config ------------------------------------------------------------
    def base_conf(self, load_module=True):
        mods = []
        for m in STD_MODULES:
            so = os.path.join(MODULES_DIR, "mod_%s.so" % m)
            if os.path.exists(so):
                mods.append("LoadModule %s_module %s" % (m, so))
        if load_module:
            mods.append('LoadModule auth_token_module "%s"' % MODULE)
        return BASE_CONF.format(root=self.root, port=self.port,
                                loglevel=self.loglevel, user=RUN_USER,
                                modules="\n".join(mods))

    def stage_console(self):
        """Copies token-admin and the console's templates and assets into
        ROOT/console (bin/, htdocs/: the layout the binary also finds by
        itself), readable by the children; returns (cgi, htdocs)."""
        cgi = self.path("console/bin/token-admin")
        htdocs = self.path("console/htdocs")
        if not os.path.exists(cgi):
            os.makedirs(os.path.dirname(cgi), exist_ok=True)
            shutil.copy(TOKEN_ADMIN, cgi)
            shutil.copytree(CONSOLE_HTDOCS, htdocs)
            for d, dirs, files in os.walk(self.path("console")):
                os.chmod(d, 0o755)
                for f in files:
                    p = os.path.join(d, f)
                    os.chmod(p, 0o755 if p == cgi else 0o644)
        return cgi, htdocs

    def install(self, extra, load_module=True):
        """Writes conf/httpd.conf: the base plus EXTRA ({root} and {port}
        are substituted; {console_cgi} and {console_htdocs} too, staged by
        stage_console)."""
        if "{console_" in extra:
            cgi, htdocs = self.stage_console()
            extra = extra.replace("{console_cgi}", cgi).replace(
                "{console_htdocs}", htdocs)
        self.extra = extra.replace("{root}", self.root).replace(
            "{port}", str(self.port))
        self.write_file("conf/httpd.conf",
                        self.base_conf(load_module) + "\n" + self.extra)

    def apachectl(self, *args):
        return subprocess.run(
            [APACHECTL, "-d", self.root, "-f", "conf/httpd.conf"] + list(args),
            capture_output=True, text=True, timeout=60)

    def configtest(self):
        """(ok, output) of `apachectl configtest` on the installed config."""
        r = self.apachectl("-t")
        return r.returncode == 0, r.stdout + r.stderr

    def start(self):
        r = self.apachectl("-k", "start")
        if r.returncode != 0:
            raise RuntimeError("httpd did not start: %s%s\n%s" % (
                r.stdout, r.stderr, self.read_log()[-3000:]))
        self.launched = True
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                requests.get(self.url + "/", timeout=1)
                self.running = True
                self.wait_cgid(deadline)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("httpd did not answer: %s" % self.read_log()[-3000:])

    def wait_cgid(self, deadline):
        """Waits for mod_cgid's socket to be handed to the User. Its daemon
        binds the socket as root (mode 0700) and chowns it later, while the
        children already serve: a CGI request in between gets a 503
        (EACCES, which mod_cgid does not retry), seen on a loaded machine."""
        with open(self.path("conf/httpd.conf")) as f:
            if "mod_cgid.so" not in f.read() or os.geteuid() != 0:
                return
        uid = pwd.getpwnam(RUN_USER).pw_uid
        # Named after the parent's pid: a socket left by an earlier run in
        # this root does not count.
        sock = self.path("logs/cgisock.%s" % self.pid())
        while time.time() < deadline:
            try:
                if os.stat(sock).st_uid == uid:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mod_cgid's socket not ready: %s"
                           % self.read_log()[-3000:])

    def pid(self):
        try:
            with open(self.path("logs/httpd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.pid()
        # apachectl returns when the parent has detached, before it writes
        # its pid file: a stop right then must wait for the file, or that
        # httpd outlives the test (seen once after a clean-clone run).
        deadline = time.time() + 10
        while pid is None and self.launched and time.time() < deadline:
            time.sleep(0.1)
            pid = self.pid()
        self.launched = False
        if pid is None:
            self.running = False
            return
        self.apachectl("-k", "stop")
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        self.running = False

    def restart(self):
        """Stop and start, so every directive is read afresh."""
        self.stop()
        self.start()

    def graceful(self, timeout=20):
        """`apachectl -k graceful`, then waits until the parent has read
        the configuration again (AH00489 once more in the log): from then
        on new connections go to the new generation's children."""
        before = self.read_log().count("AH00489")
        r = self.apachectl("-k", "graceful")
        if r.returncode != 0:
            raise RuntimeError("graceful failed: %s%s" % (r.stdout, r.stderr))
        deadline = time.time() + timeout
        while self.read_log().count("AH00489") <= before:
            if time.time() > deadline:
                raise RuntimeError("no AH00489 after graceful: %s"
                                   % self.read_log()[-3000:])
            time.sleep(0.1)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- logs --------------------------------------------------------------
    def read_log(self):
        try:
            with open(self.path("logs/error_log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def new_log(self):
        """Error-log text since the last call (or mark_log)."""
        text = self.read_log()
        new = text[self.log_offset:]
        self.log_offset = len(text)
        return new

    def mark_log(self):
        self.log_offset = len(self.read_log())

    def access_logged(self, *needles, timeout=5):
        """True once a line of the access log holds every one of NEEDLES.
        httpd writes the line just after the answer, so the client can
        read its answer first: polled, up to TIMEOUT seconds."""
        deadline = time.time() + timeout
        while True:
            try:
                with open(self.path("logs/access_log"),
                          errors="replace") as f:
                    if any(all(n in line for n in needles) for line in f):
                        return True
            except OSError:
                pass
            if time.time() > deadline:
                return False
            time.sleep(0.05)

    BAD = re.compile(r"\[(?:[a-z_]+:)?(error|warn|crit|alert|emerg)\]")

    def log_problems(self, text, allowed=()):
        """Lines at warn or worse not carrying an allowed log id; crashes."""
        bad = []
        for line in text.splitlines():
            if "exit signal" in line or "Segmentation fault" in line:
                bad.append(line)
            elif self.BAD.search(line) and not any(a in line for a in allowed):
                bad.append(line)
        return bad

    # -- requests ----------------------------------------------------------
    def get(self, path, token=None, headers=None, **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        return requests.get(self.url + path, headers=h, timeout=10, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.post(self.url + path, **kw)
