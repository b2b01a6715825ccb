"""The operators' console in a real browser, end to end, through httpd
with Basic auth:

  1. on a fresh registry the console shows its empty states; an operator
     creates a scope and an application through the forms, copies the
     secret shown once, that secret gets a token at oauth-token, and the
     token opens the protected /api location;
  2. an application name holding <script> shows as text;
  3. a POST without a valid CSRF token is refused with 403 and changes
     nothing;
  4. an operator revokes one access token by its jti and a refresh-token
     grant (after its confirmation);
  5. the keyboard alone reaches everything: the skip link first, forms
     filled and sent with keys.
"""
import re

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import claims, token, wait_for


def test_browser_01_create_application_secret_opens_api(console, server):
    c = console
    c.go("/admin/")
    assert c.d.title == "Dashboard - token-admin"
    # A fresh registry: the empty states say so.
    assert "Nothing has been changed yet." in c.main_text()
    c.shot("dashboard-empty")
    c.nav("Applications")
    assert "No application matches." in c.main_text()
    c.shot("apps-empty")

    # A scope for the API.
    c.nav("Scopes")
    c.fill("Scope name", "orders:read")
    c.fill("Description", "Read orders")
    c.press("Create scope")
    assert "The scope was created." in c.main_text()
    assert c.path() == "/admin/scopes?done=scope-created"
    c.shot("scopes")

    # The application.
    c.nav("Applications")
    c.follow("New application")
    c.shot("app-new")
    c.fill("Name", "orders-client")
    c.fill("Description", "Reads orders nightly")
    c.choose("Type", "confidential")
    c.check("client_credentials")
    c.check("orders:read")
    c.fill("Audiences (one per line)", "orders-api")
    c.fill("Access-token lifetime in seconds", "300")
    c.press("Create application")

    # The secret, shown once, copied with the button.
    assert "Copy the secret now." in c.main_text()
    client_id = c.value("client_id")
    shown = c.value("Client secret")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", shown)
    assert "This is the application's first secret." in c.main_text()
    c.button("Copy secret").click()
    wait_for(lambda: c.buttons("Copied"), what="Copied")
    copied = c.d.execute_async_script(
        "var done = arguments[0];"
        "navigator.clipboard.readText().then(done, function () {"
        " done(null); });")
    assert copied == shown
    c.shot("secret")
    # Reloading does not show it again.
    c.d.refresh()
    assert shown not in c.source()
    assert "A client secret is shown only once" in c.main_text()

    c.nav("Applications")
    c.follow("orders-client")
    assert "300 s (5 min) (server default: 600 s (10 min))" in c.main_text()
    c.shot("app-detail")

    # The secret gets a token at the issuer, and the token opens /api.
    r = token(server, client_id, shown, scope="orders:read")
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"].lower() == "bearer"
    api = requests.get(server.url + "/api/data.txt", timeout=10, headers={
        "Authorization": "Bearer " + tok["access_token"]})
    assert api.status_code == 200 and api.text == "protected data\n"
    assert requests.get(server.url + "/api/data.txt",
                        timeout=10).status_code == 401

    # The audit log names the operator.
    c.nav("Audit log")
    c.fill("Operator (or part of the name)", server.operator)
    c.press("Filter")
    assert c.d.find_elements(
        By.XPATH, "//tbody//td[normalize-space()='app.create']")
    c.shot("audit")
    c.nav("Dashboard")
    c.shot("dashboard")


def test_browser_02_script_in_name_is_text(console):
    c = console
    name = "<script>window.__pwned=1</script><img src=x>"
    c.go("/admin/apps/new")
    c.fill("Name", name)
    c.press("Create application")
    assert "Copy the secret now." in c.main_text()
    c.follow("Back to the application")
    assert c.heading() == name
    assert c.js("return window.__pwned") is None
    assert not c.d.find_elements(By.CSS_SELECTOR, "main script, main img")
    c.nav("Applications")
    c.link(name)
    assert c.js("return window.__pwned") is None
    c.shot("apps")

    # The confirmation step before a delete.
    c.follow(name)
    c.press("Delete application")
    assert c.heading() == "Delete %s?" % name
    assert "This cannot be undone." in c.main_text()
    c.shot("app-delete-confirm")


def test_browser_03_forged_posts_refused(console, server):
    s = requests.Session()
    s.auth = (server.operator, server.password)
    before = s.get(server.url + "/admin/scopes", timeout=10)
    assert before.status_code == 200
    for form in ({"name": "forged-scope"},
                 {"name": "forged-scope", "csrf": "1.deadbeef"}):
        r = s.post(server.url + "/admin/scopes", data=form,
                   allow_redirects=False, timeout=10)
        assert r.status_code == 403
        assert "nothing was changed" in r.text
    # A form posted from elsewhere, with the operator's credentials but no
    # token from a console page, changes nothing either.
    console.go("/admin/apps?q=orders-client")
    console.follow("orders-client")
    cid = re.search(r"/admin/apps/([^/?]+)$", console.d.current_url).group(1)
    for action in ("disable", "revoke-all"):
        r = s.post(server.url + "/admin/apps/%s/%s" % (cid, action),
                   data={"confirm": "yes"}, allow_redirects=False,
                   timeout=10)
        assert r.status_code == 403, action
    console.go("/admin/scopes")
    assert "forged-scope" not in console.main_text()
    console.go("/admin/apps/" + cid)
    assert "Enabled: it can get tokens." in console.main_text()
    console.go("/admin/audit")
    assert "forged-scope" not in console.main_text()


def test_browser_04_revoke_access_token_and_grant(console, server):
    c = console
    c.go("/admin/apps/new")
    c.fill("Name", "nightly-batch")
    c.check("client_credentials")
    c.check("refresh_token")
    c.check("Refresh tokens with client credentials")
    c.check("offline_access")
    c.press("Create application")
    client_id = c.value("client_id")
    secret = c.value("Client secret")
    c.follow("Back to the application")

    r = token(server, client_id, secret, scope="offline_access")
    tok = r.json()
    assert r.status_code == 200, tok
    assert tok.get("refresh_token"), "no refresh token issued"

    def checked():
        return requests.get(server.url + "/checked/data.txt", timeout=10,
                            headers={"Authorization": "Bearer "
                                     + tok["access_token"]}).status_code
    assert checked() == 200

    c.follow("Grants")
    c.fill("Access token id (its jti claim)", "no-such-jti")
    c.press("Revoke access token")
    assert "No access token with this jti was issued" in c.main_text()
    assert c.value("Access token id (its jti claim)") == "no-such-jti"
    c.fill("Access token id (its jti claim)",
           claims(tok["access_token"])["jti"])
    c.press("Revoke access token")
    assert "The access token was revoked." in c.main_text()
    wait_for(lambda: checked() == 401, 3, "the revoked token to be refused")

    rows = c.d.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    assert len(rows) == 1
    c.shot("grants")
    c.press("Revoke grant", rows[0])
    # The confirmation names the grant and what stops working.
    assert c.heading() == "Revoke this grant?"
    assert "its refresh token is refused" in c.main_text()
    c.shot("grant-revoke-confirm")
    c.press("Revoke grant")
    assert "The grant was revoked." in c.main_text()
    assert "This application has no active refresh-token grant." in \
        c.main_text()
    again = token(server, client_id, secret, grant_type="refresh_token",
                  refresh_token=tok["refresh_token"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_browser_05_keyboard_only(console):
    c = console
    c.go("/admin/scopes")
    body = c.d.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = c.d.switch_to.active_element
    # The first stop is the skip link; it takes the focus to the content.
    assert focused.text == "Skip to the content"
    focused.send_keys(Keys.ENTER)
    wait_for(lambda: c.js("return document.activeElement.id") == "main",
             what="focus on main")
    # A form filled and sent with keys alone.
    name = c.field("Scope name")
    name.click()
    name.send_keys("kbd:only")
    name.send_keys(Keys.TAB)
    c.d.switch_to.active_element.send_keys("Typed with keys")
    c._navigates(lambda: c.d.switch_to.active_element.send_keys(
        Keys.ENTER))
    assert "The scope was created." in c.main_text()
    assert "kbd:only" in c.main_text()
