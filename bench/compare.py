#!/usr/bin/python3
"""Side by side (issue 14): this module, mod_auth_openidc and mod_oauth2
(Debian's libapache2-mod-auth-openidc and libapache2-mod-oauth2:
scripts/install-deps.sh --bench) protecting the same 100-byte file, each
checking the signature, iss, aud and the scope orders:read its own way;
before measuring, every location must accept the good token and refuse one
with another iss, another aud, no orders:read or a past exp, so they all do
the same work.

Two httpds (event MPM, 2 children each, both pinned to CPU 0; wrk -t2 -c32
on CPU 1; only one is loaded at a time): one with this module's verified-
token cache on (the default) and the two peers, one with
AuthTokenVerifyCache Off and this module alone. Loads: the same token on
every request, and unique tokens (a wrk Lua script walking TOKENS pre-
minted tokens, another jti each: far more than any cache holds), for
HS256, ES256, RS256 and EdDSA (the peers: HS256 and ES256).

Loads and runs of the static file alternate (S T S T ... S); each load is
set against the mean of the two static runs beside it, so drift over those
seconds moves both sides alike, and reported as the difference: httpd CPU
microseconds per request (utime+stime of every httpd process from /proc)
over the static file's, and in brackets its request rate as a ratio to the
static file's; medians of REPS repetitions. A second table gives the user CPU
alone: the system part is the same socket and file work for a token as for
the static file, and it is where a shared VM's noise lands (the static
file's own figure moves by 10 us between runs). The static runs beside
each load cancel most of the drift; the figures still move by a few
microseconds between runs.

The floor column is what OpenSSL itself needs for one verification
(`openssl speed`, 1 s on the httpds' CPU right after each of this module's
loads, so under the same conditions; HS256: HMAC-SHA256 of 256 bytes).
Under the tables the goals of issue 14 are checked one by one, the ones
relative to the floor as the median of each pair's figure less the openssl
time taken right after it.

Last, the children's memory over RSS_REQUESTS requests with unique HS256
tokens (cache on), minted in chunks and read line by line by wrk, with the
children's RSS after each chunk.

    bench/compare.py        (DURATION=3 REPS=3 TOKENS=30000
                             RSS_REQUESTS=1000000
                             AT_MODULE=path/to/mod_auth_token.so)

Needs the build, wrk, python3-jwt, the two Debian modules and two CPUs.
Bounded: about REPS x (48 x (DURATION + 1) + 16) seconds (16: the openssl
timings), then about 2 minutes for the memory run, plus minting and
start-up.
"""
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wrk_remote_jwks import (MODS, apachectl, children_rss,  # noqa: E402
                             free_port, httpd_times, server_conf, wrk)

DURATION = int(os.environ.get("DURATION", "3"))
REPS = int(os.environ.get("REPS", "3"))
TOKENS = int(os.environ.get("TOKENS", "30000"))
RSS_REQUESTS = int(os.environ.get("RSS_REQUESTS", "1000000"))
ISS = "https://auth.example.com"
ALGS = ("HS256", "ES256", "RS256", "EdDSA")
PEER_ALGS = ("HS256", "ES256")
PEERS = ("openidc", "oauth2")
# Ports: this module's two httpds, the TLS port serving the JWK Set and
# the port of openidc's ES256 host.
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

# Reads thread N's own token file (@FILE@.N) a line per request: memory
# runs use each token once, without holding a million in Lua.
STREAM_LUA = r"""
local n = 0
function setup(thread)
  n = n + 1
  thread:set("id", n)
end
local f
function init(args)
  f = assert(io.open("@FILE@." .. id))
end
function request()
  local t = f:read("*l")
  if not t then
    f:seek("set", 0)
    t = f:read("*l")
  end
  return wrk.format("GET", "@PATH@", {["Authorization"] = "Bearer " .. t})
end
"""


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def short(alg):
    return alg[:2].lower()


def pem_public(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)


def make_keys(keydir):
    """Signing keys by algorithm, their public halves under KEYDIR, and
    the JWKs the peers read."""
    secret = os.urandom(24).hex()
    with open(keydir + "/hs.key", "w") as f:
        f.write(secret)
    signing = {"HS256": secret,
               "ES256": ec.generate_private_key(ec.SECP256R1()),
               "RS256": rsa.generate_private_key(public_exponent=65537,
                                                 key_size=2048),
               "EdDSA": ed25519.Ed25519PrivateKey.generate()}
    for alg in ALGS[1:]:
        with open("%s/%s.pub" % (keydir, short(alg)), "wb") as f:
            f.write(pem_public(signing[alg]))
    nums = signing["ES256"].public_key().public_numbers()
    jwks = {"HS256": {"kty": "oct", "kid": "hs1",
                      "k": b64u(secret.encode())},
            "ES256": {"kty": "EC", "crv": "P-256", "kid": "es1",
                      "use": "sig", "x": b64u(nums.x.to_bytes(32, "big")),
                      "y": b64u(nums.y.to_bytes(32, "big"))}}
    return signing, jwks


def claims_of(now, jti, over):
    c = {"iss": ISS, "sub": "bench-client", "aud": "orders-api",
         "iat": now, "exp": now + 3600, "jti": jti,
         "client_id": "bench-client", "scope": "orders:read orders:write"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def minter(signing):
    """mint(alg, jti, **claim overrides) -> token."""
    now = int(time.time())

    def mint(alg, jti="bench", **over):
        return jwt.encode(claims_of(now, jti, over), signing[alg], alg,
                          headers={"typ": "at+jwt",
                                   "kid": short(alg) + "1"})
    return mint


def hs256_stream(secret, first, count):
    """COUNT HS256 tokens, jti FIRST..: signed with hmac directly, as
    pyjwt is too slow for a million."""
    head = b64u(json.dumps({"alg": "HS256", "typ": "at+jwt",
                            "kid": "hs1"}).encode())
    body = json.dumps(claims_of(int(time.time()), "@JTI@", {}),
                      separators=(",", ":"))
    key = secret.encode()
    for i in range(first, first + count):
        si = head + "." + b64u(body.replace("@JTI@", "m%09d" % i).encode())
        sig = hmac.new(key, si.encode(), hashlib.sha256).digest()
        yield si + "." + b64u(sig)


def token_locations(keydir):
    out = []
    for alg in ALGS:
        key = ("%s/hs.key" % keydir if alg == "HS256"
               else "%s/%s.pub" % (keydir, short(alg)))
        out.append("""
<Location /token-{s}>
    AuthType Bearer
    AuthName bench
    AuthTokenVerifyKey {alg} {key} kid={s}1
    AuthTokenIssuer {iss}
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>""".format(s=short(alg), alg=alg, key=key, iss=ISS))
    return "\n".join(out)


def peer_locations(secret, jwks):
    out = []
    # The two kinds of key at server level would make every HS256 token
    # (its kid absent from the JWK Set) force a refetch of the set, and
    # neither directive is taken in a <Location>: the ES256 location is
    # on a virtual host of its own.
    loc = """
<Location /openidc-{s}>
    AuthType oauth20
    <RequireAll>
        Require claim iss:{iss}
        Require claim aud:orders-api
        # (a plain claim:value compares the whole scope string)
        Require claim "scope~(^| )orders:read( |$)"
    </RequireAll>
</Location>"""
    out.append("\nOIDCOAuthRemoteUserClaim sub\n"
               "OIDCOAuthVerifySharedKeys plain#hs1#%s" % secret
               + loc.format(s="hs", iss=ISS))
    out.append("""
Listen 127.0.0.1:{es}
<VirtualHost 127.0.0.1:{es}>
    OIDCOAuthVerifyJwksUri https://127.0.0.1:{tls}/jwks.json
    OIDCOAuthSSLValidateServer Off
    {loc}
</VirtualHost>""".format(es=PORTS["es"], tls=PORTS["tls"],
                         loc=loc.format(s="es", iss=ISS)))
    for alg in PEER_ALGS:
        out.append("""
<Location /oauth2-{s}>
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
</Location>""".format(s=short(alg), iss=ISS, jwk=json.dumps(jwks[alg])))
    return "\n".join(out)


def conf_on(root, keydir, secret, jwks):
    return server_conf(root, PORTS["on"], "1024", modules="""
LoadModule auth_openidc_module {mods}/mod_auth_openidc.so
LoadModule oauth2_module {mods}/mod_oauth2.so
LoadModule ssl_module {mods}/mod_ssl.so
Listen 127.0.0.1:{tls} https
<VirtualHost 127.0.0.1:{tls}>
    SSLEngine on
    SSLCertificateFile {keys}/tls.crt
    SSLCertificateKeyFile {keys}/tls.key
</VirtualHost>""".format(mods=MODS, tls=PORTS["tls"], keys=keydir)) + \
        token_locations(keydir) + peer_locations(secret, jwks)


def conf_off(root, keydir):
    return server_conf(root, PORTS["off"], "Off") + token_locations(keydir)


def status(url, token):
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
           "--max-time", "10"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    return subprocess.run(cmd + [url], capture_output=True, text=True,
                          timeout=30).stdout


def base_of(server):
    return "http://127.0.0.1:%d" % PORTS[server]


def url_of(server, m, alg):
    """The file at module M's location for ALG on SERVER."""
    base = base_of(server)
    if m == "openidc" and alg == "ES256":
        base = "http://127.0.0.1:%d" % PORTS["es"]
    return "%s/%s-%s/file.txt" % (base, m, short(alg))


def check_equivalent(mint):
    """Every location takes the good token and refuses the bad ones."""
    for server, m, alg in locations_measured():
        url = url_of(server, m, alg)
        if status(url, mint(alg)) != "200":
            sys.exit("%s does not accept its %s token" % (url, alg))
        bad = {"another iss": mint(alg, iss="https://evil.example.com"),
               "another aud": mint(alg, aud="billing"),
               "no orders:read": mint(alg, scope="orders:write"),
               "expired": mint(alg, exp=int(time.time()) - 3600)}
        for why, tok in bad.items():
            if status(url, tok) == "200":
                sys.exit("%s accepts a token with %s" % (url, why))


def locations_measured():
    """(server, module, alg) of every protected location."""
    out = []
    for alg in ALGS:
        out += [("on", "token", alg), ("off", "token", alg)]
        if alg in PEER_ALGS:
            out += [("on", m, alg) for m in PEERS]
    return out


def measure(root, url, token=None, script=None):
    """(requests/s, httpd CPU us per request, of which user CPU) of one
    bounded wrk run."""
    wrk(url, token=token, script=script, duration=1)        # warm-up
    u0, s0 = httpd_times(root)
    rate, total, non2xx = wrk(url, token=token, script=script,
                              duration=DURATION)
    u1, s1 = httpd_times(root)
    if non2xx:
        sys.exit("%s: %d answers other than 2xx" % (url, non2xx))
    per = 1e6 / os.sysconf("SC_CLK_TCK") / max(total, 1)
    return rate, (u1 - u0 + s1 - s0) * per, (u1 - u0) * per


def write_lua(root, name, template, tfile, path):
    lua = "%s/%s.lua" % (root, name)
    with open(lua, "w") as f:
        f.write(template.replace("@FILE@", tfile).replace("@PATH@", path))
    return lua


def walker(root, name, path, tokens):
    tfile = "%s/%s.tokens" % (root, name)
    with open(tfile, "w") as f:
        f.write("\n".join(tokens) + "\n")
    return write_lua(root, name, WALK_LUA, tfile, path)


SPEED_ARGS = {"ES256": ["ecdsap256"], "RS256": ["rsa2048"],
              "EdDSA": ["ed25519"],
              "HS256": ["-bytes", "256", "-hmac", "sha256"]}


def openssl_floor(alg):
    """Microseconds OpenSSL itself needs for one ALG verification (HS256:
    an HMAC-SHA256 of 256 bytes), 1 s of `openssl speed` on the httpds'
    CPU, so that it runs under the same conditions as the load it is
    set against."""
    out = subprocess.run(
        ["taskset", "-c", "0", "openssl", "speed", "-mr", "-seconds", "1"]
        + SPEED_ARGS[alg], capture_output=True, text=True,
        timeout=60).stdout
    for line in out.splitlines():
        f = line.split(":")
        if alg == "RS256" and line.startswith("+F2:") and f[2] == "2048":
            return 1e6 / float(f[4])
        if alg == "ES256" and line.startswith("+F4:") and f[2] == "256":
            return 1e6 / float(f[4])
        if alg == "EdDSA" and line.startswith("+F6:") and f[3] == "Ed25519":
            return 1e6 / float(f[5])
        if alg == "HS256" and line.startswith("+F:"):
            return 256 * 1e6 / float(f[3])
    sys.exit("openssl speed gave no figure for %s:\n%s" % (alg, out))


def cases(roots, mint, lua):
    """(label, server, module, url, token, script) of every load."""
    out = []
    same = {a: mint(a) for a in ALGS}
    for alg in ALGS:
        for server in ("on", "off"):
            for m in ("token",) + (PEERS if server == "on" and
                                   alg in PEER_ALGS else ()):
                url = url_of(server, m, alg)
                out.append(("%s same" % alg, server, m, url, same[alg], None))
                out.append(("%s unique" % alg, server, m, url, None,
                            lua[(server, m, alg)]))
    return out


def run_pairs(roots, todo):
    """Medians over REPS per case of the request rate as a ratio to the
    static file's, the httpd CPU and user CPU us per request over the
    static file's, and for this module's loads of (CPU over static -
    OpenSSL's own time), OpenSSL timed right after the load; with the
    static file's own median figures on the cache-on httpd. Loads and
    static-file runs alternate, S T S T ... S, and each load is set
    against the mean of the static runs on either side of it, so a
    machine that speeds up or slows down over those seconds moves both
    sides alike."""
    pairs, static = {}, []
    seq = [(rep, case) for rep in range(REPS) for case in todo]
    first = seq[0][1][1]
    before = measure(roots[first], base_of(first) + "/open/file.txt")
    for i, (rep, (label, server, m, url, token, script)) in enumerate(seq):
        rate, us, user = measure(roots[server], url, token, script)
        floor = (openssl_floor(label.split()[0]) if m == "token"
                 else None)
        # The static run after this load, on the next load's httpd.
        nxt = seq[i + 1][1][1] if i + 1 < len(seq) else server
        after = measure(roots[nxt], base_of(nxt) + "/open/file.txt")
        s_rate, s_us, s_user = ((b + a) / 2 for b, a in zip(before, after))
        before = after
        if server == "on":
            static.append((s_rate, s_us))
        pairs.setdefault((label, server, m), []).append(
            (rate / s_rate, us - s_us, user - s_user, floor))
        print("  rep %d %-13s cache %-3s %-8s %8.0f req/s %7.1f us "
              "(user %5.1f; static %8.0f req/s %6.1f us, user %5.1f)%s"
              % (rep + 1, label, server, m, rate, us, user, s_rate,
                 s_us, s_user,
                 "; openssl %.1f us" % floor if floor else ""),
              flush=True)
    med = {}
    for k, v in pairs.items():
        med[k] = {"ratio": statistics.median(x[0] for x in v),
                  "cpu": statistics.median(x[1] for x in v),
                  "user": statistics.median(x[2] for x in v)}
        if v[0][3] is not None:
            med[k].update(
                floor=statistics.median(x[3] for x in v),
                cpu_floor=statistics.median(x[1] - x[3] for x in v),
                user_floor=statistics.median(x[2] - x[3] for x in v))
    return med, (statistics.median(x[0] for x in static),
                 statistics.median(x[1] for x in static))


def print_table(med, what):
    """The side-by-side table of WHAT ("cpu" or "user") over static."""
    def cell(label, server, m):
        v = med.get((label, server, m))
        return "%+.1f (%.2f)" % (v[what], v["ratio"]) if v else ""

    print("| path | mod_auth_token | mod_auth_openidc | mod_oauth2 | "
          "floor |")
    print("| --- | --- | --- | --- | --- |")
    for alg in ALGS:
        for kind, words in (("same", "same token"),
                            ("unique", "unique tokens")):
            label = "%s %s" % (alg, kind)
            print("| %s, %s, cache on / off | %s / %s | %s | %s | %.1f |"
                  % (alg, words, cell(label, "on", "token"),
                     cell(label, "off", "token"),
                     cell(label, "on", "openidc"),
                     cell(label, "on", "oauth2"),
                     med[(label, "off", "token")]["floor"]))


def check_goals(med):
    """Issue 14's goals, each with its figures by httpd CPU and by user
    CPU, and met/missed."""
    def fig(alg, kind, server, what):
        return med[("%s %s" % (alg, kind), server, "token")][what]

    goals = []
    for alg in ALGS:
        goals.append(("%s cache hit <= +3 us" % alg, 3.0,
                      [fig(alg, "same", "on", w) for w in ("cpu", "user")]))
    for alg in ALGS:
        goals.append(("%s cache miss adds <= 2 us to cache off" % alg, 2.0,
                      [fig(alg, "unique", "on", w)
                       - fig(alg, "unique", "off", w)
                       for w in ("cpu", "user")]))
    goals.append(("HS256 cache off <= +6 us", 6.0,
                  [fig("HS256", "unique", "off", w)
                   for w in ("cpu", "user")]))
    for alg in ALGS[1:]:
        goals.append(("%s cache off <= openssl verify + 10 us" % alg, 10.0,
                      [fig(alg, "unique", "off", w)
                       for w in ("cpu_floor", "user_floor")]))
    print("  %-46s %16s %16s" % ("", "httpd CPU", "user CPU"))
    for what, bound, values in goals:
        print("  %-46s %s" % (what, " ".join(
            "%+7.1f %-8s" % (v, "met" if v <= bound else "MISSED")
            for v in values)))


def rss_run(root, secret):
    """RSS_REQUESTS requests, each with a token never sent before, in
    chunks; the children's RSS after each."""
    name = root + "/stream"
    lua = write_lua(root, "stream", STREAM_LUA, name, "/token-hs/file.txt")
    url = base_of("on") + "/token-hs/file.txt"
    done, first, chunk, samples = 0, 0, 120000, []
    while done < RSS_REQUESTS:
        for t in (1, 2):
            with open("%s.%d" % (name, t), "w") as f:
                for tok in hs256_stream(secret, first, chunk // 2):
                    f.write(tok + "\n")
                first += chunk // 2
        # each thread sends well under its 60,000 tokens in 2 s
        rate, total, non2xx = wrk(url, script=lua, duration=2)
        if non2xx:
            sys.exit("memory run: %d answers other than 2xx" % non2xx)
        done += total
        samples.append((done, children_rss(root)))
    print("children's RSS (KiB) after N requests with unique HS256 tokens "
          "(cache on):")
    print("  " + ", ".join("%d: %d" % s for s in samples))
    base = samples[0][1]
    print("  from the first chunk (%d requests) to the end: %+d KiB, "
          "largest %+d KiB" % (samples[0][0], samples[-1][1] - base,
                               max(s[1] for s in samples) - base))


def start(root, conf_text, port):
    with open(root + "/conf/httpd.conf", "w") as f:
        f.write(conf_text)
    subprocess.run(["chown", "-R", "www-data:www-data", root + "/logs"],
                   check=True)
    r = subprocess.run(["taskset", "-c", "0", "apachectl", "-d", root,
                        "-f", "conf/httpd.conf", "-k", "start"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit("httpd did not start: " + r.stdout + r.stderr)
    deadline = time.time() + 30
    while status("http://127.0.0.1:%d/open/file.txt" % port, None) != "200":
        if time.time() > deadline:
            sys.exit("httpd does not answer")
        time.sleep(0.2)


def stop(root):
    if os.path.exists(root + "/logs/httpd.pid"):
        apachectl(root, "-k", "stop")
        for _ in range(100):
            if not os.path.exists(root + "/logs/httpd.pid"):
                break
            time.sleep(0.1)


def setup_root(root, server):
    os.chmod(root, 0o755)
    for d in ("conf", "logs", "htdocs"):
        os.makedirs(os.path.join(root, d))
    dirs = ["open"] + ["token-%s" % short(a) for a in ALGS]
    if server == "on":
        dirs += ["%s-%s" % (m, short(a)) for m in PEERS for a in PEER_ALGS]
    for d in dirs:
        os.makedirs("%s/htdocs/%s" % (root, d))
        with open("%s/htdocs/%s/file.txt" % (root, d), "w") as f:
            f.write("x" * 99 + "\n")


def main():
    top = tempfile.mkdtemp(prefix="at-compare-")
    os.chmod(top, 0o755)
    keydir = top + "/keys"
    os.makedirs(keydir)
    roots = {s: "%s/%s" % (top, s) for s in ("on", "off")}
    for server, root in roots.items():
        os.makedirs(root)
        setup_root(root, server)
        PORTS[server] = free_port()
    PORTS["tls"] = free_port()
    PORTS["es"] = free_port()
    try:
        signing, jwks = make_keys(keydir)
        mint = minter(signing)
        # mod_auth_openidc takes EC keys only from an https JWK Set URL
        # (its cert-file directive crashes on an EC certificate): this
        # server's own static file on a TLS port (fetched once, cached).
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=127.0.0.1", "-days", "2",
                        "-keyout", keydir + "/tls.key",
                        "-out", keydir + "/tls.crt"],
                       check=True, capture_output=True, timeout=60)
        with open(roots["on"] + "/htdocs/jwks.json", "w") as f:
            json.dump({"keys": [jwks["ES256"]]}, f)
        start(roots["on"], conf_on(roots["on"], keydir, signing["HS256"],
                                   jwks), PORTS["on"])
        start(roots["off"], conf_off(roots["off"], keydir), PORTS["off"])
        check_equivalent(mint)
        # the refusals above are logged: report only what comes after
        log_start = {s: os.path.getsize(r + "/logs/error_log")
                     for s, r in roots.items()}

        lua = {}
        for alg in ALGS:
            toks = [mint(alg, jti="u%07d" % i) for i in range(TOKENS)]
            for server, m, a in locations_measured():
                if a == alg:
                    lua[(server, m, alg)] = walker(
                        roots[server], "%s-%s" % (m, short(alg)),
                        "/%s-%s/file.txt" % (m, short(alg)), toks)
        print("httpds on CPU 0, wrk -t2 -c32 on CPU 1, %d s runs, each "
              "between two of the static file, %d repetitions, %d unique "
              "tokens per algorithm" % (DURATION, REPS, TOKENS), flush=True)
        med, (s_rate, s_us) = run_pairs(roots, cases(roots, mint, lua))
        print()
        print("static file: %.0f req/s, %.1f us httpd CPU per request "
              "(medians)" % (s_rate, s_us))
        print("httpd CPU (user+system) us per request over the static "
              "file's runs beside it (request rate / static's); floor: "
              "openssl speed verify on the httpds' CPU right after, us")
        print_table(med, "cpu")
        print()
        print("the same, httpd user CPU only (the system part is the same "
              "socket and file work for both, and the VM's noise)")
        print_table(med, "user")
        print()
        print("issue 14's goals (cache off over the floor: median of each "
              "pair's CPU over static less the openssl time right after):")
        check_goals(med)
        print()
        if RSS_REQUESTS:
            rss_run(roots["on"], signing["HS256"])
        for server, root in roots.items():
            with open(root + "/logs/error_log") as f:
                f.seek(log_start[server])
                errors = [ln for ln in f if "error" in ln or "AT0" in ln]
            for ln in errors[:5]:
                print("error_log (%s): %s" % (server, ln.rstrip()),
                      file=sys.stderr)
    finally:
        for root in roots.values():
            stop(root)
        if not os.environ.get("KEEP_ROOT"):
            subprocess.run(["rm", "-rf", top])


if __name__ == "__main__":
    main()
