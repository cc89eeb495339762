"""systemd notification (sd_notify) without systemd: the test owns the
NOTIFY_SOCKET datagram socket a service manager would, and checks that
stird says READY=1 once it serves, pings WATCHDOG=1 at half of
WATCHDOG_USEC (from a heartbeat of the connection workers, so also when
the API is HTTPS only), and says STOPPING=1 on SIGTERM. The unit file is checked
with systemd-analyze verify when it is installed, and for the hardening
directives the project requires in any case."""
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

SO_TIMESTAMP = getattr(socket, "SO_TIMESTAMP", 29)  # Linux's value; Python may not name it

UNIT = os.path.join(stirtest.SRC, "etc", "systemd", "stird.service")


class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="notify.")
        self.path = os.path.join(self.tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        # The kernel stamps each datagram when stird sends it: the spacing
        # of the pings is measured from those, not from when this test got
        # round to reading them (a loaded machine reads late, then two at
        # once).
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
        self.sent_at = None

    def tearDown(self):
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def recv(self):
        """One datagram, and the time it was sent (kernel's, in self.sent_at)."""
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16))
        for level, kind, tv in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMP:
                sec, usec = struct.unpack("qq", tv)
                self.sent_at = sec + usec / 1e6
        return data

    def messages_until(self, want, timeout):
        """Datagrams (as sets of KEY=VALUE lines) until one holds `want`
        (its sending time in self.sent_at)."""
        got, deadline = [], time.time() + timeout
        while time.time() < deadline:
            try:
                data = self.recv().decode()
            except socket.timeout:
                continue
            lines = set(data.split("\n")) - {""}
            got.append(lines)
            if want in lines:
                return got
        self.fail("no %s within %ss; got %r" % (want, timeout, got))

    def stop_expecting_stopping(self, srv):
        """SIGTERM: the server says STOPPING=1, then is gone."""
        srv.proc.send_signal(signal.SIGTERM)
        try:
            self.messages_until("STOPPING=1", 20)
        finally:
            srv.stop()

    def ping_spacing(self):
        """Seconds between the sending of the next two WATCHDOG=1."""
        self.messages_until("WATCHDOG=1", 5)
        first = self.sent_at
        self.messages_until("WATCHDOG=1", 5)
        return self.sent_at - first

    def test_ready_watchdog_stopping(self):
        env = {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": "1000000"}
        srv = stirtest.Server(env=env)
        try:
            got = self.messages_until("READY=1", 10)
            self.assertTrue(any(l.startswith("STATUS=") for l in got[-1]), got)
            probes = srv.stderr().count("GET /health")
            # Pings 500 ms apart: not much faster, not much slower.
            spacing = self.ping_spacing()
            self.assertGreater(spacing, 0.3)
            self.assertLess(spacing, 4)
            # The pings come from the workers' heartbeat, not from requests
            # the server makes to itself: no new line in the access log.
            self.assertEqual(srv.stderr().count("GET /health"), probes)
            # SIGHUP (ExecReload) reloads, it never stops the server.
            srv.proc.send_signal(signal.SIGHUP)
            got = self.messages_until("READY=1", 30)
            self.assertTrue(any("RELOADING=1" in m for m in got), got)
            reloading = [m for m in got if "RELOADING=1" in m][0]
            self.assertTrue(any(re.match(r"^MONOTONIC_USEC=\d+$", l) for l in reloading), got)
            self.assertEqual(srv.request("GET", "/health")[0], 200)
        finally:
            self.stop_expecting_stopping(srv)

    def test_watchdog_with_https_only_api(self):
        # A probe over plain HTTP cannot reach a TLS-only API; the heartbeat
        # of the workers does not depend on the protocol.
        key, crt = os.path.join(self.tmp, "tls.key"), os.path.join(self.tmp, "tls.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": "1000000"}
        srv = stirtest.Server("--tls-cert", crt, "--tls-key", key, env=env, plain=False,
                              wait=False)
        try:
            self.messages_until("READY=1", 30)
            # the API really is HTTPS only
            ctx = ssl.create_default_context(cafile=crt)
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 200 "))
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                try:
                    head = s.recv(64)
                except OSError:
                    head = b""
                self.assertFalse(head.startswith(b"HTTP/1.1 200"), head)
            self.assertLess(self.ping_spacing(), 4)
            self.assertNotIn("not pinging", srv.stderr())
        finally:
            self.stop_expecting_stopping(srv)

    def drain(self, seconds):
        """Every datagram that arrives within `seconds`, as one bytes."""
        data, deadline = b"", time.time() + seconds
        while time.time() < deadline:
            try:
                data += self.recv()
            except socket.timeout:
                pass
        return data

    def test_a_stuck_worker_stops_the_pings(self):
        # One connection worker is frozen (ptrace stops that thread alone,
        # as a handler stuck in a loop or a lock would): the pings stop, and
        # start again once it runs. No x5u listener, so the threads waiting
        # in epoll_wait are libstir's and the API's workers, made last.
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000
        env = {"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": "600000"}
        # Verification only (any certificate as trust anchor), not embedded:
        # embedded mode would listen for x5u (on its fixed default port
        # when none is given, which parallel runs would fight over).
        srv = stirtest.Server("--trust", os.path.join(stirtest.SRC, "tests", "data",
                                                      "rfc9118.pem"), env=env, embedded=False)
        tid = None
        try:
            self.messages_until("READY=1", 10)
            self.messages_until("WATCHDOG=1", 5)
            task = "/proc/%d/task" % srv.proc.pid

            def in_epoll_wait(t):
                with open("%s/%s/syscall" % (task, t)) as f:
                    return f.read().split()[0] in ("232", "281")   # x86-64 epoll_wait, epoll_pwait
            # Workers wake for their heartbeat (and, under ASan, take a
            # while to go back): sample until both are seen waiting.
            deadline = time.time() + 5
            while True:
                waiting = sorted(int(t) for t in os.listdir(task) if in_epoll_wait(t))
                if len(waiting) >= 2 or time.time() > deadline:
                    break
                time.sleep(0.01)
            self.assertGreaterEqual(len(waiting), 2, waiting)
            tid = waiting[-1]
            if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
                tid = None
                self.skipTest("ptrace not permitted here (errno %d)" % ctypes.get_errno())
            self.assertEqual(libc.ptrace(PTRACE_INTERRUPT, tid, None, None), 0)
            os.waitpid(tid, WALL)
            self.drain(1.3)                         # a ping already on its way
            self.assertNotIn(b"WATCHDOG=1", self.drain(1.5))
            self.assertIn("not pinging", srv.stderr())
            self.assertEqual(libc.ptrace(PTRACE_DETACH, tid, None, None), 0)
            tid = None
            self.messages_until("WATCHDOG=1", 10)
        finally:
            if tid is not None:
                libc.ptrace(PTRACE_DETACH, tid, None, None)
            srv.stop()

    def test_no_watchdog_without_watchdog_usec(self):
        srv = stirtest.Server(env={"NOTIFY_SOCKET": self.path})
        try:
            self.messages_until("READY=1", 10)
            time.sleep(1.5)
            pings = []
            while True:
                try:
                    pings.append(self.sock.recv(4096))
                except socket.timeout:
                    break
            self.assertFalse([p for p in pings if b"WATCHDOG=1" in p], pings)
        finally:
            srv.stop()

    def test_watchdog_for_another_pid_is_ignored(self):
        # sd_watchdog_enabled(3): WATCHDOG_PID names the process meant.
        srv = stirtest.Server(env={"NOTIFY_SOCKET": self.path, "WATCHDOG_USEC": "400000",
                                   "WATCHDOG_PID": "1"})
        try:
            self.messages_until("READY=1", 10)
            time.sleep(1.0)
            data = b""
            while True:
                try:
                    data += self.sock.recv(4096)
                except socket.timeout:
                    break
            self.assertNotIn(b"WATCHDOG=1", data)
        finally:
            srv.stop()


class UnitFileTest(unittest.TestCase):
    REQUIRED = {
        "Type": "notify", "User": "stird", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
        "PrivateTmp": "yes", "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute": "yes", "ProtectHome": "yes", "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes", "SystemCallFilter": "@system-service",
        "ExecReload": "/bin/kill -HUP $MAINPID",
    }

    def directives(self):
        out = {}
        with open(UNIT) as f:
            for line in f:
                m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
                if m:
                    out.setdefault(m.group(1), []).append(m.group(2).strip())
        return out

    def test_hardening_directives(self):
        d = self.directives()
        for k, v in self.REQUIRED.items():
            self.assertIn(k, d, k)
            self.assertIn(v, d[k], "%s=%r, want %r" % (k, d[k], v))
        self.assertIn("WatchdogSec", d)
        self.assertIn("StateDirectory", d)
        self.assertIn("ConfigurationDirectory", d)

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
    def test_systemd_analyze_verify(self):
        # verify wants the ExecStart binary to exist: point it at ours.
        tmp = tempfile.mkdtemp(prefix="unit.")
        try:
            with open(UNIT) as f:
                text = f.read().replace("/usr/sbin/stird", stirtest.STIRD)
            path = os.path.join(tmp, "stird.service")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            out = r.stdout.decode()
            # Without a running systemd (a container) verify may still
            # complain about the environment; never about our unit.
            bad = [l for l in out.splitlines() if "stird.service" in l]
            self.assertEqual(bad, [], out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
