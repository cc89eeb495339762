"""Configured PASSporT types: `ppt_type = NAME CLAIM:TYPE[:required] ...`
in the config file (and --ppt-type), signed through /stir/v1/signing and
verified through /stir/v1/verification; strict parsing of the line at
start-up; the same syntax in stirctl. Also the rcd_* settings, and rcd
signing that must fetch (it runs on the fetch pool).

Tokens are taken apart with python (base64url, JSON) and signatures
checked with the openssl CLI; the expected claims are those the request
and the configured line name (RFC 8225: orig, dest, iat plus the type's
own claims), not values read back from stird."""
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from stirtest import ORIG_TN, DEST_TN  # noqa: E402

ACME = "acme tier:string:required note:string score:integer"
PROBE = "probe-2 ok:boolean:required meta:object tags:array extra:any"

CONFIG = """# configured PASSporT types (the second one quoted, with the key spelt with -)
ppt_type = %s
ppt-type = "%s"
""" % (ACME, PROBE)




class PptConfigTest(stirtest.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stirppt.")
        cls.conf = os.path.join(cls.tmp, "types.conf")
        with open(cls.conf, "w") as f:
            f.write(CONFIG)
        cls.server_args = ("--config", cls.conf)
        super().setUpClass()
        chain, _ = cls.srv.fetch_chain()
        cls.leaf = stirtest.leaf_pem(chain)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def base(self, **over):
        req = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": int(time.time())}
        req.update(over)
        return req

    def sign(self, req):
        return self.srv.sign(req)

    def test_sign_configured_type(self):
        req = self.base(ppt="acme", tier="gold", note="caf\u00e9", score=7,
                        attest="A", unlisted={"x": 1})
        st, body = self.sign(req)
        self.assertEqual(st, 200, body)
        value = body["signingResponse"]["identityHeader"]
        header, claims, params, tbs, sig = stirtest.decode_identity(value)
        self.assertEqual(header, {"alg": "ES256", "ppt": "acme", "typ": "passport",
                                  "x5u": self.srv.x5u_url})
        self.assertEqual(params.get("ppt", "").strip('"'), "acme")
        self.assertEqual(params.get("info"), "<%s>" % self.srv.x5u_url)
        self.assertEqual(params.get("alg"), "ES256")
        # The baseline claims and exactly the listed ones; members the line
        # does not name (attest, unlisted) are not signed.
        self.assertEqual(claims, {"dest": {"tn": [DEST_TN]}, "iat": req["iat"],
                                  "orig": {"tn": ORIG_TN}, "note": "caf\u00e9", "score": 7,
                                  "tier": "gold"})
        self.assertTrue(stirtest.es256_verify_openssl(self.leaf, tbs, sig, self.tmp))

    def test_optional_claims_may_be_absent(self):
        req = self.base(ppt="acme", tier="")
        st, body = self.sign(req)
        self.assertEqual(st, 200, body)
        _, claims, _, _, _ = stirtest.decode_identity(body["signingResponse"]["identityHeader"])
        self.assertEqual(set(claims), {"dest", "iat", "orig", "tier"})
        self.assertEqual(claims["tier"], "")

    def test_every_claim_type(self):
        values = {"ok": False, "meta": {"b": [1, 2], "a": None}, "tags": ["x", 1, True],
                  "extra": 1.5}
        st, body = self.sign(self.base(ppt="probe-2", **values))
        self.assertEqual(st, 200, body)
        header, claims, _, _, _ = stirtest.decode_identity(
            body["signingResponse"]["identityHeader"])
        self.assertEqual(header["ppt"], "probe-2")
        for k, v in values.items():
            self.assertEqual(claims[k], v)
        for extra in ("s", 0, None, [], {}):     # "any" takes every JSON value
            with self.subTest(extra=extra):
                st, body = self.sign(self.base(ppt="probe-2", ok=True, extra=extra))
                self.assertEqual(st, 200, body)

    def test_verify_configured_type(self):
        now = int(time.time())
        st, body = self.sign(self.base(ppt="acme", tier="gold", iat=now))
        self.assertEqual(st, 200, body)
        acme = body["signingResponse"]["identityHeader"]
        shaken, _ = self.srv.sign_ok(iat=now)
        base = {"from": {"tn": ORIG_TN}, "to": {"tn": DEST_TN}, "time": now}

        st, body = self.srv.verify(dict(base, identityHeader=acme))
        self.assertEqual(st, 200, body)
        [res] = body["verificationResponse"]["verifyResults"]
        self.assertEqual(res["verifyResult"]["ppt"], "acme")
        self.assertEqual(res["verifyResult"]["status"], "pass", res)

        # Beside a SHAKEN PASSporT: the caller's verstat is the SHAKEN one.
        st, body = self.srv.verify(dict(base, identityHeader=shaken, identityHeaders=[acme]))
        self.assertEqual(st, 200, body)
        res = body["verificationResponse"]
        self.assertEqual(res["verstatValue"], "TN-Validation-Passed")
        self.assertEqual([(r["verifyResult"]["ppt"], r["verifyResult"]["status"])
                          for r in res["verifyResults"]], [("shaken", "pass"), ("acme", "pass")])

        # The configured type's dest is matched against To (RFC 8224 6.2).
        st, body = self.srv.verify(dict(base, identityHeader=acme, to={"tn": "12155550000"}))
        self.assertEqual(st, 200, body)
        res = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(res["status"], "fail")
        self.assertEqual(res["reasonCode"], 438)

    def test_verify_refuses_a_forged_claim_type(self):
        # A PASSporT of type acme whose required claim is missing, signed with
        # the server's own key: the verifier must apply the configured line.
        now = int(time.time())
        key = os.path.join(self.srv.state_dir, "sp.key")
        header = {"alg": "ES256", "ppt": "acme", "typ": "passport", "x5u": self.srv.x5u_url}
        claims = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": now, "score": 1}
        value = stirtest.make_passport(header, claims, key, self.tmp, ppt="acme")
        st, body = self.srv.verify({"identityHeader": value, "from": {"tn": ORIG_TN},
                                    "to": {"tn": DEST_TN}, "time": now})
        self.assertEqual(st, 200, body)
        res = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(res["status"], "fail", res)
        self.assertEqual(res["reasonCode"], 438)
        # ... and a wrong JSON type of an optional claim.
        claims.update(tier="gold", score="1")
        value = stirtest.make_passport(header, claims, key, self.tmp, ppt="acme")
        st, body = self.srv.verify({"identityHeader": value, "from": {"tn": ORIG_TN},
                                    "to": {"tn": DEST_TN}, "time": now})
        res = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(res["status"], "fail", res)
        self.assertEqual(res["reasonCode"], 438)

    def test_missing_required_claim_is_400(self):
        st, body, hd = self.srv.post("/stir/v1/signing", {"signingRequest": self.base(
            ppt="acme", note="n", score=1)})
        self.assertProblem(st, body, hd, 400)
        self.assertInvalidParam(st, body, "tier")
        self.assertEqual(body["title"], "Missing Mandatory Parameter")
        st, body = self.sign(self.base(ppt="probe-2"))
        self.assertInvalidParam(st, body, "ok")

    def test_wrong_json_type_is_400(self):
        cases = [("acme", {"tier": 5}, "tier"), ("acme", {"tier": None}, "tier"),
                 ("acme", {"tier": "t", "score": "7"}, "score"),
                 ("acme", {"tier": "t", "score": 7.5}, "score"),
                 ("acme", {"tier": "t", "note": ["n"]}, "note"),
                 ("probe-2", {"ok": "true"}, "ok"), ("probe-2", {"ok": 1}, "ok"),
                 ("probe-2", {"ok": True, "meta": []}, "meta"),
                 ("probe-2", {"ok": True, "tags": {}}, "tags")]
        for ppt, members, field in cases:
            with self.subTest(ppt=ppt, members=members):
                st, body, hd = self.srv.post("/stir/v1/signing",
                                             {"signingRequest": self.base(ppt=ppt, **members)})
                self.assertProblem(st, body, hd, 400)
                self.assertInvalidParam(st, body, field)
                self.assertEqual(body["title"], "Invalid Parameter Value")

    def test_types_are_listed_in_unknown_ppt_error(self):
        st, body = self.sign(self.base(ppt="acme2", tier="t"))
        self.assertInvalidParam(st, body, "ppt")
        self.assertIn("acme", body["detail"])
        self.assertIn("probe-2", body["detail"])


class PptConfigErrorsTest(stirtest.EmbeddedPkiTestCase):
    """A bad ppt_type stops stird at start-up (exit 2) naming the line and
    the offending word."""
    tmp_prefix = "stirpptbad."

    def start(self, *args):
        return stirtest.run_stird("--embedded", "--state-dir", self.state, "--listen",
                                  "127.0.0.1:%d" % stirtest.free_port(), "--x5u-listen",
                                  "127.0.0.1:%d" % stirtest.free_port(), "--metrics-listen", "none",
                                  *args)

    def test_bad_lines(self):
        cases = [
            ("acme tier:strng", "strng"),                   # unknown type
            ("acme tier", "tier"),                          # no type
            ("acme tier:string:mandatory", "mandatory"),    # flag other than required
            ("acme tier:string:required:x", "tier"),        # too many parts
            ("acme :string", ":string"),                    # no claim name
            ("acme ti.er:string", "ti.er"),                 # claim name characters
            ("acme orig:object", "orig"),                   # baseline claim
            ("acme iat:integer", "iat"),
            ("acme a:string a:integer", "'a'"),             # listed twice
            ("tier:string note:string", "tier:string"),     # no type name
            ("ac.me tier:string", "ac.me"),                 # type name rules (libstir)
            ("shaken x:string", "shaken"),                  # an existing type
            ("x" * 40 + " a:string", "x" * 32),             # type name too long
        ]
        for spec, needle in cases:
            with self.subTest(spec=spec):
                path = os.path.join(self.tmp, "bad.conf")
                with open(path, "w") as f:
                    f.write("# types\nlog_level = warn\nppt_type = %s\n" % spec)
                rc, out, err = self.start("--config", path)
                self.assertEqual(rc, 2, err)
                self.assertIn(path + ":3:", err)
                self.assertIn("ppt_type", err)
                self.assertIn(needle, err)
                self.assertNotIn("AddressSanitizer", err)

    def test_same_name_twice_names_second_line(self):
        path = os.path.join(self.tmp, "twice.conf")
        with open(path, "w") as f:
            f.write("ppt_type = acme a:string\n\nppt_type = acme b:string\n")
        rc, out, err = self.start("--config", path)
        self.assertEqual(rc, 2, err)
        self.assertIn(path + ":3:", err)
        self.assertIn("acme", err)

    def test_bad_flag(self):
        rc, out, err = self.start("--ppt-type", "acme tier:int")
        self.assertEqual(rc, 2, err)
        self.assertIn("--ppt-type", err)
        self.assertIn("int", err)
        rc, out, err = self.start("--ppt-type", "")
        self.assertEqual(rc, 2, err)
        self.assertIn("--ppt-type", err)

    def test_rcd_and_verstat_settings_are_checked(self):
        cases = [(("--rcd-digest-alg", "md5"), "md5"),
                 (("--rcd-max-bytes", "10"), "out of range"),
                 (("--rcd-max-links", "-1"), "out of range"),
                 (("--rcd-max-jcard-bytes", "x"), "not an integer"),
                 (("--rcd-cache-ttl", "86401"), "out of range"),
                 (("--rcd-verify-fetch=maybe",), "not a boolean"),
                 (("--verstat-priority-passed", "RPH Passed"), "token"),
                 (("--verstat-priority-failed", "x" * 65), "token")]
        for args, needle in cases:
            with self.subTest(args=args):
                rc, out, err = self.start(*args)
                self.assertEqual(rc, 2, err)
                self.assertIn(args[0].split("=")[0], err)
                self.assertIn(needle, err)
        path = os.path.join(self.tmp, "rcd.conf")
        with open(path, "w") as f:
            f.write("rcd_verify_fetch = no\nrcd_digest_alg = sha1\n")
        rc, out, err = self.start("--config", path)
        self.assertEqual(rc, 2, err)
        self.assertIn(path + ":2:", err)
        self.assertIn("sha1", err)

    def test_flags_replace_the_files_types(self):
        path = os.path.join(self.tmp, "one.conf")
        with open(path, "w") as f:
            f.write("ppt_type = acme tier:string:required\n")
        with stirtest.Server("--config", path, "--ppt-type", "beta level:integer:required",
                             state_dir=self.state) as srv:
            req = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": int(time.time())}
            st, body = srv.sign(dict(req, ppt="beta", level=3))
            self.assertEqual(st, 200, body)
            _, claims, _, _, _ = stirtest.decode_identity(
                body["signingResponse"]["identityHeader"])
            self.assertEqual(claims["level"], 3)
            st, body = srv.sign(dict(req, ppt="acme", tier="t"))
            self.assertEqual(st, 400, body)
            self.assertEqual(body["invalidParams"][0]["param"], "ppt")


class RcdFetchTest(stirtest.FilesTestCase):
    """rcd, the built-in type whose signing may have to fetch: the rcd_*
    settings reach libstir, and a signing request whose linked content is
    not cached waits on the fetch pool without holding an HTTP worker.
    The linked files are served over HTTPS by tests/tools/certserver.py
    with the embedded TLS certificate (fetch_ca_file of embedded mode)."""
    tmp_prefix = "stirrcd."
    config = ("rcd_digest_alg = sha512\nrcd_max_bytes = 2048\nfetch_timeout_ms = 5000\n"
              "fetch_threads = 4\n")

    @classmethod
    def populate(cls):
        for i in range(4):
            with open(os.path.join(cls.files, "logo%d.png" % i), "wb") as f:
                f.write(os.urandom(1500))
        with open(os.path.join(cls.files, "big.png"), "wb") as f:
            f.write(os.urandom(4096))

    def url(self, path):
        return self.cs.url(path)

    def rcd_request(self, icn, **over):
        req = {"ppt": "rcd", "rcd": {"nam": "Acme Widgets", "icn": icn},
               "orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": int(time.time())}
        req.update(over)
        return req

    @staticmethod
    def sha512(name, files):
        with open(os.path.join(files, name), "rb") as f:
            return "sha512-" + base64.b64encode(hashlib.sha512(f.read()).digest()).decode()

    def test_uncached_content_waits_on_the_pool(self):
        # Three signings whose icons take a second to fetch; meanwhile plain
        # SHAKEN signings on the 2 HTTP workers must answer at once.
        results = {}

        def slow(i):
            t0 = time.time()
            st, body = self.srv.sign(self.rcd_request(self.url("slow/1/logo%d.png" % i),
                                                      requestId="rcd-%d" % i))
            results[i] = (st, body, time.time() - t0)

        threads = [threading.Thread(target=slow, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        fast = []
        for _ in range(10):
            t0 = time.time()
            self.srv.sign_ok()
            fast.append(time.time() - t0)
        for t in threads:
            t.join(30)
        self.assertLess(max(fast), 0.5, fast)
        for i in range(3):
            st, body, took = results[i]
            self.assertEqual(st, 200, body)
            self.assertGreaterEqual(took, 0.9)
            self.assertEqual(body["signingResponse"].get("requestId"), "rcd-%d" % i)
            header, claims, _, _, _ = stirtest.decode_identity(
                body["signingResponse"]["identityHeader"])
            self.assertEqual(header["ppt"], "rcd")
            # RFC 9795 6: rcdi digest of the icon bytes, with rcd_digest_alg.
            self.assertEqual(claims["rcdi"], {"/icn": self.sha512("logo%d.png" % i, self.files)})

    def test_cached_content_and_verification(self):
        icn = self.url("logo3.png")
        st, body = self.srv.sign(self.rcd_request(icn))     # fetches
        self.assertEqual(st, 200, body)
        now = int(time.time())
        st, body = self.srv.sign(self.rcd_request(icn, iat=now))   # from the cache
        self.assertEqual(st, 200, body)
        value = body["signingResponse"]["identityHeader"]
        _, claims, _, _, _ = stirtest.decode_identity(value)
        self.assertEqual(claims["rcdi"], {"/icn": self.sha512("logo3.png", self.files)})
        st, body = self.srv.verify({"identityHeader": value, "from": {"tn": ORIG_TN},
                                    "to": {"tn": DEST_TN}, "time": now})
        self.assertEqual(st, 200, body)
        res = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual((res["ppt"], res["status"]), ("rcd", "pass"), res)

    def test_rcd_max_bytes(self):
        st, body = self.srv.sign(self.rcd_request(self.url("big.png")))
        self.assertInvalidParam(st, body, "rcd")

    assertInvalidParam = stirtest.ServerTestCase.assertInvalidParam


@unittest.skipUnless(os.environ.get("STIRCTL"), "STIRCTL not set")
class StirctlPptTypeTest(unittest.TestCase):
    """stirctl accepts the same --ppt-type syntax for sign and verify."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stirctlppt.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pki = os.path.join(self.tmp, "pki")
        self.ctl("pki", "--dir", self.pki)

    def ctl(self, *args, data=None, expect=0):
        r = subprocess.run((os.environ["STIRCTL"],) + args, input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, expect, r.stderr.decode())
        return r.stdout.decode(), r.stderr.decode()

    def test_sign_verify_decode(self):
        x5u = "https://cr.example.net/chain.pem"
        now = int(time.time())
        req = {"signingRequest": {"ppt": "acme", "tier": "gold", "score": 2,
                                  "orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": now}}
        path = os.path.join(self.tmp, "req.json")
        with open(path, "w") as f:
            f.write(stirtest.json.dumps(req))
        sign = ("sign", "--key", os.path.join(self.pki, "sp.key"), "--cert",
                os.path.join(self.pki, "chain.pem"), "--x5u", x5u)
        out, _ = self.ctl(*sign, "--ppt-type", ACME, path)
        value = out.strip()
        header, claims, params, _, _ = stirtest.decode_identity(value)
        self.assertEqual(header["ppt"], "acme")
        self.assertEqual(claims, {"dest": {"tn": [DEST_TN]}, "iat": now, "orig": {"tn": ORIG_TN},
                                  "score": 2, "tier": "gold"})
        # Without the type it is unknown; with a bad spec stirctl says why.
        _, err = self.ctl(*sign, path, expect=2)
        self.assertIn("ppt", err)
        _, err = self.ctl(*sign, "--ppt-type", "acme tier:text", path, expect=2)
        self.assertIn("text", err)

        verify = ("verify", "--trust", os.path.join(self.pki, "root.pem"), "--cert-file",
                  os.path.join(self.pki, "chain.pem"), "--from", ORIG_TN, "--to", DEST_TN,
                  "--time", str(now))
        out, _ = self.ctl(*verify, "--ppt-type", ACME, "--identity", value)
        res = stirtest.json.loads(out)["verificationResponse"]
        self.assertEqual([r["verifyResult"]["status"] for r in res["verifyResults"]], ["pass"])
        out, _ = self.ctl(*verify, "--identity", value, expect=1)   # type unknown: fails
        res = stirtest.json.loads(out)["verificationResponse"]
        self.assertEqual(res["verifyResults"][0]["verifyResult"]["reasonCode"], 428)

        out, _ = self.ctl("decode", value)
        self.assertIn('"tier": "gold"', out)
        self.assertIn('"ppt": "acme"', out)

    def test_verify_several_identities_and_protected_headers(self):
        x5u = "https://cr.example.net/chain.pem"
        now = int(time.time())
        sign = ("sign", "--key", os.path.join(self.pki, "sp.key"), "--cert",
                os.path.join(self.pki, "chain.pem"), "--x5u", x5u, "-")
        shaken, _ = self.ctl(*sign, data=stirtest.json.dumps({
            "attest": "A", "orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]},
            "iat": now}).encode())
        rph, _ = self.ctl(*sign, data=stirtest.json.dumps({
            "ppt": "rph", "rph": {"auth": ["esnet.0"]}, "orig": {"tn": ORIG_TN},
            "dest": {"tn": [DEST_TN]}, "iat": now}).encode())
        verify = ("verify", "--trust", os.path.join(self.pki, "root.pem"), "--cert-file",
                  os.path.join(self.pki, "chain.pem"), "--from", ORIG_TN, "--to", DEST_TN,
                  "--time", str(now), "--identity", shaken.strip(), "--identity", rph.strip())
        out, _ = self.ctl(*verify, "--protected-header", "Resource-Priority: esnet.0")
        res = stirtest.json.loads(out)["verificationResponse"]
        self.assertEqual([r["verifyResult"]["ppt"] for r in res["verifyResults"]],
                         ["shaken", "rph"])
        self.assertEqual(res["verstatValue"], "TN-Validation-Passed")
        self.assertIn("verstatPriority", res)
        _, err = self.ctl(*verify, "--protected-header", "no colon", expect=2)
        self.assertIn("protected-header", err)


if __name__ == "__main__":
    unittest.main()
