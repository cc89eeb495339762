#!/usr/bin/env python3
"""Send N Ms requests over one keep-alive connection (bench/instructions.sh).

    ms_load.py PORT N signing|verification

One signing request first (its Identity value feeds the verification
requests), then, for verification, until one passes (the x5u fetch of a
server under valgrind can time out at first), then N requests of the kind
asked, each answered 200.
"""
import http.client
import json
import sys
import time
import uuid


def main():
    port, n, what = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def post(path, body):
        c.request("POST", "/stir/v1/" + path, body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit("%s: HTTP %d %s" % (path, r.status, data[:200]))
        return json.loads(data)

    now = int(time.time())
    sign = json.dumps({"signingRequest": {
        "attest": "A", "orig": {"tn": "12155551212"}, "dest": {"tn": ["12155551213"]},
        "iat": now, "origid": str(uuid.uuid4())}})
    ident = post("signing", sign)["signingResponse"]["identityHeader"]
    verify = json.dumps({"verificationRequest": {
        "identityHeader": ident, "from": {"tn": "12155551212"},
        "to": {"tn": ["12155551213"]}, "time": now}})
    if what == "verification":
        for _ in range(30):
            v = post("verification", verify)["verificationResponse"]
            if v["verstatValue"] == "TN-Validation-Passed":
                break
            time.sleep(1)
        else:
            raise SystemExit("verification never passed: %s" % v)
    if len(sys.argv) > 4:  # the warm-up only
        return
    body = sign if what == "signing" else verify
    for _ in range(n):
        post(what, body)


if __name__ == "__main__":
    main()
