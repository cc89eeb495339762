#!/bin/sh
# Install the Debian packages stird needs to build and test. Idempotent:
# does nothing when they are all present.
set -e
PKGS="build-essential cmake pkg-config libssl-dev openssl libjansson-dev
libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev curl python3
python3-jwcrypto secsipidx wrk jq"
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
