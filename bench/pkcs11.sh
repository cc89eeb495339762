#!/usr/bin/env bash
# Benchmark (not a test): signing throughput of stird with its key in a
# SoftHSM token (PKCS#11, libp11) against the same server with a PEM key
# file, through HTTP with the yardstick's load script (wrk).
#
#   bench/pkcs11.sh              # from the repository root, after `make build`
# Env: DUR (s per run, default 6), CONNS_LIST ("1 16 64"), THREADS (server
# threads, default 2), REPEAT (default 3; medians), BUILD (default build),
# YARDSTICK (dir, default ../shared/yardstick).
# Prints, per key source and connection count, signing req/s, p50 and p99.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
YARD=${YARDSTICK:-$ROOT/../shared/yardstick}
DUR=${DUR:-6}
REPEAT=${REPEAT:-3}
CONNS_LIST=${CONNS_LIST:-"1 16 64"}
THREADS=${THREADS:-2}
export DUR
[ -x "$BUILD/stird" ] || { echo "bench: build first (make build)" >&2; exit 2; }
[ -f "$YARD/ms-bench.sh" ] || { echo "bench: no yardstick at $YARD" >&2; exit 2; }

T=$(mktemp -d)
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PIN=24680135
MODULE=$(bash "$ROOT/tests/tools/mkhsm.sh" "$T" "$PIN" sp) || exit 1
export SOFTHSM2_CONF=$T/softhsm2.conf
printf '%s\n' "$PIN" > "$T/pin" && chmod 600 "$T/pin"

# shellcheck source=ports.sh
. "$ROOT/bench/ports.sh"

# start KEY CHAIN: stird on a free port; sets SPID and PORT.
start() {
    PORT=$(free_port)
    "$BUILD/stird" --listen "127.0.0.1:$PORT" --threads "$THREADS" --log-level warn \
        --key "$1" --cert "$2" --pkcs11-module "$MODULE" --key-pin-file "$T/pin" \
        --x5u https://cr.example.com/bench.pem --trust "$T/pki/root.pem" >/dev/null 2>"$T/stird.err" &
    SPID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && return 0
        sleep 0.05
    done
    cat "$T/stird.err" >&2
    exit 1
}
stop() { kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "# in-process, one thread (build/stir-micro):"
STIR_MICRO_P11_URI="pkcs11:token=stirtest;object=sp;type=private" \
STIR_MICRO_P11_CERT=$T/chain_sp.pem STIR_MICRO_P11_MODULE=$MODULE STIRD_PKCS11_PIN=$PIN \
    "$BUILD/stir-micro" "$T/pki" 2 | grep -E "sign" | sed 's/^/#   /'
echo "# machine: $(nproc) cpus; $THREADS server threads; DUR=$DUR REPEAT=$REPEAT"
printf '%-6s %5s | %10s %8s %8s\n' key conns "req/s" "p50 ms" "p99 ms"
for conns in $CONNS_LIST; do
    for src in file pkcs11; do
        : > "$T/runs"
        for _ in $(seq "$REPEAT"); do
            if [ $src = file ]; then start "$T/pki/sp.key" "$T/pki/chain.pem"
            else start "pkcs11:token=stirtest;object=sp;type=private" "$T/chain_sp.pem"; fi
            CONNS=$conns bash "$YARD/ms-bench.sh" "http://127.0.0.1:$PORT/stir/v1" 2>/dev/null \
                | awk '$1=="signing"{print $2, $3, $4}' >> "$T/runs"
            stop
        done
        printf '%-6s %5s | %10s %8s %8s\n' $src "$conns" \
            "$(cut -d' ' -f1 "$T/runs" | median)" "$(cut -d' ' -f2 "$T/runs" | median)" \
            "$(cut -d' ' -f3 "$T/runs" | median)"
    done
done
