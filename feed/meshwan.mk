# Shared by every package of the meshwan feed (feed/*/Makefile). The source is the release tarball (`make dist`):
# bytecode (one for every target), the C (meshwan-js, libpacketmark), QuickJS's source and the MANIFEST that says
# which package owns which file, so a firmware build needs OpenWrt's toolchain and no Node. Each package installs
# itself by calling the tarball's `make install PACKAGE=NAME` (mk/install.sh): there is no second list of files.
PKG_VERSION:=0.1.0
PKG_RELEASE:=1
PKG_SOURCE:=meshwan-$(PKG_VERSION).tar.xz
# Where the release tarballs are published; a site may set MESHWAN_DIST_URL, or put the tarball into OpenWrt's dl/.
MESHWAN_DIST_URL ?= https://example.invalid/meshwan/releases/download/v$(PKG_VERSION)
PKG_SOURCE_URL:=$(MESHWAN_DIST_URL)
# `make dist` prints the tarball's sha256; a release pins it here.
PKG_HASH:=skip
PKG_BUILD_DIR:=$(BUILD_DIR)/$(PKG_NAME)/meshwan-$(PKG_VERSION)
PKG_LICENSE:=BSD-2-Clause MIT
PKG_LICENSE_FILES:=quickjs/LICENSE
PKG_MAINTAINER:=meshwan developers <meshwan@example.invalid>

include $(INCLUDE_DIR)/package.mk

# What every meshwan package says of itself (OpenWrt's Package/NAME/Default idiom).
define Package/meshwan/Default
  SECTION:=net
  CATEGORY:=Network
  SUBMENU:=meshwan
  URL:=https://example.invalid/meshwan
endef

# The tarball's Makefile with OpenWrt's toolchain (its bytecode is the same bytes for every target); 32-bit MIPS links
# -latomic for QuickJS's Atomics.
MESHWAN_MAKE = $(MAKE) -C $(PKG_BUILD_DIR) TARGET=openwrt \
	TARGET_CC="$(TARGET_CC)" TARGET_AR="$(TARGET_AR)" TARGET_CFLAGS="$(TARGET_CFLAGS)" \
	TARGET_LIBS="$(if $(CONFIG_mips)$(CONFIG_mipsel),-latomic)"

define Build/Compile
	$(MESHWAN_MAKE) native-target
endef

# $(1): the package's staging root, $(2): the package (feed/owners).
define meshwan/install
	$(MESHWAN_MAKE) install DESTDIR=$(1) PACKAGE=$(2)
endef
