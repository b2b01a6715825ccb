"""token-admin as a CGI: the binary is run directly with the CGI variables
set and a form body on stdin, the way httpd's mod_cgid runs it; its answer
(headers + HTML) is parsed and the HTML checked with lxml: doctype, lang,
title, a label for every field, buttons named by text, no inline script.

Covered: every page, CSRF refusal (missing, other operator, expired),
Post/Redirect/Get, the secret shown once, escaping of markup in a name, the
page for a server without authentication, 404/405/413/415, forms refused
with the operator's input kept and nothing written, pagination."""
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import lxml.html
import requests
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKEN_ADMIN = os.environ.get("AT_TOKEN_ADMIN") or \
    os.path.join(REPO, "admin-cgi", "token-admin")
SCRIPT = "/admin"


class Answer:
    def __init__(self, raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        self.headers = []
        for line in head.decode("latin-1").split("\r\n"):
            k, _, v = line.partition(":")
            self.headers.append((k.strip().lower(), v.strip()))
        status = self.header("status") or "200 OK"
        self.status = int(status.split()[0])
        self.raw = body
        self.text = body.decode("utf-8")
        self._doc = None

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    @property
    def doc(self):
        if self._doc is None:
            self._doc = lxml.html.document_fromstring(self.text)
        return self._doc

    def csrf(self):
        vals = self.doc.xpath("//input[@name='csrf']/@value")
        assert vals, "page without a CSRF field"
        return vals[0]

    def main_text(self):
        return " ".join(self.doc.xpath("//main")[0].text_content().split())


class Console:
    """One registry in a temporary directory, reached through the CGI."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="at-console-")
        self.registry = os.path.join(self.dir, "registry.db")
        self.cookies = {}

    def run(self, path="/", method="GET", query="", body=None, user="alice",
            content_type="application/x-www-form-urlencoded", extra=None,
            cookie=None):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": method,
            "QUERY_STRING": query,
            "SCRIPT_NAME": SCRIPT,
            "PATH_INFO": path,
            "AUTH_TOKEN_REGISTRY": self.registry,
            "AUTH_TOKEN_CONSOLE_HTDOCS": os.path.join(REPO, "htdocs"),
        }
        if user is not None:
            env["REMOTE_USER"] = user
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else \
                urllib.parse.urlencode(body, doseq=True).encode()
            env["CONTENT_TYPE"] = content_type
            env["CONTENT_LENGTH"] = str(len(data))
        if cookie is not None:
            env["HTTP_COOKIE"] = cookie
        env.update(extra or {})
        r = subprocess.run([TOKEN_ADMIN], env=env, input=data,
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        ans = Answer(r.stdout)
        ans.stderr = r.stderr.decode(errors="replace")
        return ans

    def get(self, path, query="", **kw):
        return self.run(path, "GET", query, **kw)

    def post(self, path, fields, form_page=None, user="alice", query="",
             **kw):
        """POSTs FIELDS with a CSRF token taken from FORM_PAGE (default:
        the scopes page as the same operator)."""
        page = self.get(form_page or "/scopes", user=user)
        fields = dict(fields)
        fields.setdefault("csrf", page.csrf())
        return self.run(path, "POST", query, body=fields, user=user, **kw)

    def create_app(self, name, **fields):
        f = {"name": name, "type": "confidential",
             "grant": ["client_credentials"]}
        f.update(fields)
        r = self.post("/apps/new", f, form_page="/apps/new")
        assert r.status == 303, r.text
        m = re.match(r"^/admin/apps/([^/?]+)", r.header("location"))
        assert m, r.header("location")
        return urllib.parse.unquote(m.group(1)), r

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def check_html(ans):
    """The console's HTML rules, on one answer."""
    assert ans.header("content-type") == "text/html; charset=utf-8"
    assert ans.text.startswith("<!DOCTYPE html>\n"), ans.text[:80]
    doc = ans.doc
    assert doc.get("lang") == "en"
    titles = doc.xpath("//head/title")
    assert len(titles) == 1 and titles[0].text_content().strip()
    assert len(doc.xpath("//h1")) == 1
    # Every field a person fills has a visible label tied to it.
    labels = set(doc.xpath("//label/@for"))
    for el in doc.xpath("//input[not(@type='hidden')] | //select | "
                        "//textarea"):
        assert el.get("id") in labels, lxml.html.tostring(el)
    # Buttons are named by their text.
    for b in doc.xpath("//button"):
        assert b.text_content().strip(), lxml.html.tostring(b)
    # No inline script or handler: the CSP forbids them anyway.
    for s in doc.xpath("//script"):
        assert s.get("src") and not (s.text or "").strip()
    for el in doc.iter():
        if isinstance(el.tag, str):
            assert not any(a.lower().startswith("on") for a in el.attrib)
    # Every post form carries the CSRF field.
    for f in doc.xpath("//form[@method='post']"):
        assert f.xpath(".//input[@type='hidden'][@name='csrf']")
    # Ids are unique (labels point at exactly one field).
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids)), ids
    # Every link and form stays inside the console (or its assets): no
    # relative address that breaks on a deeper page.
    for url in doc.xpath("//a/@href | //form/@action | //link/@href | "
                         "//script/@src"):
        assert url.startswith(SCRIPT + "/") or \
            url.startswith("/console-assets/"), url
    # HTML5 serialisation: void elements have no end tag.
    assert "</input>" not in ans.text and "</br>" not in ans.text


def check_headers(ans):
    csp = ans.header("content-security-policy")
    assert csp and "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert ans.header("referrer-policy") == "no-referrer"
    assert ans.header("x-content-type-options") == "nosniff"
    assert ans.header("cache-control") == "no-store"


@pytest.fixture(scope="module")
def console():
    if not os.access(TOKEN_ADMIN, os.X_OK):
        pytest.fail("admin-cgi/token-admin is not built")
    c = Console()
    yield c
    c.cleanup()


class TestConsolePages:
    def test_console_001_01_dashboard(self, console):
        r = console.get("/")
        assert r.status == 200, r.text
        check_headers(r)
        check_html(r)
        assert "Dashboard" in r.doc.xpath("//title")[0].text
        assert "alice" in r.doc.xpath("//header")[0].text_content()
        hrefs = r.doc.xpath("//nav//a/@href")
        assert "/admin/apps" in hrefs and "/admin/audit" in hrefs

    def test_console_001_02_no_remote_user(self, console):
        r = console.get("/", user=None)
        assert r.status == 403
        check_headers(r)
        check_html(r)
        t = r.main_text()
        assert "AuthType Basic" in t and "Require valid-user" in t
        assert "REMOTE_USER" in r.stderr
        # Nothing is done for nobody, not even a POST.
        r = console.run("/scopes", "POST", body={"name": "x"}, user=None)
        assert r.status == 403
        assert "x" not in console.get("/scopes").main_text().split()

    def test_console_001_03_unknown_page(self, console):
        for path in ("/nope", "/apps/x/y/z/w", "/scopes/zz/yy"):
            r = console.get(path)
            assert r.status == 404, path
            check_html(r)
            check_headers(r)
        r = console.get("/apps/no-such-client")
        assert r.status == 404
        check_html(r)

    def test_console_001_04_registry_unusable(self, console):
        r = console.get("/", extra={"AUTH_TOKEN_REGISTRY": "/nonexistent/"
                                    "dir/registry.db"})
        assert r.status == 500
        check_html(r)
        assert "registry" in r.stderr

    def test_console_001_06_driver_and_params(self, console):
        # "DRIVER PARAMS" as in AuthTokenRegistry; the key goes beside the
        # SQLite file all the same.
        other = os.path.join(console.dir, "other.db")
        r = console.get("/", extra={"AUTH_TOKEN_REGISTRY": "sqlite3 " + other})
        assert r.status == 200, r.text
        assert os.path.getsize(other + "-console.key") == 32
        # Another driver has no file to put the key beside.
        r = console.get("/", extra={"AUTH_TOKEN_REGISTRY": "nosuchdrv x"})
        assert r.status == 500

    def test_console_001_07_templates_missing(self, console):
        r = console.get("/", extra={"AUTH_TOKEN_CONSOLE_HTDOCS":
                                    "/nonexistent"})
        assert r.status == 500
        check_headers(r)
        assert r.text.startswith("<!DOCTYPE html>")
        assert "templates are missing" in r.text
        assert "AT00806" in r.stderr

    def test_console_001_05_get_on_a_change(self, console):
        r = console.get("/apps/whatever/disable")
        assert r.status == 405 and r.header("allow") == "POST"
        r = console.run("/", "DELETE")
        assert r.status == 405


class TestConsoleScopes:
    def test_console_002_01_create_prg(self, console):
        r = console.post("/scopes", {"name": "orders:read",
                                     "description": "Read orders"},
                         form_page="/scopes")
        assert r.status == 303
        assert r.header("location") == "/admin/scopes?done=scope-created"
        page = console.get("/scopes", query="done=scope-created")
        check_html(page)
        assert "orders:read" in page.main_text()
        assert page.doc.xpath("//*[@class='notice']")

    def test_console_002_02_invalid_name_kept(self, console):
        r = console.post("/scopes", {"name": "bad scope",
                                     "description": "kept text"},
                         form_page="/scopes")
        assert r.status == 422
        check_html(r)
        assert r.doc.xpath("//input[@id='scope-name']/@value") == [
            "bad scope"]
        assert r.doc.xpath("//input[@id='scope-description']/@value") == [
            "kept text"]
        err = r.doc.xpath("//p[@id='scope-name-error']")
        assert err and "spaces" in err[0].text_content()
        assert "bad scope" not in console.get("/scopes").doc.xpath(
            "//tbody")[0].text_content()

    def test_console_002_03_duplicate(self, console):
        r = console.post("/scopes", {"name": "orders:read"},
                         form_page="/scopes")
        assert r.status == 422
        assert "exists" in r.doc.xpath(
            "//p[@id='scope-name-error']")[0].text_content()

    def test_console_002_04_edit_description(self, console):
        q = "name=" + urllib.parse.quote("orders:read")
        r = console.get("/scopes/edit", query=q)
        assert r.status == 200
        check_html(r)
        r = console.post("/scopes/edit", {"description": "Read all orders"},
                         form_page="/scopes", query=q)
        assert r.status == 303
        assert "Read all orders" in console.get("/scopes").main_text()

    def test_console_002_05_in_use_refused(self, console):
        cid, _ = console.create_app("scope-user", scope=["orders:read"])
        r = console.post("/scopes/delete", {"name": "orders:read"},
                         form_page="/scopes")
        assert r.status == 409
        check_html(r)
        # The applications in the way, by name beside their client_id.
        assert "scope-user " + cid in r.main_text()
        assert "orders:read" in console.get("/scopes").main_text()
        # Once no application uses it, it goes, after a confirmation
        # that changes nothing itself.
        console.post("/apps/%s/delete" % cid, {})
        r = console.post("/scopes/delete", {"name": "orders:read"})
        assert r.status == 200
        check_html(r)
        assert "orders:read" in console.get("/scopes").main_text()
        r = console.post("/scopes/delete", {"name": "orders:read",
                                            "confirm": "yes"})
        assert r.status == 303
        assert "orders:read" not in console.get("/scopes").main_text()

    def test_console_002_06_builtin_not_deletable(self, console):
        r = console.get("/scopes/edit", query="name=offline_access")
        assert r.status == 200
        assert not r.doc.xpath("//form[@id='delete-form']")
        r = console.post("/scopes/delete", {"name": "offline_access"})
        assert r.status in (409, 422)
        assert "offline_access" in console.get("/scopes").main_text()


class TestConsoleApps:
    def test_console_003_01_create_secret_once(self, console):
        console.post("/scopes", {"name": "api:read"})
        f = {"name": "billing", "description": "Billing batch",
             "type": "confidential",
             "grant": ["client_credentials", "refresh_token"],
             "scope": ["api:read"], "audiences": "orders-api\nbilling-api",
             "access_lifetime": "300", "refresh_lifetime": ""}
        r = console.post("/apps/new", f, form_page="/apps/new")
        assert r.status == 303
        loc = r.header("location")
        assert re.match(r"^/admin/apps/[^/]+/secret$", loc), loc
        cookies = r.all("set-cookie")
        assert cookies and "HttpOnly" in cookies[0] and \
            "SameSite=Strict" in cookies[0] and "Path=/admin" in cookies[0]
        jar = cookies[0].split(";")[0]
        path = loc[len(SCRIPT):]
        page = console.get(path, cookie=jar)
        assert page.status == 200
        check_html(page)
        check_headers(page)
        secret = page.doc.xpath("//input[@id='secret']/@value")[0]
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", secret)
        assert page.doc.xpath("//button[normalize-space()='Copy secret']")
        # The page clears the cookie; shown once.
        assert any("Max-Age=0" in c for c in page.all("set-cookie"))
        again = console.get(path)
        assert again.status == 410 and secret not in again.text
        # Another operator cannot open it with the same cookie.
        other = console.get(path, cookie=jar, user="mallory")
        assert other.status == 410 and secret not in other.text
        # Nowhere else.
        cid = path.split("/")[2]
        assert secret not in console.get("/apps/" + cid).text
        assert secret not in console.get("/audit").text
        TestConsoleApps.cid = cid

    def test_console_003_02_detail(self, console):
        r = console.get("/apps/" + self.cid)
        assert r.status == 200
        check_html(r)
        t = r.main_text()
        for want in ("billing", "Billing batch", "confidential",
                     "client_credentials", "refresh_token", "api:read",
                     "orders-api", "billing-api", self.cid):
            assert want in t, want
        # Own lifetime beside the server default, and a default alone.
        assert "300 s (5 min) (server default: 600 s (10 min))" in t
        assert "server default: 2592000 s (30 days)" in t
        for b in ("Rotate secret", "Disable application",
                  "Revoke all tokens of this application",
                  "Delete application"):
            button = r.doc.xpath("//button[normalize-space()=$t]", t=b)
            # One style for everything that ends something.
            assert button and button[0].get("class") == "danger", b
        # No previous secret is alive, so there is none to revoke.
        assert not r.doc.xpath(
            "//button[normalize-space()='Revoke old secret now']")
        assert "Last rotated never" in t

    def test_console_003_03_edit(self, console):
        r = console.get("/apps/%s/edit" % self.cid)
        assert r.status == 200
        check_html(r)
        assert r.doc.xpath("//input[@id='name']/@value") == ["billing"]
        assert r.doc.xpath("//input[@id='access_lifetime']/@value") == [
            "300"]
        f = {"name": "billing-v2", "description": "", "type": "confidential",
             "grant": ["client_credentials"], "audiences": "orders-api",
             "redirect_uris": "", "access_lifetime": "",
             "refresh_lifetime": "86400"}
        r = console.post("/apps/%s/edit" % self.cid, f)
        assert r.status == 303
        assert r.header("location") == "/admin/apps/%s?done=saved" % self.cid
        t = console.get("/apps/" + self.cid).main_text()
        assert "billing-v2" in t and "api:read" not in t
        assert "86400 s (1 day) (server default" in t

    def test_console_003_04_form_errors_keep_input(self, console):
        before = console.get("/apps").doc.xpath("//nav[@class='pager']")[0] \
            .text_content()
        f = {"name": "", "description": "my words <b>",
             "type": "confidential", "grant": ["client_credentials"],
             "access_lifetime": "ten", "redirect_uris": "not a uri",
             "audiences": "a b"}
        r = console.post("/apps/new", f, form_page="/apps/new")
        assert r.status == 422
        check_html(r)
        assert r.doc.xpath("//textarea[@id='description']")[0].text == \
            "my words <b>"
        assert r.doc.xpath("//input[@id='access_lifetime']/@value") == [
            "ten"]
        for fid in ("name", "access_lifetime", "redirect_uris", "audiences"):
            err = r.doc.xpath("//*[@id='%s-error']" % fid)
            assert err and err[0].text_content().strip(), fid
            assert r.doc.xpath("//*[@id='%s']/@aria-invalid" % fid) == [
                "true"]
        assert r.doc.xpath("//*[@id='form-error']")
        after = console.get("/apps").doc.xpath("//nav[@class='pager']")[0] \
            .text_content()
        assert before == after

    def test_console_003_05_duplicate_name(self, console):
        r = console.post("/apps/new", {"name": "billing-v2",
                                       "type": "confidential",
                                       "grant": ["client_credentials"]})
        assert r.status == 422
        assert "name" in r.doc.xpath("//*[@id='name-error']")[0] \
            .text_content()

    def test_console_003_06_script_in_name_is_text(self, console):
        name = "<script>alert(1)</script>&amp;\"'"
        cid, _ = console.create_app(name)
        for path in ("/apps", "/apps/" + cid, "/apps/%s/edit" % cid, "/",
                     "/apps/%s/delete" % cid):
            r = console.get(path)
            assert r.status == 200
            check_html(r)
            assert "<script>alert" not in r.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;" in r.text
            assert name in r.doc.xpath("//main")[0].text_content() or \
                path == "/"
        assert r.doc.xpath("//title")[0].text.startswith("Delete " + name)

    def test_console_003_07_disable_enable(self, console):
        # Disabling asks first, naming what stops working.
        r = console.post("/apps/%s/disable" % self.cid, {})
        assert r.status == 200
        check_html(r)
        assert "gets no more tokens" in r.main_text()
        assert "Enabled" in console.get("/apps/" + self.cid).main_text()
        assert r.doc.xpath("//form[@method='post']//input[@name='confirm']"
                           "/@value") == ["yes"]
        r = console.post("/apps/%s/disable" % self.cid, {"confirm": "yes"})
        assert r.status == 303
        t = console.get("/apps/" + self.cid)
        assert "Disabled" in t.main_text()
        assert t.doc.xpath("//button[normalize-space()='Enable application']")
        assert console.post("/apps/%s/enable" % self.cid, {}).status == 303
        assert "Enabled" in console.get("/apps/" + self.cid).main_text()

    def test_console_003_08_rotate_with_grace(self, console):
        r = console.post("/apps/%s/rotate" % self.cid, {"grace": "3600"})
        assert r.status == 200
        assert "keeps working for 1 h" in r.main_text()
        assert r.doc.xpath("//input[@name='grace']/@value") == ["3600"]
        r = console.post("/apps/%s/rotate" % self.cid, {"grace": "3600",
                                                        "confirm": "yes"})
        assert r.status == 303
        assert r.header("location").endswith("/secret")
        jar = r.all("set-cookie")[0].split(";")[0]
        page = console.get("/apps/%s/secret" % self.cid, cookie=jar)
        assert page.status == 200
        assert page.doc.xpath("//input[@id='secret']/@value")[0]
        # The application page shows the old secret's end and the
        # rotation; a bad grace comes back there, beside its field.
        t = console.get("/apps/" + self.cid).main_text()
        assert re.search(r"Old secret valid until \S+ \S+ UTC", t), t
        assert "Last rotated never" not in t
        r = console.post("/apps/%s/rotate" % self.cid, {"grace": "soon"})
        assert r.status == 422
        check_html(r)
        assert r.doc.xpath("//input[@id='grace']/@value") == ["soon"]
        assert r.doc.xpath("//*[@id='grace-error']")
        assert r.doc.xpath("//input[@id='grace']/@aria-invalid") == ["true"]
        r = console.post("/apps/%s/end-old-secrets" % self.cid, {})
        assert r.status == 200
        r = console.post("/apps/%s/end-old-secrets" % self.cid,
                         {"confirm": "yes"})
        assert r.status == 303
        assert "done=old-secrets-revoked" in r.header("location")

    def test_console_003_09_grants(self, console):
        r = console.get("/apps/%s/grants" % self.cid)
        assert r.status == 200
        check_html(r)
        r = console.post("/apps/%s/revoke-all" % self.cid, {})
        assert r.status == 200
        r = console.post("/apps/%s/revoke-all" % self.cid, {"confirm": "yes"})
        assert r.status == 303
        assert r.header("location").endswith("/grants?done=all-revoked")
        r = console.post("/apps/%s/grants/revoke" % self.cid,
                         {"family": "not-a-family"})
        assert r.status == 404
        r = console.post("/apps/%s/grants/revoke-jti" % self.cid,
                         {"jti": "no-such-jti"})
        assert r.status == 422
        check_html(r)
        assert r.doc.xpath("//input[@id='jti']/@value") == ["no-such-jti"]
        assert r.doc.xpath("//*[@id='jti-error']")
        assert console.get("/apps/%s/grants/revoke-jti" % self.cid) \
            .status == 405

    def test_console_003_10_delete_with_confirmation(self, console):
        cid, _ = console.create_app("to-delete")
        r = console.get("/apps/%s/delete" % cid)
        assert r.status == 200
        check_html(r)
        assert r.doc.xpath("//button[normalize-space()='Delete application']")
        assert console.get("/apps/" + cid).status == 200  # GET deleted none
        r = console.post("/apps/%s/delete" % cid, {})
        assert r.status == 303
        assert r.header("location") == "/admin/apps?done=deleted"
        assert console.get("/apps/" + cid).status == 404

    def test_console_003_11_public_app_no_secret(self, console):
        f = {"name": "spa", "type": "public",
             "grant": ["authorization_code"],
             "redirect_uris": "https://spa.example/cb"}
        r = console.post("/apps/new", f)
        assert r.status == 303
        assert r.header("location").endswith("?done=created")
        assert not r.all("set-cookie")
        f["name"] = "spa2"
        f["grant"] = ["client_credentials"]
        r = console.post("/apps/new", f)
        assert r.status == 422
        assert r.doc.xpath("//*[@id='grants-field-error']")


class TestConsoleCsrf:
    def scope_names(self, console):
        return console.get("/scopes").main_text()

    def test_console_004_01_missing_token(self, console):
        r = console.run("/scopes", "POST", body={"name": "csrf-a"})
        assert r.status == 403
        check_html(r)
        assert "csrf-a" not in self.scope_names(console)

    def test_console_004_02_other_operators_token(self, console):
        tok = console.get("/scopes", user="bob").csrf()
        r = console.run("/scopes", "POST", body={"name": "csrf-b",
                                                 "csrf": tok})
        assert r.status == 403
        assert "csrf-b" not in self.scope_names(console)

    def test_console_004_03_expired_and_forged(self, console):
        key = open(console.registry + "-console.key", "rb").read()
        old = str(int(time.time()) - 9 * 3600)
        mac = hmac.new(key, b"csrf\0alice\0" + old.encode(),
                       hashlib.sha256).hexdigest()
        r = console.run("/scopes", "POST", body={"name": "csrf-c",
                                                 "csrf": old + "." + mac})
        assert r.status == 403
        now = str(int(time.time()))
        for bad in (now + "." + "0" * 64, now, "", "x.y"):
            r = console.run("/scopes", "POST", body={"name": "csrf-c",
                                                     "csrf": bad})
            assert r.status == 403
        assert "csrf-c" not in self.scope_names(console)
        # A fresh token made with the key works: the check is the HMAC.
        mac = hmac.new(key, b"csrf\0alice\0" + now.encode(),
                       hashlib.sha256).hexdigest()
        r = console.run("/scopes", "POST", body={"name": "csrf-c",
                                                 "csrf": now + "." + mac})
        assert r.status == 303

    def test_console_004_04_key_file_private(self, console):
        st = os.stat(console.registry + "-console.key")
        assert st.st_mode & 0o077 == 0 and st.st_size == 32


class TestConsoleBodies:
    def test_console_005_01_too_large(self, console):
        tok = console.get("/scopes").csrf()
        body = ("csrf=%s&name=x&description=" % tok).encode() + \
            b"a" * (70 * 1024)
        r = console.run("/scopes", "POST", body=body)
        assert r.status == 413
        check_html(r)

    def test_console_005_02_wrong_type_and_length(self, console):
        r = console.run("/scopes", "POST", body=b"{}",
                        content_type="application/json")
        assert r.status == 415
        r = console.run("/scopes", "POST", body=b"name=x",
                        extra={"CONTENT_LENGTH": "99"})
        assert r.status == 400

    def test_console_005_03_not_utf8(self, console):
        tok = console.get("/scopes").csrf()
        r = console.run("/scopes", "POST",
                        body=("csrf=%s&name=%%ff%%fe" % tok).encode())
        assert r.status == 400
        r = console.get("/apps", query="q=%ff")
        assert r.status == 400
        check_html(r)


class TestConsoleListsAndAudit:
    def test_console_006_01_pagination_and_search(self, console):
        for i in range(30):
            console.create_app("page-app-%02d" % i)
        r = console.get("/apps", query="q=page-app")
        assert r.status == 200
        check_html(r)
        rows = r.doc.xpath("//tbody[@id='app-rows']/tr")
        assert len(rows) == 25
        assert "Page 1 of 2 (30 in all)" in r.main_text()
        nxt = r.doc.xpath("//a[@rel='next']/@href")[0]
        assert nxt == "/admin/apps?q=page-app&page=2"
        r = console.get("/apps", query="q=page-app&page=2")
        names = [t.text_content() for t in
                 r.doc.xpath("//tbody[@id='app-rows']/tr/td[1]")]
        assert names == ["page-app-%02d" % i for i in range(25, 30)]
        assert r.doc.xpath("//a[@rel='prev']")
        r = console.get("/apps", query="q=no-such-thing")
        assert "No application matches." in r.main_text()

    def test_console_006_02_audit_actor_filter(self, console):
        console.post("/scopes", {"name": "by-carol"}, user="carol")
        r = console.get("/audit", query="actor=carol")
        assert r.status == 200
        check_html(r)
        rows = r.doc.xpath("//tbody[@id='audit-rows']/tr")
        assert rows and all(
            tr.xpath("td[2]")[0].text_content() == "carol" for tr in rows)
        assert "by-carol" in r.main_text()
        assert r.doc.xpath("//input[@id='actor']/@value") == ["carol"]

    def test_console_006_03_audit_app_filter(self, console):
        cid, _ = console.create_app("audited")
        console.post("/apps/%s/disable" % cid, {"confirm": "yes"})
        link = console.get("/apps/" + cid).doc.xpath(
            "//a[normalize-space()='Audit log of this application']/@href")
        assert link == ["/admin/audit?app=" + cid]
        r = console.get("/audit", query="app=" + cid)
        rows = r.doc.xpath("//tbody[@id='audit-rows']/tr")
        assert len(rows) >= 2
        assert all(cid in tr.text_content() for tr in rows)
        assert [tr.xpath("td[3]")[0].text for tr in rows][:2] == [
            "app.disable", "app.create"]
        # Targets link to their pages, scopes included.
        assert r.doc.xpath("//tbody//a/@href")[0] == "/admin/apps/" + cid
        r = console.get("/audit", query="actor=carol")
        assert "/admin/scopes/edit?name=by-carol" in r.doc.xpath(
            "//tbody//a/@href")

    def test_console_006_04_dashboard_counts_and_recent(self, console):
        r = console.get("/")
        n = int(r.doc.xpath("//*[@id='count-apps']")[0].text)
        assert n >= 30
        assert r.doc.xpath("//tbody[@id='recent-rows']/tr")


class TestConsoleThroughHttpd:
    """The same binary behind httpd (mod_cgid, Basic auth): what httpd adds
    or could lose between the console and the browser."""

    CONF = """
ScriptAlias /admin "{console_cgi}"
<Location /admin>
    AuthType Basic
    AuthName "token-admin"
    AuthBasicProvider file
    AuthUserFile "{root}/conf/operators.passwd"
    Require valid-user
    SetEnv AUTH_TOKEN_REGISTRY {root}/var/registry.db
    SetEnv AUTH_TOKEN_CONSOLE_HTDOCS "{console_htdocs}"
</Location>
"""
    ALLOWED_LOG_IDS = ("AT00805",)
    AUTH = ("alice", "s3cret-pass")

    @classmethod
    def setup_env(cls, env):
        subprocess.run(["htpasswd", "-cbB", env.path("conf/operators.passwd"),
                        cls.AUTH[0], cls.AUTH[1]], check=True,
                       capture_output=True)
        os.chmod(env.path("conf/operators.passwd"), 0o644)

    def test_console_007_01_headers_and_auth(self, httpd):
        r = httpd.get("/admin/", auth=self.AUTH)
        assert r.status_code == 200
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store"
        assert r.text.startswith("<!DOCTYPE html>")
        r = httpd.get("/admin/")
        assert r.status_code == 401
        assert httpd.get("/admin/nope", auth=self.AUTH).status_code == 404

    def test_console_007_02_prg_and_csrf(self, httpd):
        s = requests.Session()
        s.auth = self.AUTH
        page = Answer(b"\r\n\r\n" + s.get(httpd.url + "/admin/scopes")
                      .content)
        r = s.post(httpd.url + "/admin/scopes", allow_redirects=False,
                   data={"name": "via-httpd", "csrf": page.csrf()})
        assert r.status_code == 303
        assert r.headers["Location"] == "/admin/scopes?done=scope-created"
        r = s.post(httpd.url + "/admin/scopes", allow_redirects=False,
                   data={"name": "forged"})
        assert r.status_code == 403
        text = s.get(httpd.url + "/admin/scopes").text
        assert "via-httpd" in text and "forged" not in text

    def test_console_007_03_large_body_answered(self, httpd):
        # The console answers 413 without parsing and drains the body, so
        # httpd delivers the answer instead of a reset connection.
        r = requests.post(httpd.url + "/admin/scopes", auth=self.AUTH,
                          data=b"name=x&description=" + b"a" * 300000,
                          headers={"Content-Type":
                                   "application/x-www-form-urlencoded"},
                          timeout=10)
        assert r.status_code == 413
        assert "64 KiB" in r.text
