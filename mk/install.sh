#!/bin/sh
# Installs a payload made by mk/stage.mjs into DESTDIR for one target, the whole tree or one OpenWrt package of it.
# Plain sh, no Node: the repository's `make install` and the release tarball's both end here.
#   PAYLOAD=DIR DESTDIR=DIR TARGET=host|... ENGINE=meshwan-js PACKETMARK=libpacketmark.so \
#     [PACKAGE=name] [STRIP=strip] sh mk/install.sh
# Before anything is written, a target other than host refuses every selected line that runs on Node, naming the
# workspace package: a router cannot run it, and a tree without it would not be meshwan.
set -eu

fail() {
	echo "install: error: $*" >&2
	exit 1
}

: "${PAYLOAD:?}" "${DESTDIR:?}" "${TARGET:?}" "${ENGINE:?}" "${PACKETMARK:?}"
PACKAGE=${PACKAGE:-}
STRIP=${STRIP:-}
manifest=$PAYLOAD/MANIFEST
[ -f "$manifest" ] || fail "$manifest is absent (mk/stage.mjs makes it)"
tab=$(printf '\t')

# Pass 1: the selected lines, and what this target cannot take.
selected=0
node_only=
while IFS=$tab read -r owner when source mode kind dest src; do
	[ -z "$PACKAGE" ] || [ "$owner" = "$PACKAGE" ] || continue
	selected=$((selected + 1))
	if [ "$TARGET" != host ] && [ "$when" = node ]; then
		case " $node_only " in *" $source "*) ;; *) node_only="$node_only $source" ;; esac
	fi
done <"$manifest"
[ "$selected" -gt 0 ] || fail "PACKAGE=$PACKAGE: no such package in $manifest (feed/owners names them)"
if [ -n "$node_only" ]; then
	fail "TARGET=$TARGET${PACKAGE:+ PACKAGE=$PACKAGE}: still on Node, which the router does not run:$node_only (each needs \"meshwan\": { \"runtime\": \"quickjs\" } in its package.json; only TARGET=host stages Node commands)"
fi

# Pass 2: install.
copy() { # SRC DEST MODE
	[ -f "$1" ] || fail "$1 is absent (staging for $dest)"
	mkdir -p "$DESTDIR${2%/*}"
	cp "$1" "$DESTDIR$2.tmp"
	chmod "$3" "$DESTDIR$2.tmp"
	mv -f "$DESTDIR$2.tmp" "$DESTDIR$2"
}
while IFS=$tab read -r owner when source mode kind dest src; do
	[ -z "$PACKAGE" ] || [ "$owner" = "$PACKAGE" ] || continue
	[ "$when" != host ] || [ "$TARGET" = host ] || continue
	case $kind in
	file) copy "$PAYLOAD/$src" "$dest" "$mode" ;;
	qbc) copy "$PAYLOAD/qbc/$src.qbc" "$dest" "$mode" ;;
	engine | packetmark)
		[ "$kind" = engine ] && built=$ENGINE || built=$PACKETMARK
		copy "$built" "$dest" "$mode"
		if [ -n "$STRIP" ]; then "$STRIP" "$DESTDIR$dest" || fail "$STRIP $DESTDIR$dest failed"; fi
		;;
	link)
		mkdir -p "$DESTDIR${dest%/*}"
		ln -sfn "$src" "$DESTDIR$dest"
		;;
	*) fail "$manifest: $dest: unknown kind $kind" ;;
	esac
done <"$manifest"
echo "installed ${PACKAGE:-meshwan} for $TARGET into $DESTDIR"
