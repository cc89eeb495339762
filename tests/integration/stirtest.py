"""Shared helpers for the stird integration tests (python3 stdlib only).

Server(...) starts $STIRD on free ports with an embedded test PKI in a
temporary state directory, waits for GET /health and, on stop(), checks
that it exits 0 after SIGTERM without any sanitizer report on stderr.
CertServer(...) starts tests/tools/certserver.py, an HTTPS file server.
RepositoryTestCase is the fixture PKI of tests/tools/mkpki.sh served by
CertServer to one stird that trusts it; EmbeddedPkiTestCase keeps one
embedded PKI for tests that start stird themselves (run_stird).

Everything that checks stird's output here is computed independently:
base64url and JSON with python, signatures with the openssl CLI.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import openapi

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("STIR_SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
STIRD = os.environ.get("STIRD") or os.path.join(SRC, "build", "stird")
TOOLS = os.path.join(SRC, "tests", "tools")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error",
                   "ThreadSanitizer", "UndefinedBehaviorSanitizer")

ORIG_TN = "12155551212"
DEST_TN = "12155551213"


def free_port():
    """A TCP port nobody listens on right now (bind to port 0, read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64u_decode(s):
    if isinstance(s, str):
        s = s.encode("ascii")
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def post_from(port, source, path, body, timeout=60):
    """POST `body` (bytes or text as is, anything else as JSON) to stird's
    `path` on 127.0.0.1:port from the local address `source` (127.0.0.x:
    a client of its own for the per-client limits). (status, parsed body)."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=(source, 0))
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def b64u_encode(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def overridden(d, over):
    """d with the members of `over` set, and removed where their value is
    None (a test's way to change or drop members of a valid object)."""
    for k, v in over.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def canonical(obj):
    """RFC 8225 section 9: no whitespace, keys sorted, UTF-8 as is."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def parse_identity(value):
    """Split an Identity header value (RFC 8224 4) into token and params."""
    parts = [p.strip() for p in value.split(";")]
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip()
    return parts[0], params


def decode_identity(value):
    """An Identity header value taken apart with python alone: (header,
    claims, params, signing input bytes, raw signature). Also checks the
    RFC 8225 section 9 serialization of both JSON parts."""
    token, params = parse_identity(value)
    parts = token.split(".")
    if len(parts) != 3:
        raise AssertionError("not a full-form PASSporT: %r" % token)
    hb, pb = b64u_decode(parts[0]), b64u_decode(parts[1])
    header, claims = json.loads(hb), json.loads(pb)
    if hb != canonical(header).encode() or pb != canonical(claims).encode():
        raise AssertionError("PASSporT parts are not RFC 8225 9 serialized: %r %r" % (hb, pb))
    return header, claims, params, (parts[0] + "." + parts[1]).encode(), b64u_decode(parts[2])


def leaf_pem(chain_pem):
    """The first certificate of a PEM chain (bytes)."""
    end = b"-----END CERTIFICATE-----"
    i = chain_pem.index(end) + len(end)
    return chain_pem[:i] + b"\n"


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b


def raw_sig_to_der(sig):
    """JWS ES256 r||s (RFC 7518 3.4) to the DER ECDSA-Sig-Value openssl wants."""
    assert len(sig) == 64
    body = der_int(sig[:32]) + der_int(sig[32:])
    return b"\x30" + bytes([len(body)]) + body


def der_sig_to_raw(der):
    assert der[0] == 0x30
    i = 2
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n]
        out += v.lstrip(b"\0").rjust(32, b"\0")
        i += 2 + n
    return out


def openssl(*args, data=None):
    r = subprocess.run(("openssl",) + args, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), r.stderr.decode()))
    return r.stdout


def es256_sign_openssl(keyfile, signing_input, tmpdir):
    """Sign with the openssl CLI and return the raw r||s JWS signature."""
    # The input goes through stdin: a shared file in tmpdir raced when
    # several test threads signed at once (one signed another's input).
    del tmpdir
    return der_sig_to_raw(openssl("dgst", "-sha256", "-sign", keyfile, data=signing_input))


def es256_verify_openssl(cert_pem, signing_input, raw_sig, tmpdir):
    """True when openssl verifies the signature with the leaf's public key."""
    cpath = os.path.join(tmpdir, "leaf.pem")
    with open(cpath, "wb") as f:
        f.write(cert_pem)
    pub = openssl("x509", "-pubkey", "-noout", "-in", cpath)
    ppath, spath, mpath = (os.path.join(tmpdir, n) for n in ("pub.pem", "sig.der", "msg.bin"))
    with open(ppath, "wb") as f:
        f.write(pub)
    with open(spath, "wb") as f:
        f.write(raw_sig_to_der(raw_sig))
    with open(mpath, "wb") as f:
        f.write(signing_input)
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", ppath, "-signature", spath,
                        mpath], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return r.returncode == 0 and b"Verified OK" in r.stdout


def load_ec_key(keyfile):
    """A PEM private key loaded by python3-cryptography, for make_passport."""
    from cryptography.hazmat.primitives import serialization
    with open(keyfile, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def es256_sign_key(key, signing_input):
    """Sign in-process with a loaded key (load_ec_key): floods of PASSporTs,
    for which running the openssl CLI per PASSporT is too slow."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    return der_sig_to_raw(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))


def make_passport(header, payload, keyfile, tmpdir, info=None, ppt=None):
    """A PASSporT as an Identity header value, signed by the openssl CLI with
    keyfile (a path), or in-process when keyfile is a loaded key."""
    h = b64u_encode(canonical(header).encode())
    p = b64u_encode(canonical(payload).encode())
    if isinstance(keyfile, str):
        sig = es256_sign_openssl(keyfile, (h + "." + p).encode(), tmpdir)
    else:
        sig = es256_sign_key(keyfile, (h + "." + p).encode())
    token = h + "." + p + "." + b64u_encode(sig)
    value = token + ";info=<" + (info or header.get("x5u", "")) + ">;alg=ES256"
    if ppt:
        value += ";ppt=" + ppt
    return value


SHAKEN_ORIGID = "123e4567-e89b-42d3-a456-426614174000"


def shaken_identity(x5u, keyfile, tmpdir, now, ppt="shaken", **claims):
    """An Identity header value: a SHAKEN PASSporT (attestation A, ORIG_TN
    to DEST_TN, iat `now`, more `claims`) with x5u, signed with keyfile
    (make_passport: a path for the openssl CLI, or a loaded key)."""
    header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u}
    payload = {"attest": "A", "dest": {"tn": [DEST_TN]}, "iat": now,
               "orig": {"tn": ORIG_TN}, "origid": SHAKEN_ORIGID}
    payload.update(claims)
    return make_passport(header, payload, keyfile, tmpdir, ppt=ppt)


def verification_request(identity, now):
    """The members of a verificationRequest from ORIG_TN to DEST_TN at
    `now`: one Identity value as identityHeader, a list as identityHeaders."""
    key = "identityHeaders" if isinstance(identity, list) else "identityHeader"
    return {key: identity, "from": {"tn": ORIG_TN}, "to": {"tn": DEST_TN}, "time": now}


def run_stird(*args, env=None, timeout=30):
    """stird run to its end over plain HTTP without a metrics listener:
    (exit status, stdout, stderr). For start-up errors and flags."""
    # Plain HTTP is explicit (docs/SECURITY.md); these runs are about the rest.
    r = subprocess.run((STIRD, "--plain-http", "--metrics-listen", "none") + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       env=None if env is None else dict(os.environ, **env))
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def read_to_close(s):
    """All the peer sends on socket s until it closes the connection."""
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def make_pki(dest):
    """The fixture PKI of tests/tools/mkpki.sh (openssl CLI only) in dest."""
    r = subprocess.run(["bash", os.path.join(TOOLS, "mkpki.sh"), dest],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise AssertionError("mkpki.sh failed: " + r.stderr.decode())
    return dest


def fetch_args(pki, timeout_ms=2000):
    """stird options that trust the mkpki.sh root and let it fetch from a
    CertServer of that PKI on any loopback port. The connect timeout is the
    whole timeout: on a loaded machine the TLS handshake with certserver.py
    alone can pass stird's 500 ms default."""
    return ("--trust", os.path.join(pki, "root.pem"),
            "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
            "--fetch-ca-file", os.path.join(pki, "tls.pem"),
            "--fetch-timeout-ms", str(timeout_ms),
            "--fetch-connect-timeout-ms", str(timeout_ms))


def stack_limit(kb):
    """A preexec_fn that limits the stack (main thread and, through glibc's
    default, every thread) to `kb` KiB; None: leave it."""
    if kb is None:
        return None

    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_STACK, (kb * 1024, resource.getrlimit(
            resource.RLIMIT_STACK)[1]))
    return limit


class Server:
    """One stird process. Use as a context manager or call stop()."""

    def __init__(self, *extra, embedded=True, state_dir=None, x5u=True, wait=True,
                 check_openapi=True, env=None, plain=True, stack_kb=None):
        # Every response request() receives is held to docs/openapi.yaml;
        # a test that sends what the document does not describe on purpose
        # may turn it off.
        self.check_openapi = check_openapi
        if embedded and not x5u:
            # Embedded mode always serves x5u, on 127.0.0.1:8443 unless told
            # otherwise: a fixed port that parallel test runs would share.
            raise ValueError("embedded stird always listens for x5u: use embedded=False")
        self.tmp = tempfile.mkdtemp(prefix="stirtest.")
        self.state_dir = state_dir or os.path.join(self.tmp, "state")
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stdout_path = os.path.join(self.tmp, "stdout.log")
        self.stopped = False
        # A port found free can be taken by a parallel test before stird
        # binds it: start again on new ports when that happens.
        for attempt in range(3):
            self.port = free_port()
            self.x5u_port = free_port()
            # Never the default metrics port 9464: tests run in parallel.
            self.metrics_port = free_port()
            args = [STIRD, "--listen", "127.0.0.1:%d" % self.port, "--threads", "2",
                    "--metrics-listen", "127.0.0.1:%d" % self.metrics_port]
            if plain:
                args.append("--plain-http")  # HTTPS is tested in test_tls.py
            if embedded:
                args += ["--embedded", "--state-dir", self.state_dir, "--fetch-allow-any-port"]
                if x5u:
                    args += ["--x5u-listen", "127.0.0.1:%d" % self.x5u_port]
            args += list(extra)
            self.args = args
            self._err = open(self.stderr_path, "wb")
            self._out = open(self.stdout_path, "wb")
            self.proc = subprocess.Popen(args, stdout=self._out, stderr=self._err,
                                         env=dict(os.environ, **(env or {})),
                                         preexec_fn=stack_limit(stack_kb))
            if not wait:
                return
            try:
                self.wait_healthy()
                return
            except AssertionError:
                if attempt == 2 or "Address already in use" not in self.stderr():
                    raise
                self._close()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def x5u_url(self):
        return "https://127.0.0.1:%d/cert/chain.pem" % self.x5u_port

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_healthy(self, timeout=30):
        self.wait_until(lambda: self.request("GET", "/health", timeout=2)[0] == 200, timeout)

    def wait_until(self, probe, timeout=30):
        """Call probe() until it returns true; a connection error counts as
        not yet. Kills stird and fails when it exits or time runs out."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("stird exited with %s during start-up:\n%s"
                                     % (self.proc.returncode, self.stderr()))
            try:
                if probe():
                    return
            except (OSError, http.client.HTTPException):  # ssl.SSLError is an OSError
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError("stird did not become healthy:\n" + self.stderr())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        for f in (self._err, self._out):
            if not f.closed:
                f.close()

    def stop(self):
        """SIGTERM; the exit must be clean (0) and sanitizer-silent."""
        if self.stopped:
            return
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("stird did not stop on SIGTERM:\n" + self.stderr())
        self._close()
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in err:
                raise AssertionError("sanitizer report in stird stderr:\n" + err[-8000:])
        if self.proc.returncode != 0:
            raise AssertionError("stird exited with %d:\n%s" % (self.proc.returncode, err[-4000:]))
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ---- HTTP -----------------------------------------------------------

    def request(self, method, path, body=None, headers=None, timeout=15):
        """(status, headers dict with lower-case names, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if self.check_openapi:
                openapi.check_response(method, path, r.status, hdrs.get("content-type"), data)
            return r.status, hdrs, data
        finally:
            c.close()

    def post(self, path, obj, headers=None):
        """POST a JSON value (or raw bytes); returns (status, parsed body, headers)."""
        body = obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        st, hd, data = self.request("POST", path, body=body, headers=h)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data
        return st, parsed, hd

    def raw(self, data, timeout=10):
        """Send raw bytes, read until the server closes; returns (status, bytes)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            buf = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
                if b"\r\n\r\n" in buf:
                    head, _, rest = buf.partition(b"\r\n\r\n")
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            if len(rest) >= int(line.split(b":")[1]):
                                return int(buf.split(b" ")[1]), buf
        status = int(buf.split(b" ")[1]) if buf.startswith(b"HTTP/") else 0
        return status, buf

    # ---- Ms API -------------------------------------------------------------

    def sign(self, req, path="/stir/v1/signing", wrap=True):
        st, body, _ = self.post(path, {"signingRequest": req} if wrap else req)
        return st, body

    def sign_ok(self, **over):
        req = {"attest": "A", "orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]},
               "iat": int(time.time())}
        req.update(over)
        st, body = self.sign(req)
        if st != 200:
            raise AssertionError("signing failed: %s %s" % (st, body))
        return body["signingResponse"]["identityHeader"], req

    def verify(self, req, wrap=True):
        st, body, _ = self.post("/stir/v1/verification",
                                {"verificationRequest": req} if wrap else req)
        return st, body

    def fetch_chain(self):
        """The chain at the x5u URL, fetched with python's own TLS stack."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.state_dir, "tls.pem"))
        with urllib.request.urlopen(self.x5u_url, context=ctx, timeout=10) as r:
            return r.read(), {k.lower(): v for k, v in r.getheaders()}


class HangServer:
    """Accepts TCP connections and never answers (not even the TLS
    handshake): an x5u repository that hangs. Counts the connections open
    at once, i.e. stird's x5u fetches in progress against it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns, self.max_open, self.total = [], 0, 0
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._reap, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
                self.total += 1
                self.max_open = max(self.max_open, len(self.conns))

    def _reap(self):
        # Drop the connections stird has closed (its fetch timed out).
        while not self.stopped:
            time.sleep(0.1)
            with self.lock:
                live = []
                for c in self.conns:
                    c.setblocking(False)
                    try:
                        gone = c.recv(65536) == b""
                    except BlockingIOError:
                        gone = False
                    except OSError:
                        gone = True
                    if gone:
                        c.close()
                    else:
                        live.append(c)
                self.conns = live

    def url(self, path):
        return "https://127.0.0.1:%d/%s" % (self.port, path)

    def stop(self):
        self.stopped = True
        self.sock.close()
        with self.lock:
            for c in self.conns:
                c.close()
            self.conns = []


class CertServer:
    """tests/tools/certserver.py serving directory `root` over HTTPS on a
    free port of 127.0.0.1 with TLS certificate `cert` and key `key`. Use
    as a context manager or call stop()."""

    def __init__(self, cert, key, root, timeout=60):
        self.tmp = tempfile.mkdtemp(prefix="certserver.")
        self.cert = cert
        port_file = os.path.join(self.tmp, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(SRC, "tests", "tools", "certserver.py"),
             "--cert", cert, "--key", key, "--dir", root, "--port-file", port_file],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The port file appears (atomically) once the server listens;
        # Python's start alone took 9 s on a loaded 2-core machine.
        deadline = time.time() + timeout
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError("certserver.py did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())

    @classmethod
    def with_tls_of(cls, srv, root):
        """Serve root with the embedded TLS certificate of Server srv, the
        one its fetches trust; stops srv when certserver.py does not start."""
        try:
            return cls(os.path.join(srv.state_dir, "tls.pem"),
                       os.path.join(srv.state_dir, "tls.key"), root)
        except Exception:
            srv.stop()
            raise

    def url(self, path):
        """https://127.0.0.1:<port>/<path>"""
        return "https://127.0.0.1:%d/%s" % (self.port, path)

    def hits(self):
        """Its /__hits: {path: requests seen, "__max_active": the most in
        progress at once}."""
        ctx = ssl.create_default_context(cafile=self.cert)
        with urllib.request.urlopen(self.url("__hits"), context=ctx, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class RepositoryTestCase(unittest.TestCase):
    """The mkpki.sh PKI in cls.pki, served over HTTPS by cls.certserver, and
    one stird (cls.srv, not embedded) that trusts its root and may fetch
    from it. A subclass sets server_args (more stird options),
    fetch_timeout_ms and tmp_prefix; one that needs more peers up before
    stird starts (another repository) starts them in start_peers, handing
    each to cls.peers.append as soon as it runs: each is stopped (its
    stop()) after stird, in reverse order, and on a failed set-up, also
    one that start_peers raises after."""
    server_args = ()
    fetch_timeout_ms = 2000
    tmp_prefix = "stirrepo."

    @classmethod
    def start_peers(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.tmp_prefix)
        cls.peers = []
        try:
            cls.pki = make_pki(os.path.join(cls.tmp, "pki"))
            cls.certserver = CertServer(os.path.join(cls.pki, "tls.pem"),
                                        os.path.join(cls.pki, "tls.key"), cls.pki)
            cls.peers.append(cls.certserver)
            cls.start_peers()
            cls.srv = Server(*fetch_args(cls.pki, cls.fetch_timeout_ms), *cls.server_args,
                             embedded=False)
        except Exception:
            cls._stop_peers()
            raise

    @classmethod
    def _stop_peers(cls):
        # Every peer is stopped even when one's stop() raises; the first
        # error is raised after all of them.
        first = None
        for p in reversed(cls.peers):
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001
                first = first or e
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if first:
            raise first

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls._stop_peers()


class EmbeddedPkiTestCase(unittest.TestCase):
    """An embedded test PKI in cls.state (made by one embedded run of stird)
    inside the temporary directory cls.tmp, for tests that start stird
    themselves."""
    tmp_prefix = "stirpki."

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.tmp_prefix)
        cls.state = os.path.join(cls.tmp, "state")
        try:
            Server(state_dir=cls.state).stop()
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


class FilesTestCase(unittest.TestCase):
    """An embedded stird started with the configuration text `config`, and
    the directory cls.files served over HTTPS by cls.cs (certserver.py)
    with stird's embedded TLS certificate, which its fetches trust. A
    subclass sets config and tmp_prefix, and may fill cls.files first in
    populate()."""
    config = ""
    tmp_prefix = "stirfiles."

    @classmethod
    def populate(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.tmp_prefix)
        try:
            cls.files = os.path.join(cls.tmp, "files")
            os.mkdir(cls.files)
            cls.populate()
            conf = os.path.join(cls.tmp, "stird.conf")
            with open(conf, "w") as f:
                f.write(cls.config)
            cls.srv = Server("--config", conf)
            cls.cs = CertServer.with_tls_of(cls.srv, cls.files)
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.cs.stop()
        finally:
            cls.srv.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)


class ServerTestCase(unittest.TestCase):
    """One embedded stird per test class."""
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assertProblem(self, status, body, headers, expect_status):
        self.assertEqual(status, expect_status, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/problem+json"),
                        headers)
        self.assertIsInstance(body, dict)
        self.assertEqual(body.get("status"), expect_status)
        self.assertIsInstance(body.get("title"), str)
        self.assertTrue(body["title"])
        self.assertIsInstance(body.get("detail"), str)
        self.assertTrue(body["detail"])

    def assertInvalidParam(self, status, body, field):
        self.assertEqual(status, 400, body)
        self.assertIn(body.get("title"), ("Invalid Parameter Value", "Missing Mandatory Parameter"))
        params = [p.get("param") for p in body.get("invalidParams", [])]
        self.assertTrue(any(p == field or (p or "").startswith(field + ".") or
                            (p or "").startswith(field + "[") for p in params),
                        "expected invalidParams naming %r, got %r" % (field, body))
