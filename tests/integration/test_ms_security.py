"""The secured Ms API end to end, over real HTTPS (issue 8 items 2-5, 9):
mutual TLS, OAuth access tokens, static authorization, every policy rule,
the rate limit, the audit trail traced back from a downstream ppi, and a
SIGHUP policy reload under an open keep-alive connection.

Certificates come from the openssl CLI (test_tls.py's helpers), tokens
from python3-jwcrypto (or are built by hand for the attacks jwcrypto
refuses to make), the certificate hash of RFC 8705 from hashlib over the
openssl CLI's DER. Clients are Python's http.client/ssl and curl. Every
response is held to docs/openapi.yaml.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi  # noqa: E402
import stirtest  # noqa: E402
from test_tls import CLIENT_EXT, make_ca, make_expired, make_leaf, make_mtls_pki, ossl  # noqa: E402

from jwcrypto import jwk, jwt  # noqa: E402

STIRCTL = os.environ.get("STIRCTL") or os.path.join(os.path.dirname(stirtest.STIRD), "stirctl")
ISS = "https://nrf.example.net"
AUD = "stird"
URI_ID = "spiffe://example.net/ms/client-a"
SIGNING = "/stir/v1/signing"
VERIFICATION = "/stir/v1/verification"

POLICY = {
    "clients": {
        "signer": {
            "resources": ["signing", "verification"],
            "ppt": ["shaken", "rcd", "avatar"],
            "orig_tn": ["12155551212", "1202555*"],
            "orig_uri": ["sip:*@lab.example.net"],
            "max_attest": "B",
            "rcd_nam": ["Q Branch*"],
            "rcd_url_prefixes": ["https://rcd.example.com/", "https://127.0.0.1:"],
            "iss": ["urn:example:enterprise:*"],
            "appid": ["com.example.xr"],
        },
        "verifier": {"resources": ["verification"]},
        "slow": {"resources": ["signing"], "ppt": ["*"], "orig_tn": ["*"], "max_attest": "A",
                 "rate": 0.5, "burst": 2},
    }
}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def write_json(path, doc):
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return path


class Https:
    """A stird over HTTPS with mutual TLS; requests through http.client."""

    def __init__(self, server, client_ca, ca, cert, *extra):
        self.ca, self.cert = ca, cert
        self.srv = stirtest.Server("--tls-cert", server[0], "--tls-key", server[1],
                                   "--tls-client-ca", client_ca, *extra, plain=False,
                                   wait=False)
        self.srv.wait_until(self.healthy)

    def healthy(self):
        c = self.conn(None, timeout=2)
        try:
            c.request("GET", "/health")
            return c.getresponse().status == 200
        finally:
            c.close()

    def conn(self, cert, timeout=15):
        ctx = ssl.create_default_context(cafile=self.ca)
        cert = cert or self.cert
        if cert:
            ctx.load_cert_chain(cert[0], cert[1])
        return http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=ctx,
                                           timeout=timeout)

    def call(self, path, body, token=None, cert=None, conn=None, method="POST"):
        """(status, headers with lower-case names, parsed body)."""
        c = conn or self.conn(cert)
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = token if token.startswith(("Bearer ", "Basic ")) else \
                "Bearer " + token
        data = json.dumps(body).encode()
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            if conn is None:
                c.close()
        openapi.check_response(method, path, r.status, hdrs.get("content-type"), raw)
        return r.status, hdrs, json.loads(raw) if raw else None


class MsSecurityTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = d = tempfile.mkdtemp(prefix="stirsec.")
        cls.srv_ca, cls.cli_ca, cls.server, cls.good = make_mtls_pki(d, "URI:" + URI_ID)
        cls.other_ca = make_ca(d, "otherca")
        cls.second = make_leaf(d, "second", cls.cli_ca, "/CN=client-b", CLIENT_EXT)
        cls.other = make_leaf(d, "other", cls.other_ca, "/CN=intruder", CLIENT_EXT)
        cls.expired = make_expired(d, cls.cli_ca)
        der = ossl("x509", "-in", cls.good[0], "-outform", "DER")
        cls.x5t_good = b64u(hashlib.sha256(der).digest())
        der = ossl("x509", "-in", cls.second[0], "-outform", "DER")
        cls.x5t_second = b64u(hashlib.sha256(der).digest())

        cls.ec = jwk.JWK.generate(kty="EC", crv="P-256", kid="as-1")
        cls.jwks = write_json(os.path.join(d, "jwks.json"),
                              {"keys": [json.loads(cls.ec.export_public())]})
        cls.policy = write_json(os.path.join(d, "policy.json"), POLICY)
        cls.audit = os.path.join(d, "audit.jsonl")
        cls.files = os.path.join(d, "files")
        os.makedirs(cls.files)
        with open(os.path.join(cls.files, "logo.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        cls.api = Https(cls.server, cls.cli_ca[1], cls.srv_ca[1], cls.good, "--auth", "oauth", "--oauth-jwks",
                        cls.jwks, "--oauth-issuer", ISS, "--oauth-audience", AUD,
                        "--policy-file", cls.policy, "--audit-log", cls.audit)

    @classmethod
    def tearDownClass(cls):
        cls.api.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    # ---- helpers ---------------------------------------------------------------------

    def claims(self, **over):
        now = int(time.time())
        c = {"iss": ISS, "aud": AUD, "client_id": "signer", "scope": "stir-signing "
             "stir-verification", "iat": now, "nbf": now, "exp": now + 300}
        return stirtest.overridden(c, over)

    def token(self, key=None, **over):
        t = jwt.JWT(header={"alg": "ES256", "kid": "as-1", "typ": "at+jwt"},
                    claims=self.claims(**over))
        t.make_signed_token(key or self.ec)
        return t.serialize()

    @staticmethod
    def req(**over):
        r = {"orig": {"tn": "12155551212"}, "dest": {"tn": ["12155551213"]},
             "iat": int(time.time()), "attest": "B"}
        r.update(over)
        return {"signingRequest": {k: v for k, v in r.items() if v is not None}}

    def sign(self, token=None, path=SIGNING, **over):
        return self.api.call(path, self.req(**over), token or self.token())

    def assertProblem(self, got, status, cause=None, detail=None):
        st, hdrs, body = got
        self.assertEqual(st, status, body)
        self.assertEqual(hdrs["content-type"], "application/problem+json")
        self.assertEqual(body["status"], status)
        if cause:
            self.assertEqual(body.get("cause"), cause, body)
        if detail:
            self.assertIn(detail, body["detail"])

    def assertInvalidToken(self, token, *needles):
        got = self.sign(token=token)
        self.assertProblem(got, 401, "INVALID_TOKEN")
        www = got[1].get("www-authenticate", "")
        self.assertTrue(www.startswith('Bearer error="invalid_token", error_description="'), www)
        for n in needles:
            self.assertIn(n, got[2]["detail"])
        self.assertNotIn(token, got[2]["detail"])

    def assertPolicy(self, got, detail):
        self.assertProblem(got, 403, "NOT_AUTHORIZED_BY_POLICY", detail)
        self.assertNotIn("www-authenticate", got[1])

    def assertSigned(self, got):
        self.assertEqual(got[0], 200, got[2])
        self.assertIn("identityHeader", got[2]["signingResponse"])

    # ---- transport --------------------------------------------------------------------

    def test_handshake_needs_a_good_client_certificate(self):
        for cert, why in ((None, "no client certificate"), (self.other, "another CA"),
                          (self.expired, "expired")):
            ctx = ssl.create_default_context(cafile=self.srv_ca[1])
            if cert:
                ctx.load_cert_chain(cert[0], cert[1])
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError), msg=why):
                with socket.create_connection(("127.0.0.1", self.api.srv.port), timeout=10) as s:
                    with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                        t.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        if not t.recv(100).startswith(b"HTTP/1.1 "):
                            raise ConnectionError("no HTTP answer")
        # curl agrees: no certificate, no answer
        r = subprocess.run(["curl", "-sS", "--cacert", self.srv_ca[1], "-o", "/dev/null",
                            "-w", "%{http_code}", "https://127.0.0.1:%d/health"
                            % self.api.srv.port], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, b"000")

    # ---- tokens -----------------------------------------------------------------------

    def test_valid_token_signs_and_principal_is_logged(self):
        got = self.sign(requestId="ok-1")
        self.assertSigned(got)
        deadline = time.time() + 5
        while "client=signer rid=ok-1" not in self.api.srv.stderr() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("client=signer rid=ok-1", self.api.srv.stderr())

    def test_missing_token(self):
        got = self.api.call(SIGNING, self.req())
        self.assertProblem(got, 401, "MISSING_TOKEN")
        self.assertEqual(got[1]["www-authenticate"], "Bearer")
        got = self.api.call(SIGNING, self.req(), "Basic dXNlcjpwYXNz")
        self.assertProblem(got, 401, "MISSING_TOKEN")

    def test_expired_and_not_yet_valid(self):
        now = int(time.time())
        self.assertInvalidToken(self.token(exp=now - 3600, iat=now - 7200, nbf=now - 7200),
                                "expired")
        self.assertInvalidToken(self.token(nbf=now + 3600, iat=now), "not valid before")

    def test_wrong_iss_and_aud(self):
        self.assertInvalidToken(self.token(iss="https://evil.example"), "iss")
        self.assertInvalidToken(self.token(aud="someone-else"), "aud")

    def test_bad_signature(self):
        h, p, s = self.token().split(".")
        sig = bytearray(b64u_dec(s))
        sig[5] ^= 1
        self.assertInvalidToken(".".join((h, p, b64u(bytes(sig)))), "bad signature")
        other = jwk.JWK.generate(kty="EC", crv="P-256", kid="as-1")
        self.assertInvalidToken(self.token(key=other), "bad signature")

    def test_alg_none_and_hs256_with_public_key(self):
        p = b64u(json.dumps(self.claims()).encode())
        h = b64u(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
        self.assertInvalidToken(h + "." + p + "." + b64u(b"x" * 8), "alg none")
        h = b64u(json.dumps({"alg": "HS256", "kid": "as-1", "typ": "at+jwt"}).encode())
        mac = hmac.new(self.ec.export_to_pem(), (h + "." + p).encode(), hashlib.sha256).digest()
        self.assertInvalidToken(h + "." + p + "." + b64u(mac), "HS256")

    def test_missing_scope(self):
        got = self.sign(token=self.token(scope="stir-verification"))
        self.assertProblem(got, 403, "INSUFFICIENT_SCOPE")
        www = got[1]["www-authenticate"]
        self.assertTrue(www.startswith('Bearer error="insufficient_scope"'), www)
        self.assertIn('scope="stir-signing"', www)

    def test_cnf(self):
        self.assertSigned(self.sign(token=self.token(cnf={"x5t#S256": self.x5t_good})))
        self.assertInvalidToken(self.token(cnf={"x5t#S256": self.x5t_second}),
                                "another client certificate")

    # ---- policy rules, refused and allowed, over HTTP ----------------------------------

    def test_verification_only_client_cannot_sign(self):
        t = self.token(client_id="verifier")
        self.assertPolicy(self.sign(token=t), "may not use the signing resource")
        got = self.api.call(VERIFICATION, {"verificationRequest": {
            "identityHeader": "a.b.c", "from": {"tn": "1"}, "to": {"tn": "2"},
            "time": int(time.time())}}, t)
        self.assertNotEqual(got[0], 403, got[2])
        t = self.token(client_id="nobody")
        self.assertPolicy(self.sign(token=t), "client 'nobody' is not in the policy")

    def test_ppt_and_legacy_resource(self):
        self.assertSigned(self.sign())
        self.assertPolicy(self.sign(ppt="div", div={"tn": ["12155551214"]}), "ppt div")
        self.assertPolicy(self.sign(path="/stir/v1/divSigning", div={"tn": ["12155551214"]}),
                          "ppt div")
        # No ppt: the signer infers div from the members; the policy must
        # judge that type, not "shaken" (which this client may sign).
        self.assertPolicy(self.sign(attest=None, div={"tn": ["12155551214"]}), "ppt div")
        self.assertPolicy(self.sign(attest=None, rph={"auth": ["ets.0"]}), "ppt rph")

    def test_orig(self):
        self.assertSigned(self.sign(orig={"tn": "+1 202-555-0147"}))
        self.assertPolicy(self.sign(orig={"tn": "12155559999"}),
                          "orig.tn 12155559999 is outside the orig_tn of client 'signer'")
        self.assertSigned(self.sign(orig={"uri": "sip:alice@lab.example.net"}))
        self.assertPolicy(self.sign(orig={"uri": "sip:alice@evil.example.net"}), "orig_uri")

    def test_attest(self):
        self.assertSigned(self.sign(attest="C"))
        self.assertPolicy(self.sign(attest="A"), "attest A is above the max_attest B")

    def test_rcd_iss_appid(self):
        self.assertSigned(self.sign(ppt="rcd", rcd={"nam": "Q Branch Gadgets"}))
        self.assertPolicy(self.sign(ppt="rcd", rcd={"nam": "Bank of Nowhere"}), "rcd.nam")
        # allowed by the policy; the signer then fetches the logo on the
        # fetch pool (rcd.example.com is not reachable from here)
        got = self.sign(ppt="rcd", rcd={"nam": "Q Branch", "icn": "https://rcd.example.com/q.png"},
                        requestId="deferred-1")
        self.assertNotEqual(got[0], 403, got[2])
        with open(self.audit) as f:
            recs = [json.loads(x) for x in f if '"deferred-1"' in x]
        self.assertEqual([(r["status"], r["client"]) for r in recs], [(got[0], "signer")], recs)
        self.assertPolicy(self.sign(ppt="rcd", rcd={"nam": "Q Branch",
                                                    "icn": "https://evil.example/q.png"}),
                          "rcd.icn https://evil.example/q.png")
        self.assertSigned(self.sign(ppt="rcd", rcd={"nam": "Q Branch"},
                                    iss="urn:example:enterprise:7"))
        self.assertPolicy(self.sign(ppt="rcd", rcd={"nam": "Q Branch"}, iss="urn:other:1"),
                          "iss urn:other:1")
        self.assertSigned(self.sign(ppt="avatar", avatar="urn:a:1", appid="com.example.xr"))
        self.assertPolicy(self.sign(ppt="avatar", avatar="urn:a:1", appid="com.evil.xr"),
                          "appid com.evil.xr")

    def test_rate_limit(self):
        t = self.token(client_id="slow")
        sts = [self.sign(token=t)[0] for _ in range(2)]
        self.assertEqual(sts, [200, 200])
        got = self.sign(token=t, requestId="too-fast")
        self.assertProblem(got, 429, detail="over its rate")
        self.assertGreaterEqual(int(got[1]["retry-after"]), 1)
        with open(self.audit) as f:
            recs = [json.loads(x) for x in f]
        self.assertTrue(any(r["outcome"] == "refused" and r["status"] == 429 and
                            r["client"] == "slow" for r in recs), recs[-3:])

    # ---- audit ------------------------------------------------------------------------

    def test_audit_trace_from_downstream_ppi(self):
        now = int(time.time())
        st, _, body = self.sign(requestId="trace-me", iat=now, attest="B")
        self.assertEqual(st, 200, body)
        identity = body["signingResponse"]["identityHeader"]
        token, _, params = identity.partition(";")
        h, p, s = token.split(".")
        claims = json.loads(b64u_dec(p))
        claims["dest"] = {"tn": ["19995550000"]}       # what a forger would change
        forged = ".".join((h, b64u(json.dumps(claims).encode()), s)) + ";" + params
        st, _, body = self.api.call(VERIFICATION, {"verificationRequest": {
            "identityHeader": forged, "from": {"tn": "12155551212"},
            "to": {"tn": "19995550000"}, "time": now}}, self.token())
        self.assertEqual(st, 200, body)
        res = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual((res["status"], res["reasonCode"]), ("fail", 438), res)
        ppi = res["reasonHeader"].split("ppi=", 1)[1]
        self.assertEqual(ppi.strip('"'), ".." + s)
        r = subprocess.run([STIRCTL, "audit", "--log", self.audit, "--ppi", ppi],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        recs = [json.loads(x) for x in r.stdout.decode().splitlines()]
        self.assertEqual(len(recs), 1, recs)
        rec = recs[0]
        self.assertEqual((rec["outcome"], rec["client"], rec["requestId"], rec["certIdentity"]),
                         ("signed", "signer", "trace-me", URI_ID))
        self.assertEqual(rec["passport"], token)
        self.assertEqual(rec["dest"], {"tn": ["12155551213"]})
        with open(self.audit) as f:
            text = f.read()
        self.assertNotIn(self.token()[:60], text)     # no access token is ever written

    def test_signing_finished_on_the_fetch_pool_is_audited(self):
        # The logo must be fetched for its rcdi digest: the signing is parked
        # and finished on the fetch pool, then audited there.
        with stirtest.CertServer.with_tls_of(self.api.srv, self.files) as cs:
            got = self.sign(ppt="rcd", rcd={"nam": "Q Branch", "icn": cs.url("logo.png")},
                            requestId="pool-1")
        self.assertSigned(got)
        token = got[2]["signingResponse"]["identityHeader"].split(";")[0]
        with open(self.audit) as f:
            recs = [json.loads(x) for x in f if '"pool-1"' in x]
        self.assertEqual(len(recs), 1, recs)
        self.assertEqual((recs[0]["outcome"], recs[0]["client"], recs[0]["passport"]),
                         ("signed", "signer", token))
        claims = json.loads(b64u_dec(token.split(".")[1]))
        self.assertEqual(claims["rcdi"]["/icn"], "sha256-" + base64.b64encode(
            hashlib.sha256(b"\x89PNG\r\n\x1a\n" + bytes(range(256))).digest()).decode())

    def test_refused_signing_is_audited(self):
        self.sign(orig={"tn": "12155550001"}, requestId="refused-1")
        with open(self.audit) as f:
            recs = [json.loads(x) for x in f]
        rec = [r for r in recs if r.get("requestId") == "refused-1"]
        self.assertEqual(len(rec), 1, recs[-3:])
        self.assertEqual((rec[0]["outcome"], rec[0]["status"], rec[0]["client"]),
                         ("refused", 403, "signer"))
        self.assertIn("orig_tn", rec[0]["reason"])


class StaticAndReloadTest(unittest.TestCase):
    """auth = static: the certificate identity names the client; SIGHUP."""

    @classmethod
    def setUpClass(cls):
        cls.d = d = tempfile.mkdtemp(prefix="stirsec2.")
        cls.srv_ca, cls.cli_ca, cls.server, cls.good = make_mtls_pki(d, "URI:" + URI_ID)
        cls.unlisted = make_leaf(d, "unlisted", cls.cli_ca, "/CN=client-z", CLIENT_EXT)
        cls.policy = os.path.join(d, "policy.json")
        cls.write_policy(["12155551212"])
        cls.api = Https(cls.server, cls.cli_ca[1], cls.srv_ca[1], cls.good, "--auth", "static", "--policy-file",
                        cls.policy)

    @classmethod
    def tearDownClass(cls):
        cls.api.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)

    @classmethod
    def write_policy(cls, tns, **rate):
        write_json(cls.policy + ".tmp", {"clients": {URI_ID: dict({
            "resources": ["signing"], "ppt": ["shaken"], "orig_tn": tns,
            "max_attest": "A"}, **rate)}})
        os.rename(cls.policy + ".tmp", cls.policy)

    def sign(self, tn, conn=None, cert=None):
        return self.api.call(SIGNING, {"signingRequest": {
            "orig": {"tn": tn}, "dest": {"tn": ["12155551213"]}, "iat": int(time.time()),
            "attest": "A"}}, conn=conn, cert=cert)

    def test_listed_and_unlisted_identities(self):
        self.assertEqual(self.sign("12155551212")[0], 200)
        st, hdrs, body = self.sign("12155551212", cert=self.unlisted)
        self.assertEqual((st, body["cause"]), (403, "NOT_AUTHORIZED_BY_POLICY"), body)
        self.assertIn("client 'client-z' is not in the policy", body["detail"])

    def hup_and_wait(self, needle):
        n = self.api.srv.stderr().count(needle)
        self.api.srv.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while self.api.srv.stderr().count(needle) == n:
            self.assertLess(time.time(), deadline, self.api.srv.stderr()[-2000:])
            time.sleep(0.05)

    def test_sighup_does_not_refill_the_rate(self):
        # One token per 20 s: nothing refills during the test. Before the
        # fix a reload built fresh (full) buckets.
        self.write_policy(["12155551212"], rate=0.05, burst=2)
        self.hup_and_wait("SIGHUP: policy reloaded")
        try:
            self.assertEqual([self.sign("12155551212")[0] for _ in range(2)], [200, 200])
            st, hdrs, body = self.sign("12155551212")
            self.assertEqual(st, 429, body)
            self.assertEqual(body["cause"], "TOO_MANY_REQUESTS", body)
            self.hup_and_wait("SIGHUP: policy reloaded")
            st, hdrs, body = self.sign("12155551212")
            self.assertEqual(st, 429, body)
            self.assertEqual(body["cause"], "TOO_MANY_REQUESTS", body)
            self.assertGreaterEqual(int(hdrs["retry-after"]), 1)
        finally:
            self.write_policy(["12155551212"])
            self.hup_and_wait("SIGHUP: policy reloaded")

    def test_sighup_reload_keeps_the_connection(self):
        c = self.api.conn(None)
        try:
            st, hdrs, _ = self.sign("12155551212", conn=c)
            self.assertEqual(st, 200)
            sock = c.sock
            self.write_policy(["12025550000"])
            self.hup_and_wait("SIGHUP: policy reloaded")
            st, hdrs, body = self.sign("12155551212", conn=c)
            self.assertEqual((st, body["cause"]), (403, "NOT_AUTHORIZED_BY_POLICY"), body)
            self.assertIs(c.sock, sock)          # the same TLS connection
            with open(self.policy, "w") as f:
                f.write('{"clients": {"x": {"resources": ["signing"], "orig_tns": []}}}')
            self.hup_and_wait("SIGHUP: new policy/OAuth keys REFUSED")
            self.assertIn("orig_tns: unknown member", self.api.srv.stderr())
            st, _, _ = self.sign("12025550000", conn=c)
            self.assertEqual(st, 200)            # the previous policy keeps serving
            self.assertIs(c.sock, sock)
        finally:
            c.close()
            self.write_policy(["12155551212"])
            self.hup_and_wait("SIGHUP: policy reloaded")


if __name__ == "__main__":
    unittest.main(verbosity=2)
