#!/bin/sh
# The development entry of a command the router runs on QuickJS (a package's bin/NAME, which npm links as
# node_modules/.bin/NAME): meshwan-js and the command's bytecode as `make all` stages them into build/dev, so
# running or benchmarking a command here runs what ships. The package's bin/NAME.js is its Node entry (the
# suites' coverage runs).
#   sh mk/dev-entry.sh NAME [ARG...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
name=$1
shift
engine=$root/build/host/meshwan-js
bytecode=$root/build/dev/qbc/$name.qbc
if [ ! -x "$engine" ] || [ ! -f "$bytecode" ]; then
	echo "$name: $bytecode or $engine is missing: run make all" >&2
	exit 127
fi
exec "$engine" "$bytecode" "$@"
