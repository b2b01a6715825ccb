#!/usr/bin/python3
"""Remote key sets under load (issue 12, "Speed"). One httpd (event MPM,
2 children, pinned to CPU 0) with two locations protecting the same
100-byte file with the same RS256 key: /file reads it from a JWK Set file
(AuthTokenJWKS PATH), /remote from a local key server
(AuthTokenJWKS http://127.0.0.1:.../jwks). wrk (-t2 -c32, CPU 1) runs
them interleaved REPS times for DURATION seconds; medians. Then a flood
of tokens with random kids (about 1,000 per second, a second wrk with a
Lua pacer) runs against /remote while the first wrk measures the good
token's rate there, interleaved with the same measurement without the
flood and during a control flood at the same pace whose requests carry no
token (what any 1,000 requests a second cost, kids apart).

Reported: requests/s of each, remote/file, and the httpd CPU time per
request of each (utime+stime from /proc, steadier than rates on a busy
machine); key-server fetches during the
steady runs (must be 0); good-token rate with flood / without, and with
flood / with the control; fetches
during the floods against the bound (one per AuthTokenJWKSMinRefetch per
flood); the children's RSS before and after (flat: one copy of the set).

    bench/wrk_remote_jwks.py [--no-cache]
        (DURATION=10 REPS=3 MINREFETCH=5 FLOOD_RATE=1000)

--no-cache sets AuthTokenVerifyCache Off, so every request verifies its
signature with the key set. Needs the build, wrk and two CPUs. Bounded:
about REPS x 5 x (DURATION + 1) seconds plus startup.
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from jwks_server import KeyServer, Signer, jwk_set  # noqa: E402

DURATION = int(os.environ.get("DURATION", "10"))
REPS = int(os.environ.get("REPS", "3"))
MINREFETCH = int(os.environ.get("MINREFETCH", "5"))
FLOOD_RATE = int(os.environ.get("FLOOD_RATE", "1000"))
FLOOD_CONNS = 20
CACHE = "Off" if "--no-cache" in sys.argv else "1024"
MODS = "/usr/lib/apache2/modules"
# AT_MODULE: another build of the module to measure (an older commit's).
MODULE = os.environ.get("AT_MODULE",
                        REPO + "/mod_auth_token/mod_auth_token.so")
ISS = "https://auth.example.com"

FLOOD_LUA = r"""
-- Tokens whose kid no key has: header {"alg":"RS256","kid":"<random>"},
-- a fixed payload, a junk signature. Paced by delay(): 20 connections
-- each waiting @DELAY@ ms between requests, about FLOOD_RATE per second.
local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function enc(s)
  local out, bits, n = {}, 0, 0
  for i = 1, #s do
    bits = bits * 256 + s:byte(i); n = n + 8
    while n >= 6 do
      n = n - 6
      local v = math.floor(bits / 2 ^ n) % 64
      out[#out + 1] = b64:sub(v + 1, v + 1)
    end
    bits = bits % (2 ^ n)
  end
  if n > 0 then
    local v = (bits * 2 ^ (6 - n)) % 64
    out[#out + 1] = b64:sub(v + 1, v + 1)
  end
  return table.concat(out)
end
local payload = enc('{"iss":"@ISS@","sub":"x","aud":"orders-api","exp":4102444800}')
function request()
  local kid = string.format("%08x%08x", math.random(0, 0x7fffffff),
                            math.random(0, 0x7fffffff))
  local tok = enc('{"alg":"RS256","kid":"' .. kid .. '"}') .. "." ..
              payload .. "." .. enc("junk-signature-bytes-0123456789")
  return wrk.format("GET", "/remote/file.txt",
                    {["Authorization"] = "Bearer " .. tok})
end
function delay()
  return @DELAY@
end
""".replace("@ISS@", ISS)


# The control: the same pace of requests to the same location without a
# token (401 before any key work), so the flood's own HTTP cost, and its
# wrk sharing CPU 1 with the measuring one, are measured apart from what
# the unknown kids cost.
CONTROL_LUA = r"""
function request()
  return wrk.format("GET", "/remote/file.txt")
end
function delay()
  return @DELAY@
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# One protected location: name, AuthTokenJWKS argument, issuer.
LOCATION = """
<Location /%s>
    AuthType Bearer
    AuthName bench
    AuthTokenJWKS %s
    AuthTokenIssuer %s
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>
"""


def server_conf(root, port, cache, modules="", extra=""):
    """The bench httpd: event MPM with 2 children of 32 threads, the 100-
    byte file under htdocs, this module (and MODULES, LoadModule lines)
    loaded, EXTRA server directives."""
    return """
ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/logs/httpd.pid"
ErrorLog "{root}/logs/error_log"
LogLevel warn
Mutex file:{root}/logs
DefaultRuntimeDir "{root}/logs"
User www-data
Group www-data
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule auth_token_module {module}
{modules}
TypesConfig /etc/mime.types
StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 8
MaxSpareThreads 64
ThreadLimit 32
ListenCoresBucketsRatio 1
KeepAlive On
MaxKeepAliveRequests 0
AuthTokenVerifyCache {cache}
{extra}
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>
""".format(root=root, port=port, mods=MODS, module=MODULE, cache=cache,
           modules=modules, extra=extra)


def conf(root, port, jwks_url):
    return server_conf(root, port, CACHE,
                       extra="AuthTokenJWKSMinRefetch %d" % MINREFETCH) + \
        LOCATION % ("file", root + "/keys/set.jwks", ISS) + \
        LOCATION % ("remote", jwks_url, ISS)


def apachectl(root, *args):
    return subprocess.run(["apachectl", "-d", root, "-f", "conf/httpd.conf"]
                          + list(args), capture_output=True, text=True,
                          timeout=60)


def wrk(url, token=None, script=None, duration=DURATION, conns=32):
    cmd = ["taskset", "-c", "1", "wrk", "-t2", "-c%d" % conns,
           "-d%ds" % duration]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         timeout=duration + 30).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, total, int(non2xx.group(1)) if non2xx else 0


def httpd_stats(root):
    """(pid, is_parent, /proc stat fields after the command name) of the
    httpd parent and each of its children."""
    with open(root + "/logs/httpd.pid") as f:
        parent = f.read().strip()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if pid == parent or st[1] == parent:
            yield pid, pid == parent, st


def httpd_times(root):
    """(utime, stime) in clock ticks, summed over the httpd parent and its
    children."""
    user = system = 0
    for _, _, st in httpd_stats(root):
        user += int(st[11])
        system += int(st[12])
    return user, system


def httpd_cpu(root):
    """utime+stime (clock ticks) of the httpd parent and its children."""
    return sum(httpd_times(root))


def children_rss(root):
    """Summed RSS (KiB) of the httpd children (not the parent)."""
    total = 0
    for pid, is_parent, _ in httpd_stats(root):
        if is_parent:
            continue
        try:
            with open("/proc/%s/status" % pid) as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def main():
    if not os.path.exists(REPO + "/mod_auth_token/mod_auth_token.so"):
        sys.exit("build first: scripts/build.sh")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    root = tempfile.mkdtemp(prefix="at-wrk-remote.")
    os.chmod(root, 0o755)
    for d in ("conf", "logs", "keys", "htdocs/file", "htdocs/remote"):
        os.makedirs(os.path.join(root, d))
    for d in ("file", "remote"):
        with open(root + "/htdocs/%s/file.txt" % d, "w") as f:
            f.write("x" * 99 + "\n")
    signer = Signer("bench-rs1")
    text = jwk_set(signer)
    with open(root + "/keys/set.jwks", "w") as f:
        f.write(text)
    ks = KeyServer(host="127.0.0.1")
    ks.serve("/jwks", text)
    port = free_port()
    with open(root + "/conf/httpd.conf", "w") as f:
        f.write(conf(root, port, ks.url("/jwks")))
    token = signer.token(ISS, lifetime=3600)
    base = "http://127.0.0.1:%d" % port
    try:
        subprocess.run(["taskset", "-c", "0", "apachectl", "-d", root, "-f",
                        "conf/httpd.conf", "-k", "start"], check=True)
        deadline = time.time() + 20
        while True:
            try:
                out = subprocess.run(
                    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     "-H", "Authorization: Bearer " + token,
                     base + "/remote/file.txt"],
                    capture_output=True, text=True).stdout
                if out == "200":
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("httpd did not serve /remote: " +
                         open(root + "/logs/error_log").read()[-2000:])
            time.sleep(0.2)
        for p in ("/file/file.txt", "/remote/file.txt"):
            wrk(base + p, token, duration=2)  # warm both children
        rss0 = children_rss(root)

        fetches0 = ks.count("/jwks")
        rates = {"file": [], "remote": []}
        cpu = {"file": [], "remote": []}
        tick = os.sysconf("SC_CLK_TCK")
        requests = 0
        for _ in range(REPS):
            for name in ("file", "remote"):
                c0 = httpd_cpu(root)
                rate, total, bad = wrk(base + "/%s/file.txt" % name, token)
                cpu[name].append((httpd_cpu(root) - c0) / tick / total
                                 * 1e6)
                assert bad == 0, "%s: %d non-2xx answers" % (name, bad)
                rates[name].append(rate)
                requests += total
        steady_fetches = ks.count("/jwks") - fetches0

        # each connection: DELAY ms pause plus about 1 ms of latency
        delay = str(max(1, FLOOD_CONNS * 1000 // FLOOD_RATE - 1))
        lua, control_lua = root + "/flood.lua", root + "/control.lua"
        for path, text in ((lua, FLOOD_LUA), (control_lua, CONTROL_LUA)):
            with open(path, "w") as f:
                f.write(text.replace("@DELAY@", delay))

        def under_flood(script):
            """The good token's rate while SCRIPT floods; the flood's."""
            flood = subprocess.Popen(
                ["taskset", "-c", "1", "wrk", "-t1", "-c%d" % FLOOD_CONNS,
                 "-d%ds" % (DURATION + 1), "-s", script, base + "/"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.5)
            rate, total, bad = wrk(base + "/remote/file.txt", token)
            assert bad == 0, "good token refused during the flood"
            out = flood.communicate(timeout=DURATION + 30)[0]
            return rate, total, float(re.search(
                r"Requests/sec:\s+([\d.]+)", out).group(1))

        quiet, flooded, flood_rates, flood_fetches = [], [], [], []
        control = []
        for _ in range(REPS):
            rate, total, _ = wrk(base + "/remote/file.txt", token)
            quiet.append(rate)
            requests += total
            rate, total, _ = under_flood(control_lua)
            control.append(rate)
            requests += total
            n0 = ks.count("/jwks")
            rate, total, frate = under_flood(lua)
            flood_rates.append(frate)
            flood_fetches.append(ks.count("/jwks") - n0)
            flooded.append(rate)
            requests += total
        rss1 = children_rss(root)
    finally:
        apachectl(root, "-k", "stop")
        time.sleep(1)
        ks.stop()
        shutil.rmtree(root, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in rates.items()}
    bound = DURATION // MINREFETCH + 2
    print("cache %s, %d x %d s, wrk -t2 -c32, httpd on CPU 0, wrk on CPU 1"
          % (CACHE, REPS, DURATION))
    print("file   %9.0f req/s  (%s)" % (med["file"], ", ".join(
        "%.0f" % r for r in rates["file"])))
    print("remote %9.0f req/s  (%s)" % (med["remote"], ", ".join(
        "%.0f" % r for r in rates["remote"])))
    print("remote/file %.3f" % (med["remote"] / med["file"]))
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    print("httpd CPU per request: file %.1f us, remote %.1f us, "
          "remote/file %.3f" % (mcpu["file"], mcpu["remote"],
                                mcpu["remote"] / mcpu["file"]))
    print("fetches during %d steady runs: %d" % (2 * REPS, steady_fetches))
    print("good token on /remote: %.0f req/s quiet, %.0f during a flood of "
          "%.0f unknown kids/s: ratio %.3f" % (
              statistics.median(quiet), statistics.median(flooded),
              statistics.median(flood_rates),
              statistics.median(flooded) / statistics.median(quiet)))
    print("good token during as many token-less requests/s (the control): "
          "%.0f req/s; unknown-kid flood / control %.3f" % (
              statistics.median(control),
              statistics.median(flooded) / statistics.median(control)))
    print("fetches per %d s flood (MinRefetch %d s, bound %d): %s" % (
        DURATION + 1, MINREFETCH, bound, flood_fetches))
    print("children RSS: %d KiB before, %d KiB after %d requests" % (
        rss0, rss1, requests))
    ok = steady_fetches == 0 and all(f <= bound for f in flood_fetches)
    print(json.dumps({"remote_over_file": round(med["remote"] / med["file"],
                                                3),
                      "cpu_remote_over_file": round(
                          mcpu["remote"] / mcpu["file"], 3),
                      "steady_fetches": steady_fetches,
                      "flood_ratio": round(statistics.median(flooded)
                                           / statistics.median(quiet), 3),
                      "flood_over_control": round(
                          statistics.median(flooded)
                          / statistics.median(control), 3),
                      "flood_fetches": flood_fetches,
                      "rss_kib": [rss0, rss1], "requests": requests,
                      "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
