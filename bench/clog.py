#!/usr/bin/env python3
"""Benchmark (not a test): can forged PASSporTs clog the fetch path?

Issue 12 item 6. While FLOOD clients send verification requests of 16
random-signature PASSporTs each (no key needed), half pointing at a
repository that accepts TCP and never answers (unique URLs, so neither
single flight nor the negative cache helps) and half at unique unreachable
x5u (a closed port), measure:

  * legit: a verification whose certificate is not cached yet (a new URL
    each time, a real chain on tests/tools/certserver.py), every PERIOD s:
    its latency, without and with the flood;
  * cached: wrk throughput of a verification whose chain is cached,
    without and with the flood.

Usage (after `make build`, from the repository root):
  python3 bench/clog.py [--flood 32] [--probes 10] [--dur 5] [--legit-addr 127.0.0.2] [-- extra stird flags]
e.g.  python3 bench/clog.py -- --fetch-threads 64
Prints the figures; docs/BENCHMARKS.md keeps the measured ones.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("STIRD", os.path.join(ROOT, "build", "stird"))
sys.dont_write_bytecode = True
import stirtest  # noqa: E402


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forged(url, now):
    """A PASSporT with a random signature, x5u = url, as an Identity value."""
    h = b64u(json.dumps({"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": url},
                        separators=(",", ":")).encode())
    p = b64u(json.dumps({"attest": "A", "dest": {"tn": [stirtest.DEST_TN]}, "iat": now,
                         "orig": {"tn": stirtest.ORIG_TN}, "origid": str(uuid.uuid4())},
                        separators=(",", ":")).encode())
    return "%s.%s.%s;info=<%s>;alg=ES256;ppt=shaken" % (h, p, b64u(os.urandom(64)), url)


class Hang:
    """Accepts TCP connections and never answers (keeps them open)."""

    def __init__(self, addr):
        self.sock = socket.socket()
        self.sock.bind((addr, 0))
        self.sock.listen(4096)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if len(self.conns) > 20000:
                self.conns.pop(0).close()


def cpu_s(pid):
    """User + system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def closed_port(addr):
    s = socket.socket()
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(conn, body):
    conn.request("POST", "/stir/v1/verification", body=body,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def flooder(port, flood_host, hang_port, dead_port, stop, counts):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        now = int(time.time())
        ids = [forged("https://%s:%d/%s.pem" % (flood_host,
                                                 hang_port if i % 2 == 0 else dead_port,
                                                 uuid.uuid4().hex), now)
               for i in range(16)]
        body = json.dumps({"verificationRequest": {
            "identityHeaders": ids, "from": {"tn": stirtest.ORIG_TN},
            "to": {"tn": stirtest.DEST_TN}, "time": now}})
        try:
            st, _ = post(conn, body)
            counts[st] = counts.get(st, 0) + 1
        except (OSError, http.client.HTTPException):
            counts["error"] = counts.get("error", 0) + 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


LEGIT_ADDR = "127.0.0.2"


def legit_probe(srv, cs, pki, tmp, i):
    name = "legit_%s_%s.pem" % (i, uuid.uuid4().hex[:8])
    shutil.copy(os.path.join(pki, "chain.pem"), os.path.join(pki, name))
    now = int(time.time())
    ident = stirtest.shaken_identity(cs.url(name), os.path.join(pki, "sp.key"), tmp, now)
    body = json.dumps({"verificationRequest": stirtest.verification_request(ident, now)})
    # The legitimate SBC is another client than the flooder (the fetch pool
    # is fair between clients): another loopback address.
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60,
                                      source_address=(LEGIT_ADDR, 0))
    t0 = time.monotonic()
    st, data = post(conn, body)
    ms = (time.monotonic() - t0) * 1000
    conn.close()
    res = json.loads(data)["verificationResponse"]["verifyResults"][0]["verifyResult"] \
        if st == 200 else {"status": "http %d" % st}
    return ms, res.get("status"), res.get("reasonDescription", "")


def probes(srv, cs, pki, tmp, n, period, tag):
    out = []
    for i in range(n):
        out.append(legit_probe(srv, cs, pki, tmp, "%s%d" % (tag, i)))
        time.sleep(period)
    ms = [m for m, _, _ in out]
    ok = sum(1 for _, s, _ in out if s == "pass")
    bad = [d for _, s, d in out if s != "pass"]
    print("  legit uncached verification (%s): %d/%d pass, median %.0f ms, max %.0f ms%s"
          % (tag, ok, n, statistics.median(ms), max(ms),
             ("; failures: " + bad[0][:120]) if bad else ""))
    return ms, ok


def cached_rps(srv, cs, pki, tmp, dur):
    now = int(time.time())
    ident = stirtest.shaken_identity(cs.url("chain.pem"), os.path.join(pki, "sp.key"), tmp, now)
    body = json.dumps({"verificationRequest": stirtest.verification_request(ident, now)})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    st, data = post(conn, body)     # warms the cache
    conn.close()
    assert st == 200 and b'"pass"' in data, data[:300]
    lua = os.path.join(tmp, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = %s\n' % json.dumps(body))
    r = subprocess.run(["wrk", "-t1", "-c16", "-d%ds" % dur, "-s", lua,
                        "http://127.0.0.1:%d/stir/v1/verification" % srv.port],
                       capture_output=True, text=True, timeout=dur + 60)
    rps = 0.0
    for line in r.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
    non2xx = [ln.strip() for ln in r.stdout.splitlines() if "Non-2xx" in ln]
    return rps, non2xx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flood", type=int, default=32, help="concurrent flooding clients")
    ap.add_argument("--probes", type=int, default=10)
    ap.add_argument("--period", type=float, default=0.5)
    ap.add_argument("--dur", type=int, default=5, help="seconds of each wrk run")
    ap.add_argument("--flood-host", default="127.0.0.3",
                    help="address of the hanging repository and the closed port "
                         "(127.0.0.1: the legitimate repository's host, so they share "
                         "fetch_max_per_host)")
    ap.add_argument("--legit-addr", default="127.0.0.2",
                    help="source address of the legitimate client (127.0.0.1: the flooder's)")
    ap.add_argument("extra", nargs="*", help="extra stird flags (after --)")
    a = ap.parse_args()
    global LEGIT_ADDR
    LEGIT_ADDR = a.legit_addr

    tmp = tempfile.mkdtemp(prefix="stirclog.")
    pki = stirtest.make_pki(os.path.join(tmp, "pki"))
    cs = stirtest.CertServer(os.path.join(pki, "tls.pem"), os.path.join(pki, "tls.key"), pki)
    hang = Hang(a.flood_host)
    dead = closed_port(a.flood_host)
    srv = stirtest.Server("--trust", os.path.join(pki, "root.pem"),
                          "--fetch-allow-host", "127.0.0.1", "--fetch-allow-host", a.flood_host,
                          "--fetch-allow-any-port",
                          "--fetch-ca-file", os.path.join(pki, "tls.pem"),
                          "--log-level", "warn", *a.extra, embedded=False)
    stop = threading.Event()
    try:
        print("# stird %s" % " ".join(srv.args[5:]))
        print("# load average %s" % open("/proc/loadavg").read().strip())
        print("# legitimate client from %s, flood from 127.0.0.1; forged x5u on %s"
              % (LEGIT_ADDR, a.flood_host))
        print("# flood: %d clients x 16 PASSporTs (8 to a hanging repository, 8 to a closed "
              "port), unique URLs" % a.flood)
        print("baseline (no flood):")
        probes(srv, cs, pki, tmp, a.probes, a.period, "idle")
        rps0, n0 = cached_rps(srv, cs, pki, tmp, a.dur)
        print("  cached verification throughput: %.0f req/s %s" % (rps0, " ".join(n0)))
        counts = {}
        threads = [threading.Thread(target=flooder, daemon=True,
                                    args=(srv.port, a.flood_host, hang.port, dead, stop,
                                          counts))
                   for _ in range(a.flood)]
        for t in threads:
            t.start()
        time.sleep(3)   # let the flood fill the fetch path
        print("under flood:")
        c0, t0, n0f = cpu_s(srv.proc.pid), time.monotonic(), sum(counts.values())
        probes(srv, cs, pki, tmp, a.probes, a.period, "flood")
        c1, t1, n1f = cpu_s(srv.proc.pid), time.monotonic(), sum(counts.values())
        print("  flood: %.0f requests/s answered (%.0f forged x5u/s); stird CPU %.0f %% of "
              "one core" % ((n1f - n0f) / (t1 - t0), 16 * (n1f - n0f) / (t1 - t0),
                            100 * (c1 - c0) / (t1 - t0)))
        rps1, n1 = cached_rps(srv, cs, pki, tmp, a.dur)
        print("  cached verification throughput: %.0f req/s (%.0f %% of baseline) %s"
              % (rps1, 100.0 * rps1 / rps0 if rps0 else 0, " ".join(n1)))
        print("# load average %s" % open("/proc/loadavg").read().strip())
        print("  flood answers so far: %s"
              % json.dumps({str(k): v for k, v in counts.items()}, sort_keys=True))
    finally:
        stop.set()
        hang.stop = True
        hang.sock.close()
        for c in hang.conns:
            c.close()
        srv.stop()
        cs.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
