#!/bin/bash
# The published-key vectors of test-vectors.md (TV-12, TV-2, TV-5) through
# the whole verifier (stirctl verify = the Ms API verification code), with a
# chain made by the openssl CLI whose leaf carries the RFC 8946 App. A key,
# valid 2015-2115 so that the 2015 vectors verify with a frozen clock.
# Expected values come from the spec digest, not from our output.
set -euo pipefail
: "${STIRCTL:?}" "${STIR_SRC:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
passes=0
ok() { echo "ok - $1"; passes=$((passes + 1)); }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }

# The vector chain (root.pem, chain.pem; other.pem a root nobody chains
# to) from tests/tools/mkvecpki.sh, the one recipe for it.
bash "$STIR_SRC/tests/tools/mkvecpki.sh" . >/dev/null

NOW=1443208345
V1='eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9.eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MDEzMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTAxMjEifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0.BuOEj7jvXtnbzdCr8wbRgkqvUU7mhB96bmzgU5u7kTDmEIpts_ziGWeGPGroPgI5tb7RWl8HdWk_91EupeMMfA;info=<https://cert.example.org/passport.cer>;alg=ES256;ppt="shaken"'
V8='eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9.eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MTIxMyJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIn0.7GoSZjU8eugtFvFi7d0N3Pfrcf-B__WFdV2u1QtpUJtGC3yPMFKkHd5D0AyHbjZC5YuWlNV5bhxrSigNkIIpDQ;info=<https://cert.example.org/passport.cer>;alg=ES256;ppt="shaken"'
V7C='..32yzF7_5_JtGd7EmllQ-pa0xelidsUD-4yObf0E5wBcsMn2blwZCA62nZ0i-jLj8RYDbOEulp7DnRmjL5O_afw;info=<https://cert.example.org/passport.cer>;alg=ES256'
V2='eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5jb20vY2VydC5jZXIifQ.eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1MTIxMyJ9LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMiJ9fQ.J8mcfVb5BFrLzDcIDYaTPXGT3fWsHUPiLiKQtYksNrslhlFubs07Wv86NujwJvfcFdI1fLrkhlkgVsmBIb9xpQ;info=<https://www.example.com/cert.cer>;alg=ES256;ppt="div"'
# TV-3 (c): a div-o PASSporT (RFC 8946 5), a type we do not support.
DIVO='eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdi1vIiwidHlwIjoicGFzc3BvcnQiLCJ4NXUiOiJodHRwczovL3d3dy5leGFtcGxlLmNvbS9jZXJ0LmNlciJ9.eyJkZXN0Ijp7InRuIjoiMTIxNTU1NTEyMTQifSwiZGl2Ijp7InRuIjoiMTIxNTU1NTUxMjEzIn0sImlhdCI6MTQ0MzIwODM0NSwib3B0IjoiZXlKaGJHY2lPaUpGVXpJMU5pSXNJblI1Y0NJNkluQmhjM053YjNKMElpd2llRFYxSWpvaWFIUjBjSE02THk5M2QzY3VaWGhoYlhCc1pTNWpiMjB2WTJWeWRDNWpaWElpZlEuZXlKa1pYTjBJanA3SW5SdUlqcGJJakV5TVRVMU5UVXhNakV6SWwxOUxDSnBZWFFpT2pFME5ETXlNRGd6TkRVc0ltOXlhV2NpT25zaWRHNGlPaUl4TWpFMU5UVTFNVEl4TWlKOWZRLjFiRXpremNOYkt2Z3o0UW9NeDBfREoyVDhxRk1EQzFzUHFIUFhsMVd2YmF1elJKUnZZbFpxUTBxZ0dUbFM4dEpfd1hqVmUwN1ozd3ZEcmRBcEhoaFl3Iiwib3JpZyI6eyJ0biI6IjEyMTU1NTUxMjEyIn19.CHeA9wRnthl7paMe6rP0TARpmFCXjmi_vF_HRz2O_oulB_R-G9xZNiLVvmvHv4gk6LILaDV2y2VtHTLIEgmHig;info=<https://www.example.com/cert.cer>;ppt="div-o"'
TV2='eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9.eyJkZXN0Ijp7InVyaSI6WyJzaXA6YWxpY2VAZXhhbXBsZS5jb20iXX0sImlhdCI6IjE0NDMyMDgzNDUiLCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0.rq3pjT1hoRwakEGjHCnWSwUnshd0-zJ6F1VOgFWSjHBr8Qjpjlk-cpFYpFYsojNCpTzO3QfPOlckGaS6hEck7w;info=<https://cert.example.org/passport.cer>'

# verify NAME TRUST IDENTITY FROM TO [extra args] -> writes out.json, returns exit status
verify() {
  local trust=$1 id=$2 from=$3 to=$4
  shift 4
  "$STIRCTL" verify --trust "$trust" --cert-file chain.pem --now "$NOW" \
    --identity "$id" --from "$from" --to "$to" "$@" >out.json 2>err.txt
}
field() { jq -r "$1" out.json; }
expect() { # name jq-path expected
  local got
  got=$(field "$2")
  if [ "$got" = "$3" ]; then ok "$1"; else bad "$1: $2 = '$got', expected '$3'"; cat out.json err.txt; fi
}
R='.verificationResponse.verifyResults[0].verifyResult'

verify root.pem "$V1" 12155550121 12155550131 && ok "V1 exit 0" || bad "V1 exit"
expect "V1 shaken passes" "$R.status" pass
expect "V1 verstat" .verificationResponse.verstatValue TN-Validation-Passed
expect "V1 validClaims.origid" "$R.validClaims.origid" 123e4567-e89b-12d3-a456-426655440000

verify root.pem "$V8" "+1 (215) 555-1212" "tel:+1-215-555-1213" || true
expect "V8 with separators and tel URI passes" "$R.status" pass

verify root.pem "$V7C" "sip:+12155551212@example.com;user=phone" "tel:+1-215-555-1213" || true
expect "V7 compact form rebuilt from SIP passes" "$R.status" pass

verify root.pem "$V1" 12155550122 12155550131 && bad "mismatch exit" || true
expect "orig mismatch is 438" "$R.reasonCode" 438
expect "orig mismatch verstat" .verificationResponse.verstatValue TN-Validation-Failed
grep -q '12155550121 does not match from tn 12155550122' out.json && ok "mismatch detail names both" || bad "mismatch detail"

verify root.pem "$V1" 12155550121 12155550199 || true
expect "dest mismatch is 438" "$R.reasonCode" 438

verify root.pem "$V1" 12155550121 12155550131 --time $((NOW + 61)) --now $((NOW + 61)) || true
expect "iat 61 s old is 403" "$R.reasonCode" 403
expect "403 text" "$R.reasonText" "Stale Date"

verify root.pem "$V1" 12155550121 12155550131 --time $((NOW - 120)) || true
expect "iat 120 s after time is 403" "$R.reasonCode" 403

TAMPERED=$(printf '%s' "$V1" | sed 's/BuOEj7jv/BuOEj7jw/')
verify root.pem "$TAMPERED" 12155550121 12155550131 || true
expect "flipped signature is 438" "$R.reasonCode" 438
expect "failure carries the passport" "$R.passport" "${TAMPERED%%;*}"
TOKEN=${TAMPERED%%;*}
SIGPART=${TOKEN##*.}
[ "$(field "$R.reasonHeader")" = "STIR ;cause=438 ;text=\"Invalid Identity Header\" ;ppi=\"..${SIGPART}\"" ] &&
  ok "ppi is .. + signature" || bad "ppi form: $(field "$R.reasonHeader")"

verify other.pem "$V1" 12155550121 12155550131 || true
expect "chain to an untrusted root is 437" "$R.reasonCode" 437

verify root.pem "$TV2" 12155551212 sip:alice@example.com || true
expect "TV-2 (iat as a string) is 438" "$R.reasonCode" 438
expect "TV-2 phrase" "$R.reasonText" "Invalid PASSporT"

verify root.pem "$DIVO" 12155551212 12155551214 || true
expect "unsupported ppt reports 428" "$R.reasonCode" 428
expect "unsupported ppt phrase" "$R.reasonText" "Use Supported PASSporT Format"
expect "unsupported ppt verstat" .verificationResponse.verstatValue No-TN-Validation

verify root.pem "$V1" "sip:anonymous@anonymous.invalid" 12155550131 || true
expect "anonymous caller is 433" "$R.reasonCode" 433

b64u() { basenc --base64url -w0 | tr -d '='; }
NONEHDR=$(printf '%s' '{"alg":"none","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/passport.cer"}' | b64u)
REST=${V1#*.}
NONE="$NONEHDR.${REST%%.*}.;info=<https://cert.example.org/passport.cer>;ppt=shaken"
verify root.pem "$NONE" 12155550121 12155550131 || true
expect "alg none with an empty signature is 438" "$R.reasonCode" 438
NONE="$NONEHDR.${REST}"
verify root.pem "$NONE" 12155550121 12155550131 || true
expect "alg none is 438" "$R.reasonCode" 438

# ---- PASSporT types other than shaken (test-vectors.md TV-3, TV-5, TV-12) --------
# Tokens copied from the digest; the expected verdicts are its stated ones.
# The first --identity is the identityHeader, further ones identityHeaders.
V2B='eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5jb20vY2VydC5jZXIifQ.eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsiaGkiOiIxLjIuMSIsInRuIjoiMTIxNTU1NTEyMTMifSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0.RJBnILovpcfYSWaSlNU_OzpHB34qgBlNtVASBREht-OHnt3gb4ijxnsdSkCxkXTmCXH6ALzwQx8d1c9OYc8Rpw;info=<https://www.example.com/cert.cer>;alg=ES256;ppt="div"'
# TV-3 (a), with the Identity parameters of RFC 8946 4.1: div 121555551213 (12 digits).
TV3A='eyJhbGciOiJFUzI1NiIsInBwdCI6ImRpdiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5jb20vY2VydC5jZXIifQ.eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjE0Il19LCJkaXYiOnsidG4iOiIxMjE1NTU1NTEyMTMifSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0.xBHWipDEEJ8a6TsdX6xUXAnblsFiGUiAxwLiv0HLC9IICj6eG9jQd6WzeSSjHRBwxmChHhVIiMTSqIlk3yCNkg;info=<https://www.example.com/cert.cer>;ppt="div"'
V3='eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5vcmcvY2VydC5jZXIifQ.eyJkZXN0Ijp7InRuIjpbIjEyMTI1NTUwMTEzIl19LCJpYXQiOjE0NDMyMDgzNDUsIm9yaWciOnsidG4iOiIxMjE1NTU1MDExMiJ9LCJycGgiOnsiYXV0aCI6WyJldHMuMCIsIndwcy4wIl19fQ.AjVA5mG7XYiFoKN9tGt9LCcojAo1V3Huv4M2onX0P6XnxHoBEzZpNRU51STljFZf-y2v90nbjAD6ru-leoSUMg;info=<https://www.example.org/cert.cer>;alg=ES256;ppt="rph"'
V4='eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5vcmcvY2VydC5jZXIifQ.eyJkZXN0Ijp7InRuIjpbIjEyMTU1NTUxMjEyIl19LCJpYXQiOjE2MTU0NzE0MjgsIm9yaWciOnsidG4iOiIxMjE1NTU1MTIxMyJ9LCJycGgiOnsiYXV0aCI6WyJlc25ldC4wIl19LCJzcGgiOiJwc2FwLWNhbGxiYWNrIn0.WZTIErcXMz3wW1CGh4sjFqHlnNAM7K5_KahsIiKYDCCtSKydQTMwy0XnSefDqNXsvv63RwjawvGss2S0j90LEg;info=<https://www.example.org/cert.cer>;alg=ES256;ppt="rph"'
V4NOW=1615471428
V5='eyJhbGciOiJFUzI1NiIsInBwdCI6InJjZCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9.eyJjcm4iOiJSZW5kZXp2b3VzIGZvciBMaXR0bGUgTmVsbGllIiwiZGVzdCI6eyJ0biI6WyIxMjE1NTU1MTAwMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIwMjU1NTEwMDAifSwicmNkIjp7ImpjbCI6Imh0dHBzOi8vZXhhbXBsZS5jb20vcWJyYW5jaC5qc29uIiwibmFtIjoiUSBCcmFuY2ggU3B5IEdhZGdldHMifSwicmNkaSI6eyIvamNsIjoic2hhMjU2LXFDbjRwRUg2Qkp1N3pYbmRMRnVBUDZEd2xUdjVmUm1KMUFGa3FmdHduQ3MifX0.BeyuVPe6sVYA17YBDrEqOOouwAGgKOVQFQ018Pfi8995WQm_ih1nl17iirgkQwRNjkrzGRXqYLUQMflt4kCAWg;info=<https://cert.example.org/passport.cer>;alg=ES256;ppt="rcd"'
V6='eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9.eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxMjAyNTU1MTAwMSJdfSwiaWF0IjoxNDQzMjA4MzQ1LCJvcmlnIjp7InRuIjoiMTIwMjU1NTEwMDAifSwib3JpZ2lkIjoiMTIzZTQ1NjctZTg5Yi0xMmQzLWE0NTYtNDI2NjU1NDQwMDAwIiwicmNkIjp7Im5hbSI6IkphbWVzIEJvbmQifX0.kQyUC63I0KfqFY2j1mdRc7PpHgt0PXK9j5hGGVLodF4B58_7C_0s7h_N2tcJb9Xs7R3m97IlGWs5Xq8x3SxRQg;info=<https://cert.example.org/passport.cer>;alg=ES256;ppt="shaken"'
TV5='eyJhbGciOiJFUzI1NiIsInBwdCI6InJwaCIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly93d3cuZXhhbXBsZS5jb20vY2VydC5jZXIifQo.eyJkZXN0Ijp7WyJ0biI6IjEyMTI1NTUwMTEzIl19LCJpYXQiOiIxNDQzMjA4MzQ1Iiwib3JpZyI6eyJ0biI6IjEyMTU1NTUwMTEyIn0sInJwaCI6eyJhdXRoIjpbImV0cy4wIiwid3BzLjAiXX19Cg.s37S6VC8HM6Dl6YzJeQDsrZcwJ0lizxhUrA7f_98oWBHvo-cl-n8MIhoCr18vYYFy3blXvs3fslM_oos2P2Dyw;info=<https://www.example.org/cert.cer>;alg=ES256;ppt="rph"'
R1='.verificationResponse.verifyResults[1].verifyResult'
V=.verificationResponse
is() { # name jq-boolean-expression
  if [ "$(field "$2")" = true ]; then ok "$1"; else bad "$1: $2 is not true"; cat out.json err.txt; fi
}

# Positive SHAKEN div chain (test-vectors.md): V8 + V2, from A, to B, dest C.
verify root.pem "$V8" 12155551212 12155551213 --identity "$V2" --dest 12155551214 &&
  ok "V8+V2 exit 0" || bad "V8+V2 exit"
expect "V8+V2 shaken passes" "$R.status" pass
expect "V8+V2 div passes" "$R1.status" pass
expect "V8+V2 div ppt" "$R1.ppt" div
expect "V8+V2 verstat" "$V.verstatValue" TN-Validation-Passed
is "V8+V2 divResult passed" \
  "$V.divResult == [{\"div\":{\"tn\":\"12155551213\"},\"verstatValue\":\"TN-Validation-Passed\"}]"

# RFC 8946 4.2 step 1: the chain ends at the request's dest.
verify root.pem "$V8" 12155551212 12155551213 --identity "$V2" --dest 12155551299 || true
expect "V8+V2 with another dest: shaken passes" "$R.status" pass
expect "V8+V2 with another dest: div fails 438" "$R1.reasonCode" 438
verify root.pem "$V8" 12155551212 12155551213 --identity "$V2" || true
expect "V8+V2 without dest: div fails 438" "$R1.reasonCode" 438
expect "V8+V2 without dest: shaken passes" "$R.status" pass

# Negative chain: TV-3(a) names 121555551213, which no PASSporT has as dest.
verify root.pem "$V8" 12155551212 12155551213 --identity "$TV3A" --dest 12155551214 &&
  bad "V8+TV-3(a) exit" || true
expect "V8+TV-3(a) shaken passes" "$R.status" pass
expect "V8+TV-3(a) verstat" "$V.verstatValue" TN-Validation-Passed
expect "V8+TV-3(a) div fails" "$R1.status" fail
expect "V8+TV-3(a) div is 438" "$R1.reasonCode" 438
is "V8+TV-3(a) reasonHeader is an RFC 9410 STIR 438" \
  "$R1.reasonHeader | startswith(\"STIR ;cause=438 \")"
is "V8+TV-3(a) divResult failed" \
  "$V.divResult == [{\"div\":{\"tn\":\"121555551213\"},\"verstatValue\":\"TN-Validation-Failed\"}]"
# ... and next to the good V2 only TV-3(a) fails (order as received).
verify root.pem "$V8" 12155551212 12155551213 --identity "$TV3A" --identity "$V2" \
  --dest 12155551214 || true
expect "V8+TV-3(a)+V2: TV-3(a) fails" "$R1.status" fail
expect "V8+TV-3(a)+V2: V2 passes" ".verificationResponse.verifyResults[2].verifyResult.status" pass

# V2b: the div with hi chains like V2; divResult carries the div as signed.
verify root.pem "$V8" 12155551212 12155551213 --identity "$V2B" --dest 12155551214 &&
  ok "V8+V2b exit 0" || bad "V8+V2b exit"
expect "V8+V2b div passes" "$R1.status" pass
is "V8+V2b divResult has hi" \
  "$V.divResult == [{\"div\":{\"hi\":\"1.2.1\",\"tn\":\"12155551213\"},\"verstatValue\":\"TN-Validation-Passed\"}]"

# V3 rph (RFC 8443 3): it vouches for the Resource-Priority sent (RFC 8443 4.2).
verify root.pem "$V3" 12155550112 12125550113 --protected-header "Resource-Priority: ets.0,wps.0" &&
  ok "V3 exit 0" || bad "V3 exit"
expect "V3 rph passes" "$R.status" pass
expect "V3 rph ppt" "$R.ppt" rph
expect "V3 verstatPriority" "$V.verstatPriority" RPH-Validation-Passed
is "V3 validClaims.rph" "$R.validClaims.rph == {\"auth\":[\"ets.0\",\"wps.0\"]}"
verify root.pem "$V3" 12155550112 12125550113 --protected-header "Resource-Priority: ets.1" || true
expect "V3 with ets.1 fails" "$R.status" fail
expect "V3 with ets.1 is 438" "$R.reasonCode" 438
expect "V3 with ets.1 verstatPriority" "$V.verstatPriority" RPH-Validation-Failed
verify root.pem "$V3" 12155550112 12125550113 || true
expect "V3 without Resource-Priority fails" "$R.status" fail

# V4 rph + sph (RFC 9027 4): needs Priority: psap-callback.
verify root.pem "$V4" 12155551213 12155551212 --now $V4NOW --time $V4NOW \
  --protected-header "Resource-Priority: esnet.0" --protected-header "Priority: psap-callback" &&
  ok "V4 exit 0" || bad "V4 exit"
expect "V4 rph+sph passes" "$R.status" pass
expect "V4 verstatPriority" "$V.verstatPriority" RPH-Validation-Passed
expect "V4 validClaims.sph" "$R.validClaims.sph" psap-callback
verify root.pem "$V4" 12155551213 12155551212 --now $V4NOW --time $V4NOW \
  --protected-header "Resource-Priority: esnet.0" || true
expect "V4 without Priority fails" "$R.status" fail
expect "V4 without Priority is 438" "$R.reasonCode" 438
expect "V4 without Priority verstatPriority" "$V.verstatPriority" RPH-Validation-Failed

# TV-5 (RFC 8443 4.1 as published): not valid JSON, iat a string, x5u != info.
verify root.pem "$TV5" 12155550112 12125550113 --protected-header "Resource-Priority: ets.0,wps.0" &&
  bad "TV-5 exit" || true
expect "TV-5 is rejected" "$R.status" fail
expect "TV-5 is 438" "$R.reasonCode" 438

# V6 shaken + rcd (RFC 9795 13.2): the caller passes, the name is verified.
verify root.pem "$V6" 12025551000 12025551001 && ok "V6 exit 0" || bad "V6 exit"
expect "V6 shaken+rcd passes" "$R.status" pass
expect "V6 ppt stays shaken" "$R.ppt" shaken
expect "V6 verstat" "$V.verstatValue" TN-Validation-Passed
expect "V6 rcdResult passes" "$R.rcdResult.status" pass
expect "V6 rcdResult display name" "$R.rcdResult.display.name" "James Bond"

# V5 rcd with jcl + rcdi /jcl: https://example.com/qbranch.json cannot be
# fetched here, so the jCard is not verified (RFC 9795 8.2). An rcd
# PASSporT exists for its RCD: unverified RCD fails it, 438 naming /jcl,
# and none of its claims is offered as valid (issue 10).
verify root.pem "$V5" 12025551000 12155551001 || true
expect "V5 rcd PASSporT fails" "$R.status" fail
expect "V5 rcd ppt" "$R.ppt" rcd
expect "V5 reasonCode" "$R.reasonCode" 438
is "V5 reason names /jcl" "$R.reasonDescription | contains(\"/jcl\")"
is "V5 no validClaims from unverified RCD" "$R | has(\"validClaims\") | not"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
