// The operators' console in a real browser (Debian's headless Chromium via
// playwright-core), through httpd with Basic auth, the way an operator uses
// it: by visible labels, link and button text, never by internal ids.
//
//   1. an operator creates a scope and an application through the forms,
//      copies the secret shown, that secret gets a token at oauth-token,
//      and the token opens the protected /api location;
//   2. an application name holding <script> shows as text;
//   3. a POST without a valid CSRF token is refused with 403 and changes
//      nothing;
//   4. screenshots of the main pages at desktop width and at 375 px.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.join(here, "..", "artifacts", "screenshots");
const env = JSON.parse(fs.readFileSync(process.env.AT_BROWSER_ENV, "utf8"));
const base = env.url;

let context, page, profile;

before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    // A fresh profile per run: launchPersistentContext owns --user-data-dir.
    profile = fs.mkdtempSync(path.join(os.tmpdir(), "at-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run",
               "--disable-background-networking",
               "--disable-component-update", "--disable-sync"],
        httpCredentials: { username: env.operator, password: env.password },
        viewport: { width: 1280, height: 900 },
        permissions: ["clipboard-read", "clipboard-write"],
    });
    page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
});

after(async () => {
    if (context) {
        await context.close();
    }
    fs.rmSync(profile, { recursive: true, force: true });
});

// A link of the main navigation.
function nav(name) {
    return page.getByRole("navigation", { name: "Main" })
        .getByRole("link", { name, exact: true });
}

async function shot(name) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(shots, `${name}-desktop.png`),
                            fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.screenshot({ path: path.join(shots, `${name}-375.png`),
                            fullPage: true });
    // Nothing may stick out sideways at 375 px but the scrolling tables.
    const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.ok(overflow <= 375, `${name} is ${overflow}px wide at 375px`);
}

// The token endpoint is another helper's work landing during the session:
// wait for it to answer like an OAuth endpoint instead of faking it.
async function waitForTokenEndpoint() {
    const deadline = Date.now() + 60000;
    for (;;) {
        const r = await fetch(`${base}/oauth/token`, { method: "POST" });
        if (r.status !== 404 && r.status !== 500) {
            return;
        }
        assert.ok(Date.now() < deadline, "oauth-token never answered");
        await new Promise((res) => setTimeout(res, 1000));
    }
}

test("operator creates an application whose secret opens the API",
     async () => {
    await page.goto(`${base}/admin/`);
    assert.equal(await page.title(), "Dashboard - token-admin");
    await shot("dashboard-empty");

    // A scope for the API.
    await nav("Scopes").click();
    await page.getByLabel("Scope name").fill("orders:read");
    await page.getByLabel("Description").fill("Read orders");
    await page.getByRole("button", { name: "Create scope" }).click();
    await page.getByText("The scope was created.").waitFor();
    assert.match(page.url(), /\/admin\/scopes\?done=scope-created$/);
    await shot("scopes");

    // The application.
    await nav("Applications").click();
    await page.getByRole("link", { name: "New application" }).click();
    await shot("app-new");
    await page.getByLabel("Name", { exact: true }).fill("orders-client");
    await page.getByLabel("Description").fill("Reads orders nightly");
    await page.getByLabel("Type").selectOption("confidential");
    await page.getByLabel("client_credentials").check();
    await page.getByLabel("orders:read").check();
    await page.getByLabel("Audiences (one per line)").fill("orders-api");
    await page.getByLabel("Access-token lifetime in seconds").fill("300");
    await page.getByRole("button", { name: "Create application" }).click();

    // The secret, shown once, copied with the button.
    await page.getByText("Copy the secret now.").waitFor();
    const clientId = await page.getByLabel("client_id").inputValue();
    const shown = await page.getByLabel("Client secret").inputValue();
    assert.match(shown, /^[A-Za-z0-9_-]{43,}$/);
    await page.getByRole("button", { name: "Copy secret" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(secret, shown);
    await shot("secret");
    // Reloading does not show it again.
    await page.reload();
    assert.equal(await page.getByText(shown).count(), 0);
    assert.equal(await page.locator(`input[value="${shown}"]`).count(), 0);
    await page.getByText("A client secret is shown only once").waitFor();

    await nav("Applications").click();
    await page.getByRole("link", { name: "orders-client" }).click();
    await page.getByText("300 s (5 min) (server default: 600 s (10 min))")
        .waitFor();
    await shot("app-detail");

    // The secret gets a token at the issuer, and the token opens /api.
    await waitForTokenEndpoint();
    const tr = await fetch(`${base}/oauth/token`, {
        method: "POST",
        headers: {
            "Authorization": "Basic " + Buffer.from(
                `${encodeURIComponent(clientId)}:` +
                `${encodeURIComponent(secret)}`).toString("base64"),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body: "grant_type=client_credentials&scope=orders%3Aread",
    });
    const tok = await tr.json();
    assert.equal(tr.status, 200, JSON.stringify(tok));
    assert.equal(tok.token_type.toLowerCase(), "bearer");
    const api = await fetch(`${base}/api/data.txt`, {
        headers: { "Authorization": `Bearer ${tok.access_token}` },
    });
    assert.equal(api.status, 200);
    assert.equal(await api.text(), "protected data\n");
    const noToken = await fetch(`${base}/api/data.txt`);
    assert.equal(noToken.status, 401);

    // The audit log names the operator.
    await nav("Audit log").click();
    await page.getByLabel("Operator").fill(env.operator);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("cell", { name: "app.create" }).first().waitFor();
    await shot("audit");
    await nav("Dashboard").click();
    await shot("dashboard");
});

test("an application name holding <script> shows as text", async () => {
    const name = "<script>window.__pwned=1</script><img src=x>";
    await page.goto(`${base}/admin/apps/new`);
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByRole("button", { name: "Create application" }).click();
    await page.getByText("Copy the secret now.").waitFor();
    await page.getByRole("link", { name: "Back to the application" }).click();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(),
                 name);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator("main script, main img").count(), 0);
    await nav("Applications").click();
    await page.getByRole("link", { name }).waitFor();
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await shot("apps");

    // The confirmation step before a delete, and a form with mistakes.
    await page.getByRole("link", { name }).click();
    // Delete is a button on the application's page (a GET to the
    // confirmation page) and again, as the POST, on that page.
    await page.getByRole("button", { name: "Delete application" }).click();
    await page.getByRole("heading", { name: /^Delete / }).waitFor();
    await shot("app-delete-confirm");
    await page.goto(`${base}/admin/apps/new`);
    await page.getByLabel("Name", { exact: true }).fill("orders-client");
    await page.getByLabel("Access-token lifetime in seconds").fill("soon");
    await page.getByRole("button", { name: "Create application" }).click();
    await page.getByText("Give a whole number of seconds").waitFor();
    assert.equal(await page.getByLabel("Access-token lifetime in seconds")
        .inputValue(), "soon");
    await shot("app-new-errors");
});

test("a POST without a valid CSRF token is refused and changes nothing",
     async () => {
    const before = await page.request.get(`${base}/admin/scopes`);
    assert.equal(before.status(), 200);
    for (const form of [{ name: "forged-scope" },
                        { name: "forged-scope", csrf: "1.deadbeef" }]) {
        const r = await page.request.post(`${base}/admin/scopes`,
                                          { form, maxRedirects: 0 });
        assert.equal(r.status(), 403);
        assert.match(await r.text(), /nothing was changed/);
    }
    // A cross-site page that posts a form on its own is refused too.
    await page.goto(`${base}/admin/apps?q=orders-client`);
    await page.getByRole("link", { name: "orders-client" }).click();
    const id = page.url().match(/\/admin\/apps\/([^/?]+)$/)[1];
    const r = await page.request.post(`${base}/admin/apps/${id}/disable`,
                                      { form: {}, maxRedirects: 0 });
    assert.equal(r.status(), 403);
    await page.goto(`${base}/admin/scopes`);
    assert.equal(await page.getByText("forged-scope").count(), 0);
    await page.goto(`${base}/admin/apps/${id}`);
    await page.getByText("Enabled: it can get tokens.").waitFor();
    await page.goto(`${base}/admin/audit`);
    assert.equal(await page.getByText("forged-scope").count(), 0);
});

test("an operator revokes an access token and a refresh-token grant",
     async () => {
    await page.goto(`${base}/admin/apps/new`);
    await page.getByLabel("Name", { exact: true }).fill("nightly-batch");
    await page.getByLabel("client_credentials").check();
    await page.getByLabel("refresh_token").check();
    await page.getByLabel("Refresh tokens with client credentials").check();
    await page.getByLabel("offline_access").check();
    await page.getByRole("button", { name: "Create application" }).click();
    const clientId = await page.getByLabel("client_id").inputValue();
    const secret = await page.getByLabel("Client secret").inputValue();
    await page.getByRole("link", { name: "Back to the application" }).click();

    await waitForTokenEndpoint();
    const form = (body) => ({
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: clientId,
                                    client_secret: secret, ...body }),
    });
    const tr = await fetch(`${base}/oauth/token`, form({
        grant_type: "client_credentials", scope: "offline_access" }));
    const tok = await tr.json();
    assert.equal(tr.status, 200, JSON.stringify(tok));
    assert.ok(tok.refresh_token, "no refresh token issued");

    // The access token works where revocation is checked...
    const checked = async () => (await fetch(`${base}/checked/data.txt`, {
        headers: { "Authorization": `Bearer ${tok.access_token}` },
    })).status;
    assert.equal(await checked(), 200);

    await page.getByRole("link", { name: "Grants" }).click();
    // ...until the operator revokes it by its jti on the grants page.
    const claims = JSON.parse(Buffer.from(
        tok.access_token.split(".")[1], "base64url").toString());
    await page.getByLabel("Access token id").fill("no-such-jti");
    await page.getByRole("button", { name: "Revoke access token" }).click();
    await page.getByText("No access token with this jti was issued").waitFor();
    assert.equal(await page.getByLabel("Access token id").inputValue(),
                 "no-such-jti");
    await page.getByLabel("Access token id").fill(claims.jti);
    await page.getByRole("button", { name: "Revoke access token" }).click();
    await page.getByText("The access token was revoked.").waitFor();
    const deadline = Date.now() + 3000;
    while (await checked() !== 401) {
        assert.ok(Date.now() < deadline, "revoked token still accepted");
        await new Promise((res) => setTimeout(res, 100));
    }

    const rows = page.locator("main table tbody tr");
    assert.equal(await rows.count(), 1);
    await shot("grants");
    await rows.first().getByRole("button", { name: "Revoke grant" }).click();
    await page.getByText("The grant was revoked.").waitFor();
    await page.getByText("This application has no active refresh-token grant.")
        .waitFor();
    const again = await fetch(`${base}/oauth/token`, form({
        grant_type: "refresh_token", refresh_token: tok.refresh_token }));
    assert.equal(again.status, 400);
    assert.equal((await again.json()).error, "invalid_grant");
});
