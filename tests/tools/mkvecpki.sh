#!/usr/bin/env bash
# A chain for the published-key vectors of test-vectors.md, made with the
# openssl CLI only: the leaf carries the RFC 8946 Appendix A key (the key of
# TV-12 V1..V8), TNAuthList SPC 709J, and the whole chain is valid
# 2015-01-01 .. 2115-12-31 so the 2015 vectors verify at their own iat and
# the chain still validates today. tests/integration/test_vectors.sh and
# tests/fuzz/pki use it.
#
# Usage: mkvecpki.sh DIR
# Writes into DIR: root.pem root.key int.pem int.key sp.pem sp.key chain.pem
#   other.pem (a root nobody chains to).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
cd "$1"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cp "$src/tests/data/vector-ca.cnf" "$w/ca.cnf"
sed -i "s|^dir = .|dir = $w|; s|^database = .*|database = $w/index.txt|; s|^new_certs_dir = .*|new_certs_dir = $w|; s|^serial = .*|serial = $w/serial|" "$w/ca.cnf"
: >"$w/index.txt"
echo 1000 >"$w/serial"
mkcert() { # name subject ext signer-cert|self signer-key [key]
    local key=${6:-$1.key}
    [ -f "$key" ] || openssl ecparam -name prime256v1 -genkey -noout -out "$key" 2>/dev/null
    openssl req -new -key "$key" -subj "$2" -out "$w/$1.csr" 2>/dev/null
    if [ "$4" = self ]; then
        set -- "$1" "$2" "$3" "$4" "$5" -selfsign -keyfile "$key"
    else
        set -- "$1" "$2" "$3" "$4" "$5" -cert "$4" -keyfile "$5"
    fi
    openssl ca -batch -config "$w/ca.cnf" "${@:6}" -in "$w/$1.csr" -out "$1.pem" \
        -startdate 20150101000000Z -enddate 21151231000000Z -extensions "$3" -notext \
        >"$w/log" 2>&1 || { cat "$w/log" >&2; exit 1; }
}
cat >sp.key <<'KEY'
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIFKCsFZ4Wsw3ZpBxgc4Z0sOjaXDdMk07Ny1fKg6OntAkoAoGCCqGSM49
AwEHoUQDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4hUYm9wv5wutLgEd9FsiTy3+4
+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w==
-----END EC PRIVATE KEY-----
KEY
mkcert root "/CN=Vector STI-PA Root" root_ext self ""
mkcert int "/CN=Vector STI-CA SHAKEN" int_ext root.pem root.key
mkcert sp "/C=US/O=Vector Carrier/CN=SHAKEN 709J" ee_ext int.pem int.key sp.key
cat sp.pem int.pem >chain.pem
openssl verify -CAfile root.pem -untrusted int.pem sp.pem >/dev/null
mkcert other "/CN=Some Other Root" root_ext self ""
chmod 600 ./*.key
