"""Malformed input never breaks stird: seeded random mutations of valid
signing and verification bodies, odd JSON shapes and hostile HTTP. Every
answer must be well-formed (200 JSON or a problem+json error), and the
server must stay healthy and exit cleanly (no sanitizer report)."""
import json
import os
import random
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

ROUNDS = 300


class RobustnessTest(stirtest.ServerTestCase):

    def check_answer(self, st, body, hd, raw_in):
        self.assertIn(st, (200, 400, 413), raw_in[:200])
        ct = hd.get("content-type", "")
        if st == 200:
            self.assertTrue(ct.startswith("application/json"))
            self.assertIsInstance(body, dict)
        else:
            self.assertTrue(ct.startswith("application/problem+json"), (st, body))
            self.assertEqual(body["status"], st)

    def mutate(self, rnd, data):
        data = bytearray(data)
        for _ in range(rnd.randint(1, 4)):
            op = rnd.randrange(4)
            i = rnd.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(i, len(data) - 1)] = rnd.randrange(256)
            elif op == 1:
                data[i:i] = bytes(rnd.choice([b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\",
                                              b"\\u0000", b"\xc3", b"\xed\xa0\x80", b"1e999",
                                              b"-0", b"null", b"true", b"9" * 30]))
            elif op == 2 and data:
                del data[i:i + rnd.randint(1, 8)]
            else:
                data[i:i] = data[rnd.randrange(len(data) or 1):][:rnd.randint(1, 40)]
        return bytes(data)

    def test_mutated_bodies(self):
        rnd = random.Random(8224)
        identity, req = self.srv.sign_ok()
        seeds = [
            ("/stir/v1/signing", json.dumps({"signingRequest": {
                "attest": "A", "orig": {"tn": stirtest.ORIG_TN},
                "dest": {"tn": [stirtest.DEST_TN], "uri": ["sip:bob@example.com"]},
                "iat": req["iat"], "origid": "123e4567-e89b-42d3-a456-426614174000",
                "requestId": "r"}}).encode()),
            ("/stir/v1/verification", json.dumps({"verificationRequest": {
                "identityHeader": identity, "identityHeaders": [identity],
                "from": {"tn": stirtest.ORIG_TN}, "to": {"tn": stirtest.DEST_TN},
                "dest": {"uri": "sip:+12155551213@example.com;user=phone"},
                "time": req["iat"]}}).encode()),
        ]
        for _ in range(ROUNDS):
            path, seed = rnd.choice(seeds)
            data = self.mutate(rnd, seed)
            st, body, hd = self.srv.post(path, data)
            self.check_answer(st, body, hd, data)
        st, _, _ = self.srv.request("GET", "/health")
        self.assertEqual(st, 200)

    def test_odd_shapes(self):
        now = int(time.time())
        odd = [
            {"signingRequest": {"orig": {"tn": ["1", "2"]}, "dest": {"tn": [[]]}, "iat": now}},
            {"signingRequest": {"orig": {}, "dest": {}, "iat": now}},
            {"signingRequest": {"orig": {"uri": "sip:" + "a" * 5000 + "@x"},
                                "dest": {"uri": ["x"]}, "iat": now, "attest": "A"}},
            {"signingRequest": {"orig": {"tn": "1"}, "dest": {"tn": ["1"] * 1000}, "iat": now,
                                "attest": "A"}},
            {"signingRequest": {"orig": {"tn": "1"}, "dest": {"tn": ["1"]}, "iat": 2 ** 63 - 1}},
            {"signingRequest": {"orig": {"tn": "1"}, "dest": {"tn": ["1"]}, "iat": -1}},
            {"signingRequest": {"orig": {"tn": "1"}, "dest": {"tn": ["1"]}, "iat": now,
                                "attest": "A", "ppt": ""}},
            {"signingRequest": {"orig": {"tn": "1"}, "dest": {"tn": ["1"]}, "iat": now,
                                "attest": "A", "requestId": "x" * 10000}},
            {"verificationRequest": {"identityHeader": "x" * 60000, "from": {"tn": "1"},
                                     "to": {"tn": "1"}, "time": now}},
            {"verificationRequest": {"identityHeader": "a", "identityHeaders": ["b"] * 100,
                                     "from": {"tn": "1"}, "to": {"tn": "1"}, "time": now}},
            {"verificationRequest": {"identityHeader": "..AAAA;info=<https://[::1]:99999/>",
                                     "from": {"tn": "1"}, "to": {"tn": "1"}, "time": now}},
            {"verificationRequest": {"identityHeader": "a.b.c;info=<file:///etc/passwd>",
                                     "from": {"tn": "1"}, "to": {"tn": "1"}, "time": 2 ** 62}},
        ]
        nested = b"[" * 3000 + b"]" * 3000
        for obj in odd:
            path = "/stir/v1/signing" if "signingRequest" in obj else "/stir/v1/verification"
            data = json.dumps(obj).encode()
            st, body, hd = self.srv.post(path, data)
            self.check_answer(st, body, hd, data)
        st, body, hd = self.srv.post("/stir/v1/signing", b'{"signingRequest":' + nested + b"}")
        self.check_answer(st, body, hd, nested)

    def test_hostile_http(self):
        cases = [
            b"POST /stir/v1/signing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: -1\r\nConnection: close\r\n\r\n",
            b"POST /stir/v1/signing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n",
            b"POST /stir/v1/signing HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000 + b"\r\n\r\n",
            b"GARBAGE\r\n\r\n",
            b"POST /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /stir/v1/signing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\nConnection: close\r\n\r\n{\"short\":",
        ]
        for raw in cases:
            try:
                st, data = self.srv.raw(raw, timeout=3)
            except OSError:
                continue            # the server may just close the connection
            self.assertNotEqual(st, 200, data[:200])
        # Half a body, then silence: the connection is dropped after the
        # idle timeout without harm; meanwhile others are served.
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=5) as s:
            s.sendall(b"POST /stir/v1/signing HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 60000\r\n\r\n{")
            st, _, _ = self.srv.request("GET", "/health")
            self.assertEqual(st, 200)
        st, _, _ = self.srv.request("GET", "/ready")
        self.assertEqual(st, 200)


class MixedSetRobustnessTest(stirtest.ServerTestCase):
    """Verification requests mixing every PASSporT type, damaged at random
    (cut, a character changed, ppt parameters swapped, hostile
    protectedHeaders, up to 17 headers): each is answered 200 or 400, and
    the server stops clean (no sanitizer report, stirtest.Server.stop)."""

    def test_random_mixed_sets(self):
        rnd = random.Random(4242)
        a, b, c, d = "12155551212", "12155551213", "12155551214", "12155551215"
        now = int(time.time())

        def sign(**r):
            r.setdefault("orig", {"tn": a})
            r.setdefault("iat", now)
            st, body = self.srv.sign(r)
            self.assertEqual(st, 200, body)
            return body["signingResponse"]["identityHeader"]

        pool = [sign(attest="A", dest={"tn": [b]}),
                sign(ppt="div", dest={"tn": [c]}, div={"tn": b}),
                sign(ppt="div", dest={"tn": [d]}, div={"tn": c, "hi": "1.1"}),
                sign(ppt="rph", dest={"tn": [b]}, rph=["esnet.0"], sph="psap-callback"),
                sign(ppt="rcd", dest={"tn": [b]}, crn="c",
                     rcd={"nam": "X", "jcd": ["vcard", [["fn", {}, "text", "x"]]]}),
                sign(ppt="avatar", dest={"tn": [b]}, avatar="a1", appid="x"),
                sign(attest="B", dest={"tn": [b]}, rcd={"nam": "Y"})]

        def damage(h):
            r = rnd.random()
            if r < 0.3:
                return h
            if r < 0.55:
                i = rnd.randrange(len(h))
                return h[:i] + rnd.choice("._-;=<>\"aZ0") + h[i + 1:]
            if r < 0.7:
                return h[:rnd.randrange(len(h))]
            return h.replace(";ppt=", ";ppt=" + rnd.choice(["div", "rph", "x", ""]))

        hostile = [["Resource-Priority: esnet.0"], ["Priority: psap-callback",
                    "Resource-Priority:esnet.0, ets.1"], ["junk"], "x", [1],
                   ["Resource-Priority: " + "a" * 2000], ["Resource-Priority: ,,,"]]
        for _ in range(300):
            hs = [damage(rnd.choice(pool)) for _ in range(rnd.randint(0, 17))]
            req = {"to": {"tn": rnd.choice([b, c, "x"])}, "from": {"tn": a}, "time": now}
            if hs and rnd.random() < 0.8:
                req["identityHeader"] = hs[0]
            if len(hs) > 1 or rnd.random() < 0.3:
                req["identityHeaders"] = hs[1:]
            if rnd.random() < 0.7:
                req["dest"] = {"tn": rnd.choice([b, c, d])}
            if rnd.random() < 0.5:
                req["protectedHeaders"] = rnd.choice(hostile)
            if rnd.random() < 0.2:
                req["avatarId"] = rnd.choice(["a1", 5, "b"])
            st, body = self.srv.verify(req)
            self.assertIn(st, (200, 400), (req, body))
            if st == 200:
                sent = ("identityHeader" in req) + len(req.get("identityHeaders", []))
                results = body["verificationResponse"]["verifyResults"]
                self.assertEqual(len(results), sent, body)


if __name__ == "__main__":
    unittest.main()
