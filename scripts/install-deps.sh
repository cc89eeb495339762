#!/bin/sh
# Install the Debian packages stird needs to build and test. Idempotent:
# does nothing when they are all present.
set -e
# One package per line, grouped by what needs it, so additions merge cleanly.
PKGS="
build-essential
cmake
pkg-config
libssl-dev
openssl
libjansson-dev
libcurl4-openssl-dev
libhttp-parser-dev
libsystemd-dev
libcmocka-dev
clang
libclang-rt-14-dev
clang-format-14
curl
python3
python3-jwcrypto
python3-jsonschema
python3-yaml
python3-djangorestframework-spectacular
secsipidx
wrk
jq
softhsm2
libp11-dev
libengine-pkcs11-openssl
opensc
prometheus
kamailio
kamailio-utils-modules
kamailio-extra-modules
sip-tester
debhelper
dpkg-dev
fakeroot
lintian
"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
