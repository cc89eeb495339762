#!/bin/bash
# The published-key vectors of test-vectors.md (TV-12, TV-2, TV-5) through
# the whole verifier (stirctl verify = the Ms API verification code), with a
# chain made by the openssl CLI whose leaf carries the RFC 8946 App. A key,
# valid 2015-2035 so that the 2015 vectors verify with a frozen clock.
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

cp "$STIR_SRC/tests/data/vector-ca.cnf" ca.cnf
touch index.txt
echo 1000 >serial
mkcert() { # name subject ext signer-cert signer-key [key]
  local key=${6:-$1.key}
  [ -f "$key" ] || openssl ecparam -name prime256v1 -genkey -noout -out "$key" 2>/dev/null
  openssl req -new -key "$key" -subj "$2" -out "$1.csr" 2>/dev/null
  if [ "$4" = self ]; then
    openssl ca -batch -config ca.cnf -selfsign -keyfile "$key" -in "$1.csr" -out "$1.pem" \
      -startdate 20150101000000Z -enddate 20351231000000Z -extensions "$3" -notext 2>/dev/null
  else
    openssl ca -batch -config ca.cnf -cert "$4" -keyfile "$5" -in "$1.csr" -out "$1.pem" \
      -startdate 20150101000000Z -enddate 20351231000000Z -extensions "$3" -notext 2>/dev/null
  fi
}
cat >leaf.key <<'KEY'
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIFKCsFZ4Wsw3ZpBxgc4Z0sOjaXDdMk07Ny1fKg6OntAkoAoGCCqGSM49
AwEHoUQDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4hUYm9wv5wutLgEd9FsiTy3+4
+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w==
-----END EC PRIVATE KEY-----
KEY
mkcert root "/CN=Vector STI-PA Root" root_ext self
mkcert int "/CN=Vector STI-CA SHAKEN" int_ext root.pem root.key
mkcert leaf "/C=US/O=Vector Carrier/CN=SHAKEN 709J" ee_ext int.pem int.key leaf.key
cat leaf.pem int.pem >chain.pem
openssl verify -CAfile root.pem -untrusted int.pem leaf.pem >/dev/null
mkcert other "/CN=Some Other Root" root_ext self

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

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
