"""A private PostgreSQL for the integration tests, started and stopped with
scripts/pg-private.sh (initdb into a temporary directory, its own Unix
socket directory and 127.0.0.1 port, password authentication; as root the
server runs as the postgres user, since initdb refuses root). Each test
class takes a database of its own with new_database()."""
import os
import shutil
import subprocess
import tempfile

from httpd_env import REPO, free_port

SCRIPT = os.path.join(REPO, "scripts", "pg-private.sh")


def have_postgresql():
    return bool([d for d in ("/usr/lib/postgresql",)
                 if os.path.isdir(d) and os.listdir(d)])


class PgServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="at-pg-")
        self.port = free_port()
        self.conninfo = None      # the "registry" database, Unix socket
        self.running = False

    def _run(self, *args, timeout=120):
        r = subprocess.run([SCRIPT] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("pg-private.sh %s: %s%s" % (
                args[0], r.stdout, r.stderr))
        return r.stdout.strip()

    def start(self):
        self.conninfo = self._run("start", self.dir, str(self.port))
        self.running = True
        return self.conninfo

    def stop(self):
        """Fast shutdown: sessions are ended, new ones refused."""
        self._run("stop", self.dir)
        self.running = False

    def kill(self):
        """Immediate shutdown, as a crash would."""
        self._run("kill", self.dir)
        self.running = False

    def sql(self, sql):
        """Rows (lists of text) of SQL run as the superuser."""
        out = self._run("sql", self.dir, sql)
        return [line.split("|") for line in out.splitlines() if line]

    @property
    def password(self):
        with open(os.path.join(self.dir, "registry.pw")) as f:
            return f.read().strip()

    def new_database(self, name):
        """A fresh database NAME owned by the registry role; its
        connection string over the Unix socket."""
        self.sql("DROP DATABASE IF EXISTS %s" % name)
        self.sql("CREATE DATABASE %s OWNER registry ENCODING 'UTF8'" % name)
        return self.conninfo.replace("dbname=registry", "dbname=" + name)

    def tcp(self, conninfo):
        """The same connection string over TCP to 127.0.0.1."""
        parts = [p for p in conninfo.split() if not p.startswith("host=")]
        return "host=127.0.0.1 " + " ".join(parts)

    def cleanup(self):
        try:
            if self.running:
                self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
