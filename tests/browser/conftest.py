"""The console in a real browser: Debian's headless Chromium driven by
python3-selenium through chromedriver (no npm, no browser download),
against the private httpd of server.py.

The tests work the console the way an operator does, by what it shows:
fields by their visible label, buttons and links by their text, never by
internal ids. Screenshots at 1280 and 375 px go to
tests/artifacts/screenshots/.
"""
import base64
import json
import os
import shutil
import tempfile
import time

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import server as browser_server

ARTIFACTS = os.path.join(browser_server.REPO, "tests", "artifacts")
SHOTS = os.path.join(ARTIFACTS, "screenshots")
WIDTHS = (1280, 375)
CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run",
               "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


def xpath_literal(s):
    """S as an XPath string literal (XPath 1.0 has no escapes)."""
    if "'" not in s:
        return "'%s'" % s
    if '"' not in s:
        return '"%s"' % s
    return "concat(%s)" % ", \"'\", ".join("'%s'" % p for p in s.split("'"))


class Console:
    """A person at the console in the browser."""

    def __init__(self, driver, server):
        self.d = driver
        self.server = server
        self.base = server.url

    # -- moving around -------------------------------------------------------
    def go(self, path):
        self.d.get(self.base + path)
        WebDriverWait(self.d, 20).until(
            lambda d: d.execute_script("return document.readyState")
            == "complete")
        return self

    def _navigates(self, action):
        """Runs ACTION (a click that submits or follows) and waits for the
        next page."""
        old = self.d.find_element(By.TAG_NAME, "html")
        action()

        def gone(_):
            try:
                old.tag_name
                return False
            except StaleElementReferenceException:
                return True
            except WebDriverException as e:
                # chromedriver's other word for an element of a page that
                # has been replaced.
                if "does not belong to the document" in str(e):
                    return True
                raise
        WebDriverWait(self.d, 20).until(gone)
        WebDriverWait(self.d, 20).until(
            lambda d: d.execute_script("return document.readyState")
            == "complete")

    def press(self, text, within=None):
        """Clicks the button named TEXT (inside element WITHIN, if given)
        and waits for the page it leads to."""
        b = self.button(text, within)
        self._navigates(b.click)

    def follow(self, text, within=None):
        link = self.link(text, within)
        self._navigates(link.click)

    def nav(self, text):
        self.follow(text, self.d.find_element(
            By.XPATH, "//nav[@aria-label='Main']"))

    # -- finding what is shown -----------------------------------------------
    def _one(self, xpath, within=None, what=None):
        els = [e for e in (within or self.d).find_elements(By.XPATH, xpath)
               if e.is_displayed() or e.get_attribute("type") == "hidden"]
        assert els, "not on the page: %s" % (what or xpath)
        return els[0]

    def button(self, text, within=None):
        return self._one(".//button[normalize-space()=%s]"
                         % xpath_literal(text), within, "button " + text)

    def buttons(self, text):
        return self.d.find_elements(
            By.XPATH, "//button[normalize-space()=%s]" % xpath_literal(text))

    def link(self, text, within=None):
        return self._one(".//a[normalize-space()=%s]" % xpath_literal(text),
                         within, "link " + text)

    def links(self, text):
        return self.d.find_elements(
            By.XPATH, "//a[normalize-space()=%s]" % xpath_literal(text))

    def field(self, label):
        """The control whose visible <label> reads LABEL."""
        lab = self._one("//label[normalize-space()=%s]"
                        % xpath_literal(label), None, "label " + label)
        return self.d.find_element(By.ID, lab.get_attribute("for"))

    def value(self, label):
        return self.field(label).get_property("value")

    def fill(self, label, text):
        el = self.field(label)
        el.clear()
        if text:
            el.send_keys(text)
        return el

    def check(self, label, on=True):
        el = self.field(label)
        if el.is_selected() != on:
            el.click()

    def choose(self, label, option_value):
        el = self.field(label)
        el.find_element(By.XPATH, ".//option[@value=%s]"
                        % xpath_literal(option_value)).click()

    def heading(self):
        return self.d.find_element(By.TAG_NAME, "h1").text

    def term(self, name):
        """The value shown for NAME in a list of fields (<dt>/<dd>)."""
        return self._one("//dt[normalize-space()=%s]/following-sibling::dd"
                         % xpath_literal(name), None, "field " + name).text

    def main_text(self):
        return self.d.find_element(By.TAG_NAME, "main").text

    def source(self):
        return self.d.page_source

    def path(self):
        return self.d.current_url[len(self.base):]

    def error_of(self, label):
        """The message tied to the field LABEL by aria-describedby (and
        aria-invalid), or None."""
        el = self.field(label)
        if el.get_attribute("aria-invalid") != "true":
            # A group of boxes: the fieldset holding it is marked.
            fs = el.find_elements(By.XPATH, "ancestor::fieldset[1]")
            if not fs or fs[0].get_attribute("aria-invalid") != "true":
                return None
            el = fs[0]
        ids = (el.get_attribute("aria-describedby") or "").split()
        msgs = [self.d.find_element(By.ID, i).text for i in ids
                if i.endswith("-error")]
        return msgs[0] if msgs else None

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    # -- widths and pictures ---------------------------------------------------
    def width(self, w):
        self.d.set_window_size(w, 900 if w > 500 else 812)
        WebDriverWait(self.d, 5).until(
            lambda d: d.execute_script("return window.innerWidth") == w)

    def shot(self, name):
        """Full-page screenshots at 1280 and 375 px; at 375 nothing but a
        scrolling table may stick out sideways. Leaves the width at 1280."""
        os.makedirs(SHOTS, exist_ok=True)
        wide = None
        for w in WIDTHS:
            self.width(w)
            m = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = m.get("cssContentSize") or m["contentSize"]
            png = self.d.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": w,
                         "height": min(size["height"], 16000), "scale": 1}})
            with open(os.path.join(SHOTS, "%s-%d.png" % (name, w)),
                      "wb") as f:
                f.write(base64.b64decode(png["data"]))
            if w == 375:
                wide = self.js("return document.documentElement.scrollWidth")
        self.width(1280)
        assert wide <= 375, "%s is %dpx wide at 375px" % (name, wide)

    def at_widths(self, check):
        """Runs CHECK() at each width (layout-dependent assertions)."""
        try:
            for w in WIDTHS:
                self.width(w)
                check(w)
        finally:
            self.width(1280)


@pytest.fixture(scope="session")
def server():
    s = browser_server.start()
    yield s
    bad = browser_server.stop(s, ARTIFACTS)
    assert not bad, "unexpected error-log lines:\n" + "\n".join(bad)


@pytest.fixture(scope="session")
def driver(server):
    profile = tempfile.mkdtemp(prefix="at-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in CHROME_ARGS + ["--user-data-dir=" + profile,
                            "--window-size=1280,900"]:
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                         options=opts)
    try:
        d.set_page_load_timeout(30)
        # Basic auth for every request, as the browser would send it once
        # the operator has signed in.
        cred = base64.b64encode(("%s:%s" % (server.operator, server.password))
                                .encode()).decode()
        d.execute_cdp_cmd("Network.enable", {})
        d.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                          {"headers": {"Authorization": "Basic " + cred}})
        d.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": server.url,
            "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def console(driver, server):
    c = Console(driver, server)
    c.width(1280)
    return c


def wait_for(pred, timeout=5.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def token(server, client_id, secret, **form):
    """A token request with client_secret_basic (client_credentials unless
    FORM says otherwise); the response."""
    form.setdefault("grant_type", "client_credentials")
    return requests.post(server.url + "/oauth/token", auth=(client_id, secret),
                         data=form, timeout=10)


def claims(access_token):
    part = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
