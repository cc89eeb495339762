#!/usr/bin/env bash
# Fixture PKIs for certificate tests, made with the openssl CLI only (so they
# are independent of libstir's own PKI code). Recipe: certificates.md section 9.
#
# Usage: mkpki.sh DIR
# Writes into DIR (created if missing):
#   root.pem root.key          STI-PA test root (trust anchor)
#   ca.pem ca.key              STI-CA intermediate
#   sp.pem sp.key chain.pem    good leaf (TNAuthList SPC 709J) and leaf+intermediate
#   expired.pem chain_expired.pem        leaf valid 2020-01-01..2020-01-02
#   future.pem chain_future.pem          leaf valid 2099-01-01..2099-12-31
#   notn.pem chain_notn.pem              leaf without TNAuthList
#   rsa.pem chain_rsa.pem                leaf with an RSA-2048 key
#   p384.pem chain_p384.pem              leaf with a P-384 key
#   nods.pem chain_nods.pem              leaf whose keyUsage lacks digitalSignature
#   evil_root.pem evil_ca.pem chain_untrusted.pem   chain to another root
#   chain_key.pem              chain.pem with sp.key appended
#   chain9.pem                 nine certificates
#   tls.pem tls.key            self-signed TLS server cert for localhost/127.0.0.1
# Prints nothing on success; on failure prints the failing command's output
# and exits non-zero.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
cd "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
    if ! "$@" >"$log" 2>&1; then
        echo "mkpki.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

cat > ext.cnf <<'EOF'
[root_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash

[int_ext]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3

[ee_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3
1.3.6.1.5.5.7.1.26=DER:30:08:a0:06:16:04:37:30:39:4a

[ee_notn_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3

[ee_nods_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,keyAgreement
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3
1.3.6.1.5.5.7.1.26=DER:30:08:a0:06:16:04:37:30:39:4a

[tls_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
subjectAltName=DNS:localhost,IP:127.0.0.1

# "openssl ca" is the 3.0 CLI way to pick an arbitrary (past) validity.
[ca]
default_ca=fixture_ca

[fixture_ca]
database=ca_db/index.txt
new_certs_dir=ca_db
serial=ca_db/serial
default_md=sha256
policy=any_policy
unique_subject=no
copy_extensions=none

[any_policy]
countryName=optional
organizationName=optional
commonName=supplied
EOF

eckey() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# root(key, cert, CN)
mkroot() {
    eckey "$1"
    run openssl req -new -x509 -sha256 -key "$1" -out "$2" -days 3650 \
        -subj "/C=US/O=Fixture STI-PA/CN=$3" -config ext.cnf -extensions root_ext
}

# signed(key, csr-subject, issuer-cert, issuer-key, section, out)
signed() {
    run openssl req -new -key "$1" -subj "$2" -out "$6.csr" -config ext.cnf
    run openssl x509 -req -sha256 -in "$6.csr" -CA "$3" -CAkey "$4" -CAcreateserial \
        -days 365 -extfile ext.cnf -extensions "$5" -out "$6"
    rm -f "$6.csr"
}

# Good chain.
mkroot root.key root.pem "Fixture STI-PA Root"
eckey ca.key
signed ca.key "/C=US/O=Fixture STI-CA/CN=Fixture STI-CA SHAKEN" root.pem root.key int_ext ca.pem
eckey sp.key
signed sp.key "/C=US/O=Example Carrier/CN=SHAKEN 709J" ca.pem ca.key ee_ext sp.pem
cat sp.pem ca.pem > chain.pem

# Leaves with a fixed (past or future) validity window, via "openssl ca".
mkdir -p ca_db
: > ca_db/index.txt
echo 1000 > ca_db/serial
dated() { # dated(name, start, end)
    eckey "$1.key"
    run openssl req -new -key "$1.key" -subj "/C=US/O=Example Carrier/CN=SHAKEN 709J" \
        -out "$1.csr" -config ext.cnf
    run openssl ca -batch -config ext.cnf -cert ca.pem -keyfile ca.key -in "$1.csr" \
        -out "$1.pem" -startdate "$2" -enddate "$3" -extfile ext.cnf -extensions ee_ext \
        -notext
    rm -f "$1.csr"
    cat "$1.pem" ca.pem > "chain_$1.pem"
}
dated expired 20200101000000Z 20200102000000Z
dated future 20990101000000Z 20991231000000Z

# Profile failures under the good root.
eckey notn.key
signed notn.key "/C=US/O=Example Carrier/CN=SHAKEN 709J" ca.pem ca.key ee_notn_ext notn.pem
cat notn.pem ca.pem > chain_notn.pem

run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key
signed rsa.key "/C=US/O=Example Carrier/CN=SHAKEN 709J" ca.pem ca.key ee_ext rsa.pem
cat rsa.pem ca.pem > chain_rsa.pem

run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key
signed p384.key "/C=US/O=Example Carrier/CN=SHAKEN 709J" ca.pem ca.key ee_ext p384.pem
cat p384.pem ca.pem > chain_p384.pem

eckey nods.key
signed nods.key "/C=US/O=Example Carrier/CN=SHAKEN 709J" ca.pem ca.key ee_nods_ext nods.pem
cat nods.pem ca.pem > chain_nods.pem

# A well-formed chain to a root nobody trusts.
mkroot evil_root.key evil_root.pem "Evil Root"
eckey evil_ca.key
signed evil_ca.key "/C=US/O=Evil CA/CN=Evil STI-CA SHAKEN" evil_root.pem evil_root.key \
    int_ext evil_ca.pem
eckey evil_sp.key
signed evil_sp.key "/C=US/O=Evil Carrier/CN=SHAKEN 709J" evil_ca.pem evil_ca.key ee_ext \
    evil_sp.pem
cat evil_sp.pem evil_ca.pem > chain_untrusted.pem

# Bodies that must be refused.
cat chain.pem sp.key > chain_key.pem
cat chain.pem chain.pem chain.pem chain.pem sp.pem > chain9.pem

# TLS server certificate for the test x5u repository (certserver.py).
eckey tls.key
run openssl req -new -x509 -sha256 -key tls.key -out tls.pem -days 365 \
    -subj "/CN=localhost" -config ext.cnf -extensions tls_ext

chmod 600 ./*.key
rm -f ./*.srl
