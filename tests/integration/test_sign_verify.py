"""Signing and verification round trip, checked independently:
the Identity header is taken apart with python (RFC 8224 4), the JWS
with base64/json (RFC 7515, RFC 8225 9 canonical form), the signature
with the openssl CLI against the chain fetched from the x5u URL."""
import http.client
import json
import os
import re
import ssl
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from stirtest import b64u_decode, canonical, parse_identity  # noqa: E402

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class SignVerifyTest(stirtest.ServerTestCase):

    def decode(self, identity):
        token, params = parse_identity(identity)
        h, p, s = token.split(".")
        return token, params, h, p, s

    def check_header(self, identity, req_iat, origid=None, attest="A"):
        token, params, h, p, s = self.decode(identity)
        x5u = self.srv.x5u_url
        header = json.loads(b64u_decode(h))
        payload = json.loads(b64u_decode(p))
        # RFC 8588 3 / RFC 8225 4: exactly these four header members.
        self.assertEqual(header, {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": x5u})
        # RFC 8225 9: the signed bytes are the canonical serializations.
        self.assertEqual(b64u_decode(h).decode(), canonical(header))
        self.assertEqual(b64u_decode(p).decode(), canonical(payload))
        self.assertEqual(payload["attest"], attest)
        self.assertEqual(payload["orig"], {"tn": stirtest.ORIG_TN})
        # RFC 8224 8.3: '+', spaces, parentheses and dashes are dropped.
        self.assertEqual(payload["dest"], {"tn": ["12155551213"]})
        self.assertEqual(payload["iat"], req_iat)
        if origid:
            self.assertEqual(payload["origid"], origid)
        else:
            self.assertRegex(payload["origid"], UUID4)
        # RFC 8224 4.1: info carries the x5u URL in angle brackets.
        self.assertEqual(params["info"], "<" + x5u + ">")
        self.assertEqual(params["alg"], "ES256")
        self.assertEqual(params["ppt"].strip('"'), "shaken")
        self.assertEqual(len(b64u_decode(s)), 64)
        return token, header, payload

    def openssl_verifies(self, token):
        chain, _ = self.srv.fetch_chain()
        leaf = chain[:chain.index(b"-----END CERTIFICATE-----") + 25] + b"\n"
        h, p, s = token.split(".")
        with tempfile.TemporaryDirectory() as d:
            return stirtest.es256_verify_openssl(leaf, (h + "." + p).encode(), b64u_decode(s), d)

    def test_sign_wrapped_bare_and_ppt(self):
        iat = int(time.time())
        origid = "123e4567-e89b-42d3-a456-426614174000"
        base = {"attest": "A", "orig": {"tn": stirtest.ORIG_TN},
                "dest": {"tn": ["+1 (215) 555-1213"]}, "iat": iat, "origid": origid}
        for wrap, extra in ((True, {}), (False, {}), (True, {"ppt": "shaken"})):
            req = dict(base, **extra)
            st, body = self.srv.sign(req, wrap=wrap)
            self.assertEqual(st, 200, body)
            identity = body["signingResponse"]["identityHeader"]
            token, _, _ = self.check_header(identity, iat, origid)
            self.assertTrue(self.openssl_verifies(token), "openssl does not verify " + token)

    def test_chain_served_at_x5u(self):
        chain, headers = self.srv.fetch_chain()
        self.assertEqual(headers["content-type"], "application/pem-certificate-chain")
        self.assertIn("max-age=86400", headers.get("cache-control", ""))
        with open(os.path.join(self.srv.state_dir, "chain.pem"), "rb") as f:
            on_disk = f.read()
        # Same certificates, compared as openssl sees them.
        self.assertEqual(stirtest.openssl("x509", "-noout", "-fingerprint", "-sha256", data=chain),
                         stirtest.openssl("x509", "-noout", "-fingerprint", "-sha256",
                                          data=on_disk))
        # Nothing else is served there.
        ctx = ssl.create_default_context(cafile=os.path.join(self.srv.state_dir, "tls.pem"))
        for method, path, status in (("GET", "/cert/other.pem", 404), ("GET", "/", 404),
                                     ("POST", "/cert/chain.pem", 405)):
            c = http.client.HTTPSConnection("127.0.0.1", self.srv.x5u_port, context=ctx, timeout=10)
            c.request(method, path, body=b"x" if method == "POST" else None)
            r = c.getresponse()
            r.read()
            c.close()
            self.assertEqual(r.status, status, path)

    def test_missing_origid_gets_uuid4(self):
        identity, req = self.srv.sign_ok()
        _, _, _, p, _ = self.decode(identity)
        self.assertRegex(json.loads(b64u_decode(p))["origid"], UUID4)

    def test_round_trip_verification(self):
        identity, req = self.srv.sign_ok(requestId="sign-42")
        token, header, payload = self.check_header(identity, req["iat"])
        st, body = self.srv.verify({"identityHeader": identity,
                                    "from": {"tn": stirtest.ORIG_TN},
                                    "to": {"tn": stirtest.DEST_TN},
                                    "time": req["iat"], "requestId": "verify-7"})
        self.assertEqual(st, 200, body)
        vr = body["verificationResponse"]
        self.assertEqual(vr["verstatValue"], "TN-Validation-Passed")
        self.assertEqual(len(vr["verifyResults"]), 1)
        res = vr["verifyResults"][0]["verifyResult"]
        self.assertEqual(res["status"], "pass")
        self.assertEqual(res["ppt"], "shaken")
        self.assertEqual(res["validClaims"], payload)
        self.assertNotIn("reasonCode", res)
        self.assertEqual(vr["requestId"], "verify-7")

    def test_request_id_echoed_by_signing(self):
        req = {"attest": "C", "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
               "iat": int(time.time()), "requestId": "abc-123"}
        st, body = self.srv.sign(req)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["signingResponse"]["requestId"], "abc-123")
        self.check_header(body["signingResponse"]["identityHeader"], req["iat"], attest="C")

    def test_request_id_escaping(self):
        rid = 'q"uote\\back\u00e9\u2028\x01\x1f/end'
        req = {"attest": "A", "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
               "iat": int(time.time()), "requestId": rid}
        st, hd, data = self.srv.request("POST", "/stir/v1/signing",
                                        body=json.dumps({"signingRequest": req}).encode(),
                                        headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data)["signingResponse"]["requestId"], rid)
        for bad in ("", 5, "x" * 257):
            req["requestId"] = bad
            st, body = self.srv.sign(req)
            self.assertEqual(st, 400, body)
            self.assertEqual(body["invalidParams"][0]["param"], "requestId")

    def test_request_id_rule_verification(self):
        # One rule for both resources (msapi.c): 1 to 256 bytes, echoed escaped.
        identity, req = self.srv.sign_ok()
        vreq = {"identityHeader": identity, "from": {"tn": stirtest.ORIG_TN},
                "to": {"tn": stirtest.DEST_TN}, "time": req["iat"]}
        rid = 'q"uote\\back\u00e9\x01/' + "x" * 240
        st, body = self.srv.verify(dict(vreq, requestId=rid))
        self.assertEqual(st, 200, body)
        self.assertEqual(body["verificationResponse"]["requestId"], rid)
        for bad in ("", 5, "x" * 257):
            st, body = self.srv.verify(dict(vreq, requestId=bad))
            self.assertEqual(st, 400, body)
            self.assertEqual(body["invalidParams"][0]["param"], "requestId")
            self.assertEqual(body["cause"], "OPTIONAL_IE_INCORRECT")

    def test_bare_verification_request(self):
        identity, req = self.srv.sign_ok()
        st, body = self.srv.verify({"identityHeader": identity, "from": {"tn": "+1-215-555-1212"},
                                    "to": {"tn": [stirtest.DEST_TN]}, "time": req["iat"]},
                                   wrap=False)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["verificationResponse"]["verstatValue"], "TN-Validation-Passed")


if __name__ == "__main__":
    unittest.main()
