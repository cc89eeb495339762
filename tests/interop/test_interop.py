"""Interop with implementations we did not write, through the real stird.

- Debian's secsipidx (Go) checks what stird signs, and signs what stird checks.
- Debian's python3-jwcrypto verifies stird's JWS, and signs a PASSporT stird checks.
stird runs in embedded mode on loopback: its test PKI, its chain served over
HTTPS at its own x5u URL, fetched back through the normal x5u fetch path.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from jwcrypto import jwk, jws

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import openapi  # noqa: E402  (docs/openapi.yaml holds every response)

STIRD = os.environ["STIRD"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def canonical(obj):
    # RFC 8225 section 9, as test-vectors.md reproduces it with python
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


class Interop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.state = os.path.join(cls.tmp.name, "state")
        cls.port, cls.x5u_port = free_port(), free_port()
        cls.log = open(os.path.join(cls.tmp.name, "stird.log"), "w+")
        cls.proc = subprocess.Popen(
            [STIRD, "--embedded", "--plain-http", "--state-dir", cls.state,
             "--listen", f"127.0.0.1:{cls.port}",
             "--x5u-listen", f"127.0.0.1:{cls.x5u_port}", "--fetch-allow-any-port",
             "--metrics-listen", "none"],
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.base = f"http://127.0.0.1:{cls.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(cls.base + "/health", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                if cls.proc.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            raise RuntimeError("stird did not become healthy")
        cls.x5u = f"https://127.0.0.1:{cls.x5u_port}/cert/chain.pem"
        cls.key = os.path.join(cls.state, "sp.key")
        cls.pub = os.path.join(cls.tmp.name, "sp.pub.pem")
        with open(cls.pub, "wb") as f:
            f.write(subprocess.check_output(
                ["openssl", "x509", "-pubkey", "-noout", "-in", os.path.join(cls.state, "sp.pem")]))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        rc = cls.proc.wait(timeout=10)
        cls.log.seek(0)
        out = cls.log.read()
        cls.log.close()
        cls.tmp.cleanup()
        assert "AddressSanitizer" not in out and "runtime error" not in out, out
        assert rc == 0, f"stird exited {rc}: {out[-2000:]}"

    def post(self, resource, body):
        req = urllib.request.Request(f"{self.base}/stir/v1/{resource}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            data = r.read()
            openapi.check_response("POST", "/stir/v1/" + resource, r.status,
                                   r.headers.get("Content-Type"), data)
            return json.loads(data)

    def sign(self, orig="12155551212", dest="12155551213"):
        body = {"signingRequest": {"attest": "A", "orig": {"tn": orig}, "dest": {"tn": [dest]},
                                   "iat": int(time.time()),
                                   "origid": "123e4567-e89b-12d3-a456-426655440000"}}
        return self.post("signing", body)["signingResponse"]["identityHeader"]

    def verify(self, header, orig="12155551212", dest="12155551213"):
        body = {"verificationRequest": {"identityHeader": header, "from": {"tn": orig},
                                        "to": {"tn": dest}, "time": int(time.time())}}
        return self.post("verification", body)["verificationResponse"]

    # --- secsipidx -------------------------------------------------------
    def secsipidx_check(self, header):
        return subprocess.run(["secsipidx", "-c", "-identity", header, "-p", self.pub,
                               "-expire", "60"], capture_output=True, text=True)

    def test_secsipidx_checks_stird_signature(self):
        h = self.sign()
        r = self.secsipidx_check(h)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # and refuses it once one signature character changes
        token, params = h.split(";", 1)
        sig = token.rsplit(".", 1)[1]
        bad = token[: -len(sig)] + ("A" if sig[0] != "A" else "B") + sig[1:] + ";" + params
        self.assertNotEqual(self.secsipidx_check(bad).returncode, 0)

    def secsipidx_sign(self, key, orig="12155551212", dest="12155551213"):
        r = subprocess.run(["secsipidx", "-sign-full", "-k", key, "-o", orig, "-d", dest,
                            "-a", "A", "-x5u", self.x5u], capture_output=True, text=True, check=True)
        return r.stdout.strip()

    def test_stird_checks_secsipidx_signature(self):
        h = self.secsipidx_sign(self.key)
        res = self.verify(h)
        vr = res["verifyResults"][0]["verifyResult"]
        self.assertEqual(res["verstatValue"], "TN-Validation-Passed", res)
        self.assertEqual(vr["status"], "pass")
        self.assertEqual(vr["validClaims"]["orig"], {"tn": "12155551212"})

    def test_stird_refuses_secsipidx_signature_with_other_key(self):
        other = os.path.join(self.tmp.name, "other.key")
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                        "-out", other], check=True)
        res = self.verify(self.secsipidx_sign(other))
        vr = res["verifyResults"][0]["verifyResult"]
        self.assertEqual(res["verstatValue"], "TN-Validation-Failed")
        self.assertEqual(vr["reasonCode"], 438)

    # --- jwcrypto ---------------------------------------------------------
    def test_jwcrypto_verifies_stird_signature(self):
        h = self.sign(orig="+1 (215) 555-1212")
        token = h.split(";", 1)[0]
        with open(self.pub, "rb") as f:
            key = jwk.JWK.from_pem(f.read())
        obj = jws.JWS()
        obj.deserialize(token)
        obj.verify(key, alg="ES256")          # raises on a bad signature
        header_b64, payload_b64, _ = token.split(".")
        header = json.loads(b64u_decode(header_b64))
        payload = json.loads(b64u_decode(payload_b64))
        self.assertEqual(header, {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": self.x5u})
        self.assertEqual(payload["orig"], {"tn": "12155551212"})
        # the signed bytes are the RFC 8225 section 9 serialization
        self.assertEqual(b64u_decode(payload_b64).decode(), canonical(payload))
        self.assertEqual(b64u_decode(header_b64).decode(), canonical(header))

    def jwcrypto_token(self, claims):
        with open(self.key, "rb") as f:
            key = jwk.JWK.from_pem(f.read())
        header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": self.x5u}
        obj = jws.JWS(canonical(claims).encode())
        obj.add_signature(key, alg="ES256", protected=canonical(header))
        return obj.serialize(compact=True)

    def test_stird_checks_jwcrypto_signature(self):
        claims = {"attest": "B", "dest": {"tn": ["12155551213"]}, "iat": int(time.time()),
                  "orig": {"tn": "12155551212"}, "origid": "123e4567-e89b-12d3-a456-426655440000"}
        token = self.jwcrypto_token(claims)
        res = self.verify(token + f";info=<{self.x5u}>;alg=ES256;ppt=\"shaken\"")
        self.assertEqual(res["verstatValue"], "TN-Validation-Passed", res)
        self.assertEqual(res["verifyResults"][0]["verifyResult"]["validClaims"], claims)

    def test_stird_refuses_jwcrypto_token_for_other_caller(self):
        claims = {"attest": "B", "dest": {"tn": ["12155551213"]}, "iat": int(time.time()),
                  "orig": {"tn": "12155559999"}, "origid": "123e4567-e89b-12d3-a456-426655440000"}
        res = self.verify(self.jwcrypto_token(claims) + f";info=<{self.x5u}>;ppt=shaken")
        vr = res["verifyResults"][0]["verifyResult"]
        self.assertEqual(vr["reasonCode"], 438)
        self.assertIn("12155559999", vr["reasonDescription"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
