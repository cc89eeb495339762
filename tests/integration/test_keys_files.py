"""Key file hygiene and the atomic embedded PKI (issue 12 item 5).

A private key file that group or others may access is refused at start
with its name and mode; allow_insecure_key_mode accepts it with a warning.
The embedded PKI is created atomically: stird is killed with SIGKILL at
increasing moments of its first start, the state directory is after each
kill either absent/empty or complete, every later start works, and a
leftover temporary directory of a dead process is removed.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stirtest  # noqa: E402

PKI_FILES = ("root.pem", "root.key", "ca.pem", "ca.key", "sp.pem", "sp.key", "chain.pem",
             "tls.pem", "tls.key")




def pki_state(d):
    """'absent', 'empty' or 'complete'; anything else fails the test."""
    if not os.path.exists(d):
        return "absent"
    names = sorted(os.listdir(d))
    if not names:
        return "empty"
    if names != sorted(PKI_FILES):
        raise AssertionError("partial state directory %s: %s" % (d, names))
    for n in PKI_FILES:
        p = os.path.join(d, n)
        # Each file must be whole: the openssl CLI reads every one.
        if n.endswith(".key"):
            stirtest.openssl("pkey", "-in", p, "-noout")
            if os.stat(p).st_mode & 0o077:
                raise AssertionError("%s is mode %o" % (p, os.stat(p).st_mode & 0o777))
        else:
            stirtest.openssl("x509", "-in", p, "-noout")
    return "complete"


class KeyModeTest(stirtest.EmbeddedPkiTestCase):
    tmp_prefix = "stirkeys."

    def copy_key(self, name, mode):
        path = os.path.join(self.tmp, name)
        shutil.copyfile(os.path.join(self.state, "sp.key"), path)
        os.chmod(path, mode)
        return path

    def args(self, key, *extra):
        return ("--key", key,
                "--cert", os.path.join(self.state, "chain.pem"),
                "--x5u", "https://cr.example.com/c.pem",
                "--trust", os.path.join(self.state, "root.pem")) + extra

    def test_group_or_world_readable_key_is_refused(self):
        for mode in (0o644, 0o640, 0o604, 0o620):
            key = self.copy_key("sp-%o.key" % mode, mode)
            rc, out, err = stirtest.run_stird("--listen", "127.0.0.1:0", *self.args(key), timeout=60)
            self.assertEqual(rc, 1, err)
            self.assertIn(key, err)
            self.assertIn("mode %04o" % mode, err)
            self.assertIn("allow_insecure_key_mode", err)

    def test_override_accepts_with_warning(self):
        key = self.copy_key("sp-lab.key", 0o644)
        with stirtest.Server(*self.args(key, "--allow-insecure-key-mode"), embedded=False) as s:
            s.sign_ok()
            self.assertIn("mode 0644", s.stderr())
            self.assertIn("labs only", s.stderr())

    def test_owner_only_key_starts(self):
        key = self.copy_key("sp-400.key", 0o400)
        with stirtest.Server(*self.args(key), embedded=False) as s:
            s.sign_ok()

    def test_tls_key_of_x5u_server_is_checked_too(self):
        state = os.path.join(self.tmp, "tlsstate")
        shutil.copytree(self.state, state)
        os.chmod(os.path.join(state, "tls.key"), 0o640)
        rc, out, err = stirtest.run_stird("--embedded", "--state-dir", state, "--listen", "127.0.0.1:0",
                                          "--x5u-listen", "127.0.0.1:%d" % stirtest.free_port(), timeout=60)
        self.assertEqual(rc, 1, err)
        self.assertIn(os.path.join(state, "tls.key"), err)
        self.assertIn("mode 0640", err)


class AtomicPkiTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stiratomic.")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def leftovers(self, parent):
        if not os.path.isdir(parent):
            return []
        return [n for n in os.listdir(parent) if ".pki-" in n]

    def start(self, state):
        return subprocess.Popen(
            [stirtest.STIRD, "--plain-http", "--metrics-listen", "none", "--embedded", "--state-dir", state, "--fetch-allow-any-port",
             "--listen", "127.0.0.1:0", "--x5u-listen", "127.0.0.1:%d" % stirtest.free_port()],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def test_kill_during_first_start_never_breaks_later_starts(self):
        mid_creation = 0
        # Rounds with finer and finer steps until some kill has landed while
        # the PKI was being written (on a quiet machine that takes a few ms).
        for rnd in range(12):
            if rnd >= 3 and mid_creation > 0:
                break
            parent = os.path.join(self.tmp, "r%d" % rnd)
            state = os.path.join(parent, "state")
            delay = 0.0
            while True:
                p = self.start(state)
                time.sleep(delay)
                if p.poll() is not None:
                    self.fail("stird exited %s after a crashed start (delay %.3f s): %s"
                              % (p.returncode, delay, p.stderr.read().decode()))
                p.send_signal(signal.SIGKILL)
                p.wait()
                p.stderr.close()
                st = pki_state(state)
                if self.leftovers(parent):
                    mid_creation += 1
                if st == "complete":
                    break
                delay += 0.004 if rnd < 3 else 0.0005 * (rnd - 2)
                self.assertLess(delay, 20, "the PKI never got made")
        # Some kill must have landed while the PKI was being written.
        self.assertGreater(mid_creation, 0)
        # The last crash state of round 0 serves: sign, and check the
        # signature with the openssl CLI against the published chain.
        state = os.path.join(self.tmp, "r0", "state")
        with stirtest.Server(state_dir=state) as s:
            hdr, _ = s.sign_ok()
            _, _, _, tbs, sig = stirtest.decode_identity(hdr)
            with open(os.path.join(state, "chain.pem"), "rb") as f:
                leaf = stirtest.leaf_pem(f.read())
            self.assertTrue(stirtest.es256_verify_openssl(leaf, tbs, sig, self.tmp))

    def test_crash_leftover_is_removed_at_next_start(self):
        parent = os.path.join(self.tmp, "p")
        state = os.path.join(parent, "state")
        os.makedirs(state)                      # empty, as after a crash
        # A temporary directory of a process that is gone (pid_max is
        # below 2^22, so this pid cannot exist) with half a PKI in it.
        dead = os.path.join(parent, ".state.pki-4194399.AbCdEf")
        os.mkdir(dead)
        with open(os.path.join(dead, "root.pem"), "w") as f:
            f.write("-----BEGIN CERT")
        # Not ours: another name, left alone.
        other = os.path.join(parent, ".other.pki-4194399.AbCdEf")
        os.mkdir(other)
        with stirtest.Server(state_dir=state) as s:
            s.sign_ok()
        self.assertFalse(os.path.exists(dead))
        self.assertTrue(os.path.exists(other))
        self.assertEqual(pki_state(state), "complete")
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o700)

    def test_partial_directory_is_refused_by_name(self):
        state = os.path.join(self.tmp, "state")
        os.makedirs(state)
        with open(os.path.join(state, "root.pem"), "w") as f:
            f.write("x")
        rc, out, err = stirtest.run_stird("--embedded", "--state-dir", state, "--listen", "127.0.0.1:0",
                                          "--x5u-listen", "127.0.0.1:%d" % stirtest.free_port(), timeout=60)
        self.assertEqual(rc, 1, err)
        self.assertIn(os.path.join(state, "root.pem"), err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
