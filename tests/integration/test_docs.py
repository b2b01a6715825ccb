"""The directive reference (docs/directives.md, issue 10 item 2): every
directive in the module's command table, every handler and every
environment variable token-admin reads has an entry in httpd's manual form
(Description, Syntax, Default, Context, Module), whose Context matches
where the command table allows it; and the docs stand alone (no reference
to files outside the project)."""
import os
import re

from httpd_env import REPO

DOCS = os.path.join(REPO, "docs")


def read(*parts):
    with open(os.path.join(REPO, *parts)) as f:
        return f.read()


def entries():
    """{heading: body} of the reference's "## " entries."""
    text = read("docs", "directives.md")
    parts = re.split(r"^## ", text, flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


def command_table():
    """[(directive, context macro)] from the module's command table."""
    src = read("mod_auth_token", "mod_auth_token.c")
    return re.findall(r'AP_INIT_\w+\(\s*"(\w+)",\s*\w+,\s*\w+,\s*(\w+)',
                      src)


CONTEXTS = {
    "RSRC_CONF": "server config, virtual host",
    "AT_KEY_CONF": "server config, virtual host, directory",
    "AT_DIR_CONF": "server config, virtual host, directory, .htaccess",
}
# Setters that narrow their table context with ap_check_cmd_context.
GLOBAL_ONLY = {"AuthTokenVerifyCache": "server config",
               "AuthTokenJWKSRefresh": "server config",
               "AuthTokenJWKSMinRefetch": "server config",
               "AuthTokenFetchCA": "server config"}


def field(body, name):
    m = re.search(r"^\| %s: \| (.*) \|$" % name, body, re.M)
    return m.group(1) if m else None


def test_docs_001_01_every_directive_has_an_entry():
    table = command_table()
    assert len(table) >= 19, table
    found = entries()
    for name, ctx in table:
        assert name in found, "no reference entry for %s" % name
        body = found[name]
        for f in ("Description", "Syntax", "Default", "Context", "Module"):
            assert field(body, f), (name, f)
        assert field(body, "Syntax").startswith("`%s" % name), name
        want = GLOBAL_ONLY.get(name, CONTEXTS[ctx])
        assert field(body, "Context") == want, (name, field(body, "Context"))
        if want.endswith(".htaccess"):
            assert field(body, "Override") == "AuthConfig", name
        # prose and an example
        assert "```apache" in body, name


def test_docs_001_02_handlers_providers_and_environment():
    text = read("docs", "directives.md")
    src = "".join(open(os.path.join(d, f)).read()
                  for d, _, files in os.walk(os.path.join(REPO,
                                                          "mod_auth_token"))
                  for f in files if f.endswith(".c"))
    handlers = set(re.findall(r'"(oauth-[a-z]+)"', src))
    assert "oauth-token" in handlers
    for h in handlers:
        assert "`%s`" % h in text, h
    for provider in ("token-scope", "token-claim"):
        assert "## Require %s" % provider in text
    found = entries()
    admin = "".join(read("admin-cgi", f) for f in
                    os.listdir(os.path.join(REPO, "admin-cgi"))
                    if f.endswith(".c"))
    for var in set(re.findall(r'"(AUTH_TOKEN_[A-Z_]+)"', admin)):
        heading = next((h for h in found if var in h), None)
        assert heading, "no reference entry for %s" % var
        assert field(found[heading], "Default"), var


def test_docs_001_03_linked_and_self_contained():
    readme = read("README.md")
    assert "docs/directives.md" in readme
    for doc in ("issuer.md", "resource-server.md", "token-admin.md"):
        assert "directives.md" in read("docs", doc), doc
    for doc in os.listdir(DOCS):
        text = read("docs", doc)
        assert "interface.md" not in text, doc
        # Every relative link points at a file of the project.
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert os.path.exists(os.path.join(DOCS, target)), (doc, target)


def test_docs_001_04_readme_first_example_runs(tmp_path):
    """README's first token-admin example runs as printed on a fresh
    registry (only the registry's path is changed)."""
    import json
    import subprocess
    from httpd_env import TOKEN_ADMIN
    readme = read("README.md")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    block = next(b for b in blocks if "token-admin" in b)
    script = block.replace("/var/lib/mod_auth_token/registry.db",
                           str(tmp_path / "registry.db"))
    env = dict(os.environ, PATH=os.path.dirname(TOKEN_ADMIN) + ":"
               + os.environ.get("PATH", "/usr/bin:/bin"))
    env.pop("AUTH_TOKEN_REGISTRY", None)
    r = subprocess.run(["sh", "-e", "-c", script], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, (script, r.stdout, r.stderr)
    assert "client_secret" in r.stdout
    apps = subprocess.run([TOKEN_ADMIN, "--registry",
                           str(tmp_path / "registry.db"), "--json", "app",
                           "list"], capture_output=True, text=True, env=env)
    assert [a["scopes"] for a in json.loads(apps.stdout)] == [
        ["orders:read"]]
