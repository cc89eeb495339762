"""Several signing identities (issue 12 item 3), and their choice per
client through the policy's "signers" (PolicySignersTest).

Three leaf certificates made with the openssl CLI under one fixture CA
(tests/tools/mkpki.sh), each with a TNAuthList of one TN range (RFC 8226):
  A 1215555xxxx   the default signer (key, cert, x5u)
  B 1202555xxxx   signer "east" with tn=1202555*
  C 1303555xxxx   signer "liar" with tn=1215555*, which its certificate
                  does not cover: it must never sign those numbers
Each orig gets the x5u of the certificate that covers it; an orig covered
by none is refused (400 naming orig.tn); stird's own verification passes
for both chains (fetched from an HTTPS repository), and the openssl CLI
verifies each signature with the expected leaf key.
"""
import os
import shutil
import json
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

EE = """[ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3
1.3.6.1.5.5.7.1.26=DER:%s
"""


def der(tag, body):
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def tnauth_range(start, count):
    """TNAuthorizationList with one [1] TelephoneNumberRange (RFC 8226 9)."""
    rng = der(0x30, der(0x16, start.encode()) + der(0x02, count.to_bytes(2, "big")))
    return der(0x30, der(0xa1, rng)).hex(":")


def make_range_leaf(pki, d, name, subj, start, days, extra_ext=""):
    """A leaf under the mkpki.sh CA of `pki` (openssl CLI) whose TNAuthList
    is the 10000 TNs from `start`, plus the extension lines `extra_ext`:
    d/<name>.key (mode 0600) and d/<name>.pem; returns the chain leaf + CA
    as bytes."""
    key, csr, pem, ext = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem", ".cnf"))
    with open(ext, "w") as f:
        f.write(EE % tnauth_range(start, 10000))
        f.write(extra_ext)
    stirtest.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", key)
    os.chmod(key, 0o600)
    stirtest.openssl("req", "-new", "-key", key, "-subj", subj, "-out", csr)
    stirtest.openssl("x509", "-req", "-sha256", "-in", csr, "-CA", os.path.join(pki, "ca.pem"),
                     "-CAkey", os.path.join(pki, "ca.key"), "-CAcreateserial", "-days",
                     str(days), "-extfile", ext, "-extensions", "ext", "-out", pem)
    with open(pem, "rb") as f, open(os.path.join(pki, "ca.pem"), "rb") as g:
        return f.read() + g.read()


class RangeLeavesCase(unittest.TestCase):
    """What both classes below share: the mkpki.sh PKI in cls.pki, leaves
    of its CA for TN ranges (leaf) in cls.tmp and in cls.repo, served by
    cls.cs, and the stird a subclass starts with start_server."""

    @classmethod
    def make_leaves(cls, tmp_prefix, leaves):
        """cls.tmp, the PKI, a leaf per (name, first TN) and cls.cs."""
        cls.tmp = tempfile.mkdtemp(prefix=tmp_prefix)
        cls.pki = stirtest.make_pki(os.path.join(cls.tmp, "pki"))
        cls.repo = os.path.join(cls.tmp, "repo")
        os.mkdir(cls.repo)
        for name, start in leaves:
            cls.leaf(name, start)
        cls.cs = stirtest.CertServer(os.path.join(cls.pki, "tls.pem"),
                                     os.path.join(cls.pki, "tls.key"), cls.repo)

    @classmethod
    def start_server(cls, *args):
        try:
            cls.srv = stirtest.Server(*args, embedded=False)
        except Exception:
            cls.cs.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.cs.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    @classmethod
    def spec(cls, name, leaf, *extra):
        return " ".join(("%s key=%s cert=%s x5u=%s" % (name, cls.path(leaf + ".key"),
                                                         cls.path("chain_%s.pem" % leaf),
                                                         cls.cs.url(leaf + ".pem")),) + extra)

    @classmethod
    def leaf(cls, name, start):
        chain = make_range_leaf(cls.pki, cls.tmp, name,
                                "/C=US/O=Carrier %s/CN=SHAKEN %s" % (name, name.upper()), start, 30)
        for p in (cls.path("chain_%s.pem" % name), os.path.join(cls.repo, name + ".pem")):
            with open(p, "wb") as f:
                f.write(chain)


class SignersTest(RangeLeavesCase):

    @classmethod
    def setUpClass(cls):
        cls.make_leaves("stirsigners.", (("a", "12155550000"), ("b", "12025550000"),
                                         ("c", "13035550000")))
        cls.common = ("--trust", os.path.join(cls.pki, "root.pem"),
                      "--fetch-ca-file", os.path.join(cls.pki, "tls.pem"),
                      "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port")
        cls.start_server(
            "--key", cls.path("a.key"), "--cert", cls.path("chain_a.pem"),
            "--x5u", cls.cs.url("a.pem"),
            "--signer", cls.spec("east", "b", "tn=1202555*"),
            "--signer", cls.spec("liar", "c", "tn=1215555*,13035551234"),
            *cls.common)

    def sign(self, srv, orig, **over):
        req = {"attest": "A", "orig": {"tn": orig}, "dest": {"tn": [stirtest.DEST_TN]},
               "iat": int(time.time())}
        req.update(over)
        return srv.sign(req)

    def check_signed_by(self, hdr, leaf, orig, dest=stirtest.DEST_TN):
        header, claims, params, tbs, sig = stirtest.decode_identity(hdr)
        self.assertEqual(header["x5u"], self.cs.url(leaf + ".pem"))
        self.assertEqual(params["info"], "<%s>" % self.cs.url(leaf + ".pem"))
        with open(self.path(leaf + ".pem"), "rb") as f:
            self.assertTrue(stirtest.es256_verify_openssl(f.read(), tbs, sig, self.tmp))
        st, body = self.srv.verify({"identityHeader": hdr, "from": {"tn": orig},
                                    "to": {"tn": dest}, "time": int(time.time())})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["verificationResponse"]["verstatValue"], "TN-Validation-Passed",
                         body)

    def test_each_orig_gets_the_covering_certificate(self):
        # The banner names the default identity's x5u.
        self.assertIn("x5u: " + self.cs.url("a.pem"), self.srv.stdout())
        st, body = self.sign(self.srv, "12025551234")
        self.assertEqual(st, 200, body)
        self.check_signed_by(body["signingResponse"]["identityHeader"], "b", "12025551234")
        # "liar" lists 1215555* but its TNAuthList does not cover it: the
        # default signer (A) signs instead.
        st, body = self.sign(self.srv, "+1 215 555 1212")
        self.assertEqual(st, 200, body)
        self.check_signed_by(body["signingResponse"]["identityHeader"], "a", "12155551212")

    def test_orig_covered_by_none_is_refused(self):
        for orig in ("13035559876", "14155551234"):
            st, body = self.sign(self.srv, orig)
            self.assertEqual(st, 400, body)
            self.assertInvalidParam(body, "orig.tn")
            self.assertIn(orig, body["detail"])
            for why in ("east: not in its tn ranges", "liar: not in its tn ranges",
                        "default: not in its TNAuthList"):
                self.assertIn(why, body["detail"])
        # The one TN "liar" lists and its certificate covers: liar signs.
        st, body = self.sign(self.srv, "13035551234")
        self.assertEqual(st, 200, body)
        self.check_signed_by(body["signingResponse"]["identityHeader"], "c", "13035551234")

    def test_div_is_chosen_by_the_diverting_number(self):
        st, body = self.sign(self.srv, "12155551212", ppt="div",
                             div={"tn": "12025559999"})
        self.assertEqual(st, 200, body)
        header, claims, _, tbs, sig = stirtest.decode_identity(
            body["signingResponse"]["identityHeader"])
        self.assertEqual(header["x5u"], self.cs.url("b.pem"))
        with open(self.path("b.pem"), "rb") as f:
            self.assertTrue(stirtest.es256_verify_openssl(f.read(), tbs, sig, self.tmp))
        st, body = self.sign(self.srv, "12025551234", ppt="div", div={"tn": "14155550000"})
        self.assertEqual(st, 400, body)
        self.assertInvalidParam(body, "div.tn")

    def assertInvalidParam(self, body, field):
        params = [p.get("param") for p in body.get("invalidParams", [])]
        self.assertIn(field, params, body)

    def test_signer_lines_without_default(self):
        conf = self.path("signers.conf")
        with open(conf, "w") as f:
            f.write("signer = east %s\n" % self.spec("x", "b").split(" ", 1)[1])
            f.write("signer = west %s tn=1215555*\n" % self.spec("x", "a").split(" ", 1)[1])
        with stirtest.Server("--config", conf, *self.common, embedded=False) as s:
            st, body = self.sign(s, "12155550001")
            self.assertEqual(st, 200, body)
            hdr = body["signingResponse"]["identityHeader"]
            self.assertEqual(stirtest.decode_identity(hdr)[0]["x5u"], self.cs.url("a.pem"))
            st, body = self.sign(s, "12025550001")
            self.assertEqual(stirtest.decode_identity(
                body["signingResponse"]["identityHeader"])[0]["x5u"], self.cs.url("b.pem"))

    def run_stird(self, *args):
        r = subprocess.run((stirtest.STIRD, "--plain-http", "--metrics-listen", "none", "--listen", "127.0.0.1:0") + args + self.common,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return r.returncode, r.stderr.decode()

    def test_bad_signer_settings(self):
        b = self.spec("east", "b")
        for spec, needle in (
                ("east key=%s cert=%s" % (self.path("b.key"), self.path("chain_b.pem")),
                 "missing: x5u"),
                (b + " tn=12x*", "is not PREFIX*"),
                (b + " tn=1215-12155", "is not PREFIX*"),
                (b + " color=red", "unknown attribute"),
                ("default key=a", "'default'"),
                ("bad/name key=a cert=b x5u=c", "not a signer name")):
            rc, err = self.run_stird("--signer", spec)
            self.assertEqual(rc, 2, err)
            self.assertIn(needle, err)
        rc, err = self.run_stird("--signer", b, "--signer", b)
        self.assertEqual(rc, 2, err)
        self.assertIn("already configured", err)
        # A certificate that is not the key's: exit 1, naming the signer.
        rc, err = self.run_stird("--signer", "east key=%s cert=%s x5u=%s" % (
            self.path("a.key"), self.path("chain_b.pem"), self.cs.url("b.pem")))
        self.assertEqual(rc, 1, err)
        self.assertIn("signer east", err)
        self.assertIn("does not belong", err)
        # Its key file is checked like the default one.
        loose = self.path("loose.key")
        shutil.copyfile(self.path("b.key"), loose)
        os.chmod(loose, 0o644)
        rc, err = self.run_stird("--signer", "east key=%s cert=%s x5u=%s" % (
            loose, self.path("chain_b.pem"), self.cs.url("b.pem")))
        self.assertEqual(rc, 1, err)
        self.assertIn("mode 0644", err)


ISS = "https://as.example.net"
AUD = "stird"


def jws_verifies(identity_value, cert_path):
    """Does python3-jwcrypto verify the PASSporT with the key of cert_path?"""
    from cryptography import x509
    from jwcrypto import jwk, jws
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    s = jws.JWS()
    s.deserialize(identity_value.split(";", 1)[0])
    try:
        s.verify(jwk.JWK.from_pyca(cert.public_key()), alg="ES256")
        return True
    except jws.InvalidJWSSignature:
        return False


class PolicySignersTest(RangeLeavesCase):
    """A client's policy names the signing identities it may use: two
    certificates cover 1202555xxxx (east = b, first in the configuration,
    and east2 = d); client alice may use east2 only, bob default only (a:
    1215555xxxx). Clients are told apart by OAuth access tokens made with
    python3-jwcrypto; signatures are checked with jwcrypto against each
    leaf's public key."""

    @classmethod
    def setUpClass(cls):
        from jwcrypto import jwk
        cls.make_leaves("stirpolsigners.", (("a", "12155550000"), ("b", "12025550000"),
                                            ("d", "12025550000")))
        cls.as_key = jwk.JWK.generate(kty="EC", crv="P-256", kid="as-1")
        cls.jwks = cls.path("jwks.json")
        with open(cls.jwks, "w") as f:
            json.dump({"keys": [json.loads(cls.as_key.export_public())]}, f)
        cls.policy = cls.path("policy.json")
        cls.write_policy({"alice": ["east2"], "bob": ["default"]})
        cls.conf = cls.path("stird.conf")
        with open(cls.conf, "w") as f:
            f.write("key = %s\ncert = %s\nx5u = %s\n" % (
                cls.path("a.key"), cls.path("chain_a.pem"), cls.cs.url("a.pem")))
            f.write("signer = %s tn=1202555*\n" % cls.spec("east", "b"))
            f.write("signer = %s\n" % cls.spec("east2", "d"))
            f.write("auth = oauth\noauth_jwks = %s\noauth_issuer = %s\noauth_audience = %s\n"
                    "policy_file = %s\n" % (cls.jwks, ISS, AUD, cls.policy))
            f.write("trust = %s\n" % os.path.join(cls.pki, "root.pem"))
        cls.start_server("--config", cls.conf)

    @classmethod
    def write_policy(cls, signers_of):
        doc = {"clients": {name: {"resources": ["signing"], "ppt": ["shaken", "div"],
                                  "orig_tn": ["*"],
                                  "max_attest": "A", "signers": signers}
                           for name, signers in signers_of.items()}}
        doc["clients"]["carol"] = {"resources": ["signing"], "ppt": ["shaken"], "orig_tn": ["*"],
                                   "max_attest": "A"}
        with open(cls.policy + ".new", "w") as f:
            json.dump(doc, f)
        os.replace(cls.policy + ".new", cls.policy)

    def token(self, client):
        from jwcrypto import jwt
        now = int(time.time())
        t = jwt.JWT(header={"alg": "ES256", "kid": "as-1", "typ": "at+jwt"},
                    claims={"iss": ISS, "aud": AUD, "client_id": client, "scope": "stir-signing",
                            "iat": now, "nbf": now, "exp": now + 300})
        t.make_signed_token(self.as_key)
        return t.serialize()

    def sign_as(self, client, orig, path="/stir/v1/signing", **over):
        req = {"attest": "A", "orig": {"tn": orig}, "dest": {"tn": [stirtest.DEST_TN]},
               "iat": int(time.time())}
        req.update(over)
        req = {k: v for k, v in req.items() if v is not None}
        st, body, _ = self.srv.post(path, {"signingRequest": req},
                                    headers={"Authorization": "Bearer " + self.token(client)})
        return st, body

    def assertSignedBy(self, st, body, leaf, others):
        self.assertEqual(st, 200, body)
        hdr = body["signingResponse"]["identityHeader"]
        self.assertEqual(stirtest.decode_identity(hdr)[0]["x5u"], self.cs.url(leaf + ".pem"))
        self.assertTrue(jws_verifies(hdr, self.path(leaf + ".pem")), leaf)
        for other in others:
            self.assertFalse(jws_verifies(hdr, self.path(other + ".pem")), other)

    def test_client_signs_only_with_its_signers(self):
        # Without "signers" (carol) the first covering identity signs: east (b).
        self.assertSignedBy(*self.sign_as("carol", "12025551234"), "b", ("d", "a"))
        # alice may use east2 only: d signs, although east comes first.
        for _ in range(3):
            self.assertSignedBy(*self.sign_as("alice", "12025551234"), "d", ("b", "a"))
        # ... and none of hers covers 1215555xxxx: 403 naming the rule.
        st, body = self.sign_as("alice", "12155551212")
        self.assertEqual((st, body.get("cause")), (403, "NOT_AUTHORIZED_BY_POLICY"), body)
        self.assertIn("signers (east2)", body["detail"])
        self.assertIn("12155551212", body["detail"])
        # bob: default (a) only; a TN only east/east2 cover is refused.
        self.assertSignedBy(*self.sign_as("bob", "12155551212"), "a", ("b", "d"))
        st, body = self.sign_as("bob", "12025551234")
        self.assertEqual(st, 403, body)
        self.assertIn("client 'bob'", body["detail"])
        self.assertIn("rule=signers", self.srv.stderr())

    def test_div_is_judged_by_the_diverting_number(self):
        # /divSigning (ppt implied): the diverting TN decides, as when signing.
        st, body = self.sign_as("alice", "12155551212", path="/stir/v1/divSigning",
                                attest=None, div={"tn": "12025559999"})
        self.assertSignedBy(st, body, "d", ("b", "a"))
        st, body = self.sign_as("alice", "12025551234", path="/stir/v1/divSigning",
                                attest=None, div={"tn": "12155559999"})
        self.assertEqual(st, 403, body)
        self.assertIn("div 12155559999 may not be signed", body["detail"])

    def test_unknown_signer_in_reloaded_policy_is_refused(self):
        self.write_policy({"alice": ["east2", "nosuch"], "bob": ["default"]})
        try:
            n = self.srv.stderr().count("new policy/OAuth keys REFUSED")
            self.srv.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 20
            while self.srv.stderr().count("new policy/OAuth keys REFUSED") == n:
                self.assertLess(time.time(), deadline, self.srv.stderr())
                time.sleep(0.05)
            err = self.srv.stderr()
            self.assertIn("client 'alice': signers[1]: 'nosuch' is not a signing identity", err)
            # The old policy keeps serving: alice is still signed by east2 only.
            self.assertSignedBy(*self.sign_as("alice", "12025551234"), "d", ("b",))
            st, body = self.sign_as("alice", "12155551212")
            self.assertEqual(st, 403, body)
        finally:
            self.write_policy({"alice": ["east2"], "bob": ["default"]})

    def test_unknown_signer_at_start_is_refused(self):
        bad = self.path("bad-policy.json")
        with open(bad, "w") as f:
            json.dump({"clients": {"eve": {"resources": ["signing"], "signers": ["west"]}}}, f)
        r = subprocess.run((stirtest.STIRD, "--plain-http", "--metrics-listen", "none",
                            "--listen", "127.0.0.1:0", "--config", self.conf,
                            "--policy-file", bad), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("client 'eve': signers[0]: 'west' is not a signing identity",
                      r.stderr.decode())
        with open(bad, "w") as f:
            json.dump({"clients": {"eve": {"resources": ["signing"], "signers": ["a b"]}}}, f)
        r = subprocess.run((stirtest.STIRD, "--plain-http", "--metrics-listen", "none",
                            "--listen", "127.0.0.1:0", "--config", self.conf,
                            "--policy-file", bad), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("signers[0]: 'a b' is not a signer name", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
