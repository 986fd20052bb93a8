#!/bin/sh
# Lint every shell script the firmware ships or the build runs. OpenWrt's /bin/sh is busybox ash, which has
# `local` like dash, so dash is the dialect checked. Init scripts are sourced by /etc/rc.common, which reads
# START, STOP, USE_PROCD and EXTRA_COMMANDS: SC2034 (assigned but unused) is wrong for them and only for them.
# Hotplug hooks have no shebang (hotplug-call sources them), so the dialect is given here.
set -eu
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "lint: shellcheck is missing (make deps installs it)" >&2; exit 2; }
shellcheck -s dash -e SC2034 files/etc/init.d/*
shellcheck -s dash files/etc/hotplug.d/*/* files/etc/uci-defaults/* files/lib/gluon/wan-dnsmasq/update \
	files/usr/lib/meshwan/*.include files/usr/lib/meshwan/uninstall mk/shellcheck.sh mk/quickjs.sh mk/install.sh mk/dist.sh \
	mk/dev-entry.sh
# The development entries (each QuickJS package's bin/NAME; bin/NAME.js are Node's).
find packages/*/bin upgrade-scripts/bin -type f ! -name '*.js' -exec shellcheck -s dash {} +
shellcheck -s bash .ci/run
