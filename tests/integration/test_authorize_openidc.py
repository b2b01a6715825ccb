"""mod_auth_openidc (Debian's libapache2-mod-auth-openidc) as a relying
party in a second private httpd, logging a person in through our issuer by
discovery, with certificate checks on: the issuer answers on HTTPS
(mod_ssl) with a certificate from a test CA made here with openssl, and the
relying party trusts that CA only (OIDCCABundlePath). The protected page of
the relying party sees the person's sub as REMOTE_USER. A relying party
that does not trust the CA cannot even read the discovery document."""
import os
import secrets
import subprocess
import urllib.parse

import pytest
import requests

from authz_helpers import PEOPLE, Person, authz_conf, make_people, register
from httpd_env import HttpdEnv, MODULES_DIR, free_port
from issuer_helpers import add_scopes, make_key

OPENIDC = os.path.join(MODULES_DIR, "mod_auth_openidc.so")

WHOAMI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'REMOTE_USER=%s\\n' "$REMOTE_USER"
printf 'OIDC_CLAIM_sub=%s\\n' "$OIDC_CLAIM_sub"
printf 'OIDC_CLAIM_email=%s\\n' "$OIDC_CLAIM_email"
"""


def make_ca(env):
    """A test CA and a certificate for 127.0.0.1/localhost signed by it,
    under keys/; returns the CA certificate's path."""
    k = env.path("keys")

    def ssl(*args):
        subprocess.run(["openssl"] + list(args), check=True,
                       capture_output=True, cwd=k)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=mod_auth_token test CA", "-keyout", "ca.key",
        "-out", "ca.pem", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(k, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
        "ca.key", "-CAcreateserial", "-days", "2", "-out", "server.crt",
        "-extfile", "ext.cnf")
    for f in os.listdir(k):
        os.chmod(os.path.join(k, f), 0o644)
    return os.path.join(k, "ca.pem")


def tls_conf(port):
    return """
LoadModule ssl_module %(m)s/mod_ssl.so
LoadModule socache_shmcb_module %(m)s/mod_socache_shmcb.so
SSLSessionCache shmcb:{root}/logs/ssl_scache(512000)
Listen 127.0.0.1:%(port)d
<VirtualHost 127.0.0.1:%(port)d>
    ServerName 127.0.0.1
    SSLEngine on
    SSLCertificateFile {root}/keys/server.crt
    SSLCertificateKeyFile {root}/keys/server.key
</VirtualHost>
""" % {"m": MODULES_DIR, "port": port}


def rp_conf(issuer, client_id, secret, ca):
    return """
LoadModule auth_openidc_module %(so)s
OIDCProviderMetadataURL %(issuer)s/.well-known/openid-configuration
OIDCClientID %(cid)s
OIDCClientSecret %(secret)s
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCRedirectURI http://127.0.0.1:{port}/protected/redirect_uri
OIDCCryptoPassphrase %(pass)s
OIDCScope "openid email"
OIDCPKCEMethod S256
OIDCSSLValidateServer On
OIDCCABundlePath %(ca)s
OIDCRemoteUserClaim sub
ScriptAlias /protected/whoami "{root}/cgi-bin/whoami"
<Location /protected>
    AuthType openid-connect
    Require valid-user
</Location>
""" % {"so": OPENIDC, "issuer": issuer, "cid": client_id,
       "secret": secret, "pass": secrets.token_hex(16), "ca": ca}


@pytest.fixture(scope="module")
def servers():
    """The issuer on HTTPS and two relying parties: one trusting the test
    CA, one trusting only the system's CAs."""
    assert os.path.exists(OPENIDC), "libapache2-mod-auth-openidc missing"
    issuer = HttpdEnv()
    rps = []
    try:
        tls_port = free_port()
        name = "https://127.0.0.1:%d" % tls_port
        ca = make_ca(issuer)
        make_key(issuer, "RS256", "rs256.pem")
        make_people(issuer)
        add_scopes(issuer, "email")
        conf = authz_conf(("RS256 keys/rs256.pem",),
                          extra=tls_conf(tls_port)).replace(
            "AuthTokenIssuerName http://127.0.0.1:{port}",
            "AuthTokenIssuerName " + name)
        for trust in (ca, "/etc/ssl/certs/ca-certificates.crt"):
            rp = HttpdEnv(loglevel="info auth_openidc:debug")
            rps.append(rp)
            cid, secret = register(
                issuer, "RP %d" % rp.port, type_="confidential",
                scopes="email",
                uris=("http://127.0.0.1:%d/protected/redirect_uri" %
                      rp.port,))
            rp.write_file("cgi-bin/whoami", WHOAMI, 0o755)
            rp.install(rp_conf(name, cid, secret, trust), load_module=False)
        issuer.install(conf)
        issuer.start()
        for rp in rps:
            rp.start()
        issuer.tls_url = name
        issuer.ca = ca
        yield issuer, rps[0], rps[1]
    finally:
        for rp in rps:
            rp.cleanup()
        issuer.cleanup()


def login(issuer, rp, person):
    """A browser: the relying party's page, the issuer's consent page
    (signed in with Basic), back to the relying party. Returns the last
    answer of the relying party."""
    browser = requests.Session()
    r = browser.get(rp.url + "/protected/whoami", allow_redirects=False,
                    timeout=20)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    auth_url = r.headers["Location"]
    assert auth_url.startswith(issuer.tls_url + "/oauth/authorize?")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth_url).query))
    assert q["code_challenge_method"] == "S256" and q["nonce"]
    basic = (person, PEOPLE[person])
    r = browser.get(auth_url, auth=basic, verify=issuer.ca,
                    allow_redirects=False, timeout=20)
    if r.status_code == 200:
        action, fields, buttons = Person.form_fields(r)
        name, value = buttons["Allow"]
        fields[name] = value
        r = browser.post(urllib.parse.urljoin(issuer.tls_url, action),
                         data=fields, auth=basic, verify=issuer.ca,
                         allow_redirects=False, timeout=20)
    assert r.status_code == 302, r.text[:500]
    callback = r.headers["Location"]
    assert callback.startswith(rp.url + "/protected/redirect_uri?")
    return browser.get(callback, allow_redirects=True, timeout=30)


def test_authorize_openidc_001_01_login(servers):
    issuer, rp, _ = servers
    r = login(issuer, rp, "alice")
    assert r.status_code == 200, (r.status_code, r.text[:500],
                                  rp.read_log()[-3000:])
    lines = dict(line.split("=", 1) for line in r.text.splitlines())
    assert lines["REMOTE_USER"] == "alice"
    assert lines["OIDC_CLAIM_sub"] == "alice"
    assert lines["OIDC_CLAIM_email"] == "alice@example.com"
    # A second person gets their own session.
    r = login(issuer, rp, "bob")
    assert "REMOTE_USER=bob" in r.text
    # AH01882: mod_ssl built against a newer OpenSSL than the one loaded
    # (a property of the machine, not of the test).
    problems = issuer.log_problems(issuer.read_log(), ("AH01882",))
    assert not problems, problems


def test_authorize_openidc_001_02_untrusted_ca(servers):
    """Certificate checks are on: the relying party that trusts only the
    system's CAs cannot reach the issuer, so nobody logs in."""
    _, _, untrusting = servers
    r = requests.get(untrusting.url + "/protected/whoami",
                     allow_redirects=False, timeout=20)
    assert r.status_code == 500 and "Location" not in r.headers
    log = untrusting.read_log()
    assert "SSL certificate problem" in log, log[-2000:]
