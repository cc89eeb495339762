"""Interop of the non-shaken PASSporT types with implementations we did not write.

For div (RFC 8946), rph with sph (RFC 8443, RFC 9027), rcd (RFC 9795),
avatar (docs/API.md) and shaken with rcd claims (RFC 9795 13):
  1. what stird signs verifies with Debian's python3-jwcrypto, using the
     public key of the certificate stird serves at its x5u URL (fetched
     over HTTPS with python's TLS stack), and its claims are the ones the
     RFC prescribes;
  2. a PASSporT of that type signed by jwcrypto with the embedded signer key
     (stird's --state-dir) and stird's x5u URL passes stird's
     /verification; the same claims signed with another key fail with 438.
  3. Debian's secsipidx 1.2.0: its checker (-check and HTTP /v1/check)
     accepts only ppt "shaken" (it answers "invalid value for ppt header
     parameter" for anything else, see test_secsipidx_checker_types), and
     -sign-full ignores -ppt (always shaken). Its raw signer (-sign with
     -header/-payload, no -json-parse) signs any header and payload bytes:
     that is used to produce each type for stird to verify. A type the
     checker accepts (shaken with rcd claims) is also checked by it.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import stirtest  # noqa: E402  (process management only: start, health, clean stop)

from jwcrypto import jwk, jws  # noqa: E402

A, B, C = "12155551212", "12155551213", "12155551214"
UUID = "123e4567-e89b-12d3-a456-426655440000"
PASSED = "TN-Validation-Passed"
SECSIPIDX_PPT_REFUSED = "invalid value for ppt header parameter"


def b64u_decode(s):
    return stirtest.b64u_decode(s)


def canonical(obj):
    # RFC 8225 section 9, as test-vectors.md reproduces it with python
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def leaf_of(chain_pem):
    end = b"-----END CERTIFICATE-----"
    return chain_pem[:chain_pem.index(end) + len(end)] + b"\n"


class InteropTypes(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = stirtest.Server()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.x5u = cls.srv.x5u_url
        chain, _ = cls.srv.fetch_chain()
        cls.leaf_pem = leaf_of(chain)
        cls.pubkey = jwk.JWK.from_pem(cls.leaf_pem)
        cls.keyfile = os.path.join(cls.srv.state_dir, "sp.key")
        with open(cls.keyfile, "rb") as f:
            cls.signkey = jwk.JWK.from_pem(f.read())
        cls.otherkey = jwk.JWK.generate(kty="EC", crv="P-256")
        cls.other_pem = os.path.join(cls.tmp.name, "other.key")
        with open(cls.other_pem, "wb") as f:
            f.write(cls.otherkey.export_to_pem(private_key=True, password=None))
        cls.pub = os.path.join(cls.tmp.name, "sp.pub.pem")
        with open(cls.pub, "wb") as f:
            f.write(cls.pubkey.export_to_pem())

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.tmp.cleanup()

    # ---- the types ------------------------------------------------------------

    def cases(self):
        """(name, ppt, signing request members, expected claims beyond orig/
        dest/iat, verification request members) per type. The expected
        claims are the RFC's: RFC 8946 3 (div: only dest, div, iat, orig;
        hi inside div, 8), RFC 8443 3 + RFC 9027 4, 5 (rph object form, sph),
        RFC 9795 5, 8 (rcd), RFC 9795 13.2 (shaken + rcd)."""
        return [
            ("div", "div",
             {"dest": {"tn": [C]}, "div": {"tn": "+1 215 555 1213", "hi": "1.2.1"}},
             {"dest": {"tn": [C]}, "div": {"hi": "1.2.1", "tn": B}},
             {"dest": {"tn": C}}),
            ("rph+sph", "rph",
             {"orig": {"tn": B}, "dest": {"tn": [A]}, "rph": ["esnet.0"], "sph": "psap-callback"},
             {"orig": {"tn": B}, "dest": {"tn": [A]}, "rph": {"auth": ["esnet.0"]},
              "sph": "psap-callback"},
             {"from": {"tn": B}, "to": {"tn": A},
              "protectedHeaders": ["Resource-Priority: esnet.0", "Priority: psap-callback"]}),
            ("rcd", "rcd",
             {"rcd": {"nam": "James Bond"}, "crn": "Rendezvous for Little Nellie"},
             {"rcd": {"nam": "James Bond"}, "crn": "Rendezvous for Little Nellie"},
             {}),
            ("avatar", "avatar",
             {"avatar": "urn:example:avatar:7f3a", "appid": "com.example.xr"},
             {"avatar": "urn:example:avatar:7f3a", "appid": "com.example.xr"},
             {"avatarId": "urn:example:avatar:7f3a", "appId": "com.example.xr"}),
            ("shaken+rcd", "shaken",
             {"attest": "A", "origid": UUID, "rcd": {"nam": "James Bond"}},
             {"attest": "A", "origid": UUID, "rcd": {"nam": "James Bond"}},
             {}),
        ]

    def claims_for(self, expect, iat):
        c = {"orig": {"tn": A}, "dest": {"tn": [B]}, "iat": iat}
        c.update(expect)
        return c

    # ---- HTTP -----------------------------------------------------------------

    def sign(self, ppt, members, iat):
        req = {"ppt": ppt, "orig": {"tn": "+1 (215) 555-1212"}, "dest": {"tn": [B]}, "iat": iat}
        req.update(members)
        st, body = self.srv.sign(req)
        self.assertEqual(st, 200, body)
        return body["signingResponse"]["identityHeader"]

    def verify(self, headers, extra):
        """Verify `headers` (the one under test last); a div needs its
        original, so a jwcrypto-signed shaken A->B goes first for it."""
        req = {"from": {"tn": A}, "to": {"tn": B}, "time": int(time.time()),
               "identityHeader": headers[0]}
        if len(headers) > 1:
            req["identityHeaders"] = headers[1:]
        req.update(extra)
        st, body = self.srv.verify(req)
        self.assertEqual(st, 200, body)
        resp = body["verificationResponse"]
        return resp, [r["verifyResult"] for r in resp["verifyResults"]]

    def jwcrypto_token(self, ppt, claims, key=None):
        header = {"alg": "ES256", "ppt": ppt, "typ": "passport", "x5u": self.x5u}
        obj = jws.JWS(canonical(claims).encode("utf-8"))
        obj.add_signature(key or self.signkey, alg="ES256", protected=canonical(header))
        return obj.serialize(compact=True) + ";info=<%s>;alg=ES256;ppt=\"%s\"" % (self.x5u, ppt)

    def original_for(self, name, iat):
        """The PASSporT list to send: an original shaken A->B before a div."""
        if name != "div":
            return []
        return [self.jwcrypto_token("shaken", {"attest": "A", "dest": {"tn": [B]}, "iat": iat,
                                               "orig": {"tn": A}, "origid": UUID})]

    # ---- 1. stird signs, jwcrypto verifies ---------------------------------------

    def test_stird_signs_jwcrypto_verifies(self):
        for name, ppt, members, expect, _ in self.cases():
            with self.subTest(type=name):
                iat = int(time.time())
                h = self.sign(ppt, members, iat)
                token, params = h.split(";", 1)
                obj = jws.JWS()
                obj.deserialize(token)
                obj.verify(self.pubkey, alg="ES256")       # raises on a bad signature
                hb, pb, _ = token.split(".")
                header = json.loads(b64u_decode(hb))
                claims = json.loads(b64u_decode(pb))
                self.assertEqual(header, {"alg": "ES256", "ppt": ppt, "typ": "passport",
                                          "x5u": self.x5u})
                self.assertEqual(claims, self.claims_for(expect, iat))
                self.assertEqual(b64u_decode(pb).decode("utf-8"), canonical(claims))
                self.assertEqual(b64u_decode(hb).decode(), canonical(header))
                self.assertIn("info=<%s>" % self.x5u, params)
                # jwcrypto's verified payload is the same bytes
                self.assertEqual(json.loads(obj.payload), claims)
                # and a changed claim no longer verifies with jwcrypto
                forged = dict(claims, iat=iat + 1)
                bad = hb + "." + stirtest.b64u_encode(canonical(forged).encode()) + "." + \
                    token.rsplit(".", 1)[1]
                obj = jws.JWS()
                obj.deserialize(bad)
                with self.assertRaises(jws.InvalidJWSSignature):
                    obj.verify(self.pubkey, alg="ES256")

    # ---- 2. jwcrypto signs, stird verifies ------------------------------------------

    def test_jwcrypto_signs_stird_verifies(self):
        for name, ppt, _, expect, extra in self.cases():
            with self.subTest(type=name):
                iat = int(time.time())
                claims = self.claims_for(expect, iat)
                good = self.jwcrypto_token(ppt, claims)
                pre = self.original_for(name, iat)
                resp, rs = self.verify(pre + [good], extra)
                r = rs[-1]
                self.assertEqual(r["ppt"], ppt)
                self.assertEqual(r["status"], "pass", r)
                self.assertEqual(r["validClaims"], claims)
                if name == "div":
                    self.assertEqual(resp["divResult"], [{"div": {"hi": "1.2.1", "tn": B},
                                                          "verstatValue": PASSED}])
                if name.startswith("rph"):
                    self.assertEqual(resp["verstatPriority"], "RPH-Validation-Passed")
                if "rcd" in expect:
                    # RFC 9795 8.1: verified nam is what may be displayed
                    self.assertEqual(r.get("rcdResult", {}).get("status"), "pass", r)
                    self.assertEqual(r["rcdResult"]["display"]["name"], "James Bond")
                if ppt == "shaken":
                    self.assertEqual(resp["verstatValue"], PASSED)

                # The same claims signed with another key: 438 for that PASSporT.
                bad = self.jwcrypto_token(ppt, claims, key=self.otherkey)
                resp, rs = self.verify(pre + [bad], extra)
                r = rs[-1]
                self.assertEqual(r["status"], "fail", r)
                self.assertEqual(r["reasonCode"], 438, r)
                self.assertEqual(r["passport"], bad.split(";", 1)[0])
                self.assertNotIn("validClaims", r)
                if pre:
                    self.assertEqual(rs[0]["status"], "pass")     # the original is unaffected

    # ---- 3. secsipidx ------------------------------------------------------------------

    def secsipidx_check(self, identity):
        return subprocess.run(["secsipidx", "-check", "-identity", identity, "-p", self.pub,
                               "-expire", "60"], capture_output=True, text=True, timeout=30)

    def secsipidx_raw_sign(self, ppt, claims, keyfile):
        """secsipidx -sign signs the given header and payload bytes as they are."""
        header = {"alg": "ES256", "ppt": ppt, "typ": "passport", "x5u": self.x5u}
        r = subprocess.run(["secsipidx", "-sign", "-header", canonical(header),
                            "-payload", canonical(claims), "-k", keyfile, "-x5u", self.x5u],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        token = r.stdout.strip().split(";", 1)[0]
        hb, pb, sb = token.split(".")
        # it signed our bytes, not a re-serialization of its own
        self.assertEqual(b64u_decode(hb).decode(), canonical(header))
        self.assertEqual(b64u_decode(pb).decode("utf-8"), canonical(claims))
        self.assertEqual(len(b64u_decode(sb)), 64)
        return token + ";info=<%s>;alg=ES256;ppt=%s" % (self.x5u, ppt)

    def test_secsipidx_signs_stird_verifies(self):
        for name, ppt, _, expect, extra in self.cases():
            with self.subTest(type=name):
                iat = int(time.time())
                claims = self.claims_for(expect, iat)
                pre = self.original_for(name, iat)
                good = self.secsipidx_raw_sign(ppt, claims, self.keyfile)
                resp, rs = self.verify(pre + [good], extra)
                self.assertEqual(rs[-1]["ppt"], ppt)
                self.assertEqual(rs[-1]["status"], "pass", rs[-1])
                self.assertEqual(rs[-1]["validClaims"], claims)
                bad = self.secsipidx_raw_sign(ppt, claims, self.other_pem)
                resp, rs = self.verify(pre + [bad], extra)
                self.assertEqual(rs[-1]["status"], "fail", rs[-1])
                self.assertEqual(rs[-1]["reasonCode"], 438, rs[-1])

    def test_secsipidx_checker_types(self):
        """What secsipidx's checker makes of each type stird signs. Evidence
        for the report: it refuses every ppt but shaken before looking at the
        signature; where it does accept a type, it must accept stird's token
        and refuse it once the signature is altered."""
        refused = []
        for name, ppt, members, _, _ in self.cases():
            with self.subTest(type=name):
                h = self.sign(ppt, members, int(time.time()))
                r = self.secsipidx_check(h)
                out = r.stdout + r.stderr
                if SECSIPIDX_PPT_REFUSED in out:
                    self.assertNotEqual(r.returncode, 0)
                    refused.append(ppt)
                    continue
                self.assertEqual(r.returncode, 0, out)
                token, params = h.split(";", 1)
                sig = token.rsplit(".", 1)[1]
                bad = token[:-len(sig)] + ("A" if sig[0] != "A" else "B") + sig[1:] + ";" + params
                self.assertNotEqual(self.secsipidx_check(bad).returncode, 0)
        # The types the installed secsipidx can check: shaken (with rcd
        # claims) only. If a newer secsipidx checks more, this says so.
        self.assertNotIn("shaken", refused)
        sys.stderr.write("\nsecsipidx -check refuses ppt: %s\n" % ", ".join(sorted(set(refused))))

    def test_secsipidx_http_check(self):
        """secsipidx's HTTP mode (-H, POST /v1/check with the Identity value
        as body) gives the same verdicts as its CLI: shaken with rcd passes,
        the other types are refused for their ppt."""
        port = stirtest.free_port()
        log = open(os.path.join(self.tmp.name, "secsipidx.log"), "w+")
        p = subprocess.Popen(["secsipidx", "-H", "127.0.0.1:%d" % port, "-p", self.pub,
                              "-expire", "60"], stdout=log, stderr=subprocess.STDOUT)
        try:
            def check(identity):
                req = urllib.request.Request("http://127.0.0.1:%d/v1/check" % port,
                                             data=identity.encode(), method="POST")
                try:
                    with urllib.request.urlopen(req, timeout=5) as r:
                        return r.status
                except urllib.error.HTTPError as e:
                    return e.code
            deadline = time.time() + 10
            while True:
                try:
                    check("x")
                    break
                except OSError:
                    if time.time() > deadline or p.poll() is not None:
                        raise
                    time.sleep(0.05)
            iat = int(time.time())
            refused = 0
            for name, ppt, members, _, _ in self.cases():
                with self.subTest(type=name):
                    st = check(self.sign(ppt, members, iat))
                    if ppt == "shaken":
                        self.assertEqual(st, 200)
                    elif st != 200:
                        refused += 1
            log.seek(0)
            if refused:
                self.assertIn(SECSIPIDX_PPT_REFUSED, log.read())
        finally:
            p.terminate()
            p.wait(timeout=10)
            log.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
