# The targets `make install TARGET=…` stages for, read by the root Makefile and by the release tarball's Makefile.
#   CROSS   the Debian cross toolchain's prefix (gcc, strip); empty for the host
# The bytecode is the same for every target (packages/os/quickjs-patches make QuickJS's writer byte-order free).
TARGET ?= host
ifeq ($(TARGET),host)
  CROSS :=
else ifeq ($(TARGET),host-musl)
  CROSS :=
else ifeq ($(TARGET),mips_24kc)
  CROSS := mips-linux-gnu-
else ifeq ($(TARGET),mipsel_24kc)
  CROSS := mipsel-linux-gnu-
else ifeq ($(TARGET),aarch64)
  CROSS := aarch64-linux-gnu-
else ifeq ($(TARGET),openwrt)
  # An OpenWrt package build: the SDK's compiler comes in as TARGET_CC.
  CROSS :=
else
  $(error TARGET=$(TARGET): one of host, host-musl, mips_24kc, mipsel_24kc, aarch64, openwrt)
endif
