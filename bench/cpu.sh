#!/usr/bin/env bash
# Benchmark (not a test): CPU time of the server process per request,
# stird against the yardstick, under the same wrk load, alternating. On a
# machine shared with other work, req/s swing with the scheduler; the CPU
# a server spends per request much less so. bench/run.sh (req/s on a quiet
# machine) stays the measure the goal is stated in.
#
#   bench/cpu.sh                  # after `make build`
# Env: ROUNDS (default 3), DUR (s per run, default 4), CONNS (default 16),
# THREADS (server threads, default 2), BUILD, YARDSTICK, LOG_LEVEL (stird's,
# default info as `make run`).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DUR=${DUR:-4}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-16}
LOG_LEVEL=${LOG_LEVEL:-info}
command -v wrk >/dev/null || { echo "bench: needs wrk (scripts/install-deps.sh)" >&2; exit 2; }
T=$(mktemp -d)
cleanup() { stop_pid "${YPID:-}"; stop_pid "${SPID:-}"; rm -rf "$T"; }
trap cleanup EXIT
cc -O2 -o "$T/msceil" "$YARD/msceil.c" -lmicrohttpd -lcrypto -lpthread || exit 1
read -r YPORT SPORT XPORT <<<"$(free_ports 3)"
"$T/msceil" -p $YPORT -t "$THREADS" >/dev/null 2>&1 &
YPID=$!
"$BUILD/stird" --embedded --plain-http --state-dir "$T/state" --listen 127.0.0.1:$SPORT \
  --x5u-listen 127.0.0.1:$XPORT --fetch-allow-any-port --metrics-listen none --threads "$THREADS" \
  --log-level "$LOG_LEVEL" >"$T/stird.log" 2>&1 &
SPID=$!
wait_port $YPORT && wait_port $SPORT || { cat "$T/stird.log"; exit 1; }
# The request bodies (fresh iat, an Identity value each server signed).
DUR=1 CONNS=4 OUT="$T/y" "$YARD/ms-bench.sh" "http://127.0.0.1:$YPORT/stir/v1" >/dev/null 2>&1
DUR=1 CONNS=4 OUT="$T/s" "$YARD/ms-bench.sh" "http://127.0.0.1:$SPORT/stir/v1" >/dev/null 2>&1
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
printf '%-13s | %12s %12s | %12s %12s | %s\n' endpoint "yard us/req" "yard req/s" "stird us/req" "stird req/s" "ratio (yard us / stird us)"
for ep in signing verification; do
  body=sign-body.json
  [ $ep = verification ] && body=verify-body.json
  : >"$T/cpu.txt"
  for ((r = 0; r < ROUNDS; r++)); do
    for who in y s; do
      if [ $who = y ]; then pid=$YPID port=$YPORT; else pid=$SPID port=$SPORT; fi
      t0=$(ticks $pid)
      sum=$(BODY_FILE="$T/$who/$body" wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$YARD/post.lua" \
        "http://127.0.0.1:$port/stir/v1/$ep" 2>&1 | grep '^WRKSUM')
      t1=$(ticks $pid)
      n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$sum")
      rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$sum")
      awk -v w=$who -v t=$((t1 - t0)) -v n="${n:-0}" -v hz="$hz" -v rps="${rps:-0}" \
        'BEGIN { if (n > 0) printf "%s %.2f %s\n", w, t * 1e6 / hz / n, rps }' >>"$T/cpu.txt"
    done
  done
  col() { awk -v w="$1" -v k="$2" '$1 == w {print $k}' "$T/cpu.txt" | med_min_max | cut -d' ' -f1; }
  yu=$(col y 2) yr=$(col y 3) su=$(col s 2) sr=$(col s 3)
  printf '%-13s | %12s %12s | %12s %12s | %s\n' $ep "$yu" "$yr" "$su" "$sr" \
    "$(awk -v a="$yu" -v b="$su" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done
echo "# medians of $ROUNDS alternating runs of ${DUR}s (wrk -t1 -c$CONNS), server threads $THREADS, stird log level $LOG_LEVEL; load average $(cut -d' ' -f1-3 /proc/loadavg)"
