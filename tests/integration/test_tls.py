"""HTTPS and mutual TLS on the Ms API (issue 8 item 1), with real clients.

A PKI is made here with the openssl CLI: a server CA and a server
certificate for 127.0.0.1; a client CA with a good client certificate (SAN
URI), one with only a subject CN, an expired one (`openssl ca -startdate
-enddate`); another CA with its own client certificate. Clients are
Python's ssl module, `openssl s_client` and curl.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

URI_ID = "spiffe://example.net/ms/client-a"


def ossl(*args, cwd=None):
    r = subprocess.run(("openssl",) + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, cwd=cwd)
    if r.returncode != 0:
        raise AssertionError("openssl %s: %s" % (" ".join(args), r.stderr.decode()))
    return r.stdout


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=%s" % name,
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, crt


def make_leaf(d, name, ca, subj, ext, days=10):
    key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
    extf = os.path.join(d, name + ".ext")
    with open(extf, "w") as f:
        f.write(ext)
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", subj)
    ossl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
         "-out", crt, "-days", str(days), "-extfile", extf)
    return crt, key


def make_expired(d, ca):
    """A client certificate valid only in January 2020 (openssl ca)."""
    db = os.path.join(d, "cadb")
    os.makedirs(db, exist_ok=True)
    open(os.path.join(db, "index.txt"), "w").close()
    with open(os.path.join(db, "serial"), "w") as f:
        f.write("1000\n")
    conf = os.path.join(d, "ca.cnf")
    with open(conf, "w") as f:
        f.write("""[ca]
default_ca = c
[c]
database = %(db)s/index.txt
serial = %(db)s/serial
new_certs_dir = %(db)s
certificate = %(crt)s
private_key = %(key)s
default_md = sha256
policy = p
x509_extensions = e
[p]
commonName = supplied
[e]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://example.net/ms/expired
""" % {"db": db, "crt": ca[1], "key": ca[0]})
    key, csr, crt = (os.path.join(d, "expired" + s) for s in (".key", ".csr", ".pem"))
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=expired")
    ossl("ca", "-batch", "-config", conf, "-in", csr, "-out", crt,
         "-startdate", "20200101000000Z", "-enddate", "20200102000000Z")
    return crt, key


CLIENT_EXT = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"


def make_mtls_pki(d, good_san):
    """What every mutual-TLS test starts from (openssl CLI): a server CA
    and its certificate for 127.0.0.1, a client CA and the good client
    certificate client-a with subjectAltName good_san. Returns
    (server CA, client CA, server certificate, good client certificate)."""
    srv_ca = make_ca(d, "srvca")
    cli_ca = make_ca(d, "clica")
    server = make_leaf(d, "server", srv_ca, "/CN=stird test",
                       "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                       "subjectAltName=IP:127.0.0.1\n")
    good = make_leaf(d, "good", cli_ca, "/CN=client-a",
                     CLIENT_EXT + "subjectAltName=%s\n" % good_san)
    return srv_ca, cli_ca, server, good


class TlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="stirtls.")
        d = cls.d
        cls.srv_ca, cls.cli_ca, cls.server, cls.good = make_mtls_pki(
            d, "URI:%s,DNS:a.example.net" % URI_ID)
        cls.other_ca = make_ca(d, "otherca")
        cls.cn_only = make_leaf(d, "cnonly", cls.cli_ca, "/O=Example/CN=client-cn", CLIENT_EXT)
        cls.other = make_leaf(d, "other", cls.other_ca, "/CN=intruder",
                              CLIENT_EXT + "subjectAltName=URI:spiffe://example.net/ms/x\n")
        cls.expired = make_expired(d, cls.cli_ca)
        cls.srv = stirtest.Server("--tls-cert", cls.server[0], "--tls-key", cls.server[1],
                                  "--tls-client-ca", cls.cli_ca[1], plain=False, wait=False)
        cls.srv.wait_until(lambda: cls.get("/health", cls.good)[0] == 200)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    @classmethod
    def ctx(cls, cert=None, version=None, ciphers=None):
        c = ssl.create_default_context(cafile=cls.srv_ca[1])
        if cert:
            c.load_cert_chain(cert[0], cert[1])
        if version:
            c.minimum_version = c.maximum_version = version
        if ciphers:
            c.set_ciphers(ciphers)
        return c

    @classmethod
    def get(cls, path, cert=None, version=None, ciphers=None, method="GET", body=None):
        """One request over a new TLS connection; (status, body). Raises on
        a failed handshake, and when the server closes without answering."""
        c = cls.ctx(cert, version, ciphers)
        with socket.create_connection(("127.0.0.1", cls.srv.port), timeout=10) as raw:
            with c.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                hdr = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
                if body is not None:
                    hdr += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
                s.sendall(hdr.encode() + b"\r\n" + (body or b""))
                buf = stirtest.read_to_close(s)
                cls.last_version = s.version()
        if not buf.startswith(b"HTTP/1.1 "):
            raise ConnectionError("no HTTP answer")
        return int(buf.split(b" ")[1]), buf.partition(b"\r\n\r\n")[2]

    def refused(self, cert, why):
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError), msg=why):
            self.get("/health", cert)

    def test_tls12_and_tls13_accepted(self):
        for v, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
            st, body = self.get("/health", self.good, version=v)
            self.assertEqual(st, 200)
            self.assertEqual(self.last_version, name)

    def test_tls10_and_tls11_refused(self):
        for flag in ("-tls1", "-tls1_1"):
            r = subprocess.run(["openssl", "s_client", flag, "-cipher", "DEFAULT@SECLEVEL=0",
                                "-connect", "127.0.0.1:%d" % self.srv.port,
                                "-cert", self.good[0], "-key", self.good[1]],
                               input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=30)
            out = r.stdout.decode(errors="replace")
            self.assertNotEqual(r.returncode, 0, out)
            # the server's refusal (an alert), not the client's own
            self.assertIn("alert protocol version", out)

    def test_tls12_without_ecdhe_aead_refused(self):
        with self.assertRaises(ssl.SSLError):
            self.get("/health", self.good, version=ssl.TLSVersion.TLSv1_2,
                     ciphers="AES128-SHA:AES256-GCM-SHA384")

    def test_no_client_certificate_fails_handshake(self):
        self.refused(None, "no client certificate")

    def test_other_ca_and_expired_fail_handshake(self):
        self.refused(self.other, "certificate from another CA")
        self.refused(self.expired, "expired certificate")

    def wait_log(self, needle):
        deadline = time.time() + 5
        while needle not in self.srv.stderr() and time.time() < deadline:
            time.sleep(0.05)
        return self.srv.stderr()

    def test_identity_in_access_log(self):
        st, _ = self.get("/health?who=uri", self.good)
        self.assertEqual(st, 200)
        st, _ = self.get("/ready", self.cn_only)
        self.assertEqual(st, 200)
        log = self.wait_log("client=client-cn")
        lines = [ln for ln in log.splitlines() if " api " in ln]
        self.assertTrue(any("/health" in ln and "client=" + URI_ID in ln for ln in lines), log)
        self.assertTrue(any("/ready" in ln and "client=client-cn" in ln for ln in lines), log)
        self.assertNotIn("intruder", log)

    def test_curl_sign_and_verify(self):
        base = "https://127.0.0.1:%d/stir/v1/" % self.srv.port
        tls = ["--cacert", self.srv_ca[1], "--cert", self.good[0], "--key", self.good[1]]
        now = int(time.time())
        req = {"signingRequest": {"attest": "A", "orig": {"tn": stirtest.ORIG_TN},
                                  "dest": {"tn": [stirtest.DEST_TN]}, "iat": now}}
        r = subprocess.run(["curl", "-sS", "--fail-with-body"] + tls +
                           ["-H", "Content-Type: application/json", "-d", json.dumps(req),
                            base + "signing"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        ident = json.loads(r.stdout)["signingResponse"]["identityHeader"]
        vreq = {"verificationRequest": {"from": {"tn": stirtest.ORIG_TN},
                                        "to": {"tn": [stirtest.DEST_TN]}, "time": now,
                                        "identityHeader": ident}}
        r = subprocess.run(["curl", "-sS", "--fail-with-body"] + tls +
                           ["-H", "Content-Type: application/json", "-d", json.dumps(vreq),
                            base + "verification"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        self.assertEqual(json.loads(r.stdout)["verificationResponse"]["verstatValue"],
                         "TN-Validation-Passed")
        # without a client certificate, curl gets no answer at all
        r = subprocess.run(["curl", "-sS", "--cacert", self.srv_ca[1], base + "signing"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"")

    def test_pipelined_and_split_requests(self):
        # The server reads TLS ahead (several records per read(2)): requests
        # sent back to back in one record, and a request whose second half
        # arrives in the same record as the end of the previous one, are
        # all answered, in order, on one keep-alive connection.
        one = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        last = b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        c = self.ctx(self.good)
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as raw:
            with c.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(one * 2 + last[:20])      # two whole, one begun
                time.sleep(0.2)
                s.sendall(last[20:40])              # records back to back: one
                s.sendall(last[40:])                # read(2) may return both
                buf = stirtest.read_to_close(s)
        self.assertEqual(buf.count(b"HTTP/1.1 200 OK\r\n"), 3, buf)
        self.assertEqual(buf.count(b'{"status":"alive"}'), 2, buf)
        self.assertIn(b'"status":"ready"', buf.rsplit(b"HTTP/1.1 ", 1)[1])

    def test_endless_pipelining_keeps_the_stack_flat(self):
        # A client that keeps its pipe full of pipelined requests over TLS
        # (read-ahead holds the next ones) is served in a loop, not by
        # nesting a call per request (a review measured 34,504 nested
        # frames in one worker under gdb, and a crash with a 128 KiB
        # stack): 20,000 requests streamed back to back, up to 4,000
        # ahead of the answers, are all answered by a stird whose threads
        # have 256 KiB of stack.
        srv = stirtest.Server("--tls-cert", self.server[0], "--tls-key", self.server[1],
                              plain=False, wait=False, stack_kb=256)
        try:
            c = ssl.create_default_context(cafile=self.srv_ca[1])
            c.check_hostname = False
            deadline = time.time() + 30
            while True:
                try:
                    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                    break
                except OSError:
                    self.assertLess(time.time(), deadline, srv.stderr())
                    time.sleep(0.05)
            n, batch = 20000, 200
            one = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            with c.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                # One batch always ahead of the answers read: the server
                # finds the next requests already in its buffers.
                got, buf, sent = 0, b"", 0
                while got < n:
                    while sent < n and sent - got < 20 * batch:
                        s.sendall(one * batch)
                        sent += batch
                    chunk = s.recv(1 << 16)
                    if not chunk:
                        self.fail("connection closed after %d answers: %s"
                                  % (got, srv.stderr()[-2000:]))
                    buf += chunk
                    k = buf.count(b"HTTP/1.1 200 OK\r\n")
                    if k:
                        got += k
                        buf = buf[buf.rindex(b"HTTP/1.1 200 OK\r\n") + 17:]
            self.assertEqual(got, n)
        finally:
            srv.stop()

    def test_connection_limit_per_certificate_identity(self):
        srv = stirtest.Server("--tls-cert", self.server[0], "--tls-key", self.server[1],
                              "--tls-client-ca", self.cli_ca[1],
                              "--max-connections-per-client", "2", plain=False, wait=False)
        held = []
        try:
            def tls_conn(cert, src):
                raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10,
                                               source_address=(src, 0))
                return self.ctx(cert).wrap_socket(raw, server_hostname="127.0.0.1")

            def health(s):
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                buf = b""
                while not buf.endswith(b"}"):
                    chunk = s.recv(4096)
                    if not chunk:
                        return None
                    buf += chunk
                return int(buf.split(b" ")[1])

            deadline = time.time() + 30
            while True:             # up?
                try:
                    with tls_conn(self.cn_only, "127.0.0.9") as s:
                        if health(s) == 200:
                            break
                except (OSError, ssl.SSLError):
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            # two addresses, one identity: both served
            for src in ("127.0.0.5", "127.0.0.6"):
                held.append(tls_conn(self.good, src))
                self.assertEqual(health(held[-1]), 200)
            # a third address with the same certificate: refused after the handshake
            try:
                with tls_conn(self.good, "127.0.0.7") as s:
                    third = health(s)
            except (OSError, ssl.SSLError):
                third = None
            self.assertIsNone(third)
            # another identity from that address is served
            with tls_conn(self.cn_only, "127.0.0.7") as s:
                self.assertEqual(health(s), 200)
            self.assertIn("too many connections for this client certificate", srv.stderr())
        finally:
            for s in held:
                s.close()
            srv.stop()


class TransportConfigTest(unittest.TestCase):

    def run_stird(self, *args):
        r = subprocess.run((stirtest.STIRD,) + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return r.returncode, r.stderr.decode()

    def test_neither_tls_nor_plain_refuses_to_start(self):
        with tempfile.TemporaryDirectory() as d:
            rc, err = self.run_stird("--embedded", "--state-dir", os.path.join(d, "s"),
                                     "--listen", "127.0.0.1:0")
        self.assertEqual(rc, 2, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("tls-cert", err)
        self.assertIn("plain-http", err)

    def test_plain_http_off_loopback_warns(self):
        with tempfile.TemporaryDirectory() as d:
            err_path = os.path.join(d, "err")
            with open(err_path, "wb") as ef:
                p = subprocess.Popen([stirtest.STIRD, "--embedded", "--state-dir",
                                      os.path.join(d, "s"), "--plain-http", "--listen",
                                      "0.0.0.0:0", "--metrics-listen", "none", "--x5u-listen",
                                      "127.0.0.1:%d" % stirtest.free_port(),
                                      "--fetch-allow-any-port"], stdout=subprocess.DEVNULL, stderr=ef)
                try:
                    deadline = time.time() + 20
                    while time.time() < deadline:
                        with open(err_path) as f:
                            err = f.read()
                        if "ready:" in err or p.poll() is not None:
                            break
                        time.sleep(0.1)
                finally:
                    p.terminate()
                    p.wait(timeout=10)
        self.assertIn("ready:", err)
        self.assertIn("WARN: PLAIN HTTP on 0.0.0.0", err)

if __name__ == "__main__":
    unittest.main()
