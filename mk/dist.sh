#!/bin/sh
# `make dist`: out/meshwan-VERSION.tar.xz, what a firmware build needs without Node: mk/stage.mjs's payload
# (bytecode, Node bundles, files/, MANIFEST), the C (packages/os/native, lib-packetmark/src) with
# their Makefiles, QuickJS's pinned source with meshwan's patches applied, the feed and a Makefile (mk/dist.mk) that installs it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$root/package.json').version")
out=$root/out/dist
tree=$out/meshwan-$version
rm -rf "$tree" "$out/meshwan-$version.tar.xz"
mkdir -p "$tree/mk" "$tree/packages/os" "$tree/lib-packetmark" "$tree/quickjs"
# The payload `make all` staged for the development entries (build/dev, remade whenever a source of it changes;
# `make dist` runs `make all` first): the same files, not staged a second time.
[ -f "$root/build/dev/MANIFEST" ] || { echo "dist: $root/build/dev/MANIFEST is missing: run make all" >&2; exit 1; }
cp -r "$root/build/dev" "$tree/payload"
cp "$root/mk/targets.mk" "$root/mk/install.mk" "$root/mk/install.sh" "$tree/mk/"
cp "$root/mk/dist.mk" "$tree/Makefile"
cp -r "$root/packages/os/Makefile" "$root/packages/os/native" "$tree/packages/os/"
cp -r "$root/lib-packetmark/Makefile" "$root/lib-packetmark/src" "$root/lib-packetmark/README.md" "$tree/lib-packetmark/"
cp -r "$root/feed" "$tree/"
qjs=$(sh "$root/mk/quickjs.sh")
for f in LICENSE VERSION quickjs.c quickjs.h quickjs-atom.h quickjs-opcode.h quickjs-libc.c quickjs-libc.h cutils.c cutils.h \
	dtoa.c dtoa.h libregexp.c libregexp.h libregexp-opcode.h libunicode.c libunicode.h libunicode-table.h list.h; do
	cp "$qjs/$f" "$tree/quickjs/"
done
tar -C "$out" --owner=0 --group=0 --sort=name -cJf "$out/meshwan-$version.tar.xz" "meshwan-$version"
rm -rf "$tree"
echo "dist: $out/meshwan-$version.tar.xz sha256 $(sha256sum "$out/meshwan-$version.tar.xz" | cut -d' ' -f1)"
