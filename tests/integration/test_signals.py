#!/usr/bin/env python3
"""What each signal does to a running stird (docs/CONFIG.md "Signals"):
SIGUSR1/SIGUSR2 are logged and ignored, SIGQUIT is a graceful stop like
SIGTERM (exit 0, no core), and a request on a keep-alive connection is
answered across them."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


class SignalTest(unittest.TestCase):
    def test_usr1_and_usr2_do_not_stop_the_server(self):
        with stirtest.Server() as srv:
            for sig, name in ((signal.SIGUSR1, "SIGUSR1"), (signal.SIGUSR2, "SIGUSR2")):
                srv.proc.send_signal(sig)
                deadline = time.time() + 5
                while name + " received" not in srv.stderr() and time.time() < deadline:
                    time.sleep(0.05)
                self.assertIn(name + " received: ignored", srv.stderr())
                self.assertIsNone(srv.proc.poll(), "stird ended on " + name)
                status, _, _ = srv.request("GET", "/health")
                self.assertEqual(status, 200)

    def test_quit_is_a_graceful_stop(self):
        srv = stirtest.Server()
        try:
            status, _, _ = srv.request("GET", "/health")
            self.assertEqual(status, 200)
            srv.proc.send_signal(signal.SIGQUIT)
            self.assertEqual(srv.proc.wait(timeout=30), 0, srv.stderr())
            self.assertIn("SIGQUIT received, shutting down", srv.stderr())
        finally:
            srv.kill()


if __name__ == "__main__":
    unittest.main(verbosity=2)
