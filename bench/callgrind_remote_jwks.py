#!/usr/bin/python3
"""Instructions per request (callgrind, inside ap_process_async_request)
for one RS256 token verified with keys from a JWK Set file (AuthTokenJWKS
PATH) and with the same keys fetched from a local key server
(AuthTokenJWKS URL), cache on and off. Deterministic, so the ratio holds on
a busy machine where wall-clock rates swing (bench/wrk_remote_jwks.py
measures end to end). The key server counts fetches: one at start, none
while requests run.

    bench/callgrind_remote_jwks.py [REQUESTS]     (default 200 per case)

Needs the build, valgrind, python3-jwt. About a minute.
"""
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

from httpd_env import RUN_USER, HttpdEnv  # noqa: E402
from jwks_server import KeyServer, Signer, jwk_set  # noqa: E402

from wrk_remote_jwks import ISS, LOCATION as CONF  # noqa: E402


def instructions(out, requests_made):
    total = 0
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    return total / requests_made


def measure(case, source, token, n, cache, outdir):
    env = HttpdEnv(loglevel="warn")
    try:
        env.write_file("htdocs/%s/file.txt" % case, "x" * 99 + "\n")
        env.write_file("keys/set.jwks", SET)
        env.install(("" if cache else "AuthTokenVerifyCache Off\n")
                    + CONF % (case, source.replace("{root}", env.root), ISS))
        subprocess.run(["chown", "-R", "%s:%s" % (RUN_USER, RUN_USER),
                        env.root], check=True)
        out = os.path.join(outdir, "cg.%s.%d.out" % (case, cache))
        proc = subprocess.Popen(
            ["runuser", "-u", RUN_USER, "--", "valgrind", "--tool=callgrind",
             "--callgrind-out-file=" + out,
             "--toggle-collect=ap_process_async_request",
             "/usr/sbin/apache2", "-X", "-d", env.root, "-f",
             "conf/httpd.conf"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        s = requests.Session()
        h = {"Authorization": "Bearer " + token}
        deadline = time.time() + 90
        probes = 0
        while True:  # until the set is there (the first fetch, remote)
            try:
                code = s.get(env.url + "/%s/file.txt" % case, headers=h,
                             timeout=10).status_code
                probes += 1  # an answered request was counted
                if code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError("httpd under valgrind did not serve")
            time.sleep(0.3)
        for _ in range(n):
            r = s.get(env.url + "/%s/file.txt" % case, headers=h, timeout=30)
            assert r.status_code == 200, (case, r.status_code)
        proc.terminate()
        proc.wait(timeout=120)
        return instructions(out, n + probes)
    finally:
        env.cleanup()


def main():
    global SET
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    signer = Signer("bench-rs1")
    SET = jwk_set(signer)
    ks = KeyServer(host="127.0.0.1")
    ks.serve("/jwks", SET)
    token = signer.token(ISS, lifetime=3600)
    outdir = tempfile.mkdtemp(prefix="at-callgrind-")
    os.chmod(outdir, 0o777)
    print("%-22s %14s %12s" % ("case", "instr/request", "remote/file"))
    try:
        for cache in (1, 0):
            before = ks.count("/jwks")
            f = measure("file", "{root}/keys/set.jwks", token, n, cache,
                        outdir)
            r = measure("remote", ks.url("/jwks"), token, n, cache, outdir)
            fetched = ks.count("/jwks") - before
            label = "cache %s" % ("on" if cache else "off")
            print("%-22s %14.0f" % ("file, " + label, f))
            print("%-22s %14.0f %12.3f   (fetches: %d)" % (
                "remote, " + label, r, r / f, fetched))
    finally:
        ks.stop()
        subprocess.run(["rm", "-rf", outdir])


if __name__ == "__main__":
    main()
