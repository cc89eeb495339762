#!/usr/bin/env bash
# A SoftHSM token holding P-256 signing keys, with certificates for them
# from the mkpki.sh fixture CA: Debian's softhsm2-util, pkcs11-tool (opensc)
# and the openssl CLI only, so it is independent of libstir.
#
# Usage: mkhsm.sh DIR PIN [LABEL...]      (LABEL default: sp)
# Writes into DIR (created if missing):
#   softhsm2.conf          export SOFTHSM2_CONF=DIR/softhsm2.conf to use it
#   tokens/                the token "stirtest" (user PIN = PIN)
#   pki/                   mkpki.sh output (root.pem is the trust anchor)
#   LABEL.pem chain_LABEL.pem   certificate (TNAuthList SPC 709J) of the key
#                          "LABEL" (id = its position, 01, 02...) and leaf+CA
# Prints the module path on success.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 DIR PIN [LABEL...]" >&2
    exit 2
fi
dir=$(mkdir -p "$1" && cd "$1" && pwd)
pin=$2
shift 2
labels=("${@:-sp}")
[ ${#labels[@]} -gt 0 ] || labels=(sp)
module=${PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$dir/tokens"
cat > "$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF=$dir/softhsm2.conf
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
    if ! "$@" >"$log" 2>&1; then
        echo "mkhsm.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}
run softhsm2-util --init-token --free --label stirtest --pin "$pin" --so-pin 0000000000
[ -f "$dir/pki/ca.pem" ] || run bash "$here/mkpki.sh" "$dir/pki"
n=0
for label in "${labels[@]}"; do
    n=$((n + 1))
    id=$(printf '%02x' "$n")
    run pkcs11-tool --module "$module" --token-label stirtest --login --pin "$pin" \
        --keypairgen --key-type EC:prime256v1 --label "$label" --id "$id"
    run pkcs11-tool --module "$module" --token-label stirtest --read-object --type pubkey \
        --id "$id" -o "$dir/$label.pub.der"
    run openssl pkey -pubin -inform DER -in "$dir/$label.pub.der" -out "$dir/$label.pub.pem"
    run openssl x509 -new -force_pubkey "$dir/$label.pub.pem" \
        -subj "/C=US/O=HSM Carrier/CN=SHAKEN 709J" -CA "$dir/pki/ca.pem" \
        -CAkey "$dir/pki/ca.key" -days 30 -extfile "$dir/pki/ext.cnf" -extensions ee_ext \
        -out "$dir/$label.pem"
    cat "$dir/$label.pem" "$dir/pki/ca.pem" > "$dir/chain_$label.pem"
done
echo "$module"
