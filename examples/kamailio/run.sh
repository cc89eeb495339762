#!/bin/bash
# The whole STIR/SHAKEN chain on loopback, from Debian packages:
#
#   SIPp UAC -> Kamailio (ROLE_SIGN) -> Kamailio (ROLE_VERIFY) -> SIPp UAS
#                    |  POST /signing          |  POST /verification
#                    +--------- stird ---------+  (embedded test PKI)
#
# Usage:
#   run.sh [test]          the four calls of docs/SIP.md: a verified call, a
#                          forged Identity (438 + Reason with ppi), a stale
#                          Date (403), the forged Identity again at a
#                          verifier that lets failed calls continue
#                          (TN-Validation-Failed at the UAS, Reason with
#                          ppi in the 200), stird stopped (call completes,
#                          unsigned, No-TN-Validation). Exit 0 if all behave.
#   run.sh load RATE N     N calls at RATE calls/s through the chain; prints
#                          one line: rate, calls, failed, elapsed_s, the CPU
#                          seconds of stird, Kamailio (all workers) and SIPp,
#                          stird_share (stird / all three) and stird's CPU
#                          per call (one signing + one verification).
# Environment: STIRD (default ../../build/stird), KAMAILIO, SIPP, KEEP=1 to
# keep the work directory, CHILDREN (Kamailio workers, default 4).
# Every port is a free loopback port, every file under one temp directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STIRD=${STIRD:-$HERE/../../build/stird}
KAMAILIO=${KAMAILIO:-kamailio}
SIPP=${SIPP:-sipp}
CHILDREN=${CHILDREN:-4}
FROM_USER=+12155551212
TO_USER=+12155551213
WORK=$(mktemp -d /tmp/stirchain.XXXXXX)
PIDS=()
KAM_PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

die() { echo "run.sh: $*" >&2; exit 1; }

# Ports nobody uses now on 127.0.0.1, found by binding port 0: TCP_PORTS
# and UDP_PORTS, taken with take_port (one interpreter start for all: on a
# loaded machine each python3 start costs a second).
alloc_ports() {
    local out
    out=$(python3 -c 'import socket
def ports(kind, n):
    socks = [socket.socket(socket.AF_INET, kind) for _ in range(n)]
    for s in socks: s.bind(("127.0.0.1", 0))
    return " ".join(str(s.getsockname()[1]) for s in socks)
print(ports(socket.SOCK_STREAM, 6)); print(ports(socket.SOCK_DGRAM, 16))')
    read -r -a TCP_PORTS <<<"$(sed -n 1p <<<"$out")"
    read -r -a UDP_PORTS <<<"$(sed -n 2p <<<"$out")"
    TCP_I=0 UDP_I=0
}
# take_port VAR tcp|udp
take_port() {
    if [ "$2" = tcp ]; then printf -v "$1" %s "${TCP_PORTS[$TCP_I]}"; TCP_I=$((TCP_I + 1))
    else printf -v "$1" %s "${UDP_PORTS[$UDP_I]}"; UDP_I=$((UDP_I + 1)); fi
}

imf_date() { LC_ALL=C date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S GMT'; }

# ---- stird ------------------------------------------------------------------
STIRD_PID=
start_stird() {
    local extra=()
    # The API listener needs plain HTTP chosen explicitly; the metrics
    # listener is not needed here (and its default port may be taken).
    extra+=(--plain-http --metrics-listen none)
    local try
    for try in 1 2 3; do
        take_port SP tcp; take_port XP tcp
        "$STIRD" --embedded --state-dir "$WORK/stird" --listen "127.0.0.1:$SP" \
            --x5u-listen "127.0.0.1:$XP" --fetch-allow-any-port --threads 2 \
            --log-level warn "${extra[@]}" >"$WORK/stird.log" 2>&1 &
        STIRD_PID=$!
        PIDS+=("$STIRD_PID")
        local i
        for i in $(seq 1 100); do
            if curl -sf "http://127.0.0.1:$SP/health" >/dev/null 2>&1; then return 0; fi
            kill -0 "$STIRD_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$STIRD_PID" 2>/dev/null || true
        wait "$STIRD_PID" 2>/dev/null || true
    done
    cat "$WORK/stird.log" >&2
    die "stird did not start"
}

# Stop stird; a clean exit is part of the test (sanitizer builds report
# leaks and errors at exit).
stop_stird() {
    local st=0
    kill "$STIRD_PID"
    wait "$STIRD_PID" 2>/dev/null || st=$?
    # 143: the SIGTERM itself, for a stird that does not catch it
    if [ "$st" != 0 ] && [ "$st" != 143 ]; then
        cat "$WORK/stird.log" >&2
        echo "FAIL - stird exited with status $st"
        FAILED=1
    fi
}

# ---- Kamailio ------------------------------------------------------------------
# start_kamailio NAME ROLE PORT [NEXT_HOP_PORT]
start_kamailio() {
    local name=$1 role=$2 port=$3 next=${4:-} dir="$WORK/$1" hop=()
    [ -n "$next" ] && hop=(-A "NEXT_HOP=\"sip:127.0.0.1:$next\"")
    mkdir -p "$dir"
    "$KAMAILIO" -DD -E -f "$HERE/kamailio.cfg" -Y "$dir" -P "$dir/kamailio.pid" -w "$dir" \
        -m 64 -M 8 -l "udp:127.0.0.1:$port" -A $role -A "CHILDREN=$CHILDREN" \
        -A "STIRD=\"http://127.0.0.1:$SP\"" "${hop[@]}" \
        >"$dir/kamailio.log" 2>&1 &
    local pid=$! i
    KAM_PIDS+=("$pid")
    PIDS+=("$pid")
    # Ready when its UDP socket is bound (requests that come before the
    # workers run wait in the socket buffer).
    for i in $(seq 1 200); do
        if ss -Hlun "sport = :$port" | grep -q .; then return 0; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/kamailio.log" >&2
    die "kamailio $name did not start"
}

# ---- SIPp ----------------------------------------------------------------------
# scenario TEMPLATE OUT SED-EXPRESSIONS...: a copy with the @...@ filled in
# (an expression "/@X@/d" drops the header line of an absent value).
scenario() {
    local tpl=$1 out=$2
    shift 2
    sed "$@" "$HERE/sipp/$tpl" >"$out"
}

# uas NAME VERSTAT IDENTITY_CHECK CALLS: start the called party.
UAS_PID=
uas() {
    local name=$1 verstat=$2 check=$3 calls=$4
    # A port of its own: nothing meant for an earlier UAS reaches it.
    take_port UP udp
    scenario uas.xml "$WORK/$name.xml" -e "s/@VERSTAT@/$verstat/" -e "s/@IDENTITY_CHECK@/$check/"
    (cd "$WORK" && exec /usr/bin/time -f "%U %S" -o "$WORK/$name.cpu" \
        "$SIPP" -sf "$WORK/$name.xml" -i 127.0.0.1 -p "$UP" -m "$calls" \
        -nostdin -timeout 120s -timeout_error -trace_err -trace_screen >"$WORK/$name.out" 2>&1) &
    UAS_PID=$!
    PIDS+=("$UAS_PID")
    # Ready when its socket is bound.
    local i
    for i in $(seq 1 100); do
        ss -Hlun "sport = :$UP" | grep -q . && return 0
        sleep 0.05
    done
    die "the UAS did not start"
}

# uac NAME SCENARIO TARGET_PORT CALLS RATE [sed expressions...]
uac() {
    local name=$1 tpl=$2 port=$3 calls=$4 rate=$5
    shift 5
    scenario "$tpl" "$WORK/$name.xml" "$@"
    take_port UCP udp
    (cd "$WORK" && exec /usr/bin/time -f "%U %S" -o "$WORK/$name.cpu" \
        "$SIPP" -sf "$WORK/$name.xml" -i 127.0.0.1 -p "$UCP" \
        "127.0.0.1:$port" -m "$calls" -r "$rate" -l 2000 -nostdin \
        -key from_user "$FROM_USER" -key to_user "$TO_USER" -key uas_host "127.0.0.1:$UP" \
        -timeout 60s -timeout_error -trace_err -trace_screen -trace_stat -fd 1 ${SIPP_EXTRA:-} \
        >"$WORK/$name.out" 2>&1)
}

result() { # name verdict-of-uac verdict-of-uas
    if [ "$2" = 0 ] && [ "$3" = 0 ]; then
        echo "ok - $1"
    else
        echo "FAIL - $1 (uac $2, uas $3)"
        FAILED=1
        for f in "$WORK"/*"$1"*; do echo "--- $f"; tail -n 40 "$f"; done
        for k in sign verify; do echo "--- kamailio $k"; tail -n 20 "$WORK/$k/kamailio.log"; done
    fi
}

setup() {
    alloc_ports
    start_stird
    take_port K1 udp; take_port K2 udp; take_port UP udp
    # The terminating proxy routes on the Request-URI: each UAS its own port.
    start_kamailio sign ROLE_SIGN "$K1" "$K2"
    start_kamailio verify ROLE_VERIFY "$K2"
    if [ "${1:-}" = continue ]; then
        take_port K3 udp
        start_kamailio verify-continue "ROLE_VERIFY -A CONTINUE_ON_FAIL" "$K3"
    fi
}

run_tests() {
    FAILED=0
    local now date rc urc
    setup continue

    # 1. A verified call: Identity added by the originating side, verstat
    #    TN-Validation-Passed at the UAS.
    uas uas_good TN-Validation-Passed check_it 1
    now=$(date +%s); date=$(imf_date "$now")
    rc=0; uac uac_good uac.xml "$K1" 1 1 -e "s/@DATE@/Date: $date/" || rc=$?
    urc=0; wait "$UAS_PID" || urc=$?
    result good "$rc" "$urc"

    # 2. A forged Identity straight to the terminating side: a PASSporT
    #    stird signed, its signature changed: 438 with Reason and ppi.
    now=$(date +%s); date=$(imf_date "$now")
    local identity forged
    identity=$(curl -sf -H 'Content-Type: application/json' \
        -d "{\"attest\":\"A\",\"orig\":{\"tn\":\"$FROM_USER\"},\"dest\":{\"tn\":[\"$TO_USER\"]},\"iat\":$now}" \
        "http://127.0.0.1:$SP/stir/v1/signing" | jq -r .signingResponse.identityHeader)
    # The same header with the first signature character changed.
    local jws=${identity%%;*} sig
    sig=${jws##*.}
    if [ "${sig:0:1}" = B ]; then sig="C${sig:1}"; else sig="B${sig:1}"; fi
    forged="${jws%.*}.$sig;${identity#*;}"
    rc=0; uac uac_forged uac_reject.xml "$K2" 1 1 -e "s/@CODE@/438/g" \
        -e "s/@DATE@/Date: $date/" -e "s|@IDENTITY@|Identity: $forged|" || rc=$?
    result forged "$rc" 0

    # 3. A Date an hour old through both proxies: 403 Stale Date.
    date=$(imf_date $(( $(date +%s) - 3600 )))
    rc=0; uac uac_stale uac_reject.xml "$K1" 1 1 -e "s/@CODE@/403/g" \
        -e "s/@DATE@/Date: $date/" -e "/@IDENTITY@/d" || rc=$?
    result stale "$rc" 0

    # 4. The forged Identity at a verifier whose policy lets the call go on:
    #    the UAS sees TN-Validation-Failed, the 200 carries the Reason.
    uas uas_continue TN-Validation-Failed check_it 1
    date=$(imf_date "$(date +%s)")
    rc=0; uac uac_continue uac.xml "$K3" 1 1 -e "s/@DATE@/Date: $date/" \
        -e "s|^\( *\)Subject: stird chain|\1Identity: $forged|" \
        -e "s|<recv response=\"200\" rtd=\"true\" rrs=\"true\"/>|<recv response=\"200\" rtd=\"true\" rrs=\"true\"><action><ereg regexp=\"STIR ;cause=438 ;text=\&quot;[^\&quot;]+\&quot; ;ppi=\&quot;\\\\.\\\\.[A-Za-z0-9_-]{86}\&quot;\" search_in=\"hdr\" header=\"Reason:\" check_it=\"true\" assign_to=\"reason\"/><log message=\"[\$reason]\"/></action></recv>|" \
        || rc=$?
    urc=0; wait "$UAS_PID" || urc=$?
    result continue "$rc" "$urc"

    # 5. stird stopped: the call completes, unsigned, marked No-TN-Validation.
    stop_stird
    uas uas_down No-TN-Validation check_it_inverse 1
    date=$(imf_date "$(date +%s)")
    rc=0; uac uac_down uac.xml "$K1" 1 1 -e "s/@DATE@/Date: $date/" || rc=$?
    urc=0; wait "$UAS_PID" || urc=$?
    result down "$rc" "$urc"
    return "$FAILED"
}

# CPU ticks (utime + stime) of a process, of Kamailio (main processes and
# their workers), and of the whole machine.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kam_ticks() {
    local p c sum=0
    for p in "${KAM_PIDS[@]}"; do
        for c in $p $(ps -o pid= --ppid "$p"); do
            sum=$((sum + $(proc_ticks "$c" 2>/dev/null || echo 0)))
        done
    done
    echo "$sum"
}
total_ticks() { awk '/^cpu /{s = 0; for (i = 2; i <= NF; i++) s += $i; print s; exit}' /proc/stat; }
idle_ticks() { awk '/^cpu /{print $5 + $6; exit}' /proc/stat; }

run_load() {
    local rate=$1 calls=$2
    setup
    uas uas_load TN-Validation-Passed check_it "$calls"
    local s0 t0 i0 k0 w0 w1 s1 t1 i1 k1 rc=0 urc=0
    s0=$(proc_ticks "$STIRD_PID"); k0=$(kam_ticks); t0=$(total_ticks); i0=$(idle_ticks)
    w0=$(date +%s.%N)
    # No Date from the UAC: the originating proxy adds it (RFC 8224 4.1),
    # so long runs stay inside the freshness window.
    uac uac_load uac.xml "$K1" "$calls" "$rate" -e "/@DATE@/d" || rc=$?
    w1=$(date +%s.%N); s1=$(proc_ticks "$STIRD_PID"); k1=$(kam_ticks); t1=$(total_ticks)
    i1=$(idle_ticks)
    wait "$UAS_PID" || urc=$?
    local sipp_s
    sipp_s=$(cat "$WORK/uac_load.cpu" "$WORK/uas_load.cpu" 2>/dev/null |
             awk 'NF == 2 && $1 ~ /^[0-9.]+$/ {s += $1 + $2} END {print s + 0}')
    local hz failed
    hz=$(getconf CLK_TCK)
    failed=$(awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") c = i}
                        NR > 1 && c {v = $c} END {print v + 0}' "$WORK"/uac_load_*_.csv 2>/dev/null || echo "?")
    awk -v rate="$rate" -v calls="$calls" -v failed="$failed" -v rc="$rc" -v urc="$urc" \
        -v w0="$w0" -v w1="$w1" -v s="$((s1 - s0))" -v k="$((k1 - k0))" -v sipp="$sipp_s" \
        -v t="$((t1 - t0))" -v idle="$((i1 - i0))" -v hz="$hz" 'BEGIN {
        chain = s / hz + k / hz + sipp
        fmt = "rate=%s calls=%s failed=%s uac_rc=%s uas_rc=%s elapsed_s=%.2f"
        fmt = fmt " stird_cpu_s=%.2f kamailio_cpu_s=%.2f sipp_cpu_s=%.2f stird_share=%.3f"
        fmt = fmt " stird_cpu_per_call_ms=%.3f machine_busy_cpu_s=%.2f\n"
        printf fmt, rate, calls, failed, rc, urc, w1 - w0, s / hz, k / hz, sipp,
               (chain > 0 ? s / hz / chain : 0), (calls > 0 ? 1000 * s / hz / calls : 0),
               (t - idle) / hz }'
    [ "$rc" = 0 ] && [ "$urc" = 0 ]
}

command -v "$KAMAILIO" >/dev/null || die "kamailio not found (apt-get install kamailio kamailio-utils-modules kamailio-extra-modules)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
command -v "$SIPP" >/dev/null || die "sipp not found (apt-get install sip-tester)"
[ -x "$STIRD" ] || die "stird not found at $STIRD (make build, or set STIRD)"

case "${1:-test}" in
    test) run_tests ;;
    load) [ $# -eq 3 ] || die "usage: run.sh load RATE CALLS"; run_load "$2" "$3" ;;
    *) die "usage: run.sh [test | load RATE CALLS]" ;;
esac
