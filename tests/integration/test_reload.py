"""Reload without restart (issue 12 item 4), with real files and the openssl CLI.

SIGHUP reads the configuration file again. A new signing key + chain is
used by the next request, on a keep-alive connection opened before the
reload, and its signatures verify (openssl CLI) with the new certificate
only. A configuration whose key does not load is refused with one ERROR
line and the old key keeps signing. A new TLS certificate is served to new
connections while a connection made before keeps working. A certificate
that expires within cert_expiry_warn_days is warned about at start.
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from test_keys_signers import make_range_leaf  # noqa: E402


def wait_for(srv, text, count=1, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if srv.stderr().count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("no %r (x%d) in stird's log:\n%s" % (text, count, srv.stderr()[-4000:]))


class ReloadTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stirreload.")
        cls.pki = stirtest.make_pki(os.path.join(cls.tmp, "pki"))
        for name in ("one", "two"):
            cls.leaf(name)
        # Two self-signed TLS certificates for 127.0.0.1; "short" expires in 5 days.
        for name, days in (("tls1", 300), ("tls2", 300), ("short", 5)):
            stirtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                             cls.path(name + ".key"), "-out", cls.path(name + ".pem"),
                             "-days", str(days), "-subj", "/CN=%s" % name,
                             "-addext", "subjectAltName=IP:127.0.0.1")
            os.chmod(cls.path(name + ".key"), 0o600)
        with open(cls.path("garbage.key"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
        os.chmod(cls.path("garbage.key"), 0o600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    @classmethod
    def leaf(cls, name):
        chain = make_range_leaf(cls.pki, cls.tmp, name, "/C=US/O=Carrier/CN=SHAKEN %s" % name,
                                "12155550000", 300)
        with open(cls.path("chain_%s.pem" % name), "wb") as f:
            f.write(chain)

    def write_config(self, conf, key, leaf, extra="", root="root.pem",
                     x5u="https://cr.example.com/"):
        with open(conf, "w") as f:
            f.write("key = %s\ncert = %s\nx5u = %s%s.pem\ntrust = %s\n%s"
                    % (key, self.path("chain_%s.pem" % leaf), x5u, leaf,
                       os.path.join(self.pki, root), extra))

    def start(self, key, leaf, extra="", root="root.pem", x5u="https://cr.example.com/", **kw):
        conf = os.path.join(tempfile.mkdtemp(dir=self.tmp), "stird.conf")
        self.write_config(conf, key, leaf, extra, root, x5u)
        return conf, stirtest.Server("--config", conf, embedded=False, **kw)

    def sign_on(self, conn):
        req = {"attest": "A", "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
               "iat": int(time.time())}
        conn.request("POST", "/stir/v1/signing", body=json.dumps(
            {"signingRequest": req}).encode(), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        body = json.loads(r.read())
        self.assertEqual(r.status, 200, body)
        self.assertNotEqual(r.getheader("Connection", "").lower(), "close")
        return body["signingResponse"]["identityHeader"]

    def signed_by(self, hdr):
        """Which of the leaves 'one', 'two' verifies the signature (openssl CLI)."""
        header, _, _, tbs, sig = stirtest.decode_identity(hdr)
        who = []
        for leaf in ("one", "two"):
            with open(self.path(leaf + ".pem"), "rb") as f:
                if stirtest.es256_verify_openssl(f.read(), tbs, sig, self.tmp):
                    who.append(leaf)
        return header["x5u"], who

    def test_changed_key_signs_next_requests_on_open_connection(self):
        conf, srv = self.start(self.path("one.key"), "one")
        with srv:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
            self.assertEqual(self.signed_by(self.sign_on(conn)),
                             ("https://cr.example.com/one.pem", ["one"]))
            self.write_config(conf, self.path("two.key"), "two")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "SIGHUP: reloaded")
            # The same keep-alive connection, then a new one.
            self.assertEqual(self.signed_by(self.sign_on(conn)),
                             ("https://cr.example.com/two.pem", ["two"]))
            conn.close()
            hdr, _ = srv.sign_ok()
            self.assertEqual(self.signed_by(hdr), ("https://cr.example.com/two.pem", ["two"]))
            self.assertNotIn("REFUSED", srv.stderr())

    def test_broken_config_keeps_old_key(self):
        conf, srv = self.start(self.path("one.key"), "one")
        with srv:
            for key, leaf, why in ((self.path("garbage.key"), "two", "garbage.key"),
                                   (self.path("missing.key"), "two", "missing.key"),
                                   (self.path("two.key"), "one", "")):  # key and cert differ
                self.write_config(conf, key, leaf)
                n = srv.stderr().count("REFUSED")
                srv.proc.send_signal(signal.SIGHUP)
                wait_for(srv, "REFUSED", n + 1)
                line = [l for l in srv.stderr().splitlines() if "REFUSED" in l][-1]
                self.assertIn("the running ones keep serving", line)
                self.assertIn(why, line)
                hdr, _ = srv.sign_ok()
                self.assertEqual(self.signed_by(hdr), ("https://cr.example.com/one.pem", ["one"]))
            # A syntax error in the file is refused too.
            with open(conf, "a") as f:
                f.write("no-such-setting = 1\n")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "new configuration REFUSED")
            self.assertIn("no-such-setting", srv.stderr())
            hdr, _ = srv.sign_ok()
            self.assertEqual(self.signed_by(hdr)[1], ["one"])
            self.assertNotIn("SIGHUP: reloaded", srv.stderr())

    def test_restart_only_setting_is_logged_and_kept(self):
        conf, srv = self.start(self.path("one.key"), "one", "max-body = 20000\n")
        with srv:
            self.write_config(conf, self.path("two.key"), "two", "max-body = 30000\n")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "SIGHUP: reloaded")
            self.assertIn("changed setting(s) max-body: needs a restart", srv.stderr())
            # Still the running limit: a 25000-byte body is 413.
            st, _, _ = srv.request("POST", "/stir/v1/signing", body=b" " * 25000,
                                   headers={"Content-Type": "application/json"})
            self.assertEqual(st, 413)

    def fetch_conf(self):
        """Settings that let stird fetch from a CertServer of the PKI."""
        return ("fetch-ca-file = %s\nfetch-allow-host = 127.0.0.1\nfetch-allow-any-port = yes\n"
                % os.path.join(self.pki, "tls.pem"))

    def verstat(self, srv):
        """The verstat of srv verifying a PASSporT it has just signed."""
        hdr, _ = srv.sign_ok()
        st, body = srv.verify(stirtest.verification_request(hdr, int(time.time())))
        self.assertEqual(st, 200, body)
        return body["verificationResponse"]["verstatValue"]

    def test_changed_trust_anchors(self):
        repo = os.path.join(self.tmp, "repo")
        os.makedirs(repo, exist_ok=True)
        shutil.copyfile(self.path("chain_one.pem"), os.path.join(repo, "one.pem"))
        fetch = self.fetch_conf()
        with stirtest.CertServer(os.path.join(self.pki, "tls.pem"),
                                 os.path.join(self.pki, "tls.key"), repo) as cs:
            base = cs.url("")
            conf, srv = self.start(self.path("one.key"), "one", fetch, root="evil_root.pem",
                                   x5u=base)
            with srv:
                # Our chain does not lead to the configured (other) root.
                self.assertEqual(self.verstat(srv), "TN-Validation-Failed")
                self.write_config(conf, self.path("one.key"), "one", fetch, "root.pem", base)
                srv.proc.send_signal(signal.SIGHUP)
                wait_for(srv, "trust anchors (certificate cache emptied)")
                self.assertEqual(self.verstat(srv), "TN-Validation-Passed")
                # A trust file that does not load is refused; the anchors stay.
                bad = self.path("bad_root.pem")
                with open(bad, "w") as f:
                    f.write("not a certificate\n")
                self.write_config(conf, self.path("one.key"), "one", fetch, "../bad_root.pem",
                                  base)
                srv.proc.send_signal(signal.SIGHUP)
                wait_for(srv, "REFUSED")
                self.assertIn("bad_root.pem", srv.stderr().split("REFUSED")[-1].splitlines()[0])
                self.assertEqual(self.verstat(srv), "TN-Validation-Passed")

    def test_anchor_rewritten_in_place_is_reloaded(self):
        """A trust directory whose anchor file is rewritten in place, its
        own mtime (and the file's) put back as they were: only the content
        says it changed, and SIGHUP must pick the new anchor up."""
        repo = os.path.join(self.tmp, "repo_inplace")
        os.makedirs(repo, exist_ok=True)
        shutil.copyfile(self.path("chain_one.pem"), os.path.join(repo, "one.pem"))
        anchors = self.path("anchors_inplace")
        os.makedirs(anchors, exist_ok=True)
        anchor = os.path.join(anchors, "anchor.pem")
        shutil.copyfile(os.path.join(self.pki, "evil_root.pem"), anchor)
        fetch = self.fetch_conf()
        with stirtest.CertServer(os.path.join(self.pki, "tls.pem"),
                                 os.path.join(self.pki, "tls.key"), repo) as cs:
            conf, srv = self.start(self.path("one.key"), "one", fetch, root=anchors,
                                   x5u=cs.url(""))
            with srv:
                self.assertEqual(self.verstat(srv), "TN-Validation-Failed")
                dir_st, file_st = os.stat(anchors), os.stat(anchor)
                with open(os.path.join(self.pki, "root.pem"), "rb") as f:
                    good = f.read()
                with open(anchor, "r+b") as f:      # same inode, new bytes
                    f.truncate(0)
                    f.write(good)
                os.utime(anchor, ns=(file_st.st_atime_ns, file_st.st_mtime_ns))
                os.utime(anchors, ns=(dir_st.st_atime_ns, dir_st.st_mtime_ns))
                self.assertEqual(os.stat(anchors).st_mtime_ns, dir_st.st_mtime_ns)
                self.assertEqual(os.stat(anchor).st_ino, file_st.st_ino)
                srv.proc.send_signal(signal.SIGHUP)
                wait_for(srv, "trust anchors (certificate cache emptied)")
                self.assertEqual(self.verstat(srv), "TN-Validation-Passed")
                # Nothing changed: a SIGHUP keeps the anchors and their cache.
                srv.proc.send_signal(signal.SIGHUP)
                wait_for(srv, "SIGHUP: reloaded", count=2)
                self.assertEqual(srv.stderr().count("certificate cache emptied"), 1)

    def rss_kb(self, pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def test_many_reloads_free_old_x5u_documents(self):
        """Each SIGHUP serves a new x5u chain document; the replaced ones
        must be freed once no reply points into them, not kept until exit.
        A fat leaf (a 40 KB nsComment) makes a kept document visible in
        the RSS (60 reloads would keep 3+ MB). x5u GETs run during the
        reloads, so under ASan a document freed while a reply still
        points into it is a use-after-free report."""
        chain = make_range_leaf(self.pki, os.path.dirname(self.path("fat")), "fat",
                                "/C=US/O=Carrier/CN=SHAKEN fat", "12155550000", 300,
                                extra_ext="nsComment=%s\n" % ("x" * 40000))
        with open(self.path("chain_fat.pem"), "wb") as f:
            f.write(chain)
        x5u_port = stirtest.free_port()
        extra = ("x5u-listen = 127.0.0.1:%d\nx5u-tls-cert = %s\nx5u-tls-key = %s\n"
                 % (x5u_port, os.path.join(self.pki, "tls.pem"), os.path.join(self.pki, "tls.key")))
        os.chmod(os.path.join(self.pki, "tls.key"), 0o600)
        conf, srv = self.start(self.path("fat.key"), "fat", extra)
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "tls.pem"))
        ctx.check_hostname = False

        def get_chain():
            c = http.client.HTTPSConnection("127.0.0.1", x5u_port, context=ctx, timeout=10)
            try:
                c.request("GET", "/cert/chain.pem")
                r = c.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200)
                return body
            finally:
                c.close()

        with srv:
            self.assertGreater(len(get_chain()), 40000)
            with open("/proc/%d/maps" % srv.proc.pid) as f:
                asan = "asan" in f.read()
            stop = threading.Event()
            got = []

            def fetch_loop():
                while not stop.is_set():
                    got.append(len(get_chain()))

            t = threading.Thread(target=fetch_loop)
            t.start()
            try:
                def reloads(n, done):
                    for i in range(n):
                        srv.proc.send_signal(signal.SIGHUP)
                        wait_for(srv, "SIGHUP: reloaded", count=done + i + 1)
                reloads(10, 0)
                before = self.rss_kb(srv.proc.pid)
                reloads(60, 10)
                after = self.rss_kb(srv.proc.pid)
            finally:
                stop.set()
                t.join()
            self.assertTrue(got and all(n > 40000 for n in got), got[:5])
            self.assertEqual(get_chain(), chain)
            # ASan keeps freed memory in quarantine: the RSS says nothing
            # there (the use-after-free check above is what counts).
            sys.stderr.write("[RSS growth over 60 reloads: %d KB] " % (after - before))
            if not asan:
                self.assertLess(after - before, 1500,
                                "RSS grew %d KB over 60 reloads" % (after - before))

    def tls_cert_of_new_connection(self, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            with ctx.wrap_socket(s) as t:
                return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()

    def fingerprint(self, name):
        der = stirtest.openssl("x509", "-in", self.path(name + ".pem"), "-outform", "DER")
        return hashlib.sha256(der).hexdigest()

    def test_changed_tls_certificate_for_new_connections(self):
        tls = "tls-cert = %s\ntls-key = %s\n"
        conf, srv = self.start(self.path("one.key"), "one",
                               tls % (self.path("tls1.pem"), self.path("tls1.key")),
                               plain=False, wait=False)
        with srv:
            deadline = time.time() + 30
            while True:
                try:
                    got = self.tls_cert_of_new_connection(srv.port)
                    break
                except OSError:
                    self.assertIsNone(srv.proc.poll(), srv.stderr())
                    self.assertLess(time.time(), deadline, srv.stderr())
                    time.sleep(0.05)
            self.assertEqual(got, self.fingerprint("tls1"))
            ctx = ssl.create_default_context(cafile=self.path("tls1.pem"))
            old = http.client.HTTPSConnection("127.0.0.1", srv.port, context=ctx, timeout=15)
            self.assertEqual(self.signed_by(self.sign_on(old))[1], ["one"])
            self.write_config(conf, self.path("one.key"), "one",
                              tls % (self.path("tls2.pem"), self.path("tls2.key")))
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "SIGHUP: reloaded")
            self.assertEqual(self.tls_cert_of_new_connection(srv.port), self.fingerprint("tls2"))
            # The connection made before still works, on its old session.
            self.assertEqual(self.signed_by(self.sign_on(old))[1], ["one"])
            self.assertEqual(hashlib.sha256(old.sock.getpeercert(binary_form=True)).hexdigest(),
                             self.fingerprint("tls1"))
            old.close()
            # A TLS key that does not match is refused; tls2 stays.
            self.write_config(conf, self.path("one.key"), "one",
                              tls % (self.path("tls2.pem"), self.path("tls1.key")))
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "REFUSED")
            self.assertEqual(self.tls_cert_of_new_connection(srv.port), self.fingerprint("tls2"))

    def test_expiry_warning_at_start_and_reload(self):
        tls = "tls-cert = %s\ntls-key = %s\n" % (self.path("short.pem"), self.path("short.key"))
        conf, srv = self.start(self.path("one.key"), "one", tls, plain=False, wait=False)
        with srv:
            wait_for(srv, "ready:")
            wait_for(srv, "short.pem: certificate /CN=short expires in")
            self.assertRegex(srv.stderr(), r"WARN: TLS certificate \(tls_cert\) \S*short.pem: "
                             r"certificate /CN=short expires in (4\.9|5\.0) days")
            self.assertNotIn("SHAKEN one expires", srv.stderr())  # 300 days left
            # Within 3 days only: no warning at the reload.
            self.write_config(conf, self.path("one.key"), "one",
                              tls + "cert-expiry-warn-days = 3\n")
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "SIGHUP: reloaded")
            self.assertEqual(srv.stderr().count("/CN=short expires in"), 1)
            # Back to a 30-day window: warned again at the next reload.
            self.write_config(conf, self.path("one.key"), "one", tls)
            srv.proc.send_signal(signal.SIGHUP)
            wait_for(srv, "SIGHUP: reloaded", 2)
            self.assertEqual(srv.stderr().count("/CN=short expires in"), 2)


if __name__ == "__main__":
    unittest.main()
