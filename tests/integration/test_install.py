"""`make install DESTDIR=...` stages everything under DESTDIR and nothing
elsewhere (issue 10 item 1): the module in apxs's LIBEXECDIR, token-admin
in $(bindir), the console templates where the program looks for them, the
man page, the docs, and on Debian's layout auth_token.load / .conf in
mods-available. The staged module loads with the staged .conf, the staged
program finds its templates, and `make uninstall` takes it all back (but
not an operator's edited .conf, and not while the module is enabled).
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from httpd_env import HttpdEnv, REPO, TOKEN_ADMIN

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(REPO, "Makefile"))
    or not os.path.exists(TOKEN_ADMIN), reason="not configured and built")


def make(*args, destdir=None, check=True):
    cmd = ["make", "-s", "--no-print-directory", "-C", REPO] + list(args)
    if destdir is not None:
        cmd.append("DESTDIR=%s" % destdir)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def make_var(name):
    """A variable of the configured Makefile, expanded by make itself."""
    r = make("--eval", "print-%: ; @echo $($*)", "print-" + name)
    return r.stdout.strip()


def tree(root):
    """Every file below ROOT, as absolute paths of the live system."""
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.join(d, f)[len(root):])
    return out


def live_state(paths):
    """What the live system holds at PATHS (stat triples, or None)."""
    state = {}
    for p in paths:
        try:
            st = os.lstat(p)
            state[p] = (st.st_mode, st.st_size, st.st_mtime_ns)
        except OSError:
            state[p] = None
    return state


@pytest.fixture(scope="module")
def layout():
    v = {n: make_var(n) for n in ("HTTPD_LIBEXECDIR", "bindir", "man1dir",
                                  "pkgdatadir", "docdir",
                                  "HTTPD_MODS_AVAILABLE", "HTTPD_CONFDIR")}
    assert v["HTTPD_LIBEXECDIR"] and v["bindir"], v
    return v


@pytest.fixture
def destdir():
    d = tempfile.mkdtemp(prefix="at-destdir-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def expected_files(v):
    files = {
        v["HTTPD_LIBEXECDIR"] + "/mod_auth_token.so",
        v["bindir"] + "/token-admin",
        v["man1dir"] + "/token-admin.1",
        v["docdir"] + "/README.md",
    }
    files |= {v["pkgdatadir"] + "/htdocs/" + f
              for f in os.listdir(os.path.join(REPO, "htdocs"))
              if f.endswith((".xhtml", ".css", ".js"))}
    files |= {v["docdir"] + "/" + f
              for f in os.listdir(os.path.join(REPO, "docs"))
              if f.endswith(".md")}
    if v["HTTPD_MODS_AVAILABLE"]:
        files |= {v["HTTPD_MODS_AVAILABLE"] + "/auth_token.load",
                  v["HTTPD_MODS_AVAILABLE"] + "/auth_token.conf"}
    return files


class TestStaging:

    def test_install_001_01_only_under_destdir(self, layout, destdir):
        want = expected_files(layout)
        before = live_state(want)
        r = make("install", destdir=destdir)
        assert tree(destdir) == want, sorted(tree(destdir) ^ want)
        # The live system is untouched: none of these paths changed.
        assert live_state(want) == before
        assert "a2enmod auth_token" in r.stdout or \
            not layout["HTTPD_MODS_AVAILABLE"]

        def mode(p):
            return os.stat(destdir + p).st_mode & 0o7777
        assert mode(layout["bindir"] + "/token-admin") == 0o755
        for p in want - {layout["bindir"] + "/token-admin"}:
            assert mode(p) == 0o644, p
        # What was staged is what was built.
        with open(destdir + layout["HTTPD_LIBEXECDIR"]
                  + "/mod_auth_token.so", "rb") as a, \
                open(os.path.join(REPO, "mod_auth_token",
                                  "mod_auth_token.so"), "rb") as b:
            assert a.read() == b.read()

    @pytest.mark.skipif(not os.path.isdir("/etc/apache2/mods-available"),
                        reason="not Debian's apache2 layout")
    def test_install_001_02_debian_files(self, layout, destdir):
        make("install", destdir=destdir)
        avail = destdir + layout["HTTPD_MODS_AVAILABLE"]
        with open(avail + "/auth_token.load") as f:
            lines = [ln for ln in f if not ln.startswith("#")]
        # The LoadModule line names the live path, not the staging one.
        assert lines == ["LoadModule auth_token_module %s/mod_auth_token.so\n"
                         % layout["HTTPD_LIBEXECDIR"]]
        # The staged module loads, and the staged .conf (its commented
        # defaults) is valid configuration for it.
        env = HttpdEnv()
        try:
            env.install("Include %s/auth_token.conf\n" % avail,
                        load_module=False)
            conf = env.path("conf/httpd.conf")
            with open(conf, "a") as f:
                f.write("LoadModule auth_token_module %s%s/mod_auth_token.so\n"
                        % (destdir, layout["HTTPD_LIBEXECDIR"]))
            ok, out = env.configtest()
            assert ok, out
            # Uncommented, its lines are valid directives too (they show
            # real defaults and examples, not prose).
            with open(avail + "/auth_token.conf") as f:
                text = f.read()
            active = "\n".join(
                ln.replace("#", "", 1) if ln.lstrip().startswith("#Auth")
                else ln for ln in text.splitlines())
            env.write_file("keys/k.pem", subprocess.run(
                ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                 "ec_paramgen_curve:P-256"], capture_output=True,
                check=True).stdout)
            active = active.replace("/etc/apache2/issuer-es256.key.pem",
                                    env.path("keys/k.pem")).replace(
                "/var/lib/mod_auth_token/registry.db",
                env.path("var/registry.db"))
            env.write_file("conf/active.conf", active)
            with open(conf) as f:
                base = f.read().replace(avail + "/auth_token.conf",
                                        env.path("conf/active.conf"))
            env.write_file("conf/httpd.conf", base)
            ok, out = env.configtest()
            assert ok, out
        finally:
            env.cleanup()

    def test_install_001_03_program_finds_its_templates(self, layout,
                                                        destdir):
        make("install", destdir=destdir)
        prog = destdir + layout["bindir"] + "/token-admin"
        r = subprocess.run([prog, "--version"], capture_output=True,
                           text=True)
        assert r.returncode == 0 and "mod_auth_token" in r.stdout
        # As a CGI without an operator it answers the "no operator" page,
        # which it can only render from the staged templates.
        env = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
               "PATH_INFO": "/", "SCRIPT_NAME": "/admin",
               "AUTH_TOKEN_REGISTRY": os.path.join(destdir, "reg.db"),
               "PATH": "/usr/bin:/bin"}
        r = subprocess.run([prog], capture_output=True, env=env,
                           timeout=30)
        head, body = re.split(rb"\r?\n\r?\n", r.stdout, maxsplit=1)
        assert head.startswith(b"Status: 403"), r.stdout[:500]
        assert b"works only behind Apache authentication" in body, body[:500]
        # Templates moved away: the same request fails, so it was the
        # staged ones it used (unless a live install provides others).
        if os.path.exists("/usr/share/mod_auth_token/htdocs/layout.xhtml"):
            return
        htdocs = destdir + layout["pkgdatadir"] + "/htdocs"
        os.rename(htdocs, htdocs + ".away")
        r2 = subprocess.run([prog], capture_output=True, env=env,
                            timeout=30)
        assert r2.stdout.startswith(b"Status: 500"), r2.stdout[:500]
        os.rename(htdocs + ".away", htdocs)

    def test_install_001_04_uninstall(self, layout, destdir):
        make("install", destdir=destdir)
        avail = layout["HTTPD_MODS_AVAILABLE"]
        if avail:
            # Enabled (a mods-enabled link): uninstall refuses.
            enabled = destdir + layout["HTTPD_CONFDIR"] + "/mods-enabled"
            os.makedirs(enabled)
            os.symlink("../mods-available/auth_token.load",
                       enabled + "/auth_token.load")
            r = make("uninstall", destdir=destdir, check=False)
            assert r.returncode != 0 and "a2dismod" in r.stderr
            assert os.path.exists(destdir + avail + "/auth_token.load")
            os.unlink(enabled + "/auth_token.load")
            # An edited .conf survives a reinstall and an uninstall.
            with open(destdir + avail + "/auth_token.conf", "a") as f:
                f.write("AuthTokenVerifyCache 64\n")
            make("install", destdir=destdir)
            with open(destdir + avail + "/auth_token.conf") as f:
                assert "AuthTokenVerifyCache 64" in f.read()
        make("uninstall", destdir=destdir)
        left = tree(destdir)
        assert left == ({avail + "/auth_token.conf"} if avail else set()), \
            left
