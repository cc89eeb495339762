"""log_format = json: every stderr line of stird is one JSON object
(parsed here with python's json), the access record carries the request's
fields, and request bytes that are quotes, backslashes, control bytes or
not UTF-8 come out escaped, not raw. log_format = text keeps its format."""
import json
import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


class JsonLogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = stirtest.Server("--log-format", "json")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def records(self):
        lines = [l for l in self.srv.stderr().splitlines() if l.strip()]
        self.assertTrue(lines)
        return [json.loads(l) for l in lines]      # raises on any non-JSON line

    def wait_for(self, pred):
        deadline = time.time() + 5
        while time.time() < deadline:
            recs = [r for r in self.records() if pred(r)]
            if recs:
                return recs[-1]
            time.sleep(0.05)
        self.fail("no matching record in:\n" + self.srv.stderr())

    def test_every_line_is_json_with_time_and_level(self):
        self.srv.sign_ok()
        for r in self.records():
            self.assertRegex(r["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(r["level"], ("ERROR", "WARN", "INFO", "DEBUG"))
            self.assertTrue("msg" in r or "status" in r, r)

    def test_access_record(self):
        self.srv.sign_ok()
        r = self.wait_for(lambda r: r.get("path") == "/stir/v1/signing" and r.get("status") == 200)
        self.assertEqual(r["tag"], "api")
        self.assertEqual(r["method"], "POST")
        self.assertEqual(r["client"]["addr"], "127.0.0.1")
        self.assertIsInstance(r["client"]["port"], int)
        self.assertIsInstance(r["latency_us"], int)
        self.assertGreaterEqual(r["latency_us"], 0)

    def test_request_bytes_are_escaped(self):
        # The log shows the request-target as received on the wire (%XX is
        # not decoded), escaped for JSON: a quote, a backslash, a byte that
        # is not UTF-8 (as U+00FF, the log's rule) and a valid é.
        st, _ = self.srv.raw(b'GET /x"\\\xff\xc3\xa9%01%c3%a9 HTTP/1.1\r\nHost: a\r\n'
                             b"Connection: close\r\n\r\n")
        self.assertEqual(st, 404)
        want = '/x"\\\u00ff\u00e9%01%c3%a9'
        r = self.wait_for(lambda r: r.get("status") == 404 and r.get("path", "").startswith("/x"))
        self.assertEqual(r["path"], want)
        raw = [l for l in self.srv.stderr().splitlines() if '"status":404' in l][-1]
        self.assertIn('"/x\\"\\\\\\u00ffé%01%c3%a9"', raw)
        # A control byte in the target is refused by the parser (400); the
        # log line holds no part of that target.
        st, _ = self.srv.raw(b"GET /y\x01 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 400)
        r = self.wait_for(lambda r: r.get("status") == 400)
        self.assertNotIn("\x01", json.dumps(r, ensure_ascii=False))
        self.assertNotIn("/y", r.get("path", ""))


class TextLogTest(unittest.TestCase):
    def test_text_format_unchanged(self):
        with stirtest.Server("--log-format", "text") as srv:
            srv.sign_ok()
            time.sleep(0.1)
            err = srv.stderr()
        self.assertRegex(err, r"(?m)^\d{4}-\d\d-\d\dT\S+Z api 127\.0\.0\.1:\d+ POST "
                              r"/stir/v1/signing 200 \d+us")
        self.assertRegex(err, r"(?m)^\S+Z stird: INFO: ready: ")

    def test_a_long_escaped_field_keeps_the_rest_of_the_line(self):
        # A requestId of 256 control bytes grows fourfold once escaped
        # (\x01); it is cut at the field's width, so verstat and codes,
        # which come after it, stay on the line.
        with stirtest.Server("--log-format", "text") as srv:
            st, body = srv.verify({"identityHeader": "a.b.c;info=<https://x.example/c.pem>",
                                   "from": {"tn": "12155551212"},
                                   "to": {"tn": ["12155551213"]},
                                   "time": int(time.time()), "requestId": "\x01" * 256})
            self.assertEqual(st, 200, body)
            time.sleep(0.1)
            line = [l for l in srv.stderr().splitlines() if " /stir/v1/verification " in l][-1]
        self.assertIn(" rid=\\x01\\x01", line)
        self.assertLess(line.count("\\x01"), 100)
        self.assertRegex(line, r" verstat=TN-Validation-Failed codes=\d{3}$")

    def test_bad_format_is_a_configuration_error(self):
        import subprocess
        r = subprocess.run([stirtest.STIRD, "--embedded", "--log-format", "xml"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--log-format: 'xml' is not text or json", r.stderr.decode())


if __name__ == "__main__":
    unittest.main()
