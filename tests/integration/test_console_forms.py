"""Issue 9 through the CGI (fast, no browser; tests/browser covers the same
in Chromium): the console never changes what the operator typed, shows
every error one way, asks before what cannot be undone, and finds things.
The command line refuses what the console refuses, with the same words."""
import hashlib
import hmac
import json
import re
import subprocess
import time
import urllib.parse

import pytest

from test_console_cgi import TOKEN_ADMIN, Console, check_html


def cli(console, *args):
    r = subprocess.run([TOKEN_ADMIN, "--registry", console.registry,
                        "--actor", "cli"] + list(args),
                       capture_output=True, text=True, timeout=30)
    return r


def show(console, cid):
    r = cli(console, "--json", "app", "show", cid)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def form_values(ans):
    """What a browser would send back from the app form as it came."""
    d = ans.doc
    return {
        "description": d.xpath("//textarea[@id='description']")[0]
        .text_content(),
        "audiences": d.xpath("//textarea[@id='audiences']")[0]
        .text_content(),
        "redirect_uris": d.xpath("//textarea[@id='redirect_uris']")[0]
        .text_content(),
    }


def browser_value(raw_text):
    """A textarea's value as the browser gets it from the page: HTML drops
    one line break right after <textarea>."""
    return raw_text[1:] if raw_text.startswith("\n") else raw_text


@pytest.fixture(scope="module")
def console():
    c = Console()
    yield c
    c.cleanup()


class TestLineBreaks:
    TYPED = {"description": "\nFirst line\n  second\n\nlast \u2713\n",
             "audiences": "orders-api\nbilling-api",
             "redirect_uris": "https://a.example/cb\nhttp://127.0.0.1:9/cb"}

    def crlf(self, text):
        return text.replace("\n", "\r\n")

    def test_forms_001_01_crlf_refused_resent_stored(self, console):
        # A browser sends CR LF; the form is refused once for another
        # field, sent again from what came back, and stored exactly.
        body = {"name": "crlf", "type": "confidential",
                "grant": ["client_credentials"], "access_lifetime": "soon"}
        body.update({k: self.crlf(v) for k, v in self.TYPED.items()})
        r = console.post("/apps/new", body, form_page="/apps/new")
        assert r.status == 422
        assert "\ufffd" not in r.text and "\r" not in r.text
        back = {k: browser_value(v) for k, v in form_values(r).items()}
        assert back == self.TYPED
        body.update({k: self.crlf(v) for k, v in back.items()})
        body["access_lifetime"] = "300"
        r = console.post("/apps/new", body, form_page="/apps/new")
        assert r.status == 303, r.text
        cid = urllib.parse.unquote(r.header("location").split("/")[3])
        app = show(console, cid)
        assert app["description"] == self.TYPED["description"]
        assert app["audiences"] == ["orders-api", "billing-api"]
        assert app["redirect_uris"] == self.TYPED["redirect_uris"].split()
        # The edit form gives the stored text back unchanged.
        edit = console.get("/apps/%s/edit" % cid)
        assert {k: browser_value(v) for k, v in form_values(edit).items()} \
            == self.TYPED

    def test_forms_001_02_description_breaks_in_cli(self, console):
        # The command line takes the same line breaks, and refuses other
        # control characters in both places.
        r = cli(console, "--json", "app", "add", "--name", "cli-lines",
                "--description", "one\ntwo\tthree")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["description"] == "one\ntwo\tthree"
        r = cli(console, "app", "add", "--name", "cli-bell",
                "--description", "bell\x07")
        assert r.returncode != 0 and "control characters" in r.stderr
        ans = console.post("/apps/new", {"name": "x", "type": "confidential",
                                         "grant": ["client_credentials"],
                                         "description": "bell\x07"},
                           form_page="/apps/new")
        assert ans.status == 422
        assert "control characters" in ans.doc.xpath(
            "//*[@id='description-error']")[0].text_content()
        # The value comes back without the character, never as U+FFFD.
        assert "\ufffd" not in ans.text
        assert ans.doc.xpath("//textarea[@id='description']")[0] \
            .text_content() == "bell"


class TestOneWayOfErrors:
    def test_forms_002_01_every_error_by_its_field(self, console):
        r = console.post("/apps/new", {
            "name": "x" * 101, "type": "confidential",
            "grant": ["client_credentials"],
            "audiences": "a\na", "redirect_uris": "javascript:alert(1)",
            "access_lifetime": "soon"}, form_page="/apps/new")
        assert r.status == 422
        check_html(r)
        want = {
            "name": "Name is longer than 100 characters.",
            "audiences": 'Line 2: Audience "a" is given twice.',
            "redirect_uris": "Line 1: Redirect URI must be absolute "
                             "(scheme://host/path).",
            "access_lifetime": "Access lifetime must be 1 to 86400 seconds "
                               "(0: server default).",
        }
        for fid, msg in want.items():
            field = r.doc.get_element_by_id(fid)
            assert field.get("aria-invalid") == "true", fid
            assert fid + "-error" in field.get("aria-describedby").split()
            assert r.doc.get_element_by_id(fid + "-error").text_content() \
                == msg
        # The banner links each, in order; the first wrong field has focus.
        links = r.doc.xpath("//*[@id='form-error']//a")
        assert [a.text_content() for a in links] == list(want.values())
        assert [a.get("href") for a in links] == [
            "/admin/apps/new#" + f for f in want]
        assert r.doc.xpath("//*[@autofocus]/@id") == ["name"]
        # The limit the message names is the field's maxlength.
        assert r.doc.get_element_by_id("name").get("maxlength") == "100"

    def test_forms_002_02_characters_not_bytes(self, console):
        r = console.post("/apps/new", {"name": "\u00e9" * 100,
                                       "type": "confidential",
                                       "grant": ["client_credentials"]},
                         form_page="/apps/new")
        assert r.status == 303, r.text

    def test_forms_002_03_wildcards_refused_everywhere(self, console):
        r = console.post("/apps/new", {
            "name": "wild", "type": "confidential",
            "grant": ["client_credentials"],
            "redirect_uris": "https://*.example.com/cb"},
            form_page="/apps/new")
        assert r.status == 422
        msg = r.doc.get_element_by_id("redirect_uris-error").text_content()
        assert "wildcards" in msg
        c = cli(console, "app", "add", "--name", "wild", "--redirect-uri",
                "https://*.example.com/cb")
        assert c.returncode != 0
        assert c.stderr.strip() == "token-admin: redirect URI must be " \
            "exact: wildcards ('*') are not allowed"

    def test_forms_002_04_offline_is_not_a_grant_type(self, console):
        r = console.get("/apps/new")
        fs = r.doc.get_element_by_id("grants-field")
        assert not fs.xpath(".//input[@name='offline_client_credentials']")
        assert r.doc.xpath("//input[@name='offline_client_credentials']")

    def test_forms_002_05_skip_link_and_no_fragment_leak(self, console):
        r = console.get("/apps", query="q=x")
        assert r.doc.xpath("//body/a[1]/@href") == ["/admin/apps?q=x#main"]
        # A client that sends the fragment still gets the page.
        assert console.get("/apps#main").status == 200


class TestConfirmations:
    def app(self, console, name, **extra):
        cid, _ = console.create_app(name, **extra)
        return cid

    @pytest.mark.parametrize("route,fields,says", [
        ("rotate", {"grace": "0"}, "stops working at once"),
        ("disable", {}, "gets no more tokens"),
        ("revoke-all", {}, "Every refresh-token grant"),
    ])
    def test_forms_003_01_asks_first(self, console, route, fields, says):
        cid = self.app(console, "ask-" + route)
        before = show(console, cid)
        r = console.post("/apps/%s/%s" % (cid, route), fields)
        assert r.status == 200
        check_html(r)
        assert says in r.main_text()
        assert show(console, cid) == before
        form = r.doc.xpath("//form[@id='confirm-form']")[0]
        assert form.get("action") == "/admin/apps/%s/%s" % (cid, route)
        assert form.xpath(".//input[@name='confirm']/@value") == ["yes"]
        assert form.xpath(".//button/@class") == ["danger"]

    def test_forms_003_02_rotation_state(self, console):
        cid = self.app(console, "rotated")
        page = console.get("/apps/" + cid)
        assert not page.doc.xpath("//form[@id='end-old-form']")
        time.sleep(1.1)
        r = console.post("/apps/%s/rotate" % cid, {"grace": "600",
                                                   "confirm": "yes"})
        assert r.status == 303
        jar = r.all("set-cookie")[0].split(";")[0]
        s = console.get("/apps/%s/secret" % cid, cookie=jar)
        assert "The previous secret keeps working until" in s.main_text()
        page = console.get("/apps/" + cid)
        t = page.main_text()
        assert re.search(r"Old secret valid until \S+ \S+ UTC \(10 min from "
                         r"now\)", t), t
        assert page.doc.xpath("//form[@id='end-old-form']//button")
        app = show(console, cid)
        assert app["updated"] > app["created"]
        # Ending it: asked, then done, and the button goes.
        r = console.post("/apps/%s/end-old-secrets" % cid, {})
        assert r.status == 200 and "stops working now" in r.main_text()
        r = console.post("/apps/%s/end-old-secrets" % cid, {"confirm": "yes"})
        assert r.status == 303
        assert not console.get("/apps/" + cid).doc.xpath(
            "//form[@id='end-old-form']")

    def test_forms_003_03_bad_grace_by_its_field(self, console):
        cid = self.app(console, "bad-grace")
        for grace in ("soon", "2592001", "-1"):
            r = console.post("/apps/%s/rotate" % cid, {"grace": grace})
            assert r.status == 422
            check_html(r)
            assert r.doc.xpath("//h1")[0].text_content() == "bad-grace"
            assert r.doc.get_element_by_id("grace-error").text_content() \
                == "Grace must be 0 to 2592000 seconds."
            assert r.doc.get_element_by_id("grace").get("value") == grace

    def test_forms_003_04_scope_in_use_names_apps(self, console):
        console.post("/scopes", {"name": "used:scope"})
        cid = self.app(console, "Scope User", scope=["used:scope"])
        r = console.post("/scopes/delete", {"name": "used:scope",
                                            "confirm": "yes"})
        assert r.status == 409
        li = r.doc.xpath("//ul[@id='users']/li")[0]
        assert " ".join(li.text_content().split()) == "Scope User " + cid
        assert li.xpath("a/@href") == ["/admin/apps/" + cid]

    def test_forms_003_05_expired_form_offered_again(self, console):
        cid = self.app(console, "late")
        key = open(console.registry + "-console.key", "rb").read()
        old = str(int(time.time()) - 9 * 3600)
        tok = old + "." + hmac.new(key, b"csrf\0alice\0" + old.encode(),
                                   hashlib.sha256).hexdigest()
        body = {"csrf": tok, "grace": "60"}
        r = console.run("/apps/%s/rotate" % cid, "POST", body=body)
        assert r.status == 403
        check_html(r)
        assert "AT00805" not in r.stderr
        form = r.doc.xpath("//form[@id='resubmit-form']")[0]
        assert form.get("action") == "/admin/apps/%s/rotate" % cid
        assert form.xpath(".//input[@name='grace']/@value") == ["60"]
        fresh = form.xpath(".//input[@name='csrf']/@value")[0]
        assert fresh != tok
        # Sent again: the question, then the rotation.
        r = console.run("/apps/%s/rotate" % cid, "POST",
                        body={"csrf": fresh, "grace": "60"})
        assert r.status == 200 and "keeps working for 1 min" in r.main_text()
        # Another operator's expired token is not offered again.
        mac = hmac.new(key, b"csrf\0bob\0" + old.encode(),
                       hashlib.sha256).hexdigest()
        r = console.run("/apps/%s/rotate" % cid, "POST",
                        body={"csrf": old + "." + mac, "grace": "60"})
        assert r.status == 403 and not r.doc.xpath("//form[@id="
                                                   "'resubmit-form']")
        assert "AT00805" in r.stderr


class TestFinding:
    def test_forms_004_01_search_and_pages(self, console):
        cid, _ = console.create_app("Mixed Case App",
                                    description="Serves INVOICES")
        for q in ("mixed case", "invoices", cid[2:9].swapcase()):
            r = console.get("/apps", query="q=" + urllib.parse.quote(q))
            names = [a.text_content() for a in
                     r.doc.xpath("//tbody[@id='app-rows']//a")]
            assert names == ["Mixed Case App"], q
        r = console.get("/apps", query="page=99")
        m = re.search(r"Page (\d+) of (\d+)", r.main_text())
        assert m and m.group(1) == m.group(2)
        assert r.doc.xpath("//tbody[@id='app-rows']/tr")

    def test_forms_004_02_audit_names_and_words(self, console):
        cid, _ = console.create_app("Audited Thing")
        r = console.post("/apps/%s/edit" % cid, {
            "name": "Audited Thing", "type": "confidential",
            "grant": ["client_credentials"], "access_lifetime": "300",
            "description": "now described"}, form_page="/apps/%s/edit" % cid)
        assert r.status == 303
        r = console.get("/audit", query="app=audited+THING&actor=LIC")
        rows = r.doc.xpath("//tbody[@id='audit-rows']/tr")
        assert [tr.xpath("td[3]")[0].text_content() for tr in rows] == [
            "app.update", "app.create"]
        about = rows[0].xpath("td[4]")[0]
        assert " ".join(about.text_content().split()) == \
            "Audited Thing " + cid
        assert about.xpath(".//a/@href") == ["/admin/apps/" + cid]
        said = [li.text_content() for li in rows[0].xpath("td[5]//li")]
        assert said == [
            "Description: \u201c\u201d \u2192 \u201cnow described\u201d",
            "Access-token lifetime: server default \u2192 300 s (5 min)"]
        # The stored detail is JSON with before and after.
        detail = json.loads(json.loads(cli(console, "--json", "audit",
                                           "--target", cid).stdout)[0]
                            ["detail"])
        assert detail["changed"]["access_lifetime"] == [None, 300]
        # A part of the client_id finds the same rows; a deleted
        # application keeps its name.
        r = console.get("/audit", query="app=" + cid[3:11])
        assert len(r.doc.xpath("//tbody[@id='audit-rows']/tr")) == 2
        console.post("/apps/%s/delete" % cid, {})
        r = console.get("/audit", query="app=" + cid)
        rows = r.doc.xpath("//tbody[@id='audit-rows']/tr")
        assert rows[0].xpath("td[3]")[0].text_content() == "app.delete"
        assert len(rows) == 3
        assert all(" ".join(tr.xpath("td[4]")[0].text_content().split()) ==
                   "Audited Thing " + cid for tr in rows)
        assert not r.doc.xpath("//tbody//a")
