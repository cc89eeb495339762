#!/bin/bash
# Call load through the whole SIP chain (examples/kamailio/run.sh load):
# SIPp UAC -> Kamailio signing -> Kamailio verifying -> SIPp UAS, stird
# behind both proxies. Raises the call rate step by step, each step a fresh
# chain and SECONDS_PER_STEP seconds of calls, and stops at the first step
# with a failed call. Prints one line per step and the highest rate with
# zero failed calls. docs/BENCHMARKS.md has the figures.
#
# Usage: bench/sipload.sh [RATE...]   (default 100 200 300 400 500 600 800)
# Environment: STIRD (default build/stird), SECONDS_PER_STEP (default 10).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export STIRD=${STIRD:-$ROOT/build/stird}
STEP_S=${SECONDS_PER_STEP:-10}
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(100 200 300 400 500 600 800)

best=0
echo "# $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $STEP_S s per step"
for rate in "${RATES[@]}"; do
    line=$("$ROOT/examples/kamailio/run.sh" load "$rate" $((rate * STEP_S)) 2>&1 | tail -n 1) || true
    echo "$line"
    case "$line" in
        *" failed=0 uac_rc=0 uas_rc=0 "*) best=$rate ;;
        *) break ;;
    esac
done
echo "highest rate with zero failed calls: $best calls/s"
