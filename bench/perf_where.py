#!/usr/bin/python3
"""Where a protected request's CPU goes (issue 14's profiles): one httpd
as bench/compare.py starts them (event MPM, 2 children pinned to CPU 0),
wrk on CPU 1, and `perf record` of CPU 0 for DURATION during each load:
the static file, a repeated HS256 token with the cache on (a hit), and
unique HS256, ES256, RS256 and EdDSA tokens with AuthTokenVerifyCache Off
(every request parses and verifies). Each load's samples are divided by
its requests in the window, by shared object: microseconds per request.

Printed: that table, each load's difference to the static file by shared
object, OpenSSL's own verify time on the same CPU (`openssl speed`, 1 s,
right after the load) beside the libcrypto figure, and the symbols of
this module, jansson, libc and APR that cost most over the static file's.

    bench/perf_where.py        (DURATION=6 TOKENS=20000)

Needs the build, wrk, perf (linux-perf; perf_event_paranoid <= 0 or
root) and python3-jwt. Bounded: about 7 x (DURATION + 4) seconds.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare as C  # noqa: E402

DURATION = int(os.environ.get("DURATION", "6"))
TOKENS = int(os.environ.get("TOKENS", "20000"))
# Shared objects whose symbols are listed (the kernel's and OpenSSL's are
# the same work for every caller).
DETAIL = ("mod_auth_token.so", "libjansson", "libc.so", "libapr-1")


def perf_load(root, name, url, token=None, script=None):
    """{shared object: us per request}, {symbol: us per request} and the
    request rate of one load recorded by perf."""
    data = "%s/%s.perf" % (root, name)
    cmd = ["taskset", "-c", "1", "wrk", "-t2", "-c32",
           "-d%ds" % (DURATION + 3)]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    w = subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    subprocess.run(["perf", "record", "-q", "-C", "0", "-o", data, "--",
                    "sleep", str(DURATION)], check=True,
                   capture_output=True, timeout=DURATION + 60)
    out = w.communicate(timeout=DURATION + 30)[0]
    if "Non-2xx" in out:
        sys.exit("%s: answers other than 2xx:\n%s" % (name, out))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    sym = report(data, 1e6 / rate)  # shares of CPU 0, in us per request
    dso = {}
    for key, us in sym.items():
        d = key.split(" [", 1)[0]
        dso[d] = dso.get(d, 0) + us
    return dso, sym, rate


def report(data, per):
    """{"object [.] symbol": us per request} of one perf recording."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children",
                          "--sort", "dso,sym", "-g", "none", "--stdio"],
                         capture_output=True, text=True, timeout=300).stdout
    got = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.*\S)", line)
        if m and not line.startswith("#"):
            key = " ".join(m.group(2).split())
            got[key] = got.get(key, 0) + float(m.group(1)) / 100 * per
    return got


def short_dso(name):
    return name.replace("[kernel.kallsyms]", "kernel").split(".so")[0]


def main():
    if subprocess.run(["which", "perf"], capture_output=True).returncode:
        sys.exit("perf is not installed (apt-get install linux-perf)")
    top = tempfile.mkdtemp(prefix="at-perf-")
    os.chmod(top, 0o755)
    keydir = top + "/keys"
    os.makedirs(keydir)
    roots = {"on": top + "/on", "off": top + "/off"}
    try:
        signing, _ = C.make_keys(keydir)
        mint = C.minter(signing)
        for server, root in roots.items():
            os.makedirs(root)
            C.setup_root(root, "off")
            C.PORTS[server] = C.free_port()
            C.start(root, C.server_conf(root, C.PORTS[server],
                                        "1024" if server == "on" else "Off")
                    + C.token_locations(keydir), C.PORTS[server])
        loads = [("static", "off", "/open/file.txt", None, None),
                 ("HS256 hit", "on", "/token-hs/file.txt", mint("HS256"),
                  None)]
        for alg in C.ALGS:
            path = "/token-%s/file.txt" % C.short(alg)
            toks = [mint(alg, jti="p%07d" % i) for i in range(TOKENS)]
            loads.append((alg, "off", path, None,
                          C.walker(roots["off"], "perf-" + C.short(alg),
                                   path, toks)))
        print("httpd (2 children) on CPU 0, wrk -t2 -c32 on CPU 1, perf "
              "record -C 0 for %d s of each load; %d unique tokens per "
              "algorithm; %s" % (DURATION, TOKENS,
                                 time.strftime("%Y-%m-%d %H:%M UTC",
                                               time.gmtime())), flush=True)
        dso, sym, floor = {}, {}, {}
        for name, server, path, token, script in loads:
            url = C.base_of(server) + path
            dso[name], sym[name], rate = perf_load(
                roots[server], name.replace(" ", "-"), url, token, script)
            if name in C.ALGS:
                floor[name] = C.openssl_floor(name)
            print("  %-10s %8.0f req/s, %6.1f us of CPU 0 per request"
                  % (name, rate, sum(dso[name].values())), flush=True)
        names = [x[0] for x in loads]
        print()
        print("CPU 0 us per request by shared object (perf, %d s each; "
              "cache off but for the hit)" % DURATION)
        objs = sorted({d for n in names for d in dso[n]},
                      key=lambda d: -max(dso[n].get(d, 0) for n in names))
        objs = [d for d in objs if max(dso[n].get(d, 0) for n in names)
                >= 0.05]
        print("| object | " + " | ".join(names) + " |")
        print("| --- |" + " --- |" * len(names))
        for d in objs:
            print("| %s | " % short_dso(d) + " | ".join(
                "%.2f" % dso[n].get(d, 0) for n in names) + " |")
        print("| total | " + " | ".join(
            "%.1f" % sum(dso[n].values()) for n in names) + " |")
        print()
        print("over the static file, by shared object; libcrypto against "
              "openssl speed's verify on the same CPU right after")
        for n in names[1:]:
            diff = {d: dso[n].get(d, 0) - dso["static"].get(d, 0)
                    for d in set(dso[n]) | set(dso["static"])}
            user = sum(v for d, v in diff.items() if "kernel" not in d)
            parts = ", ".join("%s %+.2f" % (short_dso(d), v)
                              for d, v in sorted(diff.items(),
                                                 key=lambda x: -abs(x[1]))
                              if abs(v) >= 0.1)
            print("  %-10s user %+6.2f us (%s)" % (n, user, parts))
            if n in floor:
                crypto = sum(v for d, v in diff.items() if "libcrypto" in d)
                print("  %-10s libcrypto %+.2f us, openssl speed %.2f us; "
                      "the rest of user CPU %+.2f us"
                      % ("", crypto, floor[n], user - crypto))
        print()
        print("costliest symbols over the static file's, us per request, "
              "of %s" % ", ".join(DETAIL))
        for n in names[1:]:
            diff = sorted(((v - sym["static"].get(k, 0), k)
                           for k, v in sym[n].items()
                           if any(x in k for x in DETAIL)), reverse=True)
            print("  %s: " % n + "; ".join(
                "%s %+.2f" % (k.split("] ", 1)[-1], v)
                for v, k in diff[:12]))
    finally:
        for root in roots.values():
            C.stop(root)
        if not os.environ.get("KEEP_ROOT"):
            subprocess.run(["rm", "-rf", top])


if __name__ == "__main__":
    main()
