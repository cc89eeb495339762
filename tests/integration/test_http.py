"""HTTP layer of stird: routing, methods, body limits, media types, JSON
errors, problem+json shape (RFC 7807 / TS 29.500 ProblemDetails), health
and readiness, and the RoutingPath of the API root (TS 24.229 V.2.2)."""
import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
import openapi  # noqa: E402

SIGN = "/stir/v1/signing"
VERIFY = "/stir/v1/verification"


class HttpTest(stirtest.ServerTestCase):

    def test_unknown_path_is_404(self):
        for path in ("/", "/stir/v1/sign", "/stir/v2/signing", SIGN + "/", "/stir/v1/signing/x"):
            st, body, hd = self.srv.post(path, {})
            self.assertProblem(st, body, hd, 404)
        st, hd, data = self.srv.request("GET", "/nothing/here")
        self.assertProblem(st, json.loads(data), hd, 404)

    def test_wrong_method_is_405_with_allow(self):
        for method in ("GET", "PUT", "DELETE"):
            for path in (SIGN, VERIFY):
                st, hd, data = self.srv.request(method, path)
                self.assertProblem(st, json.loads(data), hd, 405)
                self.assertEqual(hd.get("allow"), "POST")
        st, hd, data = self.srv.request("POST", "/health", body=b"{}",
                                        headers={"Content-Type": "application/json"})
        self.assertProblem(st, json.loads(data), hd, 405)
        self.assertIn("GET", hd.get("allow", ""))

    def test_post_without_length_is_411(self):
        st, raw = self.srv.raw(b"POST " + SIGN.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 411, raw)
        self.assertIn(b"application/problem+json", raw)

    def test_chunked_body_is_read(self):
        # A chunked body is de-chunked and handled like any other: this one
        # lacks orig, and the 400 names it, so the body was read.
        body = b'{"signingRequest":{}}'
        st, raw = self.srv.raw(b"POST " + SIGN.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\n"
                               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                               b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        self.assertEqual(st, 400, raw)
        self.assertIn(b'"param":"orig"', raw)

    def test_huge_content_length_is_413_without_reading(self):
        # Announce 10 MB and send none of it: the answer must come from the
        # headers alone, long before any read timeout.
        t0 = time.time()
        st, raw = self.srv.raw(b"POST " + SIGN.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Type: application/json\r\n"
                               b"Content-Length: 10485760\r\n\r\n", timeout=10)
        self.assertEqual(st, 413, raw)
        self.assertLess(time.time() - t0, 3)
        body = json.loads(raw.partition(b"\r\n\r\n")[2])
        self.assertEqual(body["status"], 413)
        self.assertIn("65536", body["detail"])

    def test_body_just_over_limit_is_413_and_at_limit_is_parsed(self):
        st, body, hd = self.srv.post(SIGN, b" " * 65537)
        self.assertProblem(st, body, hd, 413)
        # 65536 bytes of whitespace: accepted for reading, then not JSON.
        st, body, hd = self.srv.post(SIGN, b" " * 65536)
        self.assertProblem(st, body, hd, 400)

    def test_wrong_content_type_is_415(self):
        for ct in ("text/plain", "application/xml", "application/jsonx", None):
            h = {"Content-Type": ct} if ct else {}
            st, hd, data = self.srv.request("POST", SIGN, body=b"{}", headers=h)
            self.assertProblem(st, json.loads(data), hd, 415)

    def test_content_type_parameters_are_allowed(self):
        for ct in ("application/json; charset=utf-8", "Application/JSON", "application/json;x=1"):
            st, hd, data = self.srv.request("POST", SIGN, body=b"[]",
                                            headers={"Content-Type": ct})
            # Past the media-type check: the array body is refused as such.
            self.assertEqual(st, 400, data)

    def test_bad_json_is_400_with_position(self):
        st, body, hd = self.srv.post(SIGN, b'{"signingRequest": {"iat": }')
        self.assertProblem(st, body, hd, 400)
        # jansson reports line and column; the detail must carry them.
        self.assertIn("line 1", body["detail"])
        self.assertIn("column", body["detail"])

    def test_duplicate_keys_are_400(self):
        st, body, hd = self.srv.post(SIGN, b'{"signingRequest":{},"signingRequest":{}}')
        self.assertProblem(st, body, hd, 400)
        self.assertIn("duplicate", body["detail"])

    def test_non_object_body_is_400(self):
        for raw in (b"[]", b"42", b'"x"', b"null", b""):
            st, body, hd = self.srv.post(VERIFY, raw)
            self.assertProblem(st, body, hd, 400)

    def test_wrapper_not_object_is_400(self):
        st, body, hd = self.srv.post(SIGN, {"signingRequest": [1]})
        self.assertProblem(st, body, hd, 400)
        self.assertEqual(body["invalidParams"][0]["param"], "signingRequest")

    def test_body_in_pieces(self):
        # TCP delivers the body in several reads; the server must gather it.
        import socket
        body = json.dumps({"signingRequest": {
            "attest": "A", "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
            "iat": int(time.time()), "pad": "x" * 5000}}).encode()
        head = (b"POST " + SIGN.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(head)
            for i in range(0, len(body), 1000):
                time.sleep(0.02)
                s.sendall(body[i:i + 1000])
            data = stirtest.read_to_close(s)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:300])
        resp = json.loads(data.partition(b"\r\n\r\n")[2])
        self.assertIn("identityHeader", resp["signingResponse"])

    def test_health(self):
        st, hd, data = self.srv.request("GET", "/health")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data), {"status": "alive"})
        self.assertTrue(hd["content-type"].startswith("application/json"))

    def test_ready_counts_trust_anchors(self):
        st, hd, data = self.srv.request("GET", "/ready")
        self.assertEqual(st, 200, data)
        body = json.loads(data)
        self.assertEqual(body["status"], "ready")
        # The embedded trust file is root.pem: count its certificates ourselves.
        with open(os.path.join(self.srv.state_dir, "root.pem"), "rb") as f:
            n = f.read().count(b"-----BEGIN CERTIFICATE-----")
        self.assertEqual(body["trustAnchors"], n)

    def test_keep_alive_serves_several_requests(self):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
        try:
            for _ in range(3):
                c.request("POST", SIGN, body=b"{}", headers={"Content-Type": "application/json"})
                r = c.getresponse()
                openapi.check_response("POST", SIGN, r.status, r.getheader("Content-Type"),
                                       r.read())
                self.assertEqual(r.status, 400)
        finally:
            c.close()


class RoutingPathTest(unittest.TestCase):

    def test_routing_path_prefix(self):
        with stirtest.Server("--routing-path", "/sti") as srv:
            req = {"attest": "B", "orig": {"tn": stirtest.ORIG_TN},
                   "dest": {"tn": [stirtest.DEST_TN]}, "iat": int(time.time())}
            st, body = srv.sign(req, path="/sti" + SIGN)
            self.assertEqual(st, 200, body)
            self.assertIn("identityHeader", body["signingResponse"])
            st, body = srv.sign(req, path=SIGN)
            self.assertEqual(st, 404, body)
            # The banner prints the API root with its RoutingPath.
            self.assertIn("http://127.0.0.1:%d/sti" % srv.port, srv.stdout())


if __name__ == "__main__":
    unittest.main()
