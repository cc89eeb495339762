"""Per-client policy (src/server/policy.c) behind the authentication gate,
driven through tests/tools/authcheck: every rule refused and allowed, the
rate limit, the "*" entry, and precise load errors naming the member.
The policy files and requests are written here; expected TNs are the
canonical forms RFC 8224 8.3 gives ("+1 215-555-1212" -> 12155551212)."""
import json
import shutil
import os
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from test_auth import run_check  # noqa: E402

LAB = "urn:stird:client:lab"

POLICY = {
    "clients": {
        LAB: {
            "resources": ["signing", "verification"],
            "ppt": ["shaken", "rcd", "avatar"],
            "orig_tn": ["12155551212", "1202555*", "13125550100-13125550199"],
            "orig_uri": ["sip:*@lab.example.net"],
            "max_attest": "B",
            "rcd_nam": ["Q Branch*"],
            "rcd_url_prefixes": ["https://rcd.example.com/"],
            "iss": ["urn:example:enterprise:*"],
            "appid": ["com.example.xr"],
        },
        "urn:stird:client:verifier": {"resources": ["verification"]},
        "urn:stird:client:slow": {"resources": ["verification"], "rate": 1, "burst": 3},
    }
}


class PolicyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stirpolicy.")
        cls.policy = cls.write("policy.json", POLICY)
        cls.settings = ["--auth", "static", "--policy-file", cls.policy]
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def write(cls, name, doc):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def sign(self, identity=LAB, ppt=None, settings=None, **members):
        req = {"orig": {"tn": "12155551212"}, "dest": {"tn": ["12155551213"]},
               "iat": int(time.time()), "attest": "B"}
        req.update(members)
        req = {k: v for k, v in req.items() if v is not None}
        PolicyTest.n += 1
        path = self.write("req%d.json" % self.n, {"signingRequest": req})
        return run_check(settings or self.settings, identity=identity, cert=self.cert(),
                         request=path, ppt=ppt)

    def cert(self):
        if not hasattr(PolicyTest, "_cert"):
            p = os.path.join(self.tmp, "c.pem")
            stirtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:P-256", "-nodes", "-keyout", p + ".key",
                             "-out", p, "-days", "2", "-subj", "/CN=lab")
            PolicyTest._cert = p
        return PolicyTest._cert

    def assertAllowed(self, out):
        self.assertEqual(out["status"], 200, out)

    def assertRefused(self, out, rule, detail):
        self.assertEqual((out["status"], out["rule"]), (403, rule), out)
        self.assertEqual(out["cause"], "NOT_AUTHORIZED_BY_POLICY")
        self.assertIn(detail, out["detail"])

    # ---- who ----------------------------------------------------------------------

    def test_static_needs_certificate(self):
        out = run_check(self.settings, identity=LAB)
        self.assertEqual((out["status"], out["cause"]), (403, "CLIENT_CERTIFICATE_REQUIRED"), out)

    def test_unknown_client_and_star(self):
        out = run_check(self.settings, identity="urn:stird:client:nobody", cert=self.cert())
        self.assertRefused(out, "clients", "client 'urn:stird:client:nobody' is not in the policy")
        doc = json.loads(json.dumps(POLICY))
        doc["clients"]["*"] = {"resources": ["verification"]}
        s = ["--auth", "static", "--policy-file", self.write("star.json", doc)]
        out = run_check(s, identity="urn:stird:client:nobody", cert=self.cert(),
                        resource="verification")
        self.assertEqual((out["status"], out["client"]), (200, "*"), out)
        out = run_check(s, identity="urn:stird:client:nobody", cert=self.cert())
        self.assertRefused(out, "resources", "may not use the signing resource")

    def test_verification_only_cannot_sign(self):
        out = self.sign(identity="urn:stird:client:verifier")
        self.assertRefused(out, "resources", "client 'urn:stird:client:verifier' may not use "
                           "the signing resource")
        out = run_check(self.settings, identity="urn:stird:client:verifier", cert=self.cert(),
                        resource="verification")
        self.assertEqual((out["status"], out["principal"]), (200, "urn:stird:client:verifier"))

    # ---- what -----------------------------------------------------------------------

    def test_ppt(self):
        self.assertAllowed(self.sign(ppt="rcd", rcd={"nam": "Q Branch"}))
        self.assertAllowed(self.sign())                       # no ppt: shaken
        self.assertRefused(self.sign(ppt="div"), "ppt",
                           "ppt div is outside the ppt of client '%s'" % LAB)

    def test_orig_tn(self):
        self.assertAllowed(self.sign(orig={"tn": "+1 215-555-1212"}))
        self.assertAllowed(self.sign(orig={"tn": "12025559876"}))          # prefix
        self.assertAllowed(self.sign(orig={"tn": "13125550150"}))          # range
        self.assertAllowed(self.sign(orig={"tn": "13125550199"}))          # range end
        self.assertRefused(self.sign(orig={"tn": "12155559999"}), "orig_tn",
                           "orig.tn 12155559999 is outside the orig_tn of client '%s'" % LAB)
        self.assertRefused(self.sign(orig={"tn": "13125550200"}), "orig_tn", "13125550200")
        self.assertRefused(self.sign(orig={"tn": "131255501500"}), "orig_tn", "131255501500")
        self.assertRefused(self.sign(orig={"uri": "tel:+1-215-555-9999"}), "orig_tn",
                           "12155559999")
        out = self.sign(orig={"tn": "12x"})
        self.assertEqual(out["status"], 400, out)

    def test_orig_uri(self):
        self.assertAllowed(self.sign(orig={"uri": "sip:Alice@LAB.example.net"}))
        self.assertRefused(self.sign(orig={"uri": "sip:alice@evil.example.net"}), "orig_uri",
                           "orig.uri sip:alice@evil.example.net is outside the orig_uri")

    def test_max_attest(self):
        self.assertAllowed(self.sign(attest="C"))
        self.assertRefused(self.sign(attest="A"), "max_attest",
                           "attest A is above the max_attest B of client '%s'" % LAB)

    def test_rcd(self):
        ok = {"nam": "Q Branch Spy Gadgets", "jcl": "https://rcd.example.com/q.json",
              "icn": "https://rcd.example.com/q.png"}
        self.assertAllowed(self.sign(ppt="rcd", rcd=ok))
        self.assertRefused(self.sign(ppt="rcd", rcd=dict(ok, nam="Bank of Nowhere")), "rcd_nam",
                           "rcd.nam Bank of Nowhere is outside the rcd_nam")
        self.assertRefused(self.sign(ppt="rcd", rcd=dict(ok, icn="https://evil.example/x.png")),
                           "rcd_url_prefixes", "rcd.icn https://evil.example/x.png")
        self.assertRefused(self.sign(ppt="rcd", rcd=dict(ok, jcl="https://rcd.example.com.evil/")),
                           "rcd_url_prefixes", "rcd.jcl")
        jcd = ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Q"],
                         ["logo", {}, "uri", "https://rcd.example.com/l.png"],
                         ["photo", {}, "uri", "https://evil.example/p.png"]]]
        self.assertRefused(self.sign(ppt="rcd", rcd={"nam": "Q Branch", "jcd": jcd}),
                           "rcd_url_prefixes", "rcd.jcd/1/3/3 https://evil.example/p.png")
        jcd[1].pop()
        self.assertAllowed(self.sign(ppt="rcd", rcd={"nam": "Q Branch", "jcd": jcd}))
        self.assertRefused(self.sign(ppt="rcd", rcd={"nam": "Q Branch", "apn": "12155550000"}),
                           "orig_tn", "rcd.apn 12155550000")

    def test_iss_and_appid(self):
        self.assertAllowed(self.sign(ppt="rcd", rcd={"nam": "Q Branch"},
                                     iss="urn:example:enterprise:42"))
        self.assertRefused(self.sign(ppt="rcd", rcd={"nam": "Q Branch"}, iss="urn:other:1"),
                           "iss", "iss urn:other:1 is outside the iss")
        self.assertAllowed(self.sign(ppt="avatar", avatar="urn:a:1", appid="com.example.xr"))
        self.assertRefused(self.sign(ppt="avatar", avatar="urn:a:1", appid="com.evil.xr"),
                           "appid", "appid com.evil.xr is outside the appid")

    def test_deny_by_default(self):
        doc = {"clients": {LAB: {"resources": ["signing"], "ppt": ["*"]}}}
        s = ["--auth", "static", "--policy-file", self.write("bare.json", doc)]
        self.assertRefused(self.sign(settings=s), "orig_tn", "outside the orig_tn")
        self.assertRefused(self.sign(settings=s, attest="B", orig={"uri": "sip:a@b.example"}),
                           "orig_uri", "outside the orig_uri")
        doc["clients"][LAB]["orig_tn"] = ["*"]
        s = ["--auth", "static", "--policy-file", self.write("bare2.json", doc)]
        self.assertRefused(self.sign(settings=s), "max_attest", "max_attest C")
        self.assertAllowed(self.sign(settings=s, attest="C"))

    # ---- how often ------------------------------------------------------------------

    def test_rate(self):
        outs = run_check(self.settings, identity="urn:stird:client:slow", cert=self.cert(),
                         resource="verification", repeat=6)
        self.assertEqual([o["status"] for o in outs[:3]], [200, 200, 200], outs)
        self.assertEqual(outs[3]["status"], 429, outs)
        self.assertEqual((outs[3]["rule"], outs[3]["retry_after"]), ("rate", 1))
        self.assertIn("over its rate of 1 requests per second (burst 3)", outs[3]["detail"])

    # ---- the file ---------------------------------------------------------------------

    def test_load_errors_name_the_member(self):
        cases = [
            ({"clients": {"lab": {"resources": ["signing"], "orig_tns": ["1"]}}},
             "client 'lab': orig_tns: unknown member"),
            ({"clients": {"lab": {"resources": ["signing"], "orig_tn": ["1", "5-12"]}}},
             "client 'lab': orig_tn[1]: range '5-12' needs two TNs of the same length"),
            ({"clients": {"lab": {"resources": ["signing", "admin"]}}},
             "client 'lab': resources[1]: 'admin' is not"),
            ({"clients": {"lab": {"ppt": ["shaken"]}}}, "client 'lab': resources: missing"),
            ({"clients": {"lab": {"resources": ["signing"], "max_attest": "D"}}},
             "client 'lab': max_attest: must be"),
            ({"clients": {"lab": {"resources": ["signing"], "burst": 3}}},
             "client 'lab': burst: needs rate"),
            ({"client": {}}, "client: unknown member"),
            ('{"clients": {"a": {"resources": ["signing"]}, "a": {}}}', "duplicate"),
        ]
        for i, (doc, needle) in enumerate(cases):
            s = ["--auth", "static", "--policy-file", self.write("bad%d.json" % i, doc)]
            out = run_check(s)
            self.assertIn("load_error", out, doc)
            self.assertIn(needle, out["load_error"], doc)

    def test_example_file_loads(self):
        ex = os.path.join(stirtest.SRC, "etc", "policy.json.example")
        s = ["--auth", "static", "--policy-file", ex]
        out = run_check(s, identity="urn:stird:client:tas-term", cert=self.cert(),
                        resource="verification")
        self.assertEqual((out["status"], out["client"]), (200, "urn:stird:client:tas-term"), out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
