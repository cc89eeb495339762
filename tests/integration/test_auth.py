"""OAuth 2.0 access tokens at the authentication gate (src/server/auth.c),
driven through tests/tools/authcheck (the HTTP wiring comes later).

Every token is minted here with python3-jwcrypto (or by hand for the
attacks jwcrypto refuses to make: alg none, HS256 keyed with the public
key); keys come from jwcrypto and the openssl CLI; the certificate hash
of RFC 8705 from the openssl CLI and hashlib. Nothing expected is taken
from stird's own output.
"""
import base64
import hashlib
import hmac
import json
import shutil
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

from jwcrypto import jwk, jwt  # noqa: E402

AUTHCHECK = os.environ.get("AUTHCHECK") or os.path.join(stirtest.SRC, "build", "tests",
                                                        "authcheck")
ISS = "https://nrf.example.net"
AUD = "stird"
AUD2 = "0d6e4c8e-6f0b-4a7e-9c53-0c2e5d1f0a11"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def run_check(settings, authorization=None, resource="signing", cert=None, identity=None,
              request=None, ppt=None, repeat=1, now=None, now_step=None, cert_after=None):
    args = [AUTHCHECK, "--resource", resource]
    if now_step is not None:
        args += ["--now-step", str(now_step)]
    if cert_after:
        args += ["--cert-after", cert_after]
    if authorization is not None:
        args += ["--authorization", authorization]
    if cert:
        args += ["--cert", cert]
    if identity:
        args += ["--identity", identity]
    if request:
        args += ["--request", request]
    if ppt:
        args += ["--ppt", ppt]
    if now is not None:
        args += ["--now", str(now)]
    args += ["--repeat", str(repeat), "--"] + list(settings)
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    err = r.stderr.decode()
    for mark in stirtest.SANITIZER_MARKS:
        assert mark not in err, err
    assert r.returncode == 0, err
    lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x.strip()]
    return lines if repeat > 1 else lines[0]


def openssl(*args):
    return subprocess.run(("openssl",) + args, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE).stdout


class AuthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stirauth.")
        cls.ec = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec-1")
        rsa_pem = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
        cls.rsa = jwk.JWK(**dict(json.loads(jwk.JWK.from_pem(rsa_pem).export_private()),
                                 kid="rsa-1"))
        small_pem = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")
        cls.small = jwk.JWK(**dict(json.loads(jwk.JWK.from_pem(small_pem).export_private()),
                                   kid="rsa-small"))
        cls.p384 = jwk.JWK.generate(kty="EC", crv="P-384", kid="ec-384")
        cls.enc = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec-enc")
        keys = [json.loads(k.export_public()) for k in
                (cls.ec, cls.rsa, cls.small, cls.p384)]
        enc = json.loads(cls.enc.export_public())
        enc["use"] = "enc"
        keys.append(enc)
        cls.jwks = os.path.join(cls.tmp, "jwks.json")
        with open(cls.jwks, "w") as f:
            json.dump({"keys": keys}, f)
        cls.settings = ["--auth", "oauth", "--oauth-jwks", cls.jwks, "--oauth-issuer", ISS,
                        "--oauth-audience", AUD, "--oauth-audience", AUD2]
        # Two client certificates from the openssl CLI; RFC 8705 x5t#S256
        # is base64url(SHA-256(DER)), computed here with hashlib.
        cls.cert, cls.cert2 = [os.path.join(cls.tmp, n) for n in ("c1.pem", "c2.pem")]
        for path in (cls.cert, cls.cert2):
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", path + ".key", "-out", path, "-days", "2",
                    "-subj", "/CN=lab")
        der = openssl("x509", "-in", cls.cert, "-outform", "DER")
        cls.x5t = b64u(hashlib.sha256(der).digest())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": ISS, "aud": AUD, "client_id": "lab", "sub": "lab", "scope": "stir-signing",
             "iat": now, "nbf": now, "exp": now + 300, "jti": "j1"}
        return stirtest.overridden(c, over)

    def token(self, key=None, alg="ES256", header=None, **over):
        key = key or self.ec
        h = {"alg": alg, "kid": key["kid"], "typ": "at+jwt"}
        h.update(header or {})
        h = {k: v for k, v in h.items() if v is not None}
        t = jwt.JWT(header=h, claims=self.claims(**over))
        t.make_signed_token(key)
        return t.serialize()

    def check(self, token, **kw):
        return run_check(self.settings, "Bearer " + token, **kw)

    def assertInvalid(self, out, *needles, token=None):
        self.assertEqual(out["status"], 401, out)
        self.assertEqual(out["cause"], "INVALID_TOKEN", out)
        self.assertTrue(out["www_authenticate"].startswith('Bearer error="invalid_token", '
                                                           'error_description="'), out)
        for n in needles:
            self.assertIn(n, out["detail"])
            self.assertIn(n, out["www_authenticate"])
        if token:
            self.assertNotIn(token, out["detail"])
        self.assertEqual(out["principal"], "")

    # ---- accepted -------------------------------------------------------------

    def test_valid_es256(self):
        out = self.check(self.token())
        self.assertEqual(out["status"], 200, out)
        self.assertEqual(out["principal"], "lab")

    def test_valid_rs256(self):
        out = self.check(self.token(self.rsa, "RS256"))
        self.assertEqual(out["status"], 200, out)

    def test_sub_when_no_client_id_and_typ_jwt_or_absent(self):
        out = self.check(self.token(client_id=None, sub="as-client-7", header={"typ": "JWT"}))
        self.assertEqual((out["status"], out["principal"]), (200, "as-client-7"), out)
        out = self.check(self.token(header={"typ": None}))
        self.assertEqual(out["status"], 200, out)

    def test_audience_array_and_second_audience(self):
        out = self.check(self.token(aud=["other", AUD2]))
        self.assertEqual(out["status"], 200, out)

    def test_skew_tolerated(self):
        now = int(time.time())
        out = self.check(self.token(exp=now - 10, iat=now - 100, nbf=now + 10))
        self.assertEqual(out["status"], 200, out)

    def test_verification_scope(self):
        t = self.token(scope="openid stir-verification")
        self.assertEqual(self.check(t, resource="verification")["status"], 200)
        out = self.check(t, resource="signing")
        self.assertEqual(out["status"], 403, out)

    # ---- refused: time, issuer, audience ---------------------------------------

    def test_expired(self):
        exp = int(time.time()) - 100
        out = self.check(self.token(exp=exp))
        want = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
        self.assertInvalid(out, "token expired at " + want)

    def test_no_exp(self):
        self.assertInvalid(self.check(self.token(exp=None)), "no exp")

    def test_not_yet_valid(self):
        self.assertInvalid(self.check(self.token(nbf=int(time.time()) + 120)), "not valid before")

    def test_issued_in_future(self):
        self.assertInvalid(self.check(self.token(iat=int(time.time()) + 120)), "iat")

    def test_wrong_iss(self):
        self.assertInvalid(self.check(self.token(iss="https://evil.example")),
                           "iss https://evil.example is not the configured issuer")

    def test_wrong_aud(self):
        self.assertInvalid(self.check(self.token(aud="someone-else")), "aud does not contain")
        self.assertInvalid(self.check(self.token(aud=["a", "b"])), "aud does not contain")
        self.assertInvalid(self.check(self.token(aud=None)), "no aud")

    # ---- refused: signature, algorithms, keys -----------------------------------

    def test_bad_signature(self):
        t = self.token()
        h, p, s = t.split(".")
        sig = bytearray(base64.urlsafe_b64decode(s + "=="))
        sig[10] ^= 1
        bad = ".".join((h, p, b64u(bytes(sig))))
        self.assertInvalid(self.check(bad), "bad signature", token=bad)
        # the same signature over other claims
        p2 = b64u(json.dumps(self.claims(client_id="admin")).encode())
        self.assertInvalid(self.check(".".join((h, p2, s))), "bad signature")

    def test_alg_none(self):
        h = b64u(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
        p = b64u(json.dumps(self.claims()).encode())
        self.assertInvalid(self.check(h + "." + p + "."), "alg none")
        h = b64u(json.dumps({"alg": "none", "kid": "ec-1"}).encode())
        self.assertInvalid(self.check(h + "." + p + "." + b64u(b"x" * 64)), "alg none")

    def test_hs256_keyed_with_public_key(self):
        p = b64u(json.dumps(self.claims()).encode())
        for kid in ("ec-1", "rsa-1"):
            h = b64u(json.dumps({"alg": "HS256", "kid": kid, "typ": "at+jwt"}).encode())
            pem = (self.ec if kid == "ec-1" else self.rsa).export_to_pem()
            mac = hmac.new(pem, (h + "." + p).encode(), hashlib.sha256).digest()
            self.assertInvalid(self.check(h + "." + p + "." + b64u(mac)), "HS256", "HMAC")
        # ... and with the public JWK's JSON as an oct key, through jwcrypto
        secret = jwk.JWK(kty="oct", k=b64u(self.ec.export_public().encode()), kid="ec-1")
        t = jwt.JWT(header={"alg": "HS256", "kid": "ec-1"}, claims=self.claims())
        t.make_signed_token(secret)
        self.assertInvalid(self.check(t.serialize()), "HS256")
        t = jwt.JWT(header={"alg": "HS512", "kid": "ec-1"}, claims=self.claims())
        t.make_signed_token(secret)
        self.assertInvalid(self.check(t.serialize()), "HS512")

    def test_key_confusion_between_ec_and_rsa(self):
        # An RS256 token naming the EC key, and an ES256 one naming the RSA key.
        t = self.token(self.rsa, "RS256", header={"kid": "ec-1"})
        self.assertInvalid(self.check(t), "key ec-1 is an EC key, not for RS256")
        t = self.token(self.ec, "ES256", header={"kid": "rsa-1"})
        self.assertInvalid(self.check(t), "key rsa-1 is an RSA key, not for ES256")

    def test_unknown_kid_and_no_kid(self):
        other = jwk.JWK.generate(kty="EC", crv="P-256", kid="ec-9")
        self.assertInvalid(self.check(self.token(other)), "kid ec-9 is not in")
        self.assertInvalid(self.check(self.token(header={"kid": None})), "no kid")

    def test_unusable_keys(self):
        self.assertInvalid(self.check(self.token(self.small, "RS256")), "1024 bits")
        self.assertInvalid(self.check(self.token(self.p384, "ES384")), "ES384 is not accepted")
        self.assertInvalid(self.check(self.token(self.ec, header={"kid": "ec-384"})), "P-384")
        self.assertInvalid(self.check(self.token(self.enc)), "not a signature verification key")

    def test_crit_and_typ(self):
        # jwcrypto will not make a token with an unknown crit: by hand (the
        # header is refused before any signature check).
        h = b64u(json.dumps({"alg": "ES256", "kid": "ec-1", "crit": ["x"], "x": 1}).encode())
        p = b64u(json.dumps(self.claims()).encode())
        self.assertInvalid(self.check(h + "." + p + "." + b64u(b"\0" * 64)), "crit")
        self.assertInvalid(self.check(self.token(header={"typ": "dpop+jwt"})),
                           "typ dpop+jwt is not at+jwt or JWT")
        self.assertEqual(self.check(self.token(header={"typ": "application/at+jwt"}))["status"],
                         200)

    # ---- refused: scope -----------------------------------------------------------

    def test_missing_or_other_scope(self):
        for scope in (None, "stir-verification", "stir-signing-x openid"):
            out = self.check(self.token(scope=scope))
            self.assertEqual(out["status"], 403, out)
            self.assertEqual(out["cause"], "INSUFFICIENT_SCOPE")
            self.assertEqual(out["www_authenticate"],
                             'Bearer error="insufficient_scope", error_description="the access '
                             'token lacks the scope stir-signing", scope="stir-signing"')

    # ---- certificate-bound tokens (RFC 8705) --------------------------------------

    def test_cnf_match(self):
        t = self.token(cnf={"x5t#S256": self.x5t})
        out = self.check(t, cert=self.cert, identity="urn:stird:client:lab")
        self.assertEqual(out["status"], 200, out)

    def test_cnf_mismatch_or_no_cert(self):
        t = self.token(cnf={"x5t#S256": self.x5t})
        self.assertInvalid(self.check(t, cert=self.cert2), "another client certificate")
        self.assertInvalid(self.check(t), "none was presented")
        self.assertInvalid(self.check(self.token(cnf={"jkt": "abc"}), cert=self.cert),
                           "x5t#S256")

    def test_seen_again(self):
        # A verified token is remembered; the clock and the connection's
        # certificate are still checked every time it comes back.
        now = int(time.time())
        t = "Bearer " + self.token(exp=now + 60, cnf={"x5t#S256": self.x5t})
        outs = run_check(self.settings, t, cert=self.cert, repeat=3, now=now, now_step=50)
        self.assertEqual([o["status"] for o in outs], [200, 200, 401], outs)
        self.assertIn("token expired at", outs[2]["detail"])
        outs = run_check(self.settings, t, cert=self.cert, cert_after=self.cert2, repeat=2)
        self.assertEqual([o["status"] for o in outs], [200, 401], outs)
        self.assertIn("another client certificate", outs[1]["detail"])
        outs = run_check(self.settings, t, cert=self.cert, repeat=2, resource="verification")
        self.assertEqual([o["status"] for o in outs], [403, 403], outs)

    # ---- malformed ------------------------------------------------------------------

    def test_missing_and_other_scheme(self):
        out = run_check(self.settings)
        self.assertEqual((out["status"], out["www_authenticate"]), (401, "Bearer"), out)
        out = run_check(self.settings, "Basic bGFiOmxhYg==")
        self.assertEqual((out["status"], out["www_authenticate"]), (401, "Bearer"), out)

    def test_oversized_and_garbage(self):
        big = self.token(pad="x" * 9000)
        self.assertInvalid(self.check(big), "longer than 8192")
        for g in ("abc", "a.b", "a.b.c.d", "!!!.???.###", "e30.e30.", ".e30.x"):
            out = self.check(g)
            self.assertEqual(out["status"], 401, (g, out))
            self.assertEqual(out["cause"], "INVALID_TOKEN")
        h = b64u(b'{"alg":"ES256","alg":"none","kid":"ec-1"}')
        self.assertInvalid(self.check(h + ".e30.AAAA"), "duplicate")

    def test_no_client_identity(self):
        self.assertInvalid(self.check(self.token(client_id=None, sub=None)), "no client_id or sub")
        self.assertInvalid(self.check(self.token(client_id="a\u0001b")), "no client_id or sub")

    # ---- the token's client names the policy entry ----------------------------------

    def test_policy_by_client_id(self):
        path = os.path.join(self.tmp, "policy.json")
        with open(path, "w") as f:
            json.dump({"clients": {"lab": {"resources": ["verification"]}}}, f)
        s = self.settings + ["--policy-file", path]
        t = self.token(scope="stir-signing stir-verification")
        out = run_check(s, "Bearer " + t, resource="verification")
        self.assertEqual((out["status"], out["client"]), (200, "lab"), out)
        out = run_check(s, "Bearer " + t, resource="signing")
        self.assertEqual((out["status"], out["rule"]), (403, "resources"), out)
        out = run_check(s, "Bearer " + self.token(client_id="other", scope="stir-verification"),
                        resource="verification")
        self.assertEqual((out["status"], out["rule"]), (403, "clients"), out)

    # ---- the JWKS file ----------------------------------------------------------------

    def test_jwks_refused(self):
        cases = {
            "oct": ({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}, "k)"),
            "private": ({"keys": [json.loads(self.ec.export_private())]}, "private"),
            "nokid": ({"keys": [{k: v for k, v in json.loads(self.ec.export_public()).items()
                                 if k != "kid"}]}, "needs a kid"),
            "empty": ({"keys": []}, "1 to 16 keys"),
        }
        for name, (doc, needle) in cases.items():
            path = os.path.join(self.tmp, name + ".json")
            with open(path, "w") as f:
                json.dump(doc, f)
            s = list(self.settings)
            s[s.index(self.jwks)] = path
            out = run_check(s, "Bearer " + self.token())
            self.assertIn("load_error", out, name)
            self.assertIn(needle, out["load_error"], name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
