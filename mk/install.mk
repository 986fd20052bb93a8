# Builds the C for TARGET (meshwan-js, libpacketmark) and installs a payload (mk/stage.mjs) with mk/install.sh.
# Included by the repository's Makefile and by the release tarball's; ROOT is the tree holding packages/os,
# lib-packetmark and mk. Needs no Node.
#   make install DESTDIR=D [TARGET=…] [PACKAGE=name]          the whole tree, or one OpenWrt package (feed/owners)
#   TARGET=openwrt TARGET_CC=… TARGET_AR=… TARGET_CFLAGS=…   from an OpenWrt package build (feed/)
include $(ROOT)/mk/targets.mk
OUT := $(ROOT)/build/$(TARGET)
ifeq ($(TARGET),openwrt)
  PM_CC := $(TARGET_CC)
  PM_CFLAGS := $(TARGET_CFLAGS)
  # OpenWrt strips what a package installs itself (RSTRIP).
  STRIP ?=
else ifeq ($(TARGET),host-musl)
  PM_CC := musl-gcc
  PM_CFLAGS := -Os
  STRIP ?= strip
else
  PM_CC := $(CROSS)gcc
  PM_CFLAGS := -Os
  STRIP ?= $(CROSS)strip
endif

# The release tarball carries QuickJS's source; the repository fetches it (make deps).
QJS_ARG := $(if $(wildcard $(ROOT)/quickjs/quickjs.c),QJS_SRC=$(ROOT)/quickjs)

.PHONY: install-payload native-target
native-target:
	@$(MAKE) --no-print-directory -C $(ROOT)/packages/os TARGET=$(TARGET) $(QJS_ARG) $(OUT)/meshwan-js
	@$(MAKE) --no-print-directory -C $(ROOT)/lib-packetmark BUILD=$(OUT)/packetmark CC='$(PM_CC)' CFLAGS='$(PM_CFLAGS)' $(OUT)/packetmark/libpacketmark.so

install-payload: native-target
	@PAYLOAD='$(PAYLOAD)' DESTDIR='$(abspath $(DESTDIR))' TARGET='$(TARGET)' PACKAGE='$(PACKAGE)' STRIP='$(STRIP)' \
	  ENGINE='$(OUT)/meshwan-js' PACKETMARK='$(OUT)/packetmark/libpacketmark.so' sh $(ROOT)/mk/install.sh
