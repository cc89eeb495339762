#!/bin/sh
# Build the Debian packages (stird, stirctl, libstir-dev) from the working
# tree with dpkg-buildpackage -us -uc -b, in a copy under build-deb/ so the
# source tree and its parent stay clean, and leave the .deb files in dist/.
# Then run lintian on them: any error (E:) fails the build.
set -e
cd "$(dirname "$0")/.."
rm -rf build-deb
mkdir -p build-deb/src dist
tar --exclude=./build --exclude='./build-*' --exclude=./dist --exclude=./var \
    --exclude=./.git -cf - . | tar -C build-deb/src -xf -
(cd build-deb/src && dpkg-buildpackage -us -uc -b -j2 >../build.log 2>&1) || {
    tail -40 build-deb/build.log
    echo "build-deb: dpkg-buildpackage failed (full log: build-deb/build.log)" >&2
    exit 1
}
rm -f dist/*.deb
mv build-deb/*.deb dist/
if ! lintian --fail-on error --allow-root dist/*.deb >build-deb/lintian.log 2>&1; then
    cat build-deb/lintian.log
    echo "build-deb: lintian reports errors" >&2
    exit 1
fi
cat build-deb/lintian.log
echo "build-deb: $(ls dist/*.deb | tr '\n' ' ')"
