#!/usr/bin/env bash
# Benchmark (not a test): instructions per request of stird itself, under
# valgrind's callgrind, for each resource. Deterministic to about 1 %, so
# it shows what a change moved even on a busy machine, where req/s do not
# (bench/run.sh stays the measure against the yardstick).
#
#   bench/instructions.sh            # after `make build`; needs valgrind
# Prints, per resource, instructions per request in all and in the parts
# that matter (ES256, JSON, the response head, the access log).
# Env: N (requests per resource, default 2000), BUILD (default build).
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
N=${N:-2000}
command -v valgrind >/dev/null || { echo "bench: needs valgrind" >&2; exit 2; }
[ -x "$BUILD/stird" ] || { echo "bench: build first (make build)" >&2; exit 2; }
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
T=$(mktemp -d)
trap 'stop_pid "${SPID:-}"; rm -rf "$T"' EXIT

printf '%-13s %10s | %s\n' resource "instr/req" "of which (inclusive, per request)"
for what in signing verification; do
  read -r SPORT XPORT <<<"$(free_ports 2)"
  valgrind --tool=callgrind --callgrind-out-file="$T/cg.$what" --collect-atstart=yes \
    "$BUILD/stird" --embedded --plain-http --state-dir "$T/state" --listen 127.0.0.1:$SPORT \
    --x5u-listen 127.0.0.1:$XPORT --fetch-allow-any-port --metrics-listen none --threads 1 \
    --log-level info >"$T/stird.$what.log" 2>&1 &
  SPID=$!
  for ((i = 0; i < 5; i++)); do wait_port $SPORT 2>/dev/null && break; done # slow under valgrind
  wait_port $SPORT || { cat "$T/stird.$what.log"; exit 1; }
  python3 "$ROOT/bench/ms_load.py" $SPORT 1 $what warmup || exit 1
  callgrind_control -z $SPID >/dev/null 2>&1
  python3 "$ROOT/bench/ms_load.py" $SPORT "$N" $what || exit 1
  callgrind_control -d $SPID >/dev/null 2>&1
  stop_pid $SPID
  SPID=
  f=$(ls -S "$T"/cg.$what* | head -1)
  callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null >"$T/ann.$what"
  total=$(awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1; exit}' "$T/ann.$what")
  part() { # part LABEL REGEX: the largest inclusive count of a function matching REGEX
    awk -v re="$2" -v n="$N" -v l="$1" '$0 ~ re && $0 ~ /%\)/ {gsub(",","",$1); if ($1+0 > m) m = $1+0}
      END {if (m / n >= 100) printf " %s %.1fk", l, m / n / 1000}' "$T/ann.$what"
  }
  parts=$(part es256 ':stir_es256_(sign|verify) ')$(part json_load ':(stir_json_load|json_loadb) ')$(part canonical ':stir_json_canonical ')$(part response ':stir_ms_(sign|verify)_response ')$(part http1 ':http1_feed ')$(part log ':log_access ')$(part reply_head_and_log ':queue_reply ')
  printf '%-13s %9.1fk |%s\n' "$what" "$(awk -v t="$total" -v n="$N" 'BEGIN{print t / n / 1000}')" "$parts"
done
echo "# callgrind over stird (--threads 1, access log on), $N keep-alive requests per resource"
