# tsinit: sources -> dist/tsinit -> initramfs -> qemu boot, and the tests.
# Phony verbs sit on real file targets; `make help` lists the verbs.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

BUN := node_modules/.bin/bun
NPX := npx --no-install

# --- architecture --------------------------------------------------------------
# ARCH is the machine everything is built for and booted on: amd64 (the host's, the default) or
# arm64, cross-built from Bun's linux-arm64 runtime and Debian's arm64 packages and booted on
# qemu-system-aarch64 -M virt (docs/arm64.md). Each has its own output folder (DIST) and kernel
# cache, so the two builds never overwrite each other. Exported: scripts/deps.sh, qemu/*.sh and
# the boot tests read it.
ARCH ?= amd64
override ARCH := $(patsubst x86_64,amd64,$(patsubst aarch64,arm64,$(ARCH)))
export ARCH
ifeq ($(ARCH),amd64)
DIST := dist
BUN_TARGET := bun-linux-x64-baseline
KERNEL_CACHE := .cache/kernel
BUSYBOX ?= /bin/busybox
CONSOLE := ttyS0
else ifeq ($(ARCH),arm64)
DIST := dist/arm64
BUN_TARGET := bun-linux-arm64
KERNEL_CACHE := .cache/kernel-arm64
# scripts/sysroot.sh (run by scripts/deps.sh) fills it: Debian's arm64 busybox-static and libc6
# in root/, the pinned Bun's linux-arm64 runtime from the npm registry in bun-VERSION/.
CROSS_CACHE := .cache/arm64
SYSROOT := $(CROSS_CACHE)/root
BUSYBOX ?= $(SYSROOT)/bin/busybox
BUN_VERSION := $(shell sed -n 's/^ *"bun": "\(.*\)",*$$/\1/p' package.json)
BUN_RUNTIME := $(CROSS_CACHE)/bun-$(BUN_VERSION)/bin/bun
CONSOLE := ttyAMA0
else
$(error ARCH=$(ARCH): use amd64 or arm64)
endif

# --- build -------------------------------------------------------------------
# The first entry point is the program; the others (workers) are embedded.
ENTRIES := src/main.ts src/sys/notify-worker.ts src/sys/uevent-worker.ts
SOURCES := $(shell find src -name '*.ts' 2>/dev/null)
# --bytecode: measured under TCG, PID 1 reaches login ~0.2 s sooner and its Rss is ~1.3 MB
# smaller than without, for 2 MB more executable (1 MB gzip; docs/bench.md). In the default
# image it is 1.03 MB of the zstd squashfs: BYTECODE=no (or empty) leaves it out, for a 1 MB
# smaller image and 2 MB more PID 1 Rss (README "RAM and flash").
BYTECODE ?= yes
# --target=...-baseline runs without AVX2 and costs nothing: Bun 1.4.4's baseline and default
# x64 runtimes are the same bytes.
# --no-compile-autoload-*: a compiled executable would otherwise read .env and bunfig.toml from
# its working directory at start, pass .env's variables (LD_PRELOAD too) to every service and
# run bunfig.toml's preload inside tsinit.
# For another architecture, --compile-executable-path names the target's Bun runtime.
BUNFLAGS := --compile --minify $(if $(filter yes,$(BYTECODE)),--bytecode) --target=$(BUN_TARGET) \
	$(if $(BUN_RUNTIME),--compile-executable-path=$(BUN_RUNTIME)) \
	--no-compile-autoload-dotenv --no-compile-autoload-bunfig

# --- image -------------------------------------------------------------------
# IMAGE_SHAPE: how tsinit sits in the image (scripts/payload.sh, docs/image.md "Image shapes").
# squashfs-zstd boots in 192 MB and starts tsinit in seconds; squashfs-xz also needs 192 MB, with
# more room to spare, but starts tsinit several times slower; plain (the bare executable) needs
# 384 MB; squashfs-lz4, squashfs-gzip and erofs-lz4 lie between.
# Both architectures default to squashfs-zstd: the stub needs loop and squashfs with zstd, which
# Debian's cloud kernels have (modules, with zstd built in; scripts/manifest.sh checks the kernel's
# config). For arm64 the libraries come from SYSROOT (scripts/shared-libs.sh, docs/arm64.md).
IMAGE_SHAPE ?= squashfs-zstd
PAYLOAD := $(DIST)/payload-$(IMAGE_SHAPE)
# What scripts/payload.sh writes: the record, and the filesystem image unless the shape is plain.
PAYLOAD_FILES := $(PAYLOAD)/image $(if $(filter-out plain,$(IMAGE_SHAPE)),$(PAYLOAD)/tsinit.img)
# COMPRESS picks the image `make initramfs` writes: gzip, zstd, xz or none.
COMPRESS ?= gzip
GZIP_LEVEL ?= 9
ZSTD_LEVEL ?= 19
XZ_LEVEL ?= 9
ext_gzip := .gz
ext_zstd := .zst
ext_xz := .xz
ext_none :=
ext = $(if $(filter $(1),gzip zstd xz none),$(ext_$(1)),$(error COMPRESS=$(1): use gzip, zstd, xz or none))
IMAGE := $(DIST)/initramfs.cpio$(call ext,$(COMPRESS))
BUSYBOX_IMAGE := $(DIST)/busybox-init.cpio$(call ext,$(COMPRESS))

# Images booted by `make qemu`, the boot tests and the bench: the kernel
# unpacks them under TCG, where a light compression boots fastest
# (docs/image.md has the figures).
BOOT_COMPRESS ?= none
BOOT_IMAGE := $(DIST)/initramfs.cpio$(call ext,$(BOOT_COMPRESS))
BOOT_BUSYBOX_IMAGE := $(DIST)/busybox-init.cpio$(call ext,$(BOOT_COMPRESS))

# Every timestamp in the archive; same inputs, same bytes.
SOURCE_DATE_EPOCH ?= 0
export SOURCE_DATE_EPOCH

# What each archive is made from besides its manifest's text (the manifest names the files): the
# tsinit image adds the stub and, through the payload, scripts/payload.sh; the busybox-init image
# its inittab. Neither depends on the other's.
IMAGE_INPUTS := scripts/manifest.sh scripts/mkcpio.ts src/base/device-number.ts $(BUSYBOX) $(shell find initramfs/etc -type f)
TSINIT_IMAGE_INPUTS := $(IMAGE_INPUTS) initramfs/init scripts/shared-libs.sh
BUSYBOX_IMAGE_INPUTS := $(IMAGE_INPUTS) $(shell find initramfs/busybox-init -type f)

# --- kernel ------------------------------------------------------------------
KERNEL := $(KERNEL_CACHE)/vmlinuz
MODULES_DIR := $(KERNEL_CACHE)/modules
KERNEL_STAMP := $(KERNEL_CACHE)/version
# Kernel modules the images carry, each with the modules it needs and their lines of
# modules.dep and modules.alias (scripts/manifest.sh). MODULES_DEFAULT is what a root on a
# qemu virtio disk needs (Debian's cloud kernel has ext4 built in, virtio_pci and virtio_blk as
# modules), and softdog, the kernel's software watchdog (with its dependency watchdog.ko, 110 KB;
# `modules-load=softdog tsinit.watchdog=/dev/watchdog0:30`, docs/watchdog.md); MODULES adds
# more, e.g. MODULES="btrfs squashfs virtio_scsi".
MODULES_DEFAULT ?= virtio_pci virtio_blk softdog
MODULES ?=
IMAGE_MODULES := $(strip $(MODULES_DEFAULT) $(MODULES))

# --- tests and bench ---------------------------------------------------------
# Which images the boot tests run against, and which tests. On arm64 (each TCG boot costs several
# times an amd64 one, docs/arm64.md): the smoke tests and the login, orphan and shutdown tests of
# the tsinit image; BOOT_TESTS=test/boot runs them all.
ifeq ($(ARCH),amd64)
BOOT_TEST_IMAGES ?= tsinit busybox-init
BOOT_TESTS ?= test/boot
else
BOOT_TEST_IMAGES ?= tsinit
BOOT_TESTS ?= test/boot/smoke.test.ts test/boot/boot.test.ts
endif
# The disks only when a test that boots them runs.
BOOT_DISKS := $(if $(filter test/boot test/boot/ test/boot/real-root.test.ts,$(BOOT_TESTS)),$(DIST)/disk.ext4 $(DIST)/disk-gpt.img)
BENCH_BOOTS ?= 10
BOOT_ENV = KERNEL=$(KERNEL) TSINIT_IMAGE=$(BOOT_IMAGE) BUSYBOX_IMAGE=$(BOOT_BUSYBOX_IMAGE) \
	DISK_IMAGE=$(DIST)/disk.ext4 DISK_GPT_IMAGE=$(DIST)/disk-gpt.img

# --- disk --------------------------------------------------------------------
# The example real root for switch_root (docs/disk.md): dist/disk.ext4 from disk/ and the
# same executables as the image, and the same filesystem as partition 2 of a GPT and an MBR
# disk image. Every identifier is fixed, so the same inputs give the same bytes.
DISK_SIZE ?= 192M
DISK_EXT4 := --size $(DISK_SIZE) --label tsinit-root --uuid 5453494e-4954-4000-8000-000000000001
DISK_INPUTS := scripts/manifest.sh scripts/shared-libs.sh scripts/mkext4.ts scripts/mkcpio.ts src/base/device-number.ts scripts/mke2fs.conf \
	$(BUSYBOX) $(shell find disk -type f 2>/dev/null)
# `make qemu-disk` boots the image with DISK_IMAGE as a virtio disk and root=DISK_ROOT;
# APPEND adds kernel arguments (to `make qemu` too; QEMU_MEM sets the RAM in MB). The guest's writes go to a throwaway overlay
# (DISK_SNAPSHOT=off keeps them in the image, which is then no longer the reproducible one).
DISK_IMAGE ?= $(DIST)/disk.ext4
DISK_ROOT ?= /dev/vda
DISK_SNAPSHOT ?= on
APPEND ?=

.PHONY: disk disk-gpt disk-mbr qemu-disk

.PHONY: all build deps initramfs busybox-init kernel qemu qemu-busybox smoke timeline \
	test test-unit test-sys test-ns test-fuzz test-boot test-arm64 test-repro typecheck lint bench bench-ram \
	bench-services size clean help FORCE

all: build

help:
	@echo "make [build]       $(DIST)/tsinit (ARCH=amd64|arm64: the machine; arm64 builds in dist/arm64/)"
	@echo "make initramfs     $(IMAGE) (COMPRESS=gzip|zstd|xz|none)"
	@echo "                   IMAGE_SHAPE=$(IMAGE_SHAPE): squashfs-zstd|squashfs-xz|squashfs-lz4|squashfs-gzip|erofs-lz4|plain"
	@echo "                   with the modules MODULES_DEFAULT=\"$(MODULES_DEFAULT)\" plus MODULES=\"...\""
	@echo "make busybox-init  $(BUSYBOX_IMAGE), the busybox init image to compare with"
	@echo "make kernel        Debian's cloud kernel for $(ARCH) in $(KERNEL_CACHE)"
	@echo "make qemu          boot the image on the serial console, with APPEND and QEMU_MEM (qemu-busybox: the peer)"
	@echo "make smoke CMD=... boot, run CMD in the guest as the first runner, exit with its status"
	@echo "make timeline      docs/boot-timeline.svg: the demo image's boot, drawn by initctl analyze --svg"
	@echo "make disk          dist/disk.ext4, an example real root (docs/disk.md)"
	@echo "make disk-gpt      dist/disk-gpt.img: the same root as partition 2 of a GPT disk (disk-mbr: MBR)"
	@echo "make qemu-disk     boot the image with DISK_IMAGE=$(DISK_IMAGE), root=$(DISK_ROOT) and APPEND"
	@echo "make test          lint, typecheck, test-unit, test-sys, test-ns, test-fuzz, test-repro, test-boot, test-arm64"
	@echo "make bench         boot both images BENCH_BOOTS=$(BENCH_BOOTS) times each, print a table"
	@echo "make bench-ram     the smallest -m (16 MB steps) each image boots to login: with"
	@echo "make size          what the image holds (the squashfs, and inside it runtime, bundle, libraries; busybox, modules): raw and compressed"
	@echo "make bench-services  200 services, crash-to-respawn, memory: tsinit beside runit (as root)"
	@echo "make clean         remove dist/ (the kernel cache stays; rm -rf .cache to drop it)"

deps:
	scripts/deps.sh

build: $(DIST)/tsinit

$(DIST)/tsinit: $(ENTRIES) $(SOURCES) package-lock.json tsconfig.json $(DIST)/build-flags | $(DIST) $(BUN) $(BUN_RUNTIME)
	$(BUN) build $(BUNFLAGS) $(ENTRIES) --outfile $@

# How the executable is built, remade every time and rewritten only when it changes: a new flag
# or entry point rebuilds it, an edit elsewhere in this Makefile does not.
$(DIST)/build-flags: FORCE | $(DIST)
	echo '$(BUN) build $(BUNFLAGS) $(ENTRIES)' > $@.new
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(DIST):
	mkdir -p $@

# A fresh clone or machine lacks these: scripts/deps.sh installs them (for ARCH=arm64 also the
# target's busybox, libraries and Bun runtime, through scripts/sysroot.sh).
$(sort $(BUN) /bin/busybox $(BUSYBOX) $(BUN_RUNTIME)):
	scripts/deps.sh

# The manifest is remade every time but rewritten only when it changes, so
# the archive is rebuilt when the file list changes (MODULES, busybox's
# applets, ldd's answer) or when one of the inputs below is newer.
# Each manifest writes its subsets of modules.dep and modules.alias to its own folder
# (dist/*.modules/), so that two manifests made at once never share a file.
# SYSROOT and CONSOLE: the target's libraries and serial console when ARCH is not the host's.
MANIFEST_ENV = BUSYBOX=$(BUSYBOX) SYSROOT=$(SYSROOT) CONSOLE=$(CONSOLE)

$(DIST)/initramfs.manifest: $(DIST)/tsinit $(PAYLOAD_FILES) $(KERNEL_STAMP) FORCE | $(DIST) $(BUSYBOX)
	TSINIT=$(DIST)/tsinit PAYLOAD=$(PAYLOAD) MODULES="$(IMAGE_MODULES)" MODULES_DIR=$(MODULES_DIR) \
		MODULES_OUT=$(DIST)/initramfs.modules $(MANIFEST_ENV) scripts/manifest.sh tsinit > $@.new
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# The shared libraries tsinit links, where they come from (ldd's answer, or SYSROOT's packages:
# scripts/shared-libs.sh) and the md5 of each: remade every time, rewritten only when it changes,
# so a new set or a changed library remakes the squashfs (or, for plain, the archive).
$(PAYLOAD)/libraries: $(DIST)/tsinit scripts/shared-libs.sh FORCE
	mkdir -p $(@D)
	SYSROOT=$(SYSROOT) scripts/shared-libs.sh $(DIST)/tsinit | while read -r lib source; do \
		sum=$$(md5sum < "$$source" | cut -c1-32); echo "$$lib $$source $$sum"; done > $@.new
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# The executable in the shape's filesystem, and the record the stub checks it against; one run
# writes both (a grouped target), so a missing or older tsinit.img remakes the pair. busybox is a
# real prerequisite: its size is in the record's RAM figure.
$(PAYLOAD_FILES) &: $(DIST)/tsinit $(PAYLOAD)/libraries scripts/payload.sh scripts/shared-libs.sh $(BUSYBOX)
	ARCH=$(ARCH) $(MANIFEST_ENV) scripts/payload.sh $(IMAGE_SHAPE) $(DIST)/tsinit $(PAYLOAD)

$(DIST)/busybox-init.manifest: $(if $(IMAGE_MODULES),$(KERNEL_STAMP)) FORCE | $(DIST) $(BUSYBOX)
	MODULES="$(IMAGE_MODULES)" MODULES_DIR=$(MODULES_DIR) \
		MODULES_OUT=$(DIST)/busybox-init.modules $(MANIFEST_ENV) scripts/manifest.sh busybox-init > $@.new
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# `tsinit check` on the services the image carries first: a broken service file fails the
# build (scripts/check-services.sh). For another ARCH the host's dist/tsinit checks, if it is
# built; else the check is skipped with a note.
CHECKED_SERVICES := boot single recovery

$(DIST)/initramfs.cpio: $(DIST)/initramfs.manifest $(DIST)/tsinit $(PAYLOAD_FILES) $(PAYLOAD)/libraries $(TSINIT_IMAGE_INPUTS) scripts/check-services.sh $(wildcard $(DIST)/initramfs.modules/*)
	TSINIT=$(DIST)/tsinit scripts/check-services.sh $< /etc/tsinit.d $(CHECKED_SERVICES)
	$(BUN) scripts/mkcpio.ts $< $@

$(DIST)/busybox-init.cpio: $(DIST)/busybox-init.manifest $(BUSYBOX_IMAGE_INPUTS) $(wildcard $(DIST)/busybox-init.modules/*)
	$(BUN) scripts/mkcpio.ts $< $@

# Compressors, all without names or timestamps in their output. The
# kernel's xz decoder wants CRC32 checks.
%.cpio.gz: %.cpio
	gzip -n -$(GZIP_LEVEL) < $< > $@
%.cpio.zst: %.cpio
	zstd -q -f -T1 -$(ZSTD_LEVEL) $< -o $@
%.cpio.xz: %.cpio
	xz -T1 --check=crc32 -$(XZ_LEVEL) < $< > $@

initramfs: $(IMAGE)

busybox-init: $(BUSYBOX_IMAGE)

kernel: $(KERNEL_STAMP)
	@echo "kernel:  $(KERNEL) -> $$(readlink -f $(KERNEL))"
	@echo "modules: $(MODULES_DIR) -> $$(readlink -f $(MODULES_DIR))"

# deps.sh, run for BUSYBOX, installs the host's busybox (which runs depmod, whatever ARCH is) and
# for arm64 adds Debian's arm64 package lists.
$(KERNEL_STAMP): | $(BUSYBOX)
	scripts/kernel.sh $(KERNEL_CACHE) $(ARCH)

qemu: deps $(BOOT_IMAGE) $(KERNEL_STAMP)
	qemu/boot.sh $(KERNEL) $(BOOT_IMAGE) $(APPEND)

# A CI smoke boot: CMD runs in the guest as the first runner; make exits with its status.
smoke: deps $(BOOT_IMAGE) $(KERNEL_STAMP)
	qemu/smoke.sh --kernel $(KERNEL) --initrd $(BOOT_IMAGE) -- /bin/sh -c '$(subst ','\'',$(value CMD))'

# The demo image's boot timeline, drawn by `initctl analyze --svg` in the guest.
timeline: deps $(BOOT_IMAGE) $(KERNEL_STAMP)
	scripts/boot-timeline.sh docs/boot-timeline.svg

qemu-busybox: deps $(BOOT_BUSYBOX_IMAGE) $(KERNEL_STAMP)
	qemu/boot.sh $(KERNEL) $(BOOT_BUSYBOX_IMAGE)

# --- disk --------------------------------------------------------------------
# The manifest of the example root, remade every time like the image's; its first line
# records how mkext4.ts formats it, so a new DISK_SIZE rebuilds the disk too.
$(DIST)/disk.manifest: $(DIST)/tsinit FORCE | $(DIST) $(BUSYBOX)
	{ echo "# mkext4.ts $(DISK_EXT4)"; TSINIT=$(DIST)/tsinit MODULES= $(MANIFEST_ENV) \
		scripts/manifest.sh disk; } > $@.new
	if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(DIST)/disk.ext4: $(DIST)/disk.manifest $(DIST)/tsinit $(PAYLOAD)/libraries $(DISK_INPUTS) scripts/check-services.sh
	TSINIT=$(DIST)/tsinit scripts/check-services.sh $< /etc/tsinit.d $(CHECKED_SERVICES)
	$(BUN) scripts/mkext4.ts $(DISK_EXT4) $< $@

$(DIST)/disk-gpt.img: $(DIST)/disk.ext4 scripts/partition.sh
	scripts/partition.sh gpt $< $@

$(DIST)/disk-mbr.img: $(DIST)/disk.ext4 scripts/partition.sh
	scripts/partition.sh mbr $< $@

disk: $(DIST)/disk.ext4

disk-gpt: $(DIST)/disk-gpt.img

disk-mbr: $(DIST)/disk-mbr.img

qemu-disk: deps $(BOOT_IMAGE) $(KERNEL_STAMP) $(DISK_IMAGE)
	DISK=$(DISK_IMAGE),snapshot=$(DISK_SNAPSHOT) \
		qemu/boot.sh $(KERNEL) $(BOOT_IMAGE) root=$(DISK_ROOT) $(APPEND)

# --- tests -------------------------------------------------------------------
# `make test` boots the arm64 image too, its smoke tests (test-arm64; docs/arm64.md has the cost);
# TEST_ARM64= leaves them out. With ARCH=arm64 it is that architecture's boot tests: the other
# tiers run the host's own build.
TEST_ARM64 ?= yes
ifeq ($(ARCH),amd64)
test: deps
	$(MAKE) lint typecheck test-unit test-sys test-ns test-fuzz test-repro test-boot $(if $(TEST_ARM64),test-arm64)
else
test: deps
	$(MAKE) test-boot
endif

# The smoke tests against the arm64 image on qemu-system-aarch64.
test-arm64:
	$(MAKE) ARCH=arm64 test-boot BOOT_TESTS=test/boot/smoke.test.ts

# Targets that run dist/tsinit on this machine: the host's build only.
host_only = $(if $(filter-out amd64,$(ARCH)),$(error make $@ runs dist/tsinit on this machine: run it without ARCH=$(ARCH)))

# Only src/sys/ (and the control socket's two edges) may touch the system (docs/DESIGN.md).
lint:
	scripts/check-seam.sh

typecheck: | $(BUN)
	$(NPX) tsc --noEmit

# The kernel cache first: the module planner's tests read its real tables too.
test-unit: | $(BUN) $(KERNEL_STAMP)
	$(NPX) vitest run

# The system layer and the control socket with real system calls, under bun (not vitest).
test-sys: | $(BUN)
	$(BUN) test test/sys test/control

test-ns: $(DIST)/tsinit
	$(host_only)
	$(BUN) test test/ns

# Hostile service files, reloads and requests against the compiled tsinit in a namespace
# (test/fuzz/); FUZZ_SEED picks the input (default 1), FUZZ_ROUNDS how much (default 4).
test-fuzz: $(DIST)/tsinit
	$(host_only)
	$(BUN) test --timeout 600000 test/fuzz

test-boot: $(BOOT_IMAGE) $(BOOT_BUSYBOX_IMAGE) $(KERNEL_STAMP) $(BOOT_DISKS)
	$(BOOT_ENV) BOOT_TEST_IMAGES="$(BOOT_TEST_IMAGES)" $(BUN) test --timeout 300000 $(BOOT_TESTS)

# Build both images and the disks twice in scratch directories and compare the bytes.
test-repro: $(KERNEL_STAMP) | $(BUN)
	$(host_only)
	ENTRIES="$(ENTRIES)" BUNFLAGS="$(BUNFLAGS)" MODULES="$(IMAGE_MODULES)" MODULES_DIR=$(MODULES_DIR) IMAGE_SHAPE=$(IMAGE_SHAPE) \
		DISK_EXT4="$(DISK_EXT4)" scripts/repro.sh

# 200 services, crash-to-respawn, memory: tsinit beside runit (docs/bench-services.md).
bench-services: $(DIST)/tsinit
	$(host_only)
	$(BUN) bench/services.ts

# Boots the light images; reports the size of the COMPRESS ones beside.
bench: $(BOOT_IMAGE) $(BOOT_BUSYBOX_IMAGE) $(IMAGE) $(BUSYBOX_IMAGE) $(KERNEL_STAMP) $(DIST)/disk.ext4
	$(BOOT_ENV) TSINIT_SHIPPED=$(IMAGE) BUSYBOX_SHIPPED=$(BUSYBOX_IMAGE) \
		BENCH_BOOTS=$(BENCH_BOOTS) $(BUN) bench/boot.ts
	$(BOOT_ENV) BENCH_BOOTS=$(BENCH_BOOTS) $(BUN) bench/smoke.ts

# The smallest -m each image reaches login: with, as booted and as shipped (bench/ram.ts;
# BENCH_RAM_MIN, BENCH_RAM_MAX, BENCH_RAM_TIMEOUT a boot and BENCH_RAM_BUDGET in all, seconds).
bench-ram: $(BOOT_IMAGE) $(BOOT_BUSYBOX_IMAGE) $(IMAGE) $(BUSYBOX_IMAGE) $(KERNEL_STAMP)
	$(BOOT_ENV) TSINIT_SHIPPED=$(IMAGE) BUSYBOX_SHIPPED=$(BUSYBOX_IMAGE) $(BUN) bench/ram.ts

# The image's parts (scripts/size.ts reads the manifest), raw and as gzip, zstd and xz would
# ship them, and the whole image compressed each way. A squashfs (or erofs) file is one part,
# with what it holds broken down below it (unsquashfs, so squashfs-tools).
size: $(DIST)/initramfs.manifest $(DIST)/initramfs.cpio | $(BUN)
	GZIP_LEVEL=$(GZIP_LEVEL) ZSTD_LEVEL=$(ZSTD_LEVEL) XZ_LEVEL=$(XZ_LEVEL) \
		$(BUN) scripts/size.ts $(DIST)/initramfs.manifest $(DIST)/initramfs.cpio

clean:
	rm -rf dist

FORCE:
