#!/bin/bash
# stirctl end to end: keygen, pki, sign, decode, verify. Independent checks
# with the openssl CLI (key type and mode, chain validity, the TNAuthList
# DER of test-vectors.md TV-10, the ES256 signature) and python's json.
set -euo pipefail
: "${STIRCTL:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
passes=0 fails=0
ok() { echo "ok - $1"; passes=$((passes + 1)); }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
PY=/usr/bin/python3

"$STIRCTL" keygen k.pem >/dev/null
check "keygen writes a P-256 key" "openssl pkey -in k.pem -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256'"
check "keygen key is mode 0600" "[ \"\$(stat -c %a k.pem)\" = 600 ]"
check "keygen refuses to overwrite" "! \"$STIRCTL\" keygen k.pem 2>/dev/null"

"$STIRCTL" pki --dir pki --spc 818H >/dev/null
check "pki chain validates with openssl" \
  "openssl verify -CAfile pki/root.pem -untrusted pki/ca.pem pki/sp.pem >/dev/null 2>&1"
# TV-10: SPC 818H is DER 30 08 A0 06 16 04 38 31 38 48
check "pki SP certificate carries TNAuthList SPC 818H" \
  "openssl asn1parse -in pki/sp.pem | grep -A1 '1.3.6.1.5.5.7.1.26' | grep -q 'HEX DUMP\]:3008A006160438313848'"

NOW=$(date +%s)
X5U=https://certs.example.net/sp.pem
printf '{"signingRequest":{"attest":"B","orig":{"tn":"+1-215-555-1212"},"dest":{"tn":["1 215 555 1213"]},"iat":%s}}' "$NOW" >req.json
"$STIRCTL" sign --key pki/sp.key --cert pki/chain.pem --x5u "$X5U" req.json >hdr.txt
H=$(cat hdr.txt)
check "sign prints an Identity header with info, alg and ppt" \
  "[[ \"\$H\" == *';info=<$X5U>;alg=ES256;ppt=shaken' ]]"
TOK=${H%%;*}
$PY - "$TOK" "$NOW" >claims.txt <<'PY'
import base64, json, sys
tok, now = sys.argv[1], int(sys.argv[2])
d = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
h, p, s = tok.split(".")
hdr, cl = json.loads(d(h)), json.loads(d(p))
canon = lambda o: json.dumps(o, separators=(",", ":"), sort_keys=True).encode()
assert d(p) == canon(cl) and d(h) == canon(hdr), "not RFC 8225 section 9 serialization"
assert hdr == {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": "https://certs.example.net/sp.pem"}, hdr
assert cl["orig"] == {"tn": "12155551212"} and cl["dest"] == {"tn": ["12155551213"]}, cl
assert cl["iat"] == now and cl["attest"] == "B", cl
assert len(cl["origid"]) == 36 and cl["origid"][14] == "4", cl   # generated UUID v4
sig = d(s)
assert len(sig) == 64
# DER ECDSA-Sig-Value for the openssl CLI
def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80: b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
body = der_int(sig[:32]) + der_int(sig[32:])
open("sig.der", "wb").write(b"\x30" + bytes([len(body)]) + body)
open("input.txt", "wb").write((h + "." + p).encode())
print("claims ok")
PY
check "signed header and claims are as requested, canonical" "grep -q 'claims ok' claims.txt"
openssl x509 -in pki/sp.pem -pubkey -noout >pub.pem
check "openssl verifies the ES256 signature" \
  "openssl dgst -sha256 -verify pub.pem -signature sig.der input.txt >/dev/null 2>&1"

"$STIRCTL" decode --cert pki/chain.pem "$H" >decode.txt
check "decode shows the claims" "grep -q '\"12155551212\"' decode.txt && grep -q '\"attest\": \"B\"' decode.txt"
check "decode shows the certificate SPC" "grep -q '818H' decode.txt"

if "$STIRCTL" verify --trust pki/root.pem --cert-file pki/chain.pem --identity "$H" \
  --from 12155551212 --to 12155551213 >v.json 2>err.txt; then ok "verify exits 0 on pass"; else bad "verify exit"; cat v.json err.txt; fi
check "verify reports TN-Validation-Passed" \
  "[ \"\$(jq -r .verificationResponse.verstatValue v.json)\" = TN-Validation-Passed ]"
if "$STIRCTL" verify --trust pki/root.pem --cert-file pki/chain.pem --identity "$H" \
  --from 12155559999 --to 12155551213 >v.json 2>/dev/null; then bad "verify exit on fail"; else ok "verify exits 1 on a failed PASSporT"; fi
check "the failure is 438" "[ \"\$(jq -r '.verificationResponse.verifyResults[0].verifyResult.reasonCode' v.json)\" = 438 ]"

printf '{"attest":"Z","orig":{"tn":"1"},"dest":{"tn":["2"]},"iat":%s}' "$NOW" >bad.json
if "$STIRCTL" sign --key pki/sp.key --cert pki/chain.pem --x5u "$X5U" bad.json 2>err.txt; then
  bad "sign accepted attest Z"; else ok "sign refuses attest Z"; fi
check "the refusal names the field" "grep -q 'in attest' err.txt"
if "$STIRCTL" sign --key k.pem --cert pki/chain.pem --x5u "$X5U" req.json 2>err.txt; then
  bad "sign with a key that does not match the certificate"; else ok "mismatched key and certificate refused"; fi
check "the refusal says which" "grep -q 'does not belong to the signing key' err.txt"

# The settings shared with stird go through stird's table: same ranges,
# same values, same messages (docs/CONFIG.md).
set +e
"$STIRCTL" sign --key pki/sp.key --cert pki/chain.pem --x5u "$X5U" --freshness 0 req.json 2>err.txt
rc=$?
set -e
check "--freshness 0 is a usage error (2)" "[ $rc = 2 ]"
check "it names the setting, the value and stird's range" \
  "grep -qxF 'stirctl: setting --freshness: value 0 out of range [1, 86400]' err.txt"
if "$STIRCTL" sign --key pki/sp.key --cert pki/chain.pem --x5u "$X5U" --rcd-digest-alg SHA1 req.json 2>err.txt; then
  bad "sign accepted digest SHA1"; else ok "sign refuses digest SHA1"; fi
check "the refusal lists the RFC 9795 algorithms" "grep -q \"'SHA1' is not sha256, sha384 or sha512\" err.txt"
if "$STIRCTL" verify --trust pki/root.pem --fetch-allow-http=maybe req.json 2>err.txt; then
  bad "verify accepted --fetch-allow-http=maybe"; else ok "verify refuses --fetch-allow-http=maybe"; fi
check "it says what a boolean is" "grep -q \"'maybe' is not a boolean\" err.txt"
"$STIRCTL" sign --key pki/sp.key --cert pki/chain.pem --x5u "$X5U" --freshness 86400 --fetch-allow-any-port=no req.json >/dev/null
ok "the range's maximum and a boolean =no are accepted"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
