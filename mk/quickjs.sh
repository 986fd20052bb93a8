#!/bin/sh
# QuickJS's source for builds and tests here: Debian's source package, fetched once into a cache through a
# private apt sources list and private list/cache directories, so the system's /etc/apt and /var/lib/apt are never
# read or written. The version is pinned and the upstream tarball's sha256 checked: a mismatch fails loudly and
# nothing is unpacked. Prints the source directory on success: the pristine tree with meshwan's patches
# (packages/os/quickjs-patches, applied in name order) in a directory of its own, named after the patches' hash.
# The cache: QUICKJS_CACHE when set; else /var/cache/meshwan/quickjs, which `make deps` (as root) fills and every
# user reads, so `make check` as another user (nobody has no home) builds from the same pinned source; else, for
# a user who cannot write there and finds nothing in it, ~/.cache/meshwan/quickjs.
# In a firmware build OpenWrt's feed (lang/quickjs) provides the same upstream tarball instead.
set -eu

VERSION=2025.04.26-1
UPSTREAM=2025.04.26
ORIG=quickjs_$UPSTREAM.orig.tar.xz
SHA256=ec81da5b3249ed648dbc7df4a1654988910e66a118d9b71cb63534216efcfbbe
SUITE=trixie

shared=/var/cache/meshwan/quickjs
if [ -n "${QUICKJS_CACHE:-}" ]; then
	cache=$QUICKJS_CACHE
elif [ -f "$shared/quickjs-$UPSTREAM/.meshwan-stamp" ] || [ "$(id -u)" = 0 ]; then
	cache=$shared
else
	cache=${XDG_CACHE_HOME:-${HOME:?no HOME, no QUICKJS_CACHE and nothing in $shared: run make deps as root first}/.cache}/meshwan/quickjs
fi
src=$cache/quickjs-$UPSTREAM
root=$(cd "$(dirname "$0")/.." && pwd)
patches=$root/packages/os/quickjs-patches

# The patched tree beside the pristine one: in the cache when this user can write it (make deps as root), else in
# this clone's build/ (make check as nobody after a patch changed). Built aside and renamed, so a reader never
# sees half of it.
patched() {
	phash=$(cat "$patches"/*.patch | sha256sum | cut -c1-12)
	tree=$cache/quickjs-$UPSTREAM-meshwan-$phash
	if [ ! -f "$tree/.meshwan-stamp" ] && [ ! -w "$cache" ]; then
		tree=$root/build/quickjs-$UPSTREAM-meshwan-$phash
	fi
	if [ ! -f "$tree/.meshwan-stamp" ]; then
		command -v patch >/dev/null || { echo "quickjs: patch is missing (Debian package patch: make deps)" >&2; exit 2; }
		mkdir -p "$(dirname "$tree")"
		tmp=$(mktemp -d "$tree.tmp.XXXXXX")
		chmod 755 "$tmp" # mktemp's 700 would hide the tree from every other user
		cp -r "$src/." "$tmp/"
		for p in "$patches"/*.patch; do
			patch -s -d "$tmp" -p1 <"$p" >&2 || { rm -rf "$tmp"; echo "quickjs: $p does not apply to quickjs $UPSTREAM" >&2; exit 1; }
		done
		echo "$SHA256 $phash" >"$tmp/.meshwan-stamp"
		[ -f "$tree/.meshwan-stamp" ] || rm -rf "$tree"
		mv -T "$tmp" "$tree" 2>/dev/null || rm -rf "$tmp"
	fi
	echo "$tree"
}

if [ -f "$src/.meshwan-stamp" ] && [ "$(cat "$src/.meshwan-stamp")" = "$SHA256" ]; then
	patched
	exit 0
fi

command -v apt-get >/dev/null || { echo "quickjs: apt-get is missing: cannot fetch Debian's source package" >&2; exit 2; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "quickjs: $keyring is missing (Debian package debian-archive-keyring)" >&2; exit 2; }

work=$cache/apt
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/download"
printf 'deb-src [signed-by=%s] http://deb.debian.org/debian %s main\n' "$keyring" "$SUITE" >"$work/sources.list"
# Every apt path that could touch the system's state points into $work.
set -- -o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
	-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Dir::State::status=/dev/null" \
	-o APT::Sandbox::User=root -qq
echo "quickjs: fetching Debian source package quickjs=$VERSION ($SUITE) into $cache" >&2
apt-get "$@" update >&2 || { echo "quickjs: apt-get update of the private list ($SUITE deb-src) failed" >&2; exit 1; }
(cd "$work/download" && apt-get "$@" source --download-only "quickjs=$VERSION" >&2) ||
	{ echo "quickjs: apt-get source quickjs=$VERSION failed (gone from $SUITE? then pin the version it has)" >&2; exit 1; }

got=$(sha256sum "$work/download/$ORIG" | cut -d' ' -f1)
if [ "$got" != "$SHA256" ]; then
	echo "quickjs: $ORIG has sha256 $got, pinned is $SHA256: refusing to build from it" >&2
	exit 1
fi
rm -rf "$src"
tar -xJf "$work/download/$ORIG" -C "$cache"
[ -f "$src/quickjs.c" ] || { echo "quickjs: $ORIG did not unpack to $src" >&2; exit 1; }
cp "$work/download/$ORIG" "$cache/"
rm -rf "$work"
echo "$SHA256" >"$src/.meshwan-stamp"
patched
