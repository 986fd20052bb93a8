# The targets `make install TARGET=…` stages for, read by the root Makefile and by the release tarball's Makefile.
#   CROSS   the Debian cross toolchain's prefix (gcc, strip); empty for the host
#   ENDIAN  QuickJS bytecode is not portable across byte order (measured, README "Use it in a Gluon site"): the
#           staged .qbc is the one compiled for this byte order (le: by the host's meshwan-js; be: by mips_24kc's
#           under qemu-user). Word size does not matter: host (x86-64) and mipsel write the same bytes.
TARGET ?= host
ifeq ($(TARGET),host)
  CROSS :=
  ENDIAN := le
else ifeq ($(TARGET),host-musl)
  CROSS :=
  ENDIAN := le
else ifeq ($(TARGET),mips_24kc)
  CROSS := mips-linux-gnu-
  ENDIAN := be
else ifeq ($(TARGET),mipsel_24kc)
  CROSS := mipsel-linux-gnu-
  ENDIAN := le
else ifeq ($(TARGET),aarch64)
  CROSS := aarch64-linux-gnu-
  ENDIAN := le
else ifeq ($(TARGET),openwrt)
  # An OpenWrt package build: the SDK's compiler comes in as TARGET_CC, the byte order as ENDIAN=be|le.
  CROSS :=
else
  $(error TARGET=$(TARGET): one of host, host-musl, mips_24kc, mipsel_24kc, aarch64, openwrt)
endif
