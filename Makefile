# meshwan: `make help` lists the targets. Run as root for test and sim (network namespaces, firewall rules).
SHELL := /bin/bash
.DEFAULT_GOAL := all
ROOT := $(abspath .)
BIN := $(ROOT)/node_modules/.bin
NATIVE_DIRS := $(patsubst %/Makefile,%,$(wildcard packages/*/Makefile))
DEB_PACKAGES := $(shell sed -e 's/\#.*//' mk/debian-packages.txt)
NPM_STAMP := node_modules/.package-lock.json
include mk/targets.mk

.PHONY: dist help all engines deps deps-debian openwrt quickjs build native lint format typecheck check test test-unit test-unit-tier sim bench install clean need-root need-destdir

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' | expand -t 14

all: $(NPM_STAMP) build native engines build/dev/MANIFEST ## npm ci when needed, tsc -b, lib-packetmark, native addons, every target's meshwan-js, the development entries' bytecode

# What the development entries (each QuickJS package's bin/NAME, node_modules/.bin/NAME: mk/dev-entry.sh) run: the
# staged payload with every command's bytecode, remade when a source of it changes.
DEV_SOURCES = $(shell find packages/*/src packages/*/package.json upgrade-scripts/src upgrade-scripts/package.json files feed/owners mk/stage.mjs mk/bundle.mjs -type f)
build/dev/MANIFEST: $(DEV_SOURCES) $(wildcard build/host/meshwan-js) | build native
	@node mk/stage.mjs --payload build/dev >/dev/null

# The engine for every target the suites run (cross-built; QuickJS's library comes from the cache, so each is our
# C and a link): built here, not by the first suite that needs it.
ENGINE_TARGETS := mips_24kc mipsel_24kc aarch64 host-musl
engines: native
	@for t in $(ENGINE_TARGETS); do $(MAKE) --no-print-directory -C packages/os TARGET=$$t || exit 1; done

deps: deps-debian $(NPM_STAMP) openwrt quickjs ## install every Debian package (apt-get) and npm package (npm ci) the project needs

# OpenWrt's real netifd, ubusd, ubus, uci and procd for the tests (test/lib/openwrt.ts): built once into /var/cache/meshwan/openwrt
# (about 3.5 minutes on a fresh clone, about a second after), from ../shared/openwrt or the pinned upstream commits.
openwrt: deps-debian $(NPM_STAMP) ## build OpenWrt's netifd, ubusd, uci, procd into /var/cache/meshwan/openwrt (once; a no-op after)
	@node -e "import('./test/lib/run-bundled.mjs').then((m) => m.runBundled('test/lib/openwrt.ts', 'openwrt-tool', process.argv.slice(1)))"

# QuickJS, the engine on the router: Debian's source package (pinned, sha256 checked) fetched once into
# /var/cache/meshwan/quickjs (readable by every user) by mk/quickjs.sh, through a private apt list; then libquickjs for the host.
quickjs: deps-debian ## fetch QuickJS's pinned source into /var/cache/meshwan/quickjs and build libquickjs for the host
	@sh mk/quickjs.sh >/dev/null
	@$(MAKE) --no-print-directory -C packages/os TARGET=host lib

deps-debian:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(DEB_PACKAGES) 2>/dev/null | awk '$$1=="ii"{print $$2}' | sort | comm -13 - <(printf '%s\n' $(DEB_PACKAGES) | sort)); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "deps: installing Debian packages needs root" >&2; exit 2; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# npm ci only when package-lock.json is newer than what is installed.
$(NPM_STAMP): package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

build: $(NPM_STAMP) ## compile every TypeScript project (tsc -b)
	$(BIN)/tsc -b

# TARGET=mips_24kc|mipsel_24kc|aarch64|host-musl: only packages/os's engine (meshwan-js) for that target, in build/TARGET.
native: ## build lib-packetmark, the native addons and meshwan-js (TARGET=mips_24kc|mipsel_24kc|aarch64|host-musl: cross)
ifeq ($(filter-out host,$(or $(TARGET),host)),)
	@if [ -f lib-packetmark/Makefile ]; then $(MAKE) --no-print-directory -C lib-packetmark; fi
	@for d in $(NATIVE_DIRS); do $(MAKE) --no-print-directory -C $$d TARGET=host || exit 1; done
else
	@$(MAKE) --no-print-directory -C packages/os TARGET=$(TARGET)
endif

lint: $(NPM_STAMP) ## biome (lint and format), knip (unused files, exports, dependencies), shellcheck
	$(BIN)/biome check .
	$(BIN)/knip --no-progress
	@sh mk/shellcheck.sh

format: $(NPM_STAMP) ## biome: rewrite files to the project's format
	$(BIN)/biome check --write .

# One tsc program over every package's src and tests (tsconfig.check.json): one start-up and one load of the
# libraries' types instead of one per package (13 s of CPU instead of 45). The packages' tsconfig.test.json stay
# for tap, which reads them to transpile a package's tests.
typecheck: build ## tsc --noEmit over sources and tests of every package
	$(BIN)/tsc -p tsconfig.check.json

need-root:
	@if [ "$$(id -u)" != 0 ]; then echo "make $(MAKECMDGOALS): needs root (network namespaces, firewall rules, SO_MARK); run it as root" >&2; exit 2; fi

# lint, typecheck and the unit tier share nothing, and each leaves a core idle part of the time: run side by side
# (each one's output kept together).
check: all ## the fast tier, any user: lint, typecheck and the tests that need neither root nor namespaces
	@$(MAKE) --no-print-directory --output-sync=target -j3 lint typecheck test-unit-tier

test-unit-tier: $(NPM_STAMP)
	@node test/run-suites.mjs --tier=unit

test: need-root deps all lint typecheck ## everything: deps, build, lint, typecheck, every suite; ends "N passed, N failed"
	@node test/run-suites.mjs

test-unit: all ## run the suites only (SUITES="packages/uci ..." to pick)
	@node test/run-suites.mjs $(SUITES)

sim: need-root deps all ## a whole node in network namespaces (ARGS=--keep leaves it running; NETIFD=real runs OpenWrt's netifd in it)
	@node test/sim/run.mjs $(if $(NETIFD),--netifd=$(NETIFD)) $(ARGS)

bench: need-root deps all ## run the benchmarks and rewrite their tables in BENCHMARKS.md
	@node mk/bench.mjs

# need-destdir comes first: a missing DESTDIR is refused before anything is built.
need-destdir:
	@if [ -z "$(DESTDIR)" ]; then echo "make install: refusing without DESTDIR=/path (it would write into /)" >&2; exit 2; fi

# The payload (bundles, bytecode, MANIFEST: mk/stage.mjs; the same for every target), then mk/install.mk builds the
# C for TARGET and installs it (PACKAGE=name: one OpenWrt package of feed/).
PAYLOAD ?= $(ROOT)/build/payload
install: need-destdir $(NPM_STAMP) build ## stage the firmware tree: make install DESTDIR=/path [TARGET=mips_24kc] [PACKAGE=meshwan] [SITE=site.ini]
	@$(MAKE) --no-print-directory native TARGET=host
	@node mk/stage.mjs --payload "$(PAYLOAD)" $(if $(SITE),--site "$(SITE)")
	@$(MAKE) --no-print-directory -f mk/install.mk ROOT=$(ROOT) PAYLOAD="$(PAYLOAD)" install-payload

dist: all ## the release tarball out/meshwan-VERSION.tar.xz (bytecode, C, QuickJS's patched source, feed/): installs without Node
	@sh mk/dist.sh

clean: ## remove build output
	rm -rf out build packages/*/dist packages/*/build packages/*/.tap upgrade-scripts/dist upgrade-scripts/.tap .tap
	@if [ -f lib-packetmark/Makefile ]; then $(MAKE) --no-print-directory -C lib-packetmark clean; fi
