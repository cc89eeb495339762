"""Certificate revocation end to end through stird (issue 12 item 1).

Certificates and CRLs come from tests/tools/mkpki.sh + mkcrl.sh (openssl
CLI, "openssl ca -gencrl"); which certificate is revoked is cross-checked
here with "openssl verify -crl_check", independently of stird. CRLs are
served over HTTPS by tests/tools/certserver.py and, for the http: case, by
a plain http.server on loopback. Two servers: the default crl_mode
(fail-open) and fail-closed."""
import functools
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


class CrlTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stircrl.")
        cls.pki = stirtest.make_pki(os.path.join(cls.tmp, "pki"))
        handler = functools.partial(Quiet, directory=cls.pki)
        cls.plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=cls.plain.serve_forever, daemon=True).start()
        cls.servers = []
        try:
            cls.certserver = stirtest.CertServer(os.path.join(cls.pki, "tls.pem"),
                                                 os.path.join(cls.pki, "tls.key"), cls.pki)
            r = subprocess.run(["bash", os.path.join(stirtest.TOOLS, "mkcrl.sh"), cls.pki,
                                "https://127.0.0.1:%d" % cls.certserver.port,
                                "http://127.0.0.1:%d" % cls.plain.server_address[1]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            if r.returncode != 0:
                raise AssertionError("mkcrl.sh failed: " + r.stderr.decode())
            common = stirtest.fetch_args(cls.pki)
            cls.open_srv = stirtest.Server(*common, embedded=False)
            cls.servers.append(cls.open_srv)
            cls.closed_srv = stirtest.Server(*common, "--crl-mode", "fail-closed",
                                             embedded=False)
            cls.servers.append(cls.closed_srv)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            for s in cls.servers:
                s.stop()
        finally:
            if getattr(cls, "certserver", None):
                cls.certserver.stop()
            cls.plain.shutdown()
            cls.plain.server_close()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def hits(self, path):
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "tls.pem"))
        with urllib.request.urlopen(self.certserver.url("__hits"), context=ctx,
                                    timeout=10) as r:
            return json.loads(r.read()).get(path, 0)

    def verify(self, srv, name):
        """Verify a PASSporT signed with crl_<name>.key, x5u chain_crl_<name>.pem
        (or `name` itself when it ends in .pem, signed with sp.key)."""
        if name.endswith(".pem"):
            path, key = name, "sp.key"
        else:
            path, key = "chain_crl_%s.pem" % name, "crl_%s.key" % name
        now = int(time.time())
        identity = stirtest.shaken_identity(self.certserver.url(path),
                                            os.path.join(self.pki, key), self.tmp, now)
        st, body = srv.verify(stirtest.verification_request(identity, now))
        self.assertEqual(st, 200, body)
        return body["verificationResponse"]["verifyResults"][0]["verifyResult"]

    def assertPass(self, res):
        self.assertEqual(res["status"], "pass", res)

    def assertFail(self, res, code, *needles):
        self.assertEqual(res["status"], "fail", res)
        self.assertEqual(res["reasonCode"], code, res)
        for n in needles:
            self.assertIn(n, res["reasonDescription"], res)

    def openssl_revoked(self, leaf, issuer, crl, inform="PEM"):
        """Is `leaf` revoked according to the openssl CLI?"""
        pem = os.path.join(self.tmp, "crl-check.pem")
        subprocess.run(["openssl", "crl", "-inform", inform, "-in", os.path.join(self.pki, crl),
                        "-out", pem], check=True, capture_output=True)
        bundle = os.path.join(self.tmp, "bundle.pem")
        with open(bundle, "w") as out:
            for f in ("root.pem", issuer):
                with open(os.path.join(self.pki, f)) as inp:
                    out.write(inp.read())
        r = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", bundle, "-CRLfile", pem,
                            os.path.join(self.pki, leaf)], capture_output=True, text=True)
        return "certificate revoked" in r.stdout + r.stderr

    # ---- the fixtures say what they should --------------------------------

    def test_fixture_cross_check(self):
        self.assertTrue(self.openssl_revoked("crl_revoked.pem", "crlca.pem", "ca1.crl", "DER"))
        self.assertFalse(self.openssl_revoked("crl_good.pem", "crlca.pem", "ca1.crl", "DER"))
        self.assertFalse(self.openssl_revoked("crl_samesn.pem", "crlca.pem", "ca1.crl", "DER"))
        self.assertTrue(self.openssl_revoked("crlca2.pem", "root.pem", "root.crl"))

    # ---- verdicts ---------------------------------------------------------

    def test_good_and_cached_crl(self):
        for srv in (self.open_srv, self.closed_srv):
            before = self.hits("/ca1.crl")
            self.assertPass(self.verify(srv, "good"))
            self.assertFail(self.verify(srv, "revoked"), 437, "revoked", "serial 1002",
                            "depth 0")
            # Serial 2001 is revoked by the root, for one of the root's own
            # certificates: not this leaf, issued by crlca.
            self.assertPass(self.verify(srv, "samesn"))
            # Three chains, one CRL: fetched once, reused until nextUpdate.
            self.assertEqual(self.hits("/ca1.crl") - before, 1)

    def test_revoked_intermediate(self):
        for srv in (self.open_srv, self.closed_srv):
            self.assertFail(self.verify(srv, "revint"), 437, "revoked", "depth 1",
                            "CRL STI-CA 2")

    def test_wrong_key(self):
        # The forged CRL lists this leaf; it must not be believed either way.
        self.assertPass(self.verify(self.open_srv, "badsig"))
        self.assertIn("signature does not verify", self.open_srv.stderr())
        self.assertFail(self.verify(self.closed_srv, "badsig"), 437,
                        "revocation status unknown", "signature does not verify")

    def test_stale(self):
        self.assertPass(self.verify(self.open_srv, "stale"))
        self.assertIn("stale", self.open_srv.stderr())
        self.assertFail(self.verify(self.closed_srv, "stale"), 437, "stale")

    def test_unreachable(self):
        for name, why in (("missing", "HTTP 404"), ("refused", "127.0.0.1")):
            self.assertPass(self.verify(self.open_srv, name))
            self.assertIn("fail-open", self.open_srv.stderr())
            self.assertIn("WARN", self.open_srv.stderr())
            self.assertFail(self.verify(self.closed_srv, name), 437,
                            "revocation status unknown", why)

    def test_http_crl(self):
        # An http: CRL URL is fetched (crl_allow_http, the default) and its
        # signature is what makes it trustworthy.
        for srv in (self.open_srv, self.closed_srv):
            self.assertPass(self.verify(srv, "http"))

    def test_no_crldp(self):
        for srv in (self.open_srv, self.closed_srv):
            self.assertPass(self.verify(srv, "chain.pem"))

    def test_bad_mode(self):
        srv = stirtest.Server("--crl-mode", "sometimes", wait=False)
        try:
            srv.proc.wait(timeout=30)
            self.assertEqual(srv.proc.returncode, 2)
            self.assertIn("crl-mode", srv.stderr())
        finally:
            srv.kill()
            shutil.rmtree(srv.tmp, ignore_errors=True)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    unittest.main(verbosity=2)
