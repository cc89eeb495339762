#!/bin/sh
# Check the Debian packages in DIR (default dist/, made by `make deb`):
# each holds what it must (dpkg-deb -c), the configuration is a conffile,
# the postinst creates the stird user, the unit is the hardened one, and
# libstir-dev really builds a program through its pkg-config file.
set -eu
DIR=${1:-dist}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

deb() { ls "$DIR"/"$1"_*.deb 2>/dev/null | grep -v dbgsym | head -1; }
has() {   # has PACKAGE REGEX: a path of PACKAGE matches REGEX
    if ! dpkg-deb -c "$(deb "$1")" | awk '{print $NF}' | grep -Eq "$2"; then
        echo "FAIL: $1 has no file matching $2"
        fail=1
    fi
}

for p in stird stirctl libstir-dev; do
    [ -n "$(deb $p)" ] || { echo "FAIL: no $p package in $DIR"; exit 1; }
done

has stird '^\./usr/sbin/stird$'
has stird '^\./lib/systemd/system/stird\.service$'
has stird '^\./etc/stird/stird\.conf$'
has stird '^\./usr/share/man/man8/stird\.8\.gz$'
has stird '^\./usr/share/man/man5/stird\.conf\.5\.gz$'
has stird '^\./usr/share/doc/stird/openapi\.yaml(\.gz)?$'
has stirctl '^\./usr/bin/stirctl$'
has stirctl '^\./usr/share/man/man1/stirctl\.1\.gz$'
has libstir-dev '^\./usr/include/stir/stir\.h$'
has libstir-dev '^\./usr/include/stir/verify\.h$'
has libstir-dev '^\./usr/lib/[^/]+/libstir\.a$'
has libstir-dev '^\./usr/lib/[^/]+/pkgconfig/libstir\.pc$'

dpkg-deb -e "$(deb stird)" "$tmp/ctl"
grep -qx '/etc/stird/stird.conf' "$tmp/ctl/conffiles" || { echo "FAIL: stird.conf is not a conffile"; fail=1; }
grep -q 'adduser --system' "$tmp/ctl/postinst" || { echo "FAIL: postinst creates no user"; fail=1; }

dpkg-deb -x "$(deb stird)" "$tmp/stird"
for d in 'User=stird' 'Type=notify' 'ProtectSystem=strict' 'CapabilityBoundingSet=' 'WatchdogSec='; do
    grep -q "^$d" "$tmp/stird/lib/systemd/system/stird.service" ||
        { echo "FAIL: packaged unit lacks $d"; fail=1; }
done
# The man pages render without warnings.
for m in "$tmp"/stird/usr/share/man/*/*.gz; do
    if zcat "$m" | LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l - 2>&1 >/dev/null | grep -q .; then
        echo "FAIL: man page $m has warnings"; fail=1
    fi
done

# libstir-dev: compile and link a program with what the package installs.
dpkg-deb -x "$(deb libstir-dev)" "$tmp/dev"
pc=$(ls -d "$tmp"/dev/usr/lib/*/pkgconfig)
cat >"$tmp/t.c" <<'C'
#include <stir/stir.h>
int main(void) { if (stir_init() != 0) return 1; stir_cleanup(); return 0; }
C
if flags=$(PKG_CONFIG_PATH="$pc" PKG_CONFIG_SYSROOT_DIR="$tmp/dev" pkg-config --cflags --libs libstir) &&
   cc -o "$tmp/t" "$tmp/t.c" $flags && "$tmp/t"; then
    :
else
    echo "FAIL: a program does not build against libstir-dev (pkg-config libstir: ${flags:-none})"
    fail=1
fi

[ $fail -eq 0 ] && echo "check_debs: stird, stirctl and libstir-dev are complete"
exit $fail
