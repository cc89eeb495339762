#!/usr/bin/env bash
# Benchmark (not a test): stird against the yardstick (../shared/yardstick,
# the least possible Ms server on this machine), back to back, same load.
# Prints req/s, p50 and p99 for /signing and /verification at 1, 16 and 64
# connections, the ratio stird/yardstick, and `openssl speed` for scale.
#
#   bench/run.sh                 # from the repository root, after `make build`
# Each configuration runs REPEAT times, yardstick and stird alternating, and
# the medians are printed (this VM's figures swing 10-30 % run to run).
# Env: DUR (s per run, default 6), REPEAT (default 3), CONNS_LIST ("1 16 64"),
# THREADS (server threads, default 2), YARDSTICK (dir, default
# ../shared/yardstick), BUILD (default build), LOG_LEVEL (stird's, default
# info as `make run`: one access-log line per request, to a file).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
CONNS_LIST=${CONNS_LIST:-"1 16 64"}
LOG_LEVEL=${LOG_LEVEL:-info}
command -v wrk >/dev/null || { echo "bench: needs wrk (scripts/install-deps.sh)" >&2; exit 2; }

T=$(mktemp -d)
cleanup() { stop_pid "${YPID:-}"; stop_pid "${SPID:-}"; rm -rf "$T"; }
trap cleanup EXIT

# The yardstick (not stird) is built on libmicrohttpd.
[ -f /usr/include/microhttpd.h ] || { echo "bench: the yardstick needs libmicrohttpd-dev (apt-get install libmicrohttpd-dev)" >&2; exit 2; }
cc -O2 -o "$T/msceil" "$YARD/msceil.c" -lmicrohttpd -lcrypto -lpthread || exit 1

echo "# machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "# openssl speed -elapsed -seconds 3 ecdsap256 (one core):"
openssl speed -elapsed -seconds 3 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/{printf "#   sign/s %s  verify/s %s\n", $(NF-1), $NF}'

read -r YPORT SPORT XPORT <<<"$(free_ports 3)"
"$T/msceil" -p $YPORT -t "$THREADS" >/dev/null 2>&1 &
YPID=$!
"$BUILD/stird" --embedded --plain-http --state-dir "$T/state" --listen 127.0.0.1:$SPORT \
  --x5u-listen 127.0.0.1:$XPORT --fetch-allow-any-port --metrics-listen none --threads "$THREADS" --log-level "$LOG_LEVEL" >"$T/stird.log" 2>&1 &
SPID=$!
wait_port $YPORT && wait_port $SPORT || { cat "$T/stird.log"; exit 1; }

printf '%-13s %5s | %10s %8s %8s | %10s %8s %8s | %6s\n' endpoint conns \
  "yard req/s" "p50 ms" "p99 ms" "stird req/s" "p50 ms" "p99 ms" ratio
med() { med_min_max | cut -d' ' -f1; }
for c in $CONNS_LIST; do
  : >"$T/y.txt"
  : >"$T/s.txt"
  for ((r = 0; r < REPEAT; r++)); do
    wait_quiet >/dev/null || true
    CONNS=$c "$YARD/ms-bench.sh" "http://127.0.0.1:$YPORT/stir/v1" 2>/dev/null | grep -v '^#' >>"$T/y.txt"
    wait_quiet >/dev/null || true
    CONNS=$c "$YARD/ms-bench.sh" "http://127.0.0.1:$SPORT/stir/v1" 2>"$T/bench-err.txt" |
      grep -v '^#' >>"$T/s.txt"
    grep -q 'did not pass' "$T/bench-err.txt" && echo "# WARNING: stird verification did not pass" >&2
  done
  for ep in signing verification; do
    col() { awk -v e="$ep" -v k="$2" '$1 == e {print $k}' "$1" | med; }
    yr=$(col "$T/y.txt" 2) yp50=$(col "$T/y.txt" 3) yp99=$(col "$T/y.txt" 4)
    sr=$(col "$T/s.txt" 2) sp50=$(col "$T/s.txt" 3) sp99=$(col "$T/s.txt" 4)
    snon=$(awk -v e="$ep" '$1 == e {n += $5} END {print n + 0}' "$T/s.txt")
    ratio=$(awk -v a="${sr:-0}" -v b="${yr:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '%-13s %5s | %10s %8s %8s | %10s %8s %8s | %6s%s\n' "$ep" "$c" "$yr" "$yp50" "$yp99" \
      "$sr" "$sp50" "$sp99" "$ratio" "$([ "$snon" != 0 ] && echo "  (stird non-2xx: $snon)")"
  done
done
echo "# medians of $REPEAT runs of ${DUR}s each (wrk -t1), server threads: $THREADS, stird log level: $LOG_LEVEL"
