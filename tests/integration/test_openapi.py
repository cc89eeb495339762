"""docs/openapi.yaml itself: valid against the OpenAPI 3.0 JSON Schema
(the copy Debian ships in python3-djangorestframework-spectacular), every
$ref resolves, every resource of docs/API.md is in it, and the response
checker the other tests rely on (openapi.py) really rejects a response
that breaks it, naming the JSON pointer."""
import json
import os
import re
import sys
import time
import unittest

import jsonschema
import yaml

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openapi  # noqa: E402
import stirtest  # noqa: E402

META = "/usr/lib/python3/dist-packages/drf_spectacular/validation/openapi3_schema.json"


class DocumentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(openapi.SPEC_PATH) as f:
            cls.doc = yaml.safe_load(f)

    def test_valid_openapi_3_0(self):
        with open(META) as f:
            meta = json.load(f)
        v = jsonschema.Draft4Validator(meta)
        errors = sorted(v.iter_errors(self.doc), key=lambda e: list(e.absolute_path))
        self.assertEqual([], ["%s: %s" % (openapi.pointer(e.absolute_path), e.message)
                              for e in errors])

    def test_meta_schema_can_say_no(self):
        with open(META) as f:
            meta = json.load(f)
        bad = dict(self.doc, openapi="2.0")
        self.assertFalse(jsonschema.Draft4Validator(meta).is_valid(bad))

    def test_every_ref_resolves(self):
        refs = re.findall(r"\$ref': '([^']+)'", repr(self.doc))
        self.assertTrue(refs)
        for ref in set(refs):
            node = self.doc
            for part in ref.lstrip("#/").split("/"):
                self.assertIn(part, node, ref)
                node = node[part]

    def test_every_resource_is_described(self):
        with open(os.path.join(stirtest.SRC, "docs", "API.md")) as f:
            api = f.read()
        listed = set(re.findall(r"`(?:\{apiRoot\})?(/(?:stir/v1/|health|ready)[A-Za-z]*)`", api))
        listed |= {"/stir/v1/rphVerification", "/metrics"}
        self.assertEqual(listed, set(self.doc["paths"]))

    def test_connection_layer_statuses_are_documented(self):
        # Every status the HTTP/1.1 layer answers by itself (http1.c's
        # refusals, conn.c's 408 and its 503 past max_connections) can come
        # back from any operation, so each one documents them all.
        with open(os.path.join(stirtest.SRC, "src", "server", "http1.c")) as f:
            layer = {int(x) for x in re.findall(r"refuse\(h, (\d{3})", f.read())}
        layer |= {408, 503}
        self.assertTrue({400, 414, 431, 501, 505} <= layer, layer)
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method == "servers":
                    continue
                want = set(layer)
                if method == "get":
                    want.discard(413)   # a GET is answered before any body is read
                documented = {int(k) for k in op["responses"]}
                self.assertEqual(want - documented, set(), "%s %s" % (method, path))

    def test_converter_handles_nullable(self):
        js = openapi.to_json_schema({"type": "string", "nullable": True, "x-stird-extension": True})
        self.assertEqual(js, {"type": ["string", "null"]})


class CheckerTest(stirtest.ServerTestCase):
    """Real responses pass; the same responses altered fail at the right pointer."""

    def verification(self):
        ident, _ = self.srv.sign_ok()
        st, hd, data = self.srv.request(
            "POST", "/stir/v1/verification", body=json.dumps({"verificationRequest": {
                "identityHeader": ident, "from": {"tn": stirtest.ORIG_TN},
                "to": {"tn": stirtest.DEST_TN}, "time": int(time.time())}}).encode(),
            headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200, data)
        return hd, json.loads(data)

    def assertRejected(self, path, status, hd, body, where):
        with self.assertRaises(AssertionError) as cm:
            openapi.check_response("POST", path, status, hd["content-type"],
                                   json.dumps(body).encode())
        self.assertIn("at " + where, str(cm.exception))

    def test_real_response_passes_and_altered_ones_fail(self):
        hd, body = self.verification()
        openapi.check_response("POST", "/stir/v1/verification", 200, hd["content-type"],
                               json.dumps(body).encode())
        vr = body["verificationResponse"]["verifyResults"][0]["verifyResult"]
        self.assertEqual(vr["status"], "pass")
        vr["reasonCode"] = "438"          # a pass has no reasonCode
        self.assertRejected("/stir/v1/verification", 200, hd, body,
                            "/verificationResponse/verifyResults/0/verifyResult")
        del vr["reasonCode"]
        body["verificationResponse"]["verstatValue"] = "TN-Validation-Maybe"
        self.assertRejected("/stir/v1/verification", 200, hd, body,
                            "/verificationResponse/verstatValue")

    def test_problem_details_extra_member_fails(self):
        st, hd, data = self.srv.request("POST", "/stir/v1/signing", body=b"{",
                                        headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400)
        body = json.loads(data)
        body["error"] = "x"
        self.assertRejected("/stir/v1/signing", 400, hd, body, "/")

    def test_undocumented_status_fails(self):
        with self.assertRaises(AssertionError) as cm:
            openapi.check_response("GET", "/health", 500, "application/json", b"{}")
        self.assertIn("not documented", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
