#!/usr/bin/env python3
"""Benchmark (not a test): token signing while clients flood verifications
whose x5u hang, each within its per-client share of the fetch pool.

FLOODERS clients (127.0.0.1, .2, ...; SENDERS connections each) send
verifications with one unique x5u on a socket that never answers
(stirtest.HangServer); stird has FLOODERS fetch threads, one per client
(fetch_client_threads 1), fetch budget 4 s, request_timeout 2 s. Client S
(127.0.0.200) signs with a SoftHSM key over SIGNERS keep-alive connections
for DUR seconds. Printed: S's requests answered 200 and 503, their p50/p99
latency and S's rate; the same first with no flood.

  python3 bench/sign_lane.py            # after `make build`
Env: BUILD (default build) or STIRD (the binary: an older one has no
--sign-threads, and then runs without it), DUR (s, default 5), SIGNERS
(default 4), FLOODERS (default 4), SENDERS (default 2), SIGN_THREADS
(default 8).
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
SIGNERS = int(os.environ.get("SIGNERS", "4"))
FLOODERS = int(os.environ.get("FLOODERS", "4"))
SENDERS = int(os.environ.get("SENDERS", "2"))
SIGN_THREADS = os.environ.get("SIGN_THREADS", "8")
PIN = "97531864"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


def post(port, source, path, body, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                           source_address=(source, 0))
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        if conn is None:
            c.close()


def main():
    tmp = tempfile.mkdtemp(prefix="stirlanebench.")
    module = subprocess.run(["bash", os.path.join(ROOT, "tests", "tools", "mkhsm.sh"), tmp, PIN,
                             "sp"], stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    os.environ["SOFTHSM2_CONF"] = os.path.join(tmp, "softhsm2.conf")
    pki = os.path.join(tmp, "pki")
    pin = os.path.join(tmp, "pin")
    with open(os.open(pin, os.O_CREAT | os.O_WRONLY, 0o600), "w") as f:
        f.write(PIN + "\n")
    help_text = subprocess.run([os.environ["STIRD"], "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT).stdout.decode()
    lane = ("--sign-threads", SIGN_THREADS) if "--sign-threads" in help_text else ()
    hang = stirtest.HangServer()
    srv = stirtest.Server(
        "--log-level", "warn",
        "--key", "pkcs11:token=stirtest;object=sp;type=private", "--pkcs11-module", module,
        "--key-pin-file", pin, "--cert", os.path.join(tmp, "chain_sp.pem"),
        "--x5u", "https://cr.example.com/hsm.pem", "--trust", os.path.join(pki, "root.pem"),
        "--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
        "--fetch-ca-file", os.path.join(pki, "tls.pem"),
        "--fetch-threads", str(FLOODERS), "--fetch-client-threads", "1",
        "--fetch-max-per-host", "0", "--fetch-timeout-ms", "4000",
        "--fetch-connect-timeout-ms", "4000", "--fetch-budget-ms", "4000",
        "--request-timeout", "2", *lane, embedded=False)
    key = stirtest.load_ec_key(os.path.join(pki, "sp.key"))
    seq = iter(range(1, 1 << 30))
    lock = threading.Lock()

    def hanging_body():
        now = int(time.time())
        with lock:
            n = next(seq)
        identity = stirtest.shaken_identity(hang.url("x5u/%d/chain.pem" % n), key, None, now)
        return json.dumps({"verificationRequest": stirtest.verification_request(identity, now)})

    sbody = json.dumps({"signingRequest": {
        "orig": {"tn": stirtest.ORIG_TN}, "dest": {"tn": [stirtest.DEST_TN]},
        "iat": int(time.time()), "attest": "A"}})

    def measure():
        res = []   # (status, ms)
        end = time.monotonic() + DUR

        def signer():
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60,
                                           source_address=("127.0.0.200", 0))
            while time.monotonic() < end:
                t0 = time.perf_counter()
                try:
                    st = post(srv.port, None, "/stir/v1/signing", sbody, conn=c)
                except (OSError, http.client.HTTPException):
                    st = "error"
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60,
                                                   source_address=("127.0.0.200", 0))
                with lock:
                    res.append((st, (time.perf_counter() - t0) * 1000))
            c.close()

        ts = [threading.Thread(target=signer) for _ in range(SIGNERS)]
        t0 = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return res, time.monotonic() - t0

    try:
        base, base_s = measure()
        stop = threading.Event()

        def flood(source):
            while not stop.is_set():
                try:
                    post(srv.port, source, "/stir/v1/verification", hanging_body())
                except OSError:
                    pass

        fl = [threading.Thread(target=flood, args=("127.0.0.%d" % (i + 1),))
              for i in range(FLOODERS) for _ in range(SENDERS)]
        for t in fl:
            t.start()
        time.sleep(1.0)
        loaded, loaded_s = measure()
        stop.set()
        for t in fl:
            t.join(60)
        print("# %s; %d signing connections (SoftHSM), %d clients x %d flooding hanging x5u, "
              "%d fetch threads, DUR %.0f s; machine: %d cpus, shared"
              % ("sign_threads " + SIGN_THREADS if lane else "no signing lane", SIGNERS,
                 FLOODERS, SENDERS, FLOODERS, DUR, os.cpu_count()))
        print("%-16s %8s %8s %8s %8s %10s" % ("S (token sign)", "200", "503", "p50 ms",
                                             "p99 ms", "200/s"))
        for name, res, secs in (("alone", base, base_s), ("under flood", loaded, loaded_s)):
            ok = [ms for st, ms in res if st == 200]
            n503 = sum(1 for st, _ in res if st == 503)
            allms = [ms for _, ms in res]
            print("%-16s %8d %8d %8.2f %8.2f %10.0f" % (name, len(ok), n503, pct(allms, 50),
                                                        pct(allms, 99), len(ok) / secs))
    finally:
        srv.stop()
        hang.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
