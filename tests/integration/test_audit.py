"""The audit trail (src/server/audit.c) and `stirctl audit`: one record per
signing and per refused signing, found again from a downstream RFC 9410
`ppi` in full or compact form, with nothing secret in the file. The
PASSporTs are made here with python and the openssl CLI."""
import json
import shutil
import os
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from test_auth import AUTHCHECK  # noqa: E402

STIRCTL = os.environ.get("STIRCTL") or os.path.join(stirtest.SRC, "build", "stirctl")
LAB = "urn:stird:client:lab"
X5U = "https://cert.example.net/sp.pem"


def stirctl_audit(log, ppi):
    r = subprocess.run([STIRCTL, "audit", "--log", log, "--ppi", ppi], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return r.returncode, [json.loads(x) for x in r.stdout.decode().splitlines()], r.stderr.decode()


class AuditTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stiraudit.")
        cls.key = os.path.join(cls.tmp, "sp.key")
        stirtest.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-out", cls.key)
        cls.policy = os.path.join(cls.tmp, "policy.json")
        with open(cls.policy, "w") as f:
            json.dump({"clients": {LAB: {"resources": ["signing"], "ppt": ["shaken"],
                                         "orig_tn": ["12155551212"], "max_attest": "A"}}}, f)
        cls.log = os.path.join(cls.tmp, "audit.jsonl")
        cls.settings = ["--auth", "static", "--policy-file", cls.policy, "--audit-log", cls.log]
        cls.cert = os.path.join(cls.tmp, "c.pem")
        stirtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-nodes", "-keyout", cls.cert + ".key", "-out", cls.cert, "-days", "2",
                         "-subj", "/CN=lab")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def passport(self, orig="12155551212", origid="123e4567-e89b-12d3-a456-426614174000"):
        iat = int(time.time())
        hdr = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}
        pay = {"attest": "A", "dest": {"tn": ["12155551213"]}, "iat": iat,
               "orig": {"tn": orig}, "origid": origid}
        value = stirtest.make_passport(hdr, pay, self.key, self.tmp, ppt="shaken")
        return value, value.split(";")[0], pay

    def run_sign(self, req, rid, passport=None):
        AuditTest.n += 1
        path = os.path.join(self.tmp, "req%d.json" % self.n)
        with open(path, "w") as f:
            json.dump({"signingRequest": req}, f)
        extra = ["--request-id", rid] + (["--passport", passport] if passport else [])
        cmd = [AUTHCHECK, "--identity", LAB, "--cert", self.cert, "--request", path] + extra
        r = subprocess.run(cmd + ["--"] + self.settings, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        for mark in stirtest.SANITIZER_MARKS:
            self.assertNotIn(mark, r.stderr.decode())
        return json.loads(r.stdout.decode().splitlines()[0])

    def test_signed_record_and_ppi_lookup(self):
        value, token, pay = self.passport()
        req = {"orig": {"tn": "+1 215 555 1212"}, "dest": {"tn": ["12155551213"]},
               "iat": pay["iat"], "attest": "A", "origid": pay["origid"]}
        out = self.run_sign(req, "rid-signed-1", passport=value)
        self.assertEqual(out["status"], 200, out)
        h, p, s = token.split(".")
        for ppi in ('"..%s"' % s, "..%s" % s, token, '"%s"' % token, "%s..%s" % (h, s), value):
            rc, recs, err = stirctl_audit(self.log, ppi)
            self.assertEqual(rc, 0, (ppi, err))
            self.assertEqual(len(recs), 1, ppi)
        r = recs[0]
        self.assertEqual(r["outcome"], "signed")
        self.assertEqual(r["requestId"], "rid-signed-1")
        self.assertEqual((r["client"], r["certIdentity"], r["addr"]), (LAB, LAB, "127.0.0.1"))
        # claims from the PASSporT (canonical TN), not from the request
        self.assertEqual(r["orig"], {"tn": "12155551212"})
        self.assertEqual(r["dest"], pay["dest"])
        self.assertEqual((r["attest"], r["origid"], r["iat"]), ("A", pay["origid"], pay["iat"]))
        self.assertEqual((r["ppt"], r["x5u"]), ("shaken", X5U))
        self.assertEqual(r["passport"], token)
        self.assertEqual(r["ppi"], "..%s" % s)
        self.assertTrue(time.strptime(r["time"], "%Y-%m-%dT%H:%M:%SZ"))
        # another PASSporT, or the same signature with another header: no record
        other = self.passport()[1].split(".")[2]
        self.assertEqual(stirctl_audit(self.log, "..%s" % other)[0], 1)
        self.assertEqual(stirctl_audit(self.log, "e30..%s" % s)[0], 1)
        self.assertEqual(stirctl_audit(self.log, "not-a-passport")[0], 2)

    def test_refused_record(self):
        req = {"orig": {"tn": "12155559999"}, "dest": {"tn": ["12155551213"]},
               "iat": 1795449000, "attest": "A", "origid": "o-1"}
        out = self.run_sign(req, "rid-refused-1")
        self.assertEqual(out["status"], 403, out)
        with open(self.log) as f:
            recs = [json.loads(x) for x in f if "rid-refused-1" in x]
        self.assertEqual(len(recs), 1)
        r = recs[0]
        self.assertEqual((r["outcome"], r["status"]), ("refused", 403))
        self.assertIn("orig.tn 12155559999 is outside the orig_tn", r["reason"])
        self.assertEqual((r["orig"], r["iat"], r["origid"]), (req["orig"], 1795449000, "o-1"))
        self.assertNotIn("passport", r)

    def test_file_mode_and_no_secrets(self):
        value, token, pay = self.passport()
        self.run_sign({"orig": {"tn": "12155551212"}, "dest": {"tn": ["1"]}, "iat": 1}, "r3",
                      passport=value)
        self.assertEqual(stat.S_IMODE(os.stat(self.log).st_mode) & 0o137, 0)  # <= 0640
        with open(self.log) as f:
            text = f.read()
        with open(self.key) as f:
            keytext = f.read()
        body = "".join(keytext.splitlines()[1:-1])
        self.assertNotIn(body[:40], text.replace("\n", ""))
        self.assertNotIn("PRIVATE KEY", text)
        for line in text.splitlines():
            json.loads(line)   # every line one JSON record


if __name__ == "__main__":
    unittest.main(verbosity=2)
