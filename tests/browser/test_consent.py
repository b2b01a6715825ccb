"""The consent page in a real browser: Debian's headless Chromium driven by
python3-selenium through chromedriver, against a private httpd with the
issuer, oauth-authorize behind Basic authentication (the browser sends the
person's credentials) and a public application whose redirect URI is a
page of the same server.

A person signs in, sees the application and every scope it asks for,
allows (landing on the redirect URI with a code the application can
redeem) or denies (access_denied); the same with the keyboard only; the
page is readable at 375 px, styled by its inlined stylesheet (the CSP hash
holds), and cannot be framed. Screenshots go to tests/artifacts/screenshots/.

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/browser/test_consent.py
"""
import base64
import os
import sys
import time
import urllib.parse

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from authz_helpers import (PEOPLE, authz_conf, code_params,  # noqa: E402
                           exchange, make_people, pkce_pair, register)
from httpd_env import HttpdEnv, REPO  # noqa: E402
from issuer_helpers import make_key, token_admin  # noqa: E402

SHOTS = os.path.join(REPO, "tests", "artifacts", "screenshots")
XSS = "<b>Shop</b> & <script>alert(1)</script>"


@pytest.fixture(scope="module")
def server():
    env = HttpdEnv()
    try:
        make_key(env, "ES256", "es256.pem")
        make_people(env)
        token_admin(env, "scope", "add", "orders:read", "--description",
                    "See your orders")
        token_admin(env, "scope", "add", "orders:write", "--description",
                    "Place orders for you")
        cb = env.url + "/landing.html"
        env.cid = register(env, XSS, "--description",
                           "Orders, delivered <i>fast</i>", uris=(cb,),
                           scopes="orders:read,orders:write")[0]
        env.cb = cb
        env.write_file("htdocs/landing.html",
                       "<!DOCTYPE html><title>landing</title><p>back</p>\n")
        env.install(authz_conf())
        env.start()
        yield env
    finally:
        env.cleanup()


@pytest.fixture(scope="module")
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-sync",
              "--disable-component-update"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                         options=opts)
    d.set_window_size(1280, 900)
    d.execute_cdp_cmd("Network.enable", {})
    yield d
    d.quit()


def sign_in(d, person):
    """The person's credentials on every request (Basic, as the browser
    sends them once the person typed them into its dialog)."""
    token = base64.b64encode(
        ("%s:%s" % (person, PEOPLE[person])).encode()).decode()
    d.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                      {"headers": {"Authorization": "Basic " + token}})


def open_consent(d, server, person, scope="orders:read offline_access"):
    sign_in(d, person)
    verifier, challenge = pkce_pair()
    params = code_params(server.cid, server.cb, scope, challenge,
                         prompt="consent")
    d.get(server.url + "/oauth/authorize?" + urllib.parse.urlencode(params))
    WebDriverWait(d, 20).until(
        lambda d: d.execute_script("return document.readyState")
        == "complete")
    return verifier, params


def button(d, text):
    found = [b for b in d.find_elements(By.TAG_NAME, "button")
             if b.text.strip() == text and b.is_displayed()]
    assert len(found) == 1, "one button %s" % text
    return found[0]


def wait_landing(d, server):
    WebDriverWait(d, 20).until(lambda d: d.current_url.startswith(server.cb))
    return dict(urllib.parse.parse_qsl(
        urllib.parse.urlsplit(d.current_url).query))


def shot(d, name):
    os.makedirs(SHOTS, exist_ok=True)
    d.save_screenshot(os.path.join(SHOTS, name))


def csp_errors(d):
    return [e["message"] for e in d.get_log("browser")
            if "Content Security Policy" in e["message"]]


def test_consent_001_01_allow(server, browser):
    d = browser
    d.get_log("browser")
    verifier, params = open_consent(d, server, "alice")
    # What the person sees: the application (its markup as text), the
    # person, each scope by its description, offline access explained.
    h1 = d.find_element(By.TAG_NAME, "h1").text
    assert XSS in h1
    body = d.find_element(By.TAG_NAME, "body").text
    assert "Orders, delivered <i>fast</i>" in body
    assert "Signed in as alice" in body
    assert "See your orders" in body and "while you are away" in body
    assert "Place orders for you" not in body
    assert not d.find_elements(By.XPATH, "//main//script | //main//b")
    # Styled by the inlined console stylesheet, which the CSP allows.
    bg = d.execute_script("return getComputedStyle(document.querySelector"
                          "('header.top')).backgroundColor")
    assert bg == "rgb(22, 32, 44)", bg
    assert csp_errors(d) == []
    shot(d, "consent-1280.png")
    button(d, "Allow").click()
    q = wait_landing(d, server)
    assert q["state"] == params["state"] and q["iss"] == server.url
    r = exchange(server, server.cid, q["code"], server.cb, verifier)
    assert r.status_code == 200, r.text
    assert set(r.json()["scope"].split()) == {"orders:read",
                                              "offline_access"}


def test_consent_001_02_deny(server, browser):
    d = browser
    open_consent(d, server, "bob")
    button(d, "Deny").click()
    q = wait_landing(d, server)
    assert q["error"] == "access_denied" and "code" not in q


def test_consent_001_03_keyboard_only(server, browser):
    d = browser
    verifier, _ = open_consent(d, server, "carol")
    d.find_element(By.TAG_NAME, "body").click()
    d.execute_script("document.activeElement.blur()")
    for _ in range(30):
        d.switch_to.active_element.send_keys(Keys.TAB)
        active = d.switch_to.active_element
        if active.tag_name == "button" and active.text == "Allow":
            break
    else:
        pytest.fail("Allow cannot be reached with the Tab key")
    # The focused button shows that it is focused.
    outline = d.execute_script("return getComputedStyle("
                               "document.activeElement).outlineStyle")
    assert outline != "none"
    active.send_keys(Keys.ENTER)
    q = wait_landing(d, server)
    assert exchange(server, server.cid, q["code"], server.cb,
                    verifier).status_code == 200


def test_consent_001_04_phone_width(server, browser):
    d = browser
    d.set_window_size(375, 812)
    try:
        open_consent(d, server, "dave", "orders:read orders:write "
                                        "offline_access")
        width = d.execute_script(
            "return document.documentElement.scrollWidth")
        assert width <= 375, width
        for text in ("Allow", "Deny"):
            b = button(d, text)
            r = b.rect
            assert r["x"] >= 0 and r["x"] + r["width"] <= 375, (text, r)
            assert r["height"] >= 36, (text, r)      # a finger's worth
        shot(d, "consent-375.png")
    finally:
        d.set_window_size(1280, 900)


def test_consent_001_05_cannot_be_framed(server, browser):
    d = browser
    sign_in(d, "erin")
    params = code_params(server.cid, server.cb, "orders:read",
                         pkce_pair()[1], prompt="consent")
    server.write_file("htdocs/frame.html",
                      "<!DOCTYPE html><title>frame</title><iframe "
                      "src='/oauth/authorize?%s' width=600 height=400>"
                      "</iframe>\n" % urllib.parse.urlencode(params)
                      .replace("&", "&amp;"))
    d.get_log("browser")
    d.get(server.url + "/frame.html")
    time.sleep(1.5)
    # Blocked by frame-ancestors: the frame holds Chromium's error page,
    # not the consent form, and the refusal is logged.
    inner = d.execute_script(
        "var f = document.querySelector('iframe');"
        "try { return f.contentDocument && f.contentDocument.body"
        " ? f.contentDocument.body.innerText : null } catch (e)"
        " { return null }")
    assert not inner or "Allow" not in inner
    logs = " ".join(e["message"] for e in d.get_log("browser"))
    assert "frame-ancestors" in logs or "X-Frame-Options" in logs, logs
