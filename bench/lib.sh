# shellcheck shell=bash
# What the stird benchmarks (run.sh, tls.sh, pkcs11.sh) share. Source it
# after setting ROOT (the repository) and, to change its default of 6,
# DUR. It sets BUILD, YARD, DUR, REPEAT and THREADS (each overridable from
# the environment: BUILD, YARDSTICK, DUR, REPEAT, THREADS), exits 2 when
# stird is not built or the yardstick is missing, and sources the
# yardstick's lib.sh (wait_port, stop_pid, med_min_max, run_wrk...).
BUILD=${BUILD:-$ROOT/build}
YARD=${YARDSTICK:-$ROOT/../shared/yardstick}
DUR=${DUR:-6}
REPEAT=${REPEAT:-3}
THREADS=${THREADS:-2}
export DUR
[ -x "$BUILD/stird" ] || { echo "bench: build first (make build)" >&2; exit 2; }
[ -f "$YARD/ms-bench.sh" ] || { echo "bench: no yardstick at $YARD" >&2; exit 2; }
# shellcheck source=/dev/null
. "$YARD/lib.sh"

# free_ports N: N distinct TCP ports of 127.0.0.1 that nobody listens on
# now, found by binding port 0 with all sockets held open together (so the
# N differ); benchmarks run beside the tests, which use free ports too.
free_ports() {
    python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
free_port() { free_ports 1; }
