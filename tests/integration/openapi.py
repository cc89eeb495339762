"""docs/openapi.yaml as a response checker for the integration tests.

check_response(method, path, status, content_type, body) finds the
operation for the request (any RoutingPath prefix before /stir/v1/), the
response for the status and its media type, and validates the body with
python3-jsonschema against the schema converted from OpenAPI 3.0 to JSON
Schema (draft 4, which the OpenAPI 3.0 schema object extends). A mismatch
raises AssertionError naming the JSON pointer of the offending value.
Rules of the document's description: an unlisted path is a 404 and an
unlisted method a 405, both with a ProblemDetails body; HEAD is GET
without a body.
"""
import json
import os

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("STIR_SRC") or os.path.abspath(os.path.join(HERE, "..", ".."))
SPEC_PATH = os.path.join(SRC, "docs", "openapi.yaml")

# OpenAPI-only keywords with no JSON Schema meaning.
_DROP = {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs",
         "example", "deprecated"}


def to_json_schema(s):
    """An OpenAPI 3.0 schema object as a JSON Schema (draft 4)."""
    if isinstance(s, list):
        return [to_json_schema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in _DROP or k.startswith("x-"):
            continue
        if k == "$ref":
            out[k] = v.replace("#/components/schemas/", "#/definitions/")
        elif k in ("properties", "definitions"):
            out[k] = {name: to_json_schema(sub) for name, sub in v.items()}
        else:
            out[k] = to_json_schema(v)
    if s.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "$ref" in out:
            out = {"anyOf": [out, {"type": "null"}]}
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


def pointer(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


class OpenAPI:
    def __init__(self, spec_path=SPEC_PATH):
        with open(spec_path) as f:
            self.spec = yaml.safe_load(f)
        self.definitions = {name: to_json_schema(s)
                            for name, s in self.spec["components"]["schemas"].items()}

    def _resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            parts = obj["$ref"].lstrip("#/").split("/")
            obj = self.spec
            for p in parts:
                obj = obj[p]
        return obj

    def validate(self, schema, value, where):
        root = dict(to_json_schema(schema))
        root["definitions"] = self.definitions
        v = jsonschema.Draft4Validator(root, format_checker=jsonschema.FormatChecker())
        errors = list(v.iter_errors(value))
        if errors:
            e = jsonschema.exceptions.best_match(errors)
            raise AssertionError("%s: response body does not match docs/openapi.yaml at %s: %s "
                                 "(schema %s)\nbody: %s" % (
                                     where, pointer(e.absolute_path), e.message,
                                     pointer(e.absolute_schema_path),
                                     json.dumps(value)[:2000]))

    def template(self, path):
        path = path.split("?", 1)[0]
        paths = self.spec["paths"]
        if path in paths:
            return path
        i = path.find("/stir/v1/")
        if i > 0 and path[i:] in paths:
            return path[i:]       # {apiRoot} carries a RoutingPath
        return None

    def check_response(self, method, path, status, content_type, body):
        method = method.upper()
        where = "%s %s -> %d" % (method, path, status)
        tmpl = self.template(path)
        problem = {"$ref": "#/components/schemas/ProblemDetails"}
        # The same path is or is not a resource depending on routing_path,
        # so a 404 with a ProblemDetails body is always a valid answer.
        if tmpl is None or status == 404:
            if status != 404:
                raise AssertionError("%s: path not in docs/openapi.yaml, so it must be 404" % where)
            return self._check_media(where, "application/problem+json", problem, content_type,
                                     body, method)
        item = self.spec["paths"][tmpl]
        op = item.get("get" if method == "HEAD" else method.lower())
        if op is None:
            if status != 405:
                raise AssertionError("%s: method not in docs/openapi.yaml for %s, so it must "
                                     "be 405" % (where, tmpl))
            return self._check_media(where, "application/problem+json", problem, content_type,
                                     body, method)
        responses = op["responses"]
        resp = responses.get(str(status)) or responses.get("default")
        if resp is None:
            raise AssertionError("%s: status %d is not documented for %s %s in docs/openapi.yaml "
                                 "(documented: %s)" % (where, status, method, tmpl,
                                                       ", ".join(sorted(responses))))
        resp = self._resolve(resp)
        content = resp.get("content") or {}
        if not content:
            return
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in content:
            raise AssertionError("%s: Content-Type %r is not documented (documented: %s)"
                                 % (where, content_type, ", ".join(content)))
        return self._check_media(where, media, content[media].get("schema", {}), content_type,
                                 body, method)

    def _check_media(self, where, media, schema, content_type, body, method):
        got = (content_type or "").split(";")[0].strip().lower()
        if got != media:
            raise AssertionError("%s: Content-Type %r, docs/openapi.yaml says %s"
                                 % (where, content_type, media))
        if method == "HEAD":
            return
        if media.endswith("json"):
            try:
                value = json.loads(body)
            except ValueError as e:
                raise AssertionError("%s: body is not JSON (%s): %r" % (where, e, body[:200]))
            self.validate(schema, value, where)


_SPEC = None


def spec():
    global _SPEC
    if _SPEC is None:
        _SPEC = OpenAPI()
    return _SPEC


def check_response(method, path, status, content_type, body):
    spec().check_response(method, path, status, content_type, body)
