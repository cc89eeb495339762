#!/bin/bash
# Issue 10: stird in a real SIP network. Kamailio 5.6 (signing and
# verifying roles) and SIPp run the chain of examples/kamailio/run.sh on
# loopback: a verified call reaches the UAS with an Identity header and
# verstat=TN-Validation-Passed; a forged Identity is refused with 438 and an
# RFC 9410 Reason carrying a ppi; a stale Date with 403; at a verifier
# whose policy lets failed calls continue, the forged call reaches the UAS
# with TN-Validation-Failed and the 200 carries that Reason; with stird stopped
# the call completes unsigned, marked No-TN-Validation. The SIPp scenarios
# make each check (a check that fails fails the call and sipp's exit code).
set -euo pipefail
: "${STIRD:?STIRD must name the stird binary}"
: "${STIR_SRC:?STIR_SRC must name the source tree}"
export STIRD
exec bash "$STIR_SRC/examples/kamailio/run.sh" test
