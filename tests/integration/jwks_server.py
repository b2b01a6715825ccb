"""A local key server for the remote-key-set tests (test_remote_jwks*.py).

`KeyServer` is Python's http.server on 127.0.0.1 behind TLS (certificates
from a test CA made with the `cryptography` module), or plain http. Each
path serves what the test set last: a JWK Set, a metadata document, or a
misbehaviour (fail, stall past the fetch timeout, redirect, 600 KiB, bad
JSON), with an optional Cache-Control, and every GET is counted per path.
`Signer` is one signing key with its kid, turning claims into tokens and
giving its public JWK.
"""
import datetime
import ipaddress
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwcrypto import jwk

STALL_SECONDS = 8  # past the module's 5 s fetch timeout


# -- certificates -------------------------------------------------------------

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(k):
    return k.private_bytes(serialization.Encoding.PEM,
                           serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


class TestCA:
    """A CA that issues server certificates for the key server."""

    def __init__(self, cn="mod_auth_token test CA"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder().subject_name(_name(cn))
            .issuer_name(_name(cn)).public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256()))

    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, names):
        """(cert PEM, key PEM) for NAMES (DNS names or IP addresses)."""
        key = ec.generate_private_key(ec.SECP256R1())
        sans = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(_name(names[0]))
            .issuer_name(self.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage(
                [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


# -- signing keys -------------------------------------------------------------

class Signer:
    """One signing key: ALG with KID (RSA 2048 for RS*, P-256 for ES256)."""

    def __init__(self, kid, alg="RS256", bits=2048):
        self.kid, self.alg = kid, alg
        if alg.startswith("RS") or alg.startswith("PS"):
            self.key = rsa.generate_private_key(65537, bits)
        else:
            self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = jwk.JWK.from_pem(_pem_key(self.key))

    def public_jwk(self, **extra):
        d = json.loads(self.jwk.export_public())
        d.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        d.update(extra)
        return d

    def token(self, iss, aud="orders-api", kid=None, lifetime=300, **claims):
        now = int(time.time())
        c = {"iss": iss, "sub": "alice", "aud": aud, "iat": now,
             "exp": now + lifetime, "scope": "orders:read"}
        c.update(claims)
        return jwt.encode(c, _pem_key(self.key), algorithm=self.alg,
                          headers={"kid": kid or self.kid})


def jwk_set(*signers, **extra):
    """The JWK Set text of SIGNERS' public keys."""
    return json.dumps({"keys": [s.public_jwk(**extra) for s in signers]})


# -- the server ---------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        ks = self.server.keyserver
        path = self.path.split("?")[0]
        with ks.lock:
            ks.counts[path] = ks.counts.get(path, 0) + 1
            route = ks.routes.get(path)
        if route is None:
            return self._send(404, b"not found\n", "text/plain")
        mode, body, cache_control = route
        if mode == "stall":
            deadline = time.time() + STALL_SECONDS
            while time.time() < deadline and not ks.stopping:
                time.sleep(0.1)
            return self._send(200, body, cache_control=cache_control)
        if mode == "fail":
            return self._send(500, b"key server broken\n", "text/plain")
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", body.decode())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "nolength":
            # No Content-Length: the size limit must hold while reading.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
            return
        return self._send(200, body, cache_control=cache_control)

    def _send(self, status, body, ctype="application/json",
              cache_control=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cache_control:
            self.send_header("Cache-Control", cache_control)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that stops reading (size limit, timeout) is normal


class KeyServer:
    """Serves ROUTES on 127.0.0.1. TLS: CERT and KEY (PEM bytes); None for
    plain http. HOST is the name used in URLs (it must match the
    certificate unless a test wants it not to)."""

    def __init__(self, cert=None, key=None, host="localhost"):
        self.lock = threading.Lock()
        self.counts = {}
        self.routes = {}
        self.stopping = False
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.keyserver = self
        self.port = self.httpd.server_address[1]
        self.scheme = "http"
        if cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            d = tempfile.mkdtemp(prefix="at-keyserver-")
            try:
                with open(os.path.join(d, "cert.pem"), "wb") as f:
                    f.write(cert)
                with open(os.path.join(d, "key.pem"), "wb") as f:
                    f.write(key)
                ctx.load_cert_chain(os.path.join(d, "cert.pem"),
                                    os.path.join(d, "key.pem"))
            finally:
                shutil.rmtree(d, ignore_errors=True)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
            self.scheme = "https"
        self.host = host
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, path, host=None):
        return "%s://%s:%d%s" % (self.scheme, host or self.host, self.port,
                                 path)

    def serve(self, path, body, mode="ok", cache_control=None):
        """PATH answers BODY (str, bytes or a JSON-able object) in MODE:
        ok, fail (500), stall (past the timeout), redirect (BODY is the
        Location), nolength (no Content-Length)."""
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        with self.lock:
            self.routes[path] = (mode, body, cache_control)

    def count(self, path):
        with self.lock:
            return self.counts.get(path, 0)

    def wait_count(self, path, n, timeout=15):
        """Waits until PATH was fetched at least N times; the count."""
        deadline = time.time() + timeout
        while self.count(path) < n and time.time() < deadline:
            time.sleep(0.05)
        return self.count(path)

    def stop(self):
        self.stopping = True
        self.httpd.shutdown()
        self.httpd.server_close()


def big_body(size=600 * 1024):
    """A JWK Set of SIZE bytes (valid JSON, padded)."""
    doc = {"keys": [], "pad": ""}
    doc["pad"] = "x" * (size - len(json.dumps(doc)))
    return json.dumps(doc)
