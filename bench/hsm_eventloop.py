#!/usr/bin/env python3
"""Benchmark (not a test): does signing with a PKCS#11 token key delay the
other connections of the same server? (issue 8 item 6, item 3 of the limits
task.)

Client S signs with a SoftHSM key over SIGNERS keep-alive connections as
fast as it can; client V sends cached verifications one after another on
one keep-alive connection and records each latency. Printed: V's p50/p90/
p99 in ms and S's signing rate, alone (no S) and with S. stird runs with
--threads THREADS (default 1: one event loop, where the effect is plainest).

  python3 bench/hsm_eventloop.py            # after `make build`
Env: BUILD (default build), DUR (s, default 5), SIGNERS (default 8),
THREADS (default 1).
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
os.environ.setdefault("STIRD", os.path.join(BUILD, "stird"))
os.environ.setdefault("STIR_SRC", ROOT)
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import stirtest  # noqa: E402

DUR = float(os.environ.get("DUR", "5"))
SIGNERS = int(os.environ.get("SIGNERS", "8"))
THREADS = os.environ.get("THREADS", "1")
PIN = "24680135"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


def main():
    tmp = tempfile.mkdtemp(prefix="stirhsmbench.")
    module = subprocess.run(["bash", os.path.join(ROOT, "tests", "tools", "mkhsm.sh"), tmp, PIN,
                             "sp"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    os.environ["SOFTHSM2_CONF"] = os.path.join(tmp, "softhsm2.conf")
    pki = os.path.join(tmp, "pki")
    pin = os.path.join(tmp, "pin")
    with open(os.open(pin, os.O_CREAT | os.O_WRONLY, 0o600), "w") as f:
        f.write(PIN + "\n")
    cs = stirtest.CertServer(os.path.join(pki, "tls.pem"), os.path.join(pki, "tls.key"), pki)
    srv = stirtest.Server(
        "--threads", THREADS, "--log-level", "warn",
        "--key", "pkcs11:token=stirtest;object=sp;type=private", "--pkcs11-module", module,
        "--key-pin-file", pin, "--cert", os.path.join(tmp, "chain_sp.pem"),
        "--x5u", "https://cr.example.com/hsm.pem", "--trust", os.path.join(pki, "root.pem"),
        "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
        "--fetch-ca-file", os.path.join(pki, "tls.pem"), embedded=False)
    try:
        now = int(time.time())
        header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": cs.url("chain.pem")}
        payload = {"attest": "A", "dest": {"tn": [stirtest.DEST_TN]}, "iat": now,
                   "orig": {"tn": stirtest.ORIG_TN},
                   "origid": "123e4567-e89b-42d3-a456-426614174000"}
        ident = stirtest.make_passport(header, payload, os.path.join(pki, "sp.key"), tmp)
        vbody = json.dumps({"verificationRequest": {
            "identityHeader": ident, "from": {"tn": stirtest.ORIG_TN},
            "to": {"tn": stirtest.DEST_TN}, "time": now}})
        sbody = json.dumps({"signingRequest": {
            "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
            "iat": now, "attest": "A"}})
        hdrs = {"Content-Type": "application/json"}

        def one(c, path, body):
            c.request("POST", path, body=body, headers=hdrs)
            r = c.getresponse()
            r.read()
            return r.status

        vc = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        assert one(vc, "/stir/v1/verification", vbody) == 200   # now cached

        def measure():
            lat = []
            end = time.monotonic() + DUR
            while time.monotonic() < end:
                t0 = time.perf_counter()
                assert one(vc, "/stir/v1/verification", vbody) == 200
                lat.append((time.perf_counter() - t0) * 1000)
            return lat

        base = measure()
        stop = threading.Event()
        signed = [0]

        def signer():
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            while not stop.is_set():
                assert one(c, "/stir/v1/signing", sbody) == 200
                signed[0] += 1
            c.close()

        ts = [threading.Thread(target=signer) for _ in range(SIGNERS)]
        for t in ts:
            t.start()
        time.sleep(0.5)
        n0, t0 = signed[0], time.monotonic()
        loaded = measure()
        rate = (signed[0] - n0) / (time.monotonic() - t0)
        stop.set()
        for t in ts:
            t.join()
        print("# stird --threads %s, %d signing connections (SoftHSM), DUR %.0f s; "
              "machine: %d cpus, shared" % (THREADS, SIGNERS, DUR, os.cpu_count()))
        print("%-22s %8s %8s %8s %8s %10s" % ("V (cached verify)", "n", "p50 ms", "p90 ms",
                                              "p99 ms", "S sign/s"))
        for name, lat, r in (("alone", base, 0), ("with S signing", loaded, rate)):
            print("%-22s %8d %8.3f %8.3f %8.3f %10.0f" % (name, len(lat), pct(lat, 50),
                                                          pct(lat, 90), pct(lat, 99), r))
    finally:
        srv.stop()
        cs.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
