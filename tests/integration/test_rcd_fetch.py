#!/usr/bin/env python3
"""Rich Call Data end to end through stird, with the linked content served
over HTTPS by tests/tools/certserver.py: rcdi computed on signing over the
fetched jCard (jcl) and the logo it links, verified again on verification,
and every failure the issue names: a logo changed after signing, an rcdi
that does not match an inline jCard, an oversized jCard, too many links, a
link that cannot be fetched.

Expected digests are computed here with hashlib over the served bytes (and
over the RFC 8225 9 serialization for inline JSON, test-vectors.md TV-7),
never taken from stird's output. Content is served with Cache-Control:
no-store so that a file changed by a test is what stird fetches next.
"""
import base64
import hashlib
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

ORIG, DEST = "12025551000", "12025551001"


def sha256_b64(data):
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


class RcdFetchTest(stirtest.FilesTestCase):
    tmp_prefix = "stirrcdf."
    config = "rcd_max_jcard_bytes = 2048\nrcd_max_links = 3\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = cls.cs.port

    def url(self, name):
        # /cc/<Cache-Control>/<file>: served with that header.
        return self.cs.url("cc/no-store/" + name)

    def put(self, name, data):
        with open(os.path.join(self.files, name), "wb") as f:
            f.write(data)
        return data

    def jcard(self, logos):
        card = ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Q Branch"],
                          ["org", {}, "text", "MI6;Q Branch Spy Gadgets"]]
                + [["logo", {}, "uri", u] for u in logos]]
        return card

    def sign(self, rcd, **extra):
        req = {"ppt": "rcd", "orig": {"tn": ORIG}, "dest": {"tn": [DEST]},
               "iat": int(time.time()), "rcd": rcd}
        req.update(extra)
        return self.srv.sign(req)

    def verify(self, identity):
        st, body = self.srv.verify({"identityHeaders": [identity], "from": {"tn": ORIG},
                                    "to": {"tn": DEST}, "time": int(time.time())})
        self.assertEqual(st, 200, body)
        return body["verificationResponse"]["verifyResults"][0]["verifyResult"]

    def assertInvalid(self, st, body, param, words):
        self.assertEqual(st, 400, body)
        self.assertEqual(body["invalidParams"][0]["param"], param, body)
        for w in words:
            self.assertIn(w, body["detail"])

    def test_jcl_and_its_logo(self):
        logo = self.put("q-logo.png", os.urandom(700))
        card = self.put("q.json", json.dumps(self.jcard([self.url("q-logo.png")]),
                                              separators=(",", ":")).encode())
        st, body = self.sign({"nam": "Q Branch", "jcl": self.url("q.json")})
        self.assertEqual(st, 200, body)
        identity = body["signingResponse"]["identityHeader"]
        _, claims, _, _, _ = stirtest.decode_identity(identity)
        # RFC 9795 6.1.4: /jcl over the jCard body; each URI in it by pointer
        # (the logo is property 3 of the card: /jcl/1/3/3).
        self.assertEqual(claims["rcdi"], {"/jcl": sha256_b64(card),
                                          "/jcl/1/3/3": sha256_b64(logo)})
        r = self.verify(identity)
        self.assertEqual((r["status"], r["rcdResult"]["status"]), ("pass", "pass"), r)
        display = r["rcdResult"]["display"]
        self.assertEqual(display["name"], "Q Branch")
        self.assertEqual(display["org"], "MI6;Q Branch Spy Gadgets")
        self.assertEqual(display["logo"], self.url("q-logo.png"))

        # The same RCD inside a shaken PASSporT (RFC 9795 13).
        st, body = self.sign({"nam": "Q Branch", "jcl": self.url("q.json")}, ppt="shaken",
                             attest="A")
        self.assertEqual(st, 200, body)
        shaken = body["signingResponse"]["identityHeader"]

        # The logo changes after signing. An rcd PASSporT exists for its RCD:
        # content that fails its rcdi check fails it, 438, naming the pointer
        # (issue 10; RFC 9795 8.2), and nothing of it is offered as valid.
        self.put("q-logo.png", os.urandom(700))
        r = self.verify(identity)
        self.assertFail(r, "/jcl/1/3/3")
        # In a shaken PASSporT the caller ID still passes, but the rcd claims
        # are not among validClaims and rcdResult says why.
        r = self.verify(shaken)
        self.assertEqual(r["status"], "pass", r)
        self.assertEqual(r["rcdResult"]["status"], "fail", r)
        self.assertIn("/jcl/1/3/3", r["rcdResult"]["failed"])
        self.assertNotIn("display", r["rcdResult"])
        self.assertIn("left out of validClaims", r["rcdResult"]["reasonDescription"])
        self.assertEqual(sorted(r["validClaims"]), ["attest", "dest", "iat", "orig", "origid"])

        # The jCard itself changes: /jcl fails.
        self.put("q.json", json.dumps(self.jcard([])).encode())
        self.assertFail(self.verify(identity), "/jcl")
        r = self.verify(shaken)
        self.assertEqual((r["status"], r["rcdResult"]["status"]), ("pass", "fail"), r)
        self.assertIn("/jcl", r["rcdResult"]["failed"])
        self.assertNotIn("rcd", r["validClaims"])

    def assertFail(self, r, pointer):
        self.assertEqual((r["status"], r["reasonCode"]), ("fail", 438), r)
        self.assertIn(pointer, r["reasonDescription"])
        self.assertNotIn("validClaims", r)
        sig = r["passport"].rsplit(".", 1)[1]
        self.assertTrue(r["reasonHeader"].endswith(';ppi="..%s"' % sig), r)

    def test_icon_gone_after_signing(self):
        self.put("gone.png", os.urandom(300))
        st, body = self.sign({"nam": "Acme", "icn": self.url("gone.png")})
        self.assertEqual(st, 200, body)
        identity = body["signingResponse"]["identityHeader"]
        os.unlink(os.path.join(self.files, "gone.png"))
        r = self.verify(identity)
        # RFC 9795 8.2: content that cannot be fetched is not verified, and
        # an rcd PASSporT whose RCD is not verified fails (issue 10).
        self.assertFail(r, "/icn")

    def test_client_rcdi_must_match(self):
        jcd = self.jcard([])
        good = sha256_b64(json.dumps(jcd, separators=(",", ":"), sort_keys=True,
                                     ensure_ascii=False).encode())
        st, body = self.sign({"nam": "Q", "jcd": jcd}, rcdi={"/jcd": good})
        self.assertEqual(st, 200, body)
        _, claims, _, _, _ = stirtest.decode_identity(body["signingResponse"]["identityHeader"])
        self.assertEqual(claims["rcdi"]["/jcd"].rstrip("="), good.rstrip("="))
        bad = sha256_b64(b"something else")
        st, body = self.sign({"nam": "Q", "jcd": jcd}, rcdi={"/jcd": bad})
        self.assertEqual(st, 400, body)
        self.assertIn("/jcd", body["detail"])

    def test_oversized_jcard(self):
        big = self.jcard([])
        big[1].append(["note", {}, "text", "x" * 3000])
        self.put("big.json", json.dumps(big).encode())
        st, body = self.sign({"nam": "Q", "jcl": self.url("big.json")})
        self.assertInvalid(st, body, "rcd.jcl", ["2048"])
        st, body = self.sign({"nam": "Q", "jcd": big})
        self.assertEqual(st, 400, body)
        self.assertTrue(body["invalidParams"][0]["param"].startswith("rcd"), body)

    def test_too_many_links(self):
        for i in range(4):
            self.put("l%d.png" % i, os.urandom(100))
        st, body = self.sign({"nam": "Q", "jcd": self.jcard(
            [self.url("l%d.png" % i) for i in range(4)])})
        self.assertEqual(st, 400, body)
        self.assertIn("3", body["detail"])          # the configured rcd_max_links

    def test_link_that_cannot_be_fetched(self):
        st, body = self.sign({"nam": "Q", "icn": self.url("missing.png")})
        self.assertInvalid(st, body, "rcd.icn", ["404"])
        st, body = self.sign({"nam": "Q", "icn": "http://127.0.0.1:%d/x.png" % self.port})
        self.assertEqual(st, 400, body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
