"""The API behaviours a SIP client relies on (issue 10): the SIP Date as
`date`, SIP URIs with a global-number user part compared as TNs (RFC 8224
8.3) unless require_user_phone, mandatory members of Tables V.2.5.2-1 and
V.2.6.2-1, div/rph/sph without ppt, and a ppi in every reasonHeader whose
Identity value has a signature part (RFC 9410 4-5). Expected dates come
from Python's email.utils (RFC 5322 / IMF-fixdate), independent of stird."""
import email.utils
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from stirtest import DEST_TN, ORIG_TN, b64u_encode, decode_identity  # noqa: E402


def imf(t):
    return email.utils.formatdate(t, usegmt=True)


class SipApiTest(stirtest.ServerTestCase):

    def req(self, identity, **over):
        r = {"identityHeader": identity, "from": {"tn": ORIG_TN}, "to": {"tn": DEST_TN},
             "time": int(time.time())}
        r.update(over)
        return {k: v for k, v in r.items() if v is not None}

    def one(self, req):
        st, body = self.srv.verify(req)
        self.assertEqual(st, 200, body)
        vr = body["verificationResponse"]
        return vr, vr["verifyResults"][0]["verifyResult"]

    # ---- date -------------------------------------------------------------

    def test_date_instead_of_time(self):
        identity, req = self.srv.sign_ok()
        vr, r = self.one(self.req(identity, time=None, date=imf(req["iat"])))
        self.assertEqual(r["status"], "pass", r)
        self.assertEqual(vr["verstatValue"], "TN-Validation-Passed")
        # A stale Date is a stale Date (RFC 8224 6.2.2): 403.
        vr, r = self.one(self.req(identity, time=None, date=imf(req["iat"] - 3600)))
        self.assertEqual((r["status"], r["reasonCode"]), ("fail", 403), r)
        # Both, naming the same second: fine; different seconds: 400 on date.
        vr, r = self.one(self.req(identity, time=req["iat"], date=imf(req["iat"])))
        self.assertEqual(r["status"], "pass", r)
        st, body = self.srv.verify(self.req(identity, time=req["iat"],
                                            date=imf(req["iat"] + 1)))
        self.assertInvalidParam(st, body, "date")

    def test_bad_date_names_date(self):
        identity, req = self.srv.sign_ok()
        t = req["iat"]
        for bad in (time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(t)),  # RFC 850
                    time.asctime(time.gmtime(t)),                                # asctime
                    email.utils.formatdate(t, localtime=False),                  # -0000 zone
                    imf(t).replace("GMT", "UTC"),
                    imf(t).lower(),
                    "Mon, 31 Feb 2025 08:49:37 GMT", "x" * 5000, "", 1700000000, None):
            with self.subTest(bad=bad):
                r = self.req(identity, time=None)
                r["date"] = bad
                st, body = self.srv.verify(r)
                self.assertInvalidParam(st, body, "date")
                self.assertEqual(body["invalidParams"][0]["param"], "date", body)

    def test_time_or_date_is_mandatory(self):
        identity, _ = self.srv.sign_ok()
        st, body = self.srv.verify(self.req(identity, time=None))
        self.assertInvalidParam(st, body, "time")
        self.assertEqual(body["title"], "Missing Mandatory Parameter", body)

    # ---- mandatory members (Table V.2.6.2-1) -----------------------------

    def test_missing_mandatory_members(self):
        identity, _ = self.srv.sign_ok()
        for member in ("from", "to", "identityHeader"):
            with self.subTest(member=member):
                r = self.req(identity)
                del r[member]
                st, body = self.srv.verify(r)
                self.assertInvalidParam(st, body, member)
                self.assertEqual(body["title"], "Missing Mandatory Parameter", body)
        # An anonymous from is a request like any other: 433 per PASSporT.
        vr, r = self.one(self.req(identity, **{"from": {"uri": "sip:anonymous@anonymous.invalid"}}))
        self.assertEqual((r["status"], r["reasonCode"]), ("fail", 433), r)

    def test_signing_mandatory_members(self):
        base = {"attest": "A", "orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]},
                "iat": int(time.time())}
        for member in ("orig", "dest", "iat", "attest"):
            with self.subTest(member=member):
                r = dict(base)
                del r[member]
                st, body = self.srv.sign(r)
                self.assertInvalidParam(st, body, member)
                self.assertEqual(body["title"], "Missing Mandatory Parameter", body)

    # ---- global numbers in SIP URIs (RFC 8224 8.3) ------------------------

    def test_sip_uri_global_number_is_a_tn(self):
        identity, _ = self.srv.sign_ok()
        r = self.req(identity, **{"from": {"uri": "sip:+1-215-555-1212@pbx.example.net"},
                                  "to": {"uri": "sip:+12155551213@trunk.example.com;transport=udp"}})
        vr, res = self.one(r)
        self.assertEqual(res["status"], "pass", res)
        # dest (Request-URI) too, and tel: as before
        vr, res = self.one(self.req(identity, to={"uri": "tel:+1-215-555-1213"},
                                    dest={"uri": "sip:+12155551213@ingress.example.com"}))
        self.assertEqual(res["status"], "pass", res)
        # a signing request's SIP URI orig with a global number is signed as a tn
        h, _ = self.srv.sign_ok(orig={"uri": "sip:+1(215)555-1212@pbx.example.net"},
                                dest={"uri": ["sip:+12155551213@example.com"]})
        _, claims, _, _, _ = decode_identity(h)
        self.assertEqual(claims["orig"], {"tn": ORIG_TN})
        self.assertEqual(claims["dest"], {"tn": [DEST_TN]})
        # a user part that is not a global number stays a URI: 438
        vr, res = self.one(self.req(identity, **{"from": {"uri": "sip:12155551212@pbx.example.net"}}))
        self.assertEqual((res["status"], res["reasonCode"]), ("fail", 438), res)
        self.assertIn("orig", res["reasonDescription"])

    # ---- div, rph, sph without ppt -----------------------------------------

    def test_type_inferred_from_div_rph_sph(self):
        now = int(time.time())
        base = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": now}
        st, body = self.srv.sign(dict(base, div={"tn": "12155551214"}))
        self.assertEqual(st, 200, body)
        header, claims, _, _, _ = decode_identity(body["signingResponse"]["identityHeader"])
        self.assertEqual(header["ppt"], "div")
        self.assertEqual(claims["div"], {"tn": "12155551214"})
        st, body = self.srv.sign(dict(base, rph={"auth": ["esnet.0"]}, sph="psap-callback"))
        self.assertEqual(st, 200, body)
        header, claims, _, _, _ = decode_identity(body["signingResponse"]["identityHeader"])
        self.assertEqual(header["ppt"], "rph")
        self.assertEqual((claims["rph"], claims["sph"]), ({"auth": ["esnet.0"]}, "psap-callback"))
        # sph alone names the rph type too, which then needs its rph claim
        st, body = self.srv.sign(dict(base, sph="psap-callback"))
        self.assertInvalidParam(st, body, "rph")

    def test_ambiguous_type_is_refused(self):
        now = int(time.time())
        base = {"orig": {"tn": ORIG_TN}, "dest": {"tn": [DEST_TN]}, "iat": now}
        st, body = self.srv.sign(dict(base, attest="A", div={"tn": "12155551214"}))
        self.assertInvalidParam(st, body, "div")
        self.assertIn('"ppt": "div"', body["detail"])
        st, body = self.srv.sign(dict(base, attest="B", rph={"auth": ["ets.0"]}))
        self.assertInvalidParam(st, body, "rph")
        self.assertIn('"ppt": "rph"', body["detail"])
        st, body = self.srv.sign(dict(base, div={"tn": "12155551214"}, rph={"auth": ["ets.0"]}))
        self.assertInvalidParam(st, body, "rph")
        # an explicit empty ppt is the same as none
        st, body = self.srv.sign(dict(base, ppt="", attest="A", sph="psap-callback"))
        self.assertInvalidParam(st, body, "sph")

    # ---- ppi in every reasonHeader (RFC 9410 4-5) -------------------------

    def test_ppi_when_passport_unreadable(self):
        identity, _ = self.srv.sign_ok()
        token, params = identity.split(";", 1)
        h, p, s = token.split(".")
        cases = {
            "payload not JSON": "%s.%s.%s" % (h, b64u_encode(b"{nope"), s),
            "header not JSON": "%s.%s.%s" % (b64u_encode(b"[1"), p, s),
            "short signature": "%s.%s.%s" % (h, p, s[:40]),
            "long signature": "%s.%s.%s" % (h, p, s + "AAAA"),
        }
        for name, tok in cases.items():
            with self.subTest(case=name):
                sig = tok.rsplit(".", 1)[1]
                vr, r = self.one(self.req(tok + ";" + params))
                self.assertEqual((r["status"], r["reasonCode"]), ("fail", 438), r)
                self.assertEqual(r["reasonHeader"],
                                 'STIR ;cause=438 ;text="%s" ;ppi="..%s"' % (r["reasonText"], sig))
        # no signature part: nothing to name
        vr, r = self.one(self.req("%s.%s.;%s" % (h, p, params)))
        self.assertEqual(r["status"], "fail", r)
        self.assertNotIn("ppi=", r["reasonHeader"])


class RequireUserPhoneTest(stirtest.ServerTestCase):
    server_args = ("--require-user-phone",)

    def test_strict_rule(self):
        identity, _ = self.srv.sign_ok()
        req = {"identityHeader": identity, "to": {"tn": DEST_TN}, "time": int(time.time()),
               "from": {"uri": "sip:+12155551212@pbx.example.net"}}
        st, body = self.srv.verify(req)
        r = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual((r["status"], r["reasonCode"]), ("fail", 438), r)
        req["from"] = {"uri": "sip:+12155551212@pbx.example.net;user=phone"}
        st, body = self.srv.verify(req)
        r = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(r["status"], "pass", r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
