"""token-admin's help, version and --json errors (issue 10 item 1).

`--version` exits 0; `token-admin COMMAND --help` prints that command's own
synopsis and options, never the global list, and changes nothing; under
`--json` every error is one JSON object on stderr,
{"error": CODE, "message": TEXT}, with nothing on stdout.
"""
import json
import subprocess
import os
import re
import shutil

import pytest

from httpd_env import TOKEN_ADMIN
from test_cli import dump, ok, ok_json, pubdir, reg, run  # noqa: F401

pytestmark = pytest.mark.skipif(not os.path.exists(TOKEN_ADMIN),
                                reason="token-admin not built")

# Each command with options only it takes, and options it must not show.
COMMANDS = [
    (["app", "add"], ["--name NAME", "--redirect-uri URI", "--scope",
                      "--offline-client-credentials"], ["--grace"]),
    (["app", "list"], [], ["--name", "--grace"]),
    (["app", "show"], ["CLIENT_ID"], ["--name"]),
    (["app", "update"], ["CLIENT_ID", "--no-offline-client-credentials",
                         "--access-lifetime SECONDS"], ["--grace"]),
    (["app", "rotate-secret"], ["--grace SECONDS"], ["--name"]),
    (["app", "disable"], ["CLIENT_ID"], ["--name"]),
    (["app", "enable"], ["CLIENT_ID"], ["--name"]),
    (["app", "delete"], ["CLIENT_ID", "revokes"], ["--name"]),
    (["scope", "add"], ["NAME", "--description TEXT"], ["--name"]),
    (["scope", "list"], [], ["--description"]),
    (["scope", "delete"], ["NAME"], ["--description"]),
    (["token", "revoke"], ["--jti JTI", "--client CLIENT_ID"], ["--name"]),
    (["audit"], ["--target ID", "--by ACTOR", "--limit N"], ["--name"]),
    (["consent", "list"], ["--user NAME", "--client CLIENT_ID"], ["--name"]),
    (["consent", "revoke"], ["--user NAME", "--client CLIENT_ID"],
     ["--name"]),
]


class TestHelp:

    def test_cli_help_001_01_version(self):
        r = run(None, "--version", actor=None)
        assert r.returncode == 0 and r.stderr == ""
        assert re.fullmatch(r"token-admin \(mod_auth_token\) \d+\.\d+\.\d+\n",
                            r.stdout), r.stdout

    @pytest.mark.parametrize("words,present,absent", COMMANDS,
                             ids=[" ".join(c[0]) for c in COMMANDS])
    def test_cli_help_001_02_command_help(self, words, present, absent):
        r = run(None, *words, "--help", actor=None)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        first = r.stdout.splitlines()[0]
        assert first.startswith("usage: token-admin " + " ".join(words)), \
            first
        for p in present:
            assert p in r.stdout, (p, r.stdout)
        for a in absent:
            assert a not in r.stdout, (a, r.stdout)
        # Not the global help: one synopsis, and its own.
        usages = [ln for ln in r.stdout.splitlines()
                  if re.match(r"(usage: |\s+)token-admin ", ln)]
        assert usages == [first], usages
        # "help app add" says the same.
        assert run(None, "help", *words, actor=None).stdout == r.stdout

    def test_cli_help_001_03_help_changes_nothing(self, pubdir):
        path = pubdir / "never.db"
        for args in (["app", "add", "--name", "x", "--help"],
                     ["scope", "add", "s", "--help"],
                     ["app", "delete", "x", "--help", "--bogus"],
                     ["token", "revoke", "--client", "c", "--help"]):
            r = run(path, *args)
            assert r.returncode == 0 and r.stdout.startswith("usage:"), args
        assert not path.exists()

    def test_cli_help_001_04_group_and_global(self):
        r = run(None, "app", "--help", actor=None)
        assert r.returncode == 0
        assert "token-admin app rotate-secret" in r.stdout
        assert "scope add" not in r.stdout
        g = run(None, "--help", actor=None)
        assert g.returncode == 0
        for words, _, _ in COMMANDS:
            assert " ".join(words) in g.stdout, words
        assert "AUTH_TOKEN_REGISTRY" in g.stdout
        # "--help" after "--" is a word, not a request for help.
        r = run(None, "app", "show", "--", "--help")
        assert r.returncode == 2 and r.stdout == ""

    def test_cli_help_001_05_options_listed_are_accepted(self, reg):
        # Every option the help of app update shows is one the parser
        # takes (the help is printed from the parser's own table).
        text = run(None, "app", "update", "--help", actor=None).stdout
        opts = sorted(set(re.findall(r"^  (--[a-z-]+)", text, re.M)))
        assert "--redirect-uri" in opts and "--registry" in opts
        cid = ok_json(reg, "app", "add", "--name", "h")["client_id"]
        for o in opts:
            if o in ("--registry", "--json", "--actor"):
                continue
            r = run(reg, "app", "update", cid, o)
            assert "unknown option" not in r.stderr, (o, r.stderr)


def json_error(r, status, code):
    assert r.returncode == status, (r.returncode, r.stderr)
    assert r.stdout == "", r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    doc = json.loads(lines[0])
    assert set(doc) == {"error", "message"}, doc
    assert doc["error"] == code, doc
    assert doc["message"], doc
    return doc


class TestJsonErrors:

    def test_cli_help_002_01_codes(self, reg):
        cid = ok_json(reg, "app", "add", "--name", "j",
                      "--scope", "orders:read")["client_id"]
        before = dump(reg)
        cases = [
            (["app", "show", "nope"], 1, "not_found"),
            (["app", "add", "--name", "j"], 1, "exists"),
            (["app", "add", "--name", "k", "--scope", "nosuch"], 1,
             "invalid"),
            (["scope", "delete", "orders:read"], 1, "in_use"),
            (["app", "update", cid, "--access-lifetime", "0"], 1, "invalid"),
            (["app", "add", "--bogus"], 2, "usage"),
            (["app", "frobnicate"], 2, "usage"),
            (["app", "show"], 2, "usage"),
        ]
        for args, status, code in cases:
            doc = json_error(run(reg, *args, json_out=True), status, code)
            if code == "in_use":
                assert cid in doc["message"]
            if args[-1] == "nosuch":
                # The message says how to fix it.
                assert "scope add nosuch" in doc["message"], doc
        assert dump(reg) == before

    def test_cli_help_002_02_json_after_the_error(self, reg):
        # --json counts even when it follows the offending option.
        json_error(run(reg, "app", "add", "--bogus", "--json"), 2, "usage")
        json_error(run(reg, "app", "show", "nope", "--json"), 1, "not_found")

    def test_cli_help_002_03_registry_error(self, pubdir):
        bad = pubdir / "not-a-db"
        bad.write_bytes(b"this is not SQLite" * 100)
        json_error(run(bad, "app", "list", json_out=True), 3, "registry")

    def test_cli_help_002_04_hostile_text_stays_one_line(self, reg):
        # A newline and an escape in an echoed argument: still one line
        # of JSON, the text escaped by the JSON encoder.
        doc = json_error(run(reg, "app", "show", "a\nb\x1b[31m",
                             json_out=True), 1, "not_found")
        assert "a\nb\x1b[31m" in doc["message"]
        # Bytes that are not UTF-8 cannot be JSON text: shown as '?'.
        doc = json_error(run(reg, "app", "show", "\udcff\udcfeab",
                             json_out=True), 1, "not_found")
        assert "??ab" in doc["message"]

    def test_cli_help_002_05_text_errors_unchanged(self, reg):
        r = run(reg, "app", "show", "nope")
        assert r.returncode == 1
        assert r.stderr.startswith("token-admin: ") and \
            len(r.stderr.splitlines()) == 1


MAN = os.path.join(os.path.dirname(TOKEN_ADMIN), "..", "man", "token-admin.1")


def man_text():
    """The man page's words without roff's escapes and font changes."""
    with open(MAN) as f:
        text = f.read()
    text = re.sub(r"\\f[BIRP]", "", text).replace("\\-", "-")
    return re.sub(r"^\.(?!SH)[A-Z]+ ?", "", text, flags=re.M)


def man_section(name):
    """The text of one .SH section."""
    parts = re.split(r"^\.SH ", man_text(), flags=re.M)
    return next(p for p in parts if p.startswith(name + "\n"))


class TestManPage:
    """token-admin.1 covers every command, option, exit status and
    environment variable the program has."""

    def test_cli_help_003_01_commands_and_options(self):
        man = man_text()
        for words, _, _ in COMMANDS:
            assert " ".join(words) in man, words
            text = run(None, *words, "--help", actor=None).stdout
            for opt in re.findall(r"^  (--[a-z-]+)", text, re.M):
                assert opt in man, (words, opt)

    def test_cli_help_003_02_exit_status_and_environment(self):
        section = man_section("EXIT STATUS")
        for status in ("0", "1", "2", "3"):
            assert re.search(r"^%s$" % status, section, re.M), status
        src = os.path.join(os.path.dirname(TOKEN_ADMIN))
        names = set()
        for fn in os.listdir(src):
            if fn.endswith(".c"):
                with open(os.path.join(src, fn)) as f:
                    names |= set(re.findall(
                        r'(?:getenv|env|env_long)\("([A-Z_]+)"', f.read()))
        # The CGI's own request variables are the CGI standard, not ours.
        names -= {"CONTENT_LENGTH", "CONTENT_TYPE", "HTTPS", "HTTP_COOKIE",
                  "PATH_INFO", "QUERY_STRING", "REQUEST_METHOD",
                  "SCRIPT_NAME"}
        assert "AUTH_TOKEN_REGISTRY" in names
        env = man_section("ENVIRONMENT")
        for n in sorted(names):
            assert n in env, n

    def test_cli_help_003_03_renders_cleanly(self):
        if shutil.which("groff") is None:
            pytest.skip("groff not installed (Debian: groff-base)")
        r = subprocess.run(["groff", "-man", "-ww", "-z", MAN],
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr
