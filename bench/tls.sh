#!/usr/bin/env bash
# Benchmark (not a test): the Ms API over plain HTTP, over HTTPS with
# keep-alive, and over HTTPS with a new TLS connection per request, in the
# same run (two stird processes, the runs alternating). Uses the
# yardstick's ms-bench.sh (wrk + curl); the new-connection case sends
# `Connection: close`, so the server closes after each answer and wrk
# connects (and shakes hands) again. wrk has no client certificates, so
# mutual TLS is measured with bench/mtls-load.c (signing only, keep-alive
# and a full handshake per request) against a third stird with
# tls_client_ca set.
#
#   bench/tls.sh                 # from the repository root, after `make build`
# Env: DUR (s per run, default 5), REPEAT (default 3), CONNS (default 16),
# THREADS (server threads, default 2), YARDSTICK, BUILD.
set -u -o pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DUR=${DUR:-5}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
CONNS=${CONNS:-16}
export CONNS

T=$(mktemp -d)
cleanup() { stop_pid "${PPID_PLAIN:-}"; stop_pid "${PPID_TLS:-}"; stop_pid "${PPID_MTLS:-}"; rm -rf "$T"; }
trap cleanup EXIT

# A server certificate for 127.0.0.1 (P-256, like the STIR keys).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
  -out "$T/ca.pem" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
  -out "$T/srv.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
  -out "$T/srv.pem" -days 2 -extfile "$T/ext" 2>/dev/null

# A client CA and a client certificate for mutual TLS.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cca.key" \
  -out "$T/cca.pem" -days 2 -subj /CN=bench-client-ca 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cli.key" \
  -out "$T/cli.csr" -subj /CN=bench-client 2>/dev/null
printf 'subjectAltName=URI:spiffe://bench/client\n' >"$T/cext"
openssl x509 -req -in "$T/cli.csr" -CA "$T/cca.pem" -CAkey "$T/cca.key" -CAcreateserial \
  -out "$T/cli.pem" -days 2 -extfile "$T/cext" 2>/dev/null
cc -O2 -D_GNU_SOURCE -o "$T/mtls-load" "$ROOT/bench/mtls-load.c" -lssl -lcrypto -lpthread || exit 1

read -r PPORT TPORT MPORT X1 X2 X3 <<<"$(free_ports 6)"
"$BUILD/stird" --embedded --plain-http --state-dir "$T/s1" --listen 127.0.0.1:$PPORT \
  --x5u-listen 127.0.0.1:$X1 --fetch-allow-any-port --metrics-listen none --threads "$THREADS" --log-level warn \
  >"$T/plain.log" 2>&1 &
PPID_PLAIN=$!
"$BUILD/stird" --embedded --tls-cert "$T/srv.pem" --tls-key "$T/srv.key" --state-dir "$T/s2" \
  --listen 127.0.0.1:$TPORT --x5u-listen 127.0.0.1:$X2 --fetch-allow-any-port --metrics-listen none \
  --threads "$THREADS" --log-level warn >"$T/tls.log" 2>&1 &
PPID_TLS=$!
"$BUILD/stird" --embedded --tls-cert "$T/srv.pem" --tls-key "$T/srv.key" \
  --tls-client-ca "$T/cca.pem" --state-dir "$T/s3" --listen 127.0.0.1:$MPORT \
  --x5u-listen 127.0.0.1:$X3 --fetch-allow-any-port --metrics-listen none --threads "$THREADS" --log-level warn \
  >"$T/mtls.log" 2>&1 &
PPID_MTLS=$!
wait_port $PPORT && wait_port $TPORT && wait_port $MPORT || { cat "$T/plain.log" "$T/tls.log" "$T/mtls.log"; exit 1; }

: >"$T/plain.txt"; : >"$T/ka.txt"; : >"$T/new.txt"; : >"$T/mtls.txt"
for ((r = 0; r < REPEAT; r++)); do
  wait_quiet >/dev/null || true
  "$YARD/ms-bench.sh" "http://127.0.0.1:$PPORT/stir/v1" 2>/dev/null | grep -v '^#' >>"$T/plain.txt"
  wait_quiet >/dev/null || true
  CURL_OPTS="--cacert $T/ca.pem" "$YARD/ms-bench.sh" "https://127.0.0.1:$TPORT/stir/v1" \
    2>/dev/null | grep -v '^#' >>"$T/ka.txt"
  wait_quiet >/dev/null || true
  CURL_OPTS="--cacert $T/ca.pem" AUTH_HEADER="Connection: close" \
    "$YARD/ms-bench.sh" "https://127.0.0.1:$TPORT/stir/v1" 2>/dev/null | grep -v '^#' >>"$T/new.txt"
  printf '{"signingRequest":{"attest":"A","orig":{"tn":"12155551212"},"dest":{"tn":["12155551213"]},"iat":%s}}' \
    "$(date +%s)" >"$T/sign.json"
  for mode in ka new; do
    wait_quiet >/dev/null || true
    "$T/mtls-load" 127.0.0.1 $MPORT "$T/ca.pem" "$T/cli.pem" "$T/cli.key" "$T/sign.json" \
      /stir/v1/signing "$DUR" "$CONNS" $mode >>"$T/mtls.txt"
  done
done

med() { med_min_max | cut -d' ' -f1; }
col() { awk -v e="$2" -v k="$3" '$1 == e {print $k}' "$1" | med; }
printf '%-13s | %12s | %12s %6s | %12s %6s\n' endpoint "http req/s" "https-ka" ratio "https-new" ratio
for ep in signing verification; do
  p=$(col "$T/plain.txt" $ep 2) k=$(col "$T/ka.txt" $ep 2) n=$(col "$T/new.txt" $ep 2)
  rk=$(awk -v a="${k:-0}" -v b="${p:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
  rn=$(awk -v a="${n:-0}" -v b="${p:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
  printf '%-13s | %12s | %12s %6s | %12s %6s\n' "$ep" "$p" "$k" "$rk" "$n" "$rn"
done
mt() { sed -n "s/.*mode=$1 rps=\([^ ]*\).*/\1/p" "$T/mtls.txt" | med; }
printf '%-13s | %12s | %12s %6s | %12s %6s   (mutual TLS, bench/mtls-load)\n' signing-mtls "-" \
  "$(mt ka)" "$(awk -v a="$(mt ka)" -v b="$(col "$T/plain.txt" signing 2)" 'BEGIN{ if (b > 0) printf "%.2f", a / b }')" \
  "$(mt new)" "$(awk -v a="$(mt new)" -v b="$(col "$T/plain.txt" signing 2)" 'BEGIN{ if (b > 0) printf "%.2f", a / b }')"
echo "# medians of $REPEAT runs of ${DUR}s each (wrk -t1 -c$CONNS), server threads: $THREADS"
echo "# p50/p99 ms (plain, https-ka, https-new):"
for ep in signing verification; do
  echo "#   $ep: $(col "$T/plain.txt" $ep 3)/$(col "$T/plain.txt" $ep 4)  $(col "$T/ka.txt" $ep 3)/$(col "$T/ka.txt" $ep 4)  $(col "$T/new.txt" $ep 3)/$(col "$T/new.txt" $ep 4)"
done
