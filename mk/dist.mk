# The release tarball's Makefile (installed as its top-level Makefile by `make dist`): installs the payload built by
# mk/stage.mjs for one target with the C built here. No Node.
#   make install DESTDIR=/path [TARGET=host|host-musl|mips_24kc|mipsel_24kc|aarch64] [PACKAGE=name]
#   make install DESTDIR=… PACKAGE=… TARGET=openwrt TARGET_CC=… TARGET_AR=… TARGET_CFLAGS=…  (feed/)
.DEFAULT_GOAL := help
ROOT := $(abspath .)
PAYLOAD := $(ROOT)/payload
include mk/install.mk

.PHONY: help install
help:
	@sed -n '2,5p' Makefile

install:
	@if [ -z "$(DESTDIR)" ]; then echo "make install: refusing without DESTDIR=/path (it would write into /)" >&2; exit 2; fi
	@$(MAKE) --no-print-directory install-payload
