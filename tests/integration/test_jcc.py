"""JWT Claim Constraints of STI certificates, end to end through stird.

RFC 8226 8 (JWTClaimConstraints, 1.3.6.1.5.5.7.1.27) and RFC 9118 3
(EnhancedJWTClaimConstraints, 1.3.6.1.5.5.7.1.33): a verifier must reject
a PASSporT that its certificate's constraints forbid (RFC 9795 8.1: 438,
certificates.md 6 step 10), and an authentication service must not sign
one (400 naming the claim).

Everything independent of stird: the fixture PKI is tests/tools/mkpki.sh
(openssl CLI), the extension values are made by `openssl asn1parse
-genconf`, the certificates by `openssl x509 -req -extfile`, the PASSporTs
to verify are signed with python + the openssl CLI, and the rcd permitted
value is the RFC 8225 9 serialization computed by python's json module."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

TOOLS = os.path.join(stirtest.SRC, "tests", "tools")
JCC_OID = "1.3.6.1.5.5.7.1.27"
EJCC_OID = "1.3.6.1.5.5.7.1.33"
NELLIE = "Rendezvous for Little Nellie"
BOND = {"nam": "James Bond"}

# asn1parse -genconf: the configuration quotes a UTF8 value's '"' as \".
EXCL_CONF = """asn1=SEQUENCE:ejcc
[ejcc]
permittedValues=EXP:1,SEQUENCE:pvl
mustExclude=EXP:2,SEQUENCE:me
[pvl]
e1=SEQUENCE:attest
[attest]
claim=IA5:attest
values=SEQUENCE:av
[av]
v1=UTF8:A
v2=UTF8:B
[me]
n1=IA5:crn
"""

CRN_CONF = """asn1=SEQUENCE:jcc
[jcc]
permittedValues=EXP:1,SEQUENCE:pvl
[pvl]
e1=SEQUENCE:crn
e2=SEQUENCE:rcd
[crn]
claim=IA5:crn
values=SEQUENCE:cv
[cv]
v1=UTF8:%s
[rcd]
claim=IA5:rcd
values=SEQUENCE:rv
[rv]
v1=UTF8:%s
""" % (NELLIE, stirtest.canonical(BOND).replace('"', '\\"'))

EE = """basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3
1.3.6.1.5.5.7.1.26=DER:30:08:a0:06:16:04:37:30:39:4a
"""


def run(*cmd, timeout=60):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("%s failed: %s" % (" ".join(cmd), r.stderr.decode()))
    return r.stdout


class JccTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stirjcc.")
        try:
            cls.make_pki()
            cls.certserver = stirtest.CertServer(os.path.join(cls.pki, "tls.pem"),
                                                 os.path.join(cls.pki, "tls.key"), cls.pki)
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.servers = {}
        try:
            for name in ("excl", "crn"):
                cls.servers[name] = stirtest.Server(*cls.args(name), embedded=False)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def make_pki(cls):
        cls.pki = pki = os.path.join(cls.tmp, "pki")
        run("bash", os.path.join(TOOLS, "mkpki.sh"), pki, timeout=120)
        ders = {}
        for name, conf in (("excl", EXCL_CONF), ("crn", CRN_CONF)):
            cpath = os.path.join(cls.tmp, name + ".asn1")
            dpath = os.path.join(cls.tmp, name + ".der")
            with open(cpath, "w") as f:
                f.write(conf)
            run("openssl", "asn1parse", "-genconf", cpath, "-out", dpath, "-noout")
            with open(dpath, "rb") as f:
                ders[name] = f.read().hex()
        sections = {"excl": "%s=DER:%s\n" % (EJCC_OID, ders["excl"]),
                    "crn": "%s=DER:%s\n" % (JCC_OID, ders["crn"]),
                    "bad": "%s=DER:30:00\n" % JCC_OID}        # no component: malformed
        ext = os.path.join(pki, "jcc.cnf")
        with open(ext, "w") as f:
            for name, line in sections.items():
                f.write("[ee_%s]\n%s%s" % (name, EE, line))
        for name in sections:
            key, csr, pem = (os.path.join(pki, name + s) for s in (".key", ".csr", ".pem"))
            run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", key)
            run("openssl", "req", "-new", "-key", key, "-subj",
                "/C=US/O=Example Carrier/CN=SHAKEN 709J", "-out", csr,
                "-config", os.path.join(pki, "ext.cnf"))
            run("openssl", "x509", "-req", "-sha256", "-in", csr, "-CA",
                os.path.join(pki, "ca.pem"), "-CAkey", os.path.join(pki, "ca.key"),
                "-CAcreateserial", "-days", "30", "-extfile", ext, "-extensions",
                "ee_" + name, "-out", pem)
            with open(pem, "rb") as a, open(os.path.join(pki, "ca.pem"), "rb") as b, \
                    open(os.path.join(pki, "chain_%s.pem" % name), "wb") as out:
                out.write(a.read() + b.read())
        # The openssl CLI reads the extension back as we wrote it.
        text = run("openssl", "x509", "-in", os.path.join(pki, "excl.pem"), "-noout",
                   "-text").decode()
        assert EJCC_OID + ":" in text, text

    @classmethod
    def args(cls, name):
        return ("--trust", os.path.join(cls.pki, "root.pem"),
                "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
                "--fetch-ca-file", os.path.join(cls.pki, "tls.pem"),
                "--key", os.path.join(cls.pki, name + ".key"),
                "--cert", os.path.join(cls.pki, "chain_%s.pem" % name),
                "--x5u", cls.certserver.url("chain_%s.pem" % name))

    @classmethod
    def tearDownClass(cls):
        try:
            for srv in cls.servers.values():
                srv.stop()
        finally:
            cls.certserver.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers -----------------------------------------------------------

    def sign(self, name, **over):
        req = {"attest": "A", "orig": {"tn": stirtest.ORIG_TN},
               "dest": {"tn": [stirtest.DEST_TN]}, "iat": int(time.time())}
        req.update(over)
        return self.servers[name].sign(req)

    def refused(self, name, claim, needle, **over):
        st, body = self.sign(name, **over)
        self.assertEqual(st, 400, body)
        params = [p.get("param") for p in body.get("invalidParams", [])]
        self.assertEqual(params, [claim], body)
        self.assertIn(needle, body["detail"])
        return body

    def verify_identity(self, identity, srv="excl"):
        st, body = self.servers[srv].verify({
            "identityHeader": identity, "from": {"tn": stirtest.ORIG_TN},
            "to": {"tn": stirtest.DEST_TN}, "time": int(time.time())})
        self.assertEqual(st, 200, body)
        return body["verificationResponse"]["verifyResults"][0]["verifyResult"]

    def verify_signed_by(self, name, **claims):
        """A shaken PASSporT signed with python + openssl by leaf `name`."""
        identity = stirtest.shaken_identity(self.certserver.url("chain_%s.pem" % name),
                                            os.path.join(self.pki, name + ".key"), self.tmp,
                                            int(time.time()), **claims)
        return self.verify_identity(identity)

    def assert438(self, res, needle):
        self.assertEqual(res["status"], "fail", res)
        self.assertEqual(res["reasonCode"], 438, res)
        self.assertEqual(res["reasonText"], "Invalid Identity Header", res)
        self.assertIn(needle, res["reasonDescription"])

    # ---- signing: stird does not sign what its certificate forbids ----------

    def test_sign_permitted_round_trip(self):
        st, body = self.sign("excl", attest="B")
        self.assertEqual(st, 200, body)
        res = self.verify_identity(body["signingResponse"]["identityHeader"])
        self.assertEqual(res["status"], "pass", res)

    def test_sign_excluded_claim_is_400(self):
        self.refused("excl", "crn", "claim crn is present: the certificate's mustExclude "
                     "forbids it (RFC 9118 3)", crn=NELLIE)

    def test_sign_value_not_permitted_is_400(self):
        body = self.refused("excl", "attest", 'claim attest "C" is not among the '
                            "certificate's permittedValues (RFC 8226 8)", attest="C")
        self.assertEqual(body["title"], "Invalid Parameter Value")

    def test_sign_crn_permitted(self):
        st, body = self.sign("crn", crn=NELLIE)
        self.assertEqual(st, 200, body)
        res = self.verify_identity(body["signingResponse"]["identityHeader"], srv="crn")
        self.assertEqual(res["status"], "pass", res)
        self.assertEqual(res["validClaims"]["crn"], NELLIE)

    def test_sign_crn_not_permitted(self):
        self.refused("crn", "crn", 'claim crn "Sales" is not among', crn="Sales")

    def test_sign_rcd_permitted(self):
        # RFC 9795 6.2: permittedValues for rcd hold whole rcd values.
        st, body = self.sign("crn", rcd=BOND, crn=NELLIE)
        self.assertEqual(st, 200, body)
        _, claims, _, _, _ = stirtest.decode_identity(body["signingResponse"]["identityHeader"])
        self.assertEqual(claims["rcd"], BOND)

    def test_sign_rcd_not_permitted(self):
        self.refused("crn", "rcd", 'claim rcd {"nam":"Dr. No"} is not among',
                     rcd={"nam": "Dr. No"})

    # ---- verification: the PASSporT oversteps its certificate -> 438 -----------

    def test_verify_permitted_passes(self):
        res = self.verify_signed_by("excl", attest="B")
        self.assertEqual(res["status"], "pass", res)

    def test_verify_excluded_claim_is_438(self):
        self.assert438(self.verify_signed_by("excl", crn=NELLIE),
                       "claim crn is present: the certificate's mustExclude forbids it")

    def test_verify_value_not_permitted_is_438(self):
        self.assert438(self.verify_signed_by("excl", attest="C"),
                       'claim attest "C" is not among the certificate\'s permittedValues')

    def test_verify_rcd(self):
        res = self.verify_signed_by("crn", rcd=BOND)
        self.assertEqual(res["status"], "pass", res)
        res = self.verify_signed_by("crn", rcd={"nam": "Dr. No"})
        self.assert438(res, 'claim rcd {"nam":"Dr. No"} is not among')
        self.assertNotIn("rcdResult", res)     # RFC 9795 8.1: no claim of it is used

    # ---- a malformed extension ---------------------------------------------------

    def test_verify_malformed_constraints_is_437(self):
        res = self.verify_signed_by("bad")
        self.assertEqual(res["status"], "fail", res)
        self.assertEqual(res["reasonCode"], 437, res)
        self.assertIn("JWTClaimConstraints", res["reasonDescription"])

    def test_malformed_signing_certificate_refused_at_start(self):
        port = stirtest.free_port()
        r = subprocess.run((stirtest.STIRD, "--plain-http", "--listen", "127.0.0.1:%d" % port) +
                           self.args("bad"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("chain_bad.pem", err)
        self.assertIn("JWTClaimConstraints", err)


if __name__ == "__main__":
    unittest.main()
