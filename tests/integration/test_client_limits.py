"""Per-client connection limits and the absolute request deadline
(issue 8 item 6), over real sockets on loopback.

One client address (127.0.0.1) opens more slow, byte-dripping connections
than its limit: the newest are closed at once, while a client on
127.0.0.2 keeps getting fast 200s. A request dripped one byte at a time is
answered 408 at request_timeout: the bytes do not extend it. Past the
global limit a new connection gets one 503 with Retry-After.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402
from test_http_hostile import parse_responses  # noqa: E402

PER_CLIENT = 8
TIMEOUT_S = 3


def connect(port, src="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))


def closed_within(s, seconds):
    """True when the server closes `s` (EOF/reset) within `seconds`, having
    sent nothing."""
    s.settimeout(seconds)
    try:
        data = s.recv(4096)
        return data == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


class ClientLimitsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One worker (here and in the IPv6 test): with two, both accept from
        # the listening socket and may count connections in a slightly
        # different order than the client opened them (seen under ASan),
        # and the test checks that the newest ones are those refused.
        cls.srv = stirtest.Server("--max-connections-per-client", str(PER_CLIENT),
                                  "--request-timeout", str(TIMEOUT_S), "--max-connections", "64",
                                  "--threads", "1")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_slow_client_over_its_limit_does_not_lock_out_others(self):
        port = self.srv.port
        held, stop = [], threading.Event()
        for _ in range(PER_CLIENT * 3):
            s = connect(port)
            s.sendall(b"POST /stir/v1/signing HTTP/1.1\r\n")
            held.append(s)

        def drip():
            while not stop.is_set():
                for s in held:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
                stop.wait(0.5)
        t = threading.Thread(target=drip)
        t.start()
        try:
            time.sleep(0.3)
            closed = [closed_within(s, 0.5) for s in held]
            # exactly the newest connections past the limit were refused
            self.assertEqual(closed.count(True), PER_CLIENT * 2, closed)
            self.assertEqual(closed[:PER_CLIENT], [False] * PER_CLIENT, closed)
            # meanwhile another client address is served, fast
            for _ in range(10):
                t0 = time.time()
                with connect(port, "127.0.0.2") as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    buf = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        buf += chunk
                self.assertEqual(parse_responses(buf)[0][0], 200)
                self.assertLess(time.time() - t0, 1.0)
        finally:
            stop.set()
            t.join()
            for s in held:
                s.close()
        log = self.srv.stderr()
        self.assertIn("too many connections from this address", log)

    def test_dripped_request_gets_408_at_the_deadline(self):
        s = connect(self.srv.port, "127.0.0.3")
        request = (b"POST /stir/v1/signing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                   b"\r\nContent-Length: 10\r\n\r\n{}")
        t0 = time.time()
        buf = b""
        with s:
            s.settimeout(0.25)
            i = 0
            while time.time() - t0 < TIMEOUT_S * 3:
                if i < len(request):
                    try:
                        s.send(request[i:i + 1])
                    except OSError:
                        break
                    i += 1
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    break
        elapsed = time.time() - t0
        rs = parse_responses(buf)
        self.assertEqual([r[0] for r in rs], [408], buf)
        self.assertEqual(rs[0][1]["content-type"], "application/problem+json")
        self.assertEqual(json.loads(rs[0][2])["status"], 408)
        # absolute: answered at the deadline although a byte came every 0.25 s
        self.assertGreater(elapsed, TIMEOUT_S - 0.5)
        self.assertLess(elapsed, TIMEOUT_S + 1.5)

    def test_idle_new_connection_closed_at_the_deadline(self):
        s = connect(self.srv.port, "127.0.0.4")
        t0 = time.time()
        with s:
            self.assertTrue(closed_within(s, TIMEOUT_S + 2))
        self.assertLess(time.time() - t0, TIMEOUT_S + 1.5)


def free_port6():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


class IPv6PrefixTest(unittest.TestCase):
    """IPv6 clients are limited per client_ipv6_prefix (default /64).

    Loopback offers one IPv6 address (::1) without changing the host's
    routes, so this shows the IPv6 path end to end (the key of ::1 is
    ::/64, its connections are counted and the newest refused) and that
    the setting is range-checked; that two addresses of one /64 share a
    key is shown by tests/unit/test_clientkey.c."""

    def test_ipv6_client_over_its_limit(self):
        port = free_port6()
        srv = stirtest.Server("--listen", "[::1]:%d" % port, "--max-connections-per-client",
                              "3", "--request-timeout", "10", "--threads", "1", wait=False)
        try:
            deadline = time.time() + 30
            while True:
                # A full answer, not just a connect: the kernel accepts into
                # the backlog before stird serves, and a probe still queued
                # there would count against the limit below.
                try:
                    with socket.create_connection(("::1", port), timeout=5) as p:
                        p.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        if p.recv(64).startswith(b"HTTP/1.1 200"):
                            break
                except OSError:
                    pass
                self.assertLess(time.time(), deadline, srv.stderr())
                time.sleep(0.05)
            time.sleep(0.3)     # the probe connection is released
            held = []
            try:
                for _ in range(3):
                    s = socket.create_connection(("::1", port), timeout=10)
                    s.sendall(b"POST /stir/v1/signing HTTP/1.1\r\n")
                    held.append(s)
                extra = socket.create_connection(("::1", port), timeout=10)
                with extra:
                    self.assertTrue(closed_within(extra, 3))
                deadline = time.time() + 5
                while "too many connections from this address" not in srv.stderr():
                    self.assertLess(time.time(), deadline, srv.stderr())
                    time.sleep(0.05)
                self.assertIn("connection from ::1 refused", srv.stderr())
            finally:
                for s in held:
                    s.close()
        finally:
            srv.stop()

    def test_prefix_range(self):
        for bad in ("47", "129"):
            r = subprocess.run([stirtest.STIRD, "--plain-http", "--metrics-listen", "none",
                                "--client-ipv6-prefix", bad], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("client-ipv6-prefix", r.stderr.decode())


class GlobalLimitTest(unittest.TestCase):

    def test_past_max_connections_503_with_retry_after(self):
        with stirtest.Server("--max-connections", "5", "--max-connections-per-client", "100") \
                as srv:
            # The start-up health check's connection counts until the client
            # closes it or the server's 2 s linger ends.
            time.sleep(2.3)
            held = [connect(srv.port) for _ in range(5)]
            try:
                for s in held:      # each one answered: all five are in
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    buf = b""
                    while not buf.endswith(b"}"):
                        chunk = s.recv(4096)
                        self.assertTrue(chunk, buf)
                        buf += chunk
                with connect(srv.port, "127.0.0.2") as s:
                    s.settimeout(5)
                    buf = b""
                    while True:
                        try:
                            chunk = s.recv(4096)
                        except ConnectionResetError:
                            break
                        if not chunk:
                            break
                        buf += chunk
                rs = parse_responses(buf)
                self.assertEqual([r[0] for r in rs], [503], buf)
                self.assertEqual(rs[0][1].get("retry-after"), "1")
                self.assertEqual(json.loads(rs[0][2])["status"], 503)
            finally:
                for s in held:
                    s.close()
            # the slots free up again
            time.sleep(0.3)
            st, _, _ = srv.request("GET", "/health")
            self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
