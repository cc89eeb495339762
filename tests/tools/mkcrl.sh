#!/usr/bin/env bash
# Revocation fixtures on top of a tests/tools/mkpki.sh PKI (its root.key
# signs two more intermediates), made with the openssl CLI only: CRLs by
# "openssl ca -gencrl" from hand-written CA databases, certificates whose
# CRL Distribution Points point at BASE (the x5u test server serving DIR).
#
# Usage: mkcrl.sh DIR BASE [HTTPBASE]
#   BASE      e.g. https://127.0.0.1:4433 (CRLs are served as BASE/<file>)
#   HTTPBASE  e.g. http://127.0.0.1:8080, for a leaf whose CRL is fetched
#             over plain http (crl_http); omitted: no such leaf
# Writes into DIR:
#   crlca.pem crlca.key     intermediate (serial 3000), CRLDP BASE/root.crl
#   crlca2.pem crlca2.key   intermediate (serial 3001), revoked in root.crl
#   root.crl                root's CRL (PEM): revokes 3001 and 2001
#   ca1.crl                 crlca's CRL (DER): revokes 1002
#   ca2.crl                 crlca2's CRL (PEM): revokes nothing
#   badsig.crl              crlca's name, another key's signature; "revokes" 1003
#   stale.crl               crlca's CRL, nextUpdate 2025-01-02
#   chain_crl_<name>.pem    leaf (+ its intermediate), names:
#     good     serial 1001, CRLDP ca1.crl
#     revoked  serial 1002, CRLDP ca1.crl (revoked)
#     samesn   serial 2001, CRLDP ca1.crl; root.crl revokes root's own 2001
#     badsig   CRLDP badsig.crl     stale   CRLDP stale.crl
#     missing  CRLDP missing.crl (404)
#     refused  CRLDP https://127.0.0.1:1/x.crl (connection refused)
#     revint   serial 1001 under crlca2 (revoked intermediate), CRLDP ca2.crl
#     soon     CRLDP soon.crl, which the test makes (a CRL about to expire:
#              openssl ca -config crl.cnf -name db_ca1 -gencrl -crlsec N ...)
#     http     CRLDP HTTPBASE/ca1.crl (only with HTTPBASE)
#   crl_*.key               the leaves' keys (for signing PASSporTs)
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 DIR BASE [HTTPBASE]" >&2
    exit 2
fi
out=$1
base=$2
httpbase=${3:-}
cd "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
    if ! "$@" >"$log" 2>&1; then
        echo "mkcrl.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

[ -f root.key ] && [ -f root.pem ] || { echo "mkcrl.sh: run mkpki.sh $out first" >&2; exit 1; }

leafext() { # leafext(section, crl-url)
    cat <<EOF
[$1]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3
crlDistributionPoints=URI:$2
1.3.6.1.5.5.7.1.26=DER:30:08:a0:06:16:04:37:30:39:4a

EOF
}

{
    cat <<EOF
[int_crl_ext]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
certificatePolicies=2.16.840.1.114569.1.1.3
crlDistributionPoints=URI:$base/root.crl

[fake_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash

[crl_ext]
authorityKeyIdentifier=keyid:always

EOF
    for n in good revoked samesn revint; do leafext "ee_$n" "$base/$([ $n = revint ] && echo ca2 || echo ca1).crl"; done
    leafext ee_badsig "$base/badsig.crl"
    leafext ee_stale "$base/stale.crl"
    leafext ee_missing "$base/missing.crl"
    leafext ee_refused "https://127.0.0.1:1/x.crl"
    leafext ee_soon "$base/soon.crl"
    [ -n "$httpbase" ] && leafext ee_http "$httpbase/ca1.crl"
    for db in root ca1 ca2 fake; do
        cat <<EOF
[db_$db]
database=db_$db/index.txt
crlnumber=db_$db/crlnumber
default_md=sha256
default_crl_days=7
unique_subject=no
crl_extensions=crl_ext

EOF
    done
    cat <<EOF
[req]
distinguished_name=dn
[dn]
EOF
} > crl.cnf

eckey() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# issue(key, subject, issuer-cert, issuer-key, section, serial, out)
issue() {
    run openssl req -new -key "$1" -subj "$2" -out "$7.csr" -config crl.cnf
    run openssl x509 -req -sha256 -in "$7.csr" -CA "$3" -CAkey "$4" -set_serial "$6" \
        -days 365 -extfile crl.cnf -extensions "$5" -out "$7"
    rm -f "$7.csr"
}

CA1_DN="/C=US/O=Fixture STI-CA/CN=Fixture CRL STI-CA SHAKEN"
eckey crlca.key
issue crlca.key "$CA1_DN" root.pem root.key int_crl_ext 0x3000 crlca.pem
eckey crlca2.key
issue crlca2.key "/C=US/O=Fixture STI-CA/CN=Fixture CRL STI-CA 2 SHAKEN" root.pem root.key \
    int_crl_ext 0x3001 crlca2.pem

leaf() { # leaf(name, serial, issuer)
    eckey "crl_$1.key"
    issue "crl_$1.key" "/C=US/O=Example Carrier/CN=SHAKEN 709J" "$3.pem" "$3.key" "ee_$1" "$2" \
        "crl_$1.pem"
    cat "crl_$1.pem" "$3.pem" > "chain_crl_$1.pem"
}
leaf good 0x1001 crlca
leaf revoked 0x1002 crlca
leaf samesn 0x2001 crlca
leaf badsig 0x1003 crlca
leaf stale 0x1004 crlca
leaf missing 0x1005 crlca
leaf refused 0x1006 crlca
leaf soon 0x1008 crlca
leaf revint 0x1001 crlca2
[ -n "$httpbase" ] && leaf http 0x1007 crlca

# CA databases: "R", expiry, revocation time[,reason], serial, file, DN.
mkdb() { # mkdb(name, index-lines...)
    mkdir -p "db_$1"
    : > "db_$1/index.txt"
    shift_name=$1
    shift
    for l in "$@"; do printf '%b\n' "$l" >> "db_$shift_name/index.txt"; done
    echo 01 > "db_$shift_name/crlnumber"
}
mkdb root "R\t301231000000Z\t250101000000Z,keyCompromise\t3001\tunknown\t/CN=crlca2" \
          "R\t301231000000Z\t250101000000Z,superseded\t2001\tunknown\t/CN=other"
mkdb ca1 "R\t301231000000Z\t250101000000Z,keyCompromise\t1002\tunknown\t/CN=revoked"
mkdb ca2
mkdb fake "R\t301231000000Z\t250101000000Z\t1003\tunknown\t/CN=badsig"

gencrl() { # gencrl(db, cert, key, out, extra...)
    local db=$1 cert=$2 key=$3 o=$4
    shift 4
    run openssl ca -batch -config crl.cnf -name "db_$db" -gencrl -cert "$cert" -keyfile "$key" \
        -out "$o" "$@"
}
gencrl root root.pem root.key root.crl
gencrl ca1 crlca.pem crlca.key ca1.pem.crl
run openssl crl -in ca1.pem.crl -outform DER -out ca1.crl
rm -f ca1.pem.crl
gencrl ca2 crlca2.pem crlca2.key ca2.crl
gencrl ca1 crlca.pem crlca.key stale.crl -crl_lastupdate 20250101000000Z \
    -crl_nextupdate 20250102000000Z

# Same issuer name as crlca, another key: its CRL must not be believed.
eckey fake.key
run openssl req -new -x509 -sha256 -key fake.key -out fake.pem -days 365 -subj "$CA1_DN" \
    -config crl.cnf -extensions fake_ext
gencrl fake fake.pem fake.key badsig.crl

chmod 600 ./*.key
