"""Lab material (src/server/lab.c, lab_create) and `stirctl token`: the
certificates are checked with the openssl CLI and a real mutual-TLS
handshake through Python's ssl; the token with python3-jwcrypto against
the JWKS file, and its certificate binding with hashlib."""
import hashlib
import json
import shutil
import os
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import base64

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from test_auth import AUTHCHECK, run_check  # noqa: E402

from jwcrypto import jwk, jwt  # noqa: E402

STIRCTL = os.environ.get("STIRCTL") or os.path.join(stirtest.SRC, "build", "stirctl")
FILES = ("api-ca.pem", "api.pem", "api.key", "client-ca.pem", "client.pem", "client.key",
         "oauth.key", "oauth-jwks.json", "policy.json")


def read(path):
    with open(path) as f:
        return f.read()


def token(state, *extra):
    r = subprocess.run([STIRCTL, "token", "--state-dir", state, "--client", "lab"] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stdout.decode().strip(), r.stderr.decode()


class LabTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stirlab.")
        cls.state = os.path.join(cls.tmp, "var", "stird")
        r = subprocess.run([AUTHCHECK, "--lab-create", cls.state], stderr=subprocess.PIPE,
                           timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        cls.p = {f: os.path.join(cls.state, f) for f in FILES}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_files_once(self):
        for f in FILES:
            self.assertTrue(os.path.isfile(self.p[f]), f)
        for f in ("api.key", "client.key", "oauth.key"):
            self.assertEqual(stat.S_IMODE(os.stat(self.p[f]).st_mode), 0o600, f)
        self.assertEqual([n for n in os.listdir(self.state) if n.startswith(".lab.") and
                          n != ".lab.lock"], [])
        before = read(self.p["client.pem"])
        r = subprocess.run([AUTHCHECK, "--lab-create", self.state], timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(read(self.p["client.pem"]), before)

    def test_certificates(self):
        out = stirtest.openssl("verify", "-purpose", "sslserver", "-CAfile", self.p["api-ca.pem"],
                               self.p["api.pem"]).decode()
        self.assertIn("OK", out)
        san = stirtest.openssl("x509", "-in", self.p["api.pem"], "-noout", "-ext",
                               "subjectAltName").decode()
        self.assertIn("DNS:localhost", san)
        self.assertIn("IP Address:127.0.0.1", san)
        out = stirtest.openssl("verify", "-purpose", "sslclient", "-CAfile",
                               self.p["client-ca.pem"], self.p["client.pem"]).decode()
        self.assertIn("OK", out)
        subj = stirtest.openssl("x509", "-in", self.p["client.pem"], "-noout", "-subject",
                                "-nameopt", "RFC2253").decode()
        self.assertIn("CN=lab", subj)
        r = subprocess.run(["openssl", "verify", "-CAfile", self.p["api-ca.pem"],
                            self.p["client.pem"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(r.returncode, 0)   # the two CAs are distinct

    def test_mutual_tls_handshake(self):
        srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.load_cert_chain(self.p["api.pem"], self.p["api.key"])
        srv.load_verify_locations(self.p["client-ca.pem"])
        srv.verify_mode = ssl.CERT_REQUIRED
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        seen = {}

        def serve():
            c, _ = ls.accept()
            with srv.wrap_socket(c, server_side=True) as s:
                seen["peer"] = s.getpeercert()
                s.sendall(b"ok")
        t = threading.Thread(target=serve)
        t.start()
        cli = ssl.create_default_context(cafile=self.p["api-ca.pem"])
        cli.load_cert_chain(self.p["client.pem"], self.p["client.key"])
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with cli.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                self.assertEqual(s.recv(2), b"ok")
        t.join(10)
        ls.close()
        self.assertIn((("commonName", "lab"),), seen["peer"]["subject"])

    def test_token_verifies_with_jwcrypto(self):
        rc, tok, err = token(self.state, "--scope", "stir-signing", "--ttl", "120")
        self.assertEqual(rc, 0, err)
        keys = jwk.JWKSet.from_json(read(self.p["oauth-jwks.json"]))
        t = jwt.JWT(jwt=tok, key=keys, algs=["ES256"])
        hdr = json.loads(t.header)
        claims = json.loads(t.claims)
        key = list(keys)[0]
        self.assertEqual(hdr, {"alg": "ES256", "typ": "at+jwt", "kid": key.thumbprint()})
        self.assertEqual(key["kid"], key.thumbprint())
        self.assertEqual((claims["iss"], claims["aud"], claims["client_id"], claims["sub"],
                          claims["scope"]), ("urn:stird:lab-as", "stird", "lab", "lab",
                                             "stir-signing"))
        self.assertEqual(claims["exp"] - claims["iat"], 120)
        self.assertLessEqual(abs(claims["iat"] - time.time()), 5)
        self.assertEqual(claims["nbf"], claims["iat"])
        self.assertRegex(claims["jti"], r"^[0-9a-f-]{36}$")
        der = stirtest.openssl("x509", "-in", self.p["client.pem"], "-outform", "DER")
        x5t = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
        self.assertEqual(claims["cnf"], {"x5t#S256": x5t})
        rc, tok2, _ = token(self.state, "--scope", "stir-verification", "--aud", "nf-x")
        self.assertEqual(json.loads(jwt.JWT(jwt=tok2, key=keys).claims)["aud"], "nf-x")

    def test_token_errors(self):
        self.assertEqual(token(self.state, "--scope", "s", "--ttl", "0")[0], 2)
        self.assertEqual(token(self.tmp, "--scope", "s")[0], 2)
        self.assertEqual(token(self.state)[0], 2)

    def test_lab_policy_through_the_gate(self):
        settings = ["--auth", "oauth", "--oauth-jwks", self.p["oauth-jwks.json"],
                    "--oauth-issuer", "urn:stird:lab-as", "--oauth-audience", "stird",
                    "--policy-file", self.p["policy.json"]]
        tok = token(self.state, "--scope", "stir-signing")[1]
        for tn, status in (("+1 215 555 1212", 200), ("12025551000", 200),
                           ("12155559999", 403)):
            path = os.path.join(self.tmp, "r.json")
            with open(path, "w") as f:
                json.dump({"signingRequest": {"attest": "A", "orig": {"tn": tn},
                                              "dest": {"tn": ["12155551213"]}, "iat": 1}}, f)
            out = run_check(settings, "Bearer " + tok, cert=self.p["client.pem"], request=path)
            self.assertEqual(out["status"], status, (tn, out))
        # bound to client.pem: without it the token is refused
        out = run_check(settings, "Bearer " + tok)
        self.assertEqual(out["status"], 401, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
