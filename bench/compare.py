#!/usr/bin/python3
"""Side by side (issue 14): this module, mod_auth_openidc and mod_oauth2
(Debian's libapache2-mod-auth-openidc and libapache2-mod-oauth2:
scripts/install-deps.sh --bench) protecting the same 100-byte file in one
httpd (event MPM, 2 children, pinned to CPU 0; wrk -t2 -c32 on CPU 1).
Each location checks the signature, iss, aud and the scope orders:read,
the module's own way; before measuring, every location must accept the
good token and refuse one with another iss, another aud, or without the
scope, so the three do the same work.

Loads, each bounded to DURATION seconds, interleaved REPS times (medians):
the same token on every request, and unique tokens (a wrk Lua script
walking TOKENS pre-minted tokens, another jti each; far more than any of
the caches holds), HS256 and ES256. Printed: httpd CPU microseconds per
request over the static file's (utime+stime of every httpd process from
/proc, steadier than rates on a busy machine) and the request rate as a
ratio to the static file's.

    bench/compare.py [--no-cache]   (DURATION=5 REPS=3 TOKENS=30000
                                     AT_MODULE=path/to/mod_auth_token.so)

--no-cache sets AuthTokenVerifyCache Off (this module only; the peers
keep their defaults). Needs the build, wrk, python3-jwt, the two Debian
modules and two CPUs. Bounded: about REPS x 13 x (DURATION + 1) seconds
plus minting and start-up.
"""
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wrk_remote_jwks import (MODS, apachectl, children_rss,  # noqa: E402
                             free_port, httpd_cpu, server_conf, wrk)

DURATION = int(os.environ.get("DURATION", "5"))
REPS = int(os.environ.get("REPS", "3"))
TOKENS = int(os.environ.get("TOKENS", "30000"))
CACHE = "Off" if "--no-cache" in sys.argv else "1024"
ISS = "https://auth.example.com"
MODULES = ("token", "openidc", "oauth2")
# The TLS port serving the JWK Set, the port of openidc's ES256 host.
PORTS = {}

# Walks the token file from a per-thread offset, one token per request.
WALK_LUA = r"""
local toks = {}
for line in io.lines("@FILE@") do toks[#toks + 1] = line end
local i = 0
local n = 0
function setup(thread)
  n = n + 1
  thread:set("start", n * 7919)
end
function init(args)
  i = (start or 0) % #toks
end
function request()
  i = i % #toks + 1
  return wrk.format("GET", "@PATH@", {["Authorization"] = "Bearer " .. toks[i]})
end
"""


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_keys(root):
    """HS256 secret and ES256 key in the forms each module reads."""
    secret = os.urandom(24).hex()
    with open(root + "/keys/hs256.key", "w") as f:
        f.write(secret)
    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key()
    with open(root + "/keys/es256.pub", "wb") as f:
        f.write(pub.public_bytes(serialization.Encoding.PEM,
                                 serialization.PublicFormat
                                 .SubjectPublicKeyInfo))
    nums = pub.public_numbers()
    jwk_es = {"kty": "EC", "crv": "P-256", "kid": "es1", "use": "sig",
              "x": b64u(nums.x.to_bytes(32, "big")),
              "y": b64u(nums.y.to_bytes(32, "big"))}
    jwk_hs = {"kty": "oct", "kid": "hs1", "k": b64u(secret.encode())}
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return secret, pem, jwk_hs, jwk_es


def minter(secret, pem):
    """mint(alg, jti, **claim overrides) -> token."""
    now = int(time.time())

    def mint(alg, jti="bench", **over):
        claims = {"iss": ISS, "sub": "bench-client", "aud": "orders-api",
                  "iat": now, "exp": now + 3600, "jti": jti,
                  "client_id": "bench-client",
                  "scope": "orders:read orders:write"}
        claims.update(over)
        claims = {k: v for k, v in claims.items() if v is not None}
        if alg == "HS256":
            return jwt.encode(claims, secret, "HS256",
                              headers={"typ": "at+jwt", "kid": "hs1"})
        return jwt.encode(claims, pem, "ES256",
                          headers={"typ": "at+jwt", "kid": "es1"})
    return mint


def locations(root, port, secret, jwk_hs, jwk_es):
    """/<module>-<alg> for each module and algorithm."""
    out = []
    for alg, key in (("hs", "HS256 %s/keys/hs256.key kid=hs1" % root),
                     ("es", "ES256 %s/keys/es256.pub kid=es1" % root)):
        out.append("""
<Location /token-{alg}>
    AuthType Bearer
    AuthName bench
    AuthTokenVerifyKey {key}
    AuthTokenIssuer {iss}
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>""".format(alg=alg, key=key, iss=ISS))
    # The two kinds of key at server level would make every HS256 token
    # (its kid absent from the JWK Set) force a refetch of the set, and
    # neither directive is taken in a <Location>: the ES256 location is
    # on a virtual host of its own.
    loc = """
<Location /openidc-{alg}>
    AuthType oauth20
    <RequireAll>
        Require claim iss:{iss}
        Require claim aud:orders-api
        # (a plain claim:value compares the whole scope string)
        Require claim "scope~(^| )orders:read( |$)"
    </RequireAll>
</Location>"""
    out.append("OIDCOAuthRemoteUserClaim sub\n"
               "OIDCOAuthVerifySharedKeys plain#hs1#%s" % secret
               + loc.format(alg="hs", iss=ISS))
    out.append("""
Listen 127.0.0.1:{es}
<VirtualHost 127.0.0.1:{es}>
    OIDCOAuthVerifyJwksUri https://127.0.0.1:{tls}/jwks.json
    OIDCOAuthSSLValidateServer Off
    {loc}
</VirtualHost>""".format(es=PORTS["es"], tls=PORTS["tls"],
                         loc=loc.format(alg="es", iss=ISS)))
    for alg, jwk in (("hs", jwk_hs), ("es", jwk_es)):
        out.append("""
<Location /oauth2-{alg}>
    AuthType oauth2
    OAuth2TokenVerify jwk '{jwk}' verify.exp=required&verify.iat=required
    <RequireAll>
        Require oauth2_claim iss:{iss}
        Require oauth2_claim aud:orders-api
        # (its claim:value compares whole strings, and it has no regular
        # expressions: the scope as it passes the claim on; REMOTE_USER
        # in the expression makes httpd authenticate before judging it)
        Require expr "-n %{{REMOTE_USER}} && %{{ENV:OAUTH2_CLAIM_scope}} =~ /(^| )orders:read( |$)/"
    </RequireAll>
</Location>""".format(alg=alg, iss=ISS, jwk=json.dumps(jwk)))
    return "\n".join(out)


def conf(root, port, secret, jwk_hs, jwk_es):
    return server_conf(root, port, CACHE, modules="""
LoadModule auth_openidc_module {mods}/mod_auth_openidc.so
LoadModule oauth2_module {mods}/mod_oauth2.so
LoadModule ssl_module {mods}/mod_ssl.so
Listen 127.0.0.1:{tls} https
<VirtualHost 127.0.0.1:{tls}>
    SSLEngine on
    SSLCertificateFile {root}/keys/tls.crt
    SSLCertificateKeyFile {root}/keys/tls.key
</VirtualHost>""".format(mods=MODS, tls=PORTS["tls"], root=root)) + \
        locations(root, port, secret, jwk_hs, jwk_es)


def status(url, token):
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
           "--max-time", "10"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    return subprocess.run(cmd + [url], capture_output=True, text=True,
                          timeout=30).stdout


def url_of(base, m, alg):
    """The file at module M's location for ALG (see locations)."""
    if m == "openidc" and alg == "ES256":
        base = "http://127.0.0.1:%d" % PORTS["es"]
    return "%s/%s-%s/file.txt" % (base, m, alg[:2].lower())


def check_equivalent(base, mint):
    """Every location takes the good token and refuses the bad ones."""
    for alg in ("HS256", "ES256"):
        good = mint(alg)
        bad = {"another iss": mint(alg, iss="https://evil.example.com"),
               "another aud": mint(alg, aud="billing"),
               "no orders:read": mint(alg, scope="orders:write"),
               "expired": mint(alg, exp=int(time.time()) - 3600)}
        for m in MODULES:
            url = url_of(base, m, alg)
            if status(url, good) != "200":
                sys.exit("%s does not accept its %s token" % (url, alg))
            for why, tok in bad.items():
                if status(url, tok) == "200":
                    sys.exit("%s accepts a token with %s" % (url, why))


def measure(root, url, token=None, script=None):
    """(requests/s, httpd CPU us per request) of one bounded wrk run."""
    wrk(url, token=token, script=script, duration=1)        # warm-up
    before = httpd_cpu(root)
    rate, total, non2xx = wrk(url, token=token, script=script,
                              duration=DURATION)
    ticks = httpd_cpu(root) - before
    if non2xx:
        sys.exit("%s: %d answers other than 2xx" % (url, non2xx))
    return rate, ticks * 1e6 / os.sysconf("SC_CLK_TCK") / max(total, 1)


def walker(root, name, path, tokens):
    tfile = "%s/%s.tokens" % (root, name)
    with open(tfile, "w") as f:
        f.write("\n".join(tokens) + "\n")
    lua = "%s/%s.lua" % (root, name)
    with open(lua, "w") as f:
        f.write(WALK_LUA.replace("@FILE@", tfile).replace("@PATH@", path))
    return lua


def main():
    root = tempfile.mkdtemp(prefix="at-compare-")
    os.chmod(root, 0o755)
    for d in ("conf", "logs", "keys", "htdocs"):
        os.makedirs(os.path.join(root, d))
    port = free_port()
    PORTS["tls"] = free_port()
    PORTS["es"] = free_port()
    try:
        secret, pem, jwk_hs, jwk_es = make_keys(root)
        mint = minter(secret, pem)
        for m in ("open",) + MODULES:
            for alg in ("", "-hs", "-es"):
                if m == "open" and alg:
                    continue
                os.makedirs("%s/htdocs/%s%s" % (root, m, alg))
                with open("%s/htdocs/%s%s/file.txt" % (root, m, alg),
                          "w") as f:
                    f.write("x" * 99 + "\n")
        # mod_auth_openidc takes EC keys only from an https JWK Set URL
        # (its cert-file directive crashes on an EC certificate): this
        # server's own static file on a TLS port (fetched once, cached).
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=127.0.0.1", "-days", "2",
                        "-keyout", root + "/keys/tls.key",
                        "-out", root + "/keys/tls.crt"],
                       check=True, capture_output=True, timeout=60)
        with open(root + "/htdocs/jwks.json", "w") as f:
            json.dump({"keys": [jwk_es]}, f)
        with open(root + "/conf/httpd.conf", "w") as f:
            f.write(conf(root, port, secret, jwk_hs, jwk_es))
        subprocess.run(["chown", "-R", "www-data:www-data", root + "/logs"],
                       check=True)
        r = subprocess.run(["taskset", "-c", "0", "apachectl", "-d", root,
                            "-f", "conf/httpd.conf", "-k", "start"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            sys.exit("httpd did not start: " + r.stdout + r.stderr)
        base = "http://127.0.0.1:%d" % port
        deadline = time.time() + 30
        while status(base + "/open/file.txt", None) != "200":
            if time.time() > deadline:
                sys.exit("httpd does not answer")
            time.sleep(0.2)
        check_equivalent(base, mint)
        # the refusals above are logged: report only what comes after
        log_start = os.path.getsize(root + "/logs/error_log")

        same = {a: mint(a) for a in ("HS256", "ES256")}
        lua = {}
        for alg in ("HS256", "ES256"):
            toks = [mint(alg, jti="u%07d" % i) for i in range(TOKENS)]
            for m in MODULES:
                path = "/%s-%s/file.txt" % (m, alg[:2].lower())
                lua[(m, alg)] = walker(root, "%s-%s" % (m, alg), path, toks)
        cases = [("static", None, base + "/open/file.txt", None, None)]
        for alg in ("HS256", "ES256"):
            for m in MODULES:
                url = url_of(base, m, alg)
                cases.append(("%s same" % alg, m, url, same[alg], None))
                cases.append(("%s unique" % alg, m, url, None,
                              lua[(m, alg)]))
        results = {}
        rss_before = children_rss(root)
        print("httpd on CPU 0, wrk -t2 -c32 on CPU 1, %d s runs, %d "
              "repetitions, AuthTokenVerifyCache %s, %d unique tokens per "
              "algorithm" % (DURATION, REPS, CACHE, TOKENS), flush=True)
        for rep in range(REPS):
            for name, m, url, token, script in cases:
                rate, us = measure(root, url, token, script)
                results.setdefault((name, m), []).append((rate, us))
                print("  rep %d %-14s %-8s %9.0f req/s %8.1f us CPU/req"
                      % (rep + 1, name, m or "", rate, us), flush=True)
        med = {k: (statistics.median(x[0] for x in v),
                   statistics.median(x[1] for x in v))
               for k, v in results.items()}
        s_rate, s_us = med[("static", None)]
        print()
        print("static: %.0f req/s, %.1f us httpd CPU per request"
              % (s_rate, s_us))
        print("httpd CPU us per request over static (request rate / "
              "static's):")
        print("children's RSS %d KiB before the loads, %d KiB after"
              % (rss_before, children_rss(root)))
        print("| load | mod_auth_token | mod_auth_openidc | mod_oauth2 |")
        print("| --- | --- | --- | --- |")
        for name in ("HS256 same", "HS256 unique", "ES256 same",
                     "ES256 unique"):
            cells = ["%+.1f (%.2f)" % (med[(name, m)][1] - s_us,
                                       med[(name, m)][0] / s_rate)
                     for m in MODULES]
            print("| %s | %s |" % (name, " | ".join(cells)))
        with open(root + "/logs/error_log") as f:
            f.seek(log_start)
            errors = [ln for ln in f if "error" in ln or "AT0" in ln]
        for ln in errors[:5]:
            print("error_log: " + ln.rstrip(), file=sys.stderr)
    finally:
        if os.path.exists(root + "/logs/httpd.pid"):
            apachectl(root, "-k", "stop")
            for _ in range(100):
                if not os.path.exists(root + "/logs/httpd.pid"):
                    break
                time.sleep(0.1)
        if not os.environ.get("KEEP_ROOT"):
            subprocess.run(["rm", "-rf", root])


if __name__ == "__main__":
    main()
