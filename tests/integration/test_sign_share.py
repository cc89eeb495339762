"""The signing lane's per-client share holds whatever fetch_client_threads
says: with the fetch cap turned off the way CONFIG.md offers
(fetch_client_threads = fetch_threads), one client signing with RCD content
that hangs still holds only a quarter of sign_threads (at least 1), and
another client's signing request finds a thread.

Client A (127.0.0.1) sends two rcd signing requests whose jcl hangs
(stirtest.HangServer; stird fetches it to compute rcdi); with
sign_threads 2, A's share is 1, so its second request waits and the
repository never sees two of A's fetches at once. Client B (127.0.0.2)
then signs with a jcl nobody listens for: it is answered at once (400,
the jCard cannot be fetched), not 503 after waiting request_timeout for a
signing thread, as when A could hold both."""
import os
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402


def post(port, source, obj):
    return stirtest.post_from(port, source, "/stir/v1/signing", obj)


def rcd_request(jcl):
    return {"signingRequest": {"ppt": "rcd", "orig": {"tn": stirtest.ORIG_TN},
                               "dest": {"tn": [stirtest.DEST_TN]}, "iat": int(time.time()),
                               "rcd": {"nam": "Q Branch", "jcl": jcl}}}


class SignShareTest(unittest.TestCase):
    def test_one_client_cannot_hold_every_signing_thread(self):
        hang = stirtest.HangServer()
        srv = stirtest.Server("--fetch-allow-host", "127.0.0.1", "--fetch-allow-any-port",
                              "--fetch-threads", "4", "--fetch-client-threads", "4",
                              "--sign-threads", "2", "--request-timeout", "3",
                              "--rcd-fetch-budget-ms", "8000", "--fetch-timeout-ms", "8000",
                              "--fetch-connect-timeout-ms", "8000", "--fetch-max-per-host", "0")
        answers = []
        senders = [threading.Thread(target=lambda i=i: answers.append(
            post(srv.port, "127.0.0.1", rcd_request(hang.url("jcard%d.json" % i)))))
            for i in range(2)]
        try:
            for t in senders:
                t.start()
            deadline = time.time() + 30
            while time.time() < deadline and hang.max_open < 1:
                time.sleep(0.02)
            self.assertGreaterEqual(hang.max_open, 1, "A's jCard fetch never started")
            # Time for A's second request to take a second thread, if it could.
            time.sleep(1.0)
            self.assertEqual(hang.max_open, 1, "client A holds both signing threads")
            with socket_closed_port() as port:
                st, body = post(srv.port, "127.0.0.2",
                                rcd_request("https://127.0.0.1:%d/jcard.json" % port))
            self.assertNotEqual(st, 503, body)
            self.assertEqual(st, 400, body)
        finally:
            srv.stop()
            hang.stop()
            for t in senders:
                t.join(30)


class socket_closed_port:
    """A local port nobody listens on, for the lifetime of the block."""
    def __enter__(self):
        import socket
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        return self.s.getsockname()[1]

    def __exit__(self, *exc):
        self.s.close()


if __name__ == "__main__":
    unittest.main()
