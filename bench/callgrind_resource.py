#!/usr/bin/python3
"""Instructions per request in httpd's request processing, under callgrind:
a 100-byte static file unprotected, and protected with HS256 and ES256
(AuthTokenIssuer, AuthTokenAudience, Require token-scope), with the
verified-token cache on (the default) and off.

Unlike wall-clock rates this is deterministic, so it still compares when
the machine is busy (shared CI, the 2-core development VMs). It counts what
happens inside ap_process_async_request (reading the request, every hook,
the handler, the filters), not the kernel's network work, so the ratios are
larger than the ones bench/wrk_resource.sh measures end to end.

    bench/callgrind_resource.py [--unique] [REQUESTS]   (default 200 per case)

--unique sends a different token (another jti) on every request, so the
verified-token cache only ever misses: what a first sight costs, cache on
and off.

KEEP=DIR keeps callgrind's output files there (callgrind_annotate reads
them; bench/profiles/ holds such reports).

Needs the build, valgrind and python3-jwt. About a minute.
"""
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import requests  # noqa: E402

from httpd_env import RUN_USER, HttpdEnv  # noqa: E402
import resource_tokens as rt  # noqa: E402

CONF = """
<Directory {root}/htdocs>
    AllowOverride None
</Directory>
<Location /hs>
    AuthType Bearer
    AuthName bench
    AuthTokenVerifyKey HS256 {root}/keys/hs256.key
    AuthTokenIssuer https://auth.example.com
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>
<Location /es>
    AuthType Bearer
    AuthName bench
    AuthTokenVerifyKey ES256 {root}/keys/ec256.pub
    AuthTokenIssuer https://auth.example.com
    AuthTokenAudience orders-api
    AuthzSendForbiddenOnFailure On
    Require token-scope orders:read
</Location>
"""


def measure(path, tokens, n, cache, outdir):
    """Instructions per request for N requests of PATH; TOKENS: one token
    for every request, a list of N (one per request), or None."""
    env = HttpdEnv(loglevel="warn")
    try:
        rt.write_keys(env)
        for d in ("open", "hs", "es"):
            env.write_file("htdocs/%s/file.txt" % d, "x" * 99 + "\n")
        env.install(("" if cache else "AuthTokenVerifyCache Off\n") + CONF)
        # httpd runs unprivileged here, so callgrind can write its file
        # after the server would have dropped root
        subprocess.run(["chown", "-R", "%s:%s" % (RUN_USER, RUN_USER),
                        env.root], check=True)
        out = os.path.join(outdir, "cg.%s.%d.out" % (path, cache))
        proc = subprocess.Popen(
            ["runuser", "-u", RUN_USER, "--", "valgrind", "--tool=callgrind",
             "--callgrind-out-file=" + out,
             "--toggle-collect=ap_process_async_request",
             "/usr/sbin/apache2", "-X", "-d", env.root, "-f",
             "conf/httpd.conf"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s = requests.Session()
        deadline = time.time() + 60
        while True:
            try:
                s.get(env.url + "/open/file.txt", timeout=5)
                break
            except requests.RequestException:
                if time.time() > deadline:
                    raise RuntimeError("httpd under valgrind did not start")
                time.sleep(0.2)
        for i in range(n):
            token = tokens[i] if isinstance(tokens, list) else tokens
            h = {"Authorization": "Bearer " + token} if token else {}
            r = s.get(env.url + "/%s/file.txt" % path, headers=h, timeout=30)
            assert r.status_code == 200, (path, r.status_code)
        proc.terminate()
        proc.wait(timeout=120)
        total = 0
        with open(out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = max(total, int(line.split()[1]))
        return total / (n + 1)          # + the start-up probe
    finally:
        env.cleanup()


def main():
    args = sys.argv[1:]
    unique = "--unique" in args
    args = [a for a in args if a != "--unique"]
    n = int(args[0]) if args else 200
    exp = int(time.time()) + 3600
    if unique:
        tokens = {"open": None}
        for path, alg in (("hs", "HS256"), ("es", "ES256")):
            tokens[path] = [rt.mint(alg, exp=exp, jti="u%06d" % i)
                            for i in range(n)]
    else:
        tokens = {"open": None, "hs": rt.mint("HS256", exp=exp),
                  "es": rt.mint("ES256", exp=exp)}
    outdir = tempfile.mkdtemp(prefix="at-callgrind-")
    os.chmod(outdir, 0o777)
    base = measure("open", None, n, 1, outdir)
    print("%-28s %14s %10s" % ("case", "instr/request", "vs open"))
    print("%-28s %14.0f %10s" % ("unprotected", base, "1.00"))
    # the same file, the HS256 token sent along (and ignored)
    v = measure("open", tokens["hs"] if not unique else tokens["hs"][0], n,
                1, outdir)
    print("%-28s %14.0f %10.2f" % ("unprotected + token header", v,
                                    v / base))
    for cache in (1, 0):
        for path, name in (("hs", "HS256"), ("es", "ES256")):
            v = measure(path, tokens[path], n, cache, outdir)
            label = "%s%s, cache %s" % (name, " unique" if unique else "",
                                         "on" if cache else "off")
            print("%-28s %14.0f %10.2f" % (label, v, v / base))
    keep = os.environ.get("KEEP")
    if keep:
        os.makedirs(keep, exist_ok=True)
        for f in os.listdir(outdir):
            subprocess.run(["cp", os.path.join(outdir, f),
                            os.path.join(keep, ("unique." if unique else "")
                                         + f)], check=True)
    subprocess.run(["rm", "-rf", outdir])


if __name__ == "__main__":
    main()
