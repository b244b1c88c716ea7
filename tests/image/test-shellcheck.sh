#!/usr/bin/env bash
# Runs shellcheck over the image builder, the initramfs scripts (every flavour)
# and these tests: no findings at all.
# timeout: 120
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
requires shellcheck
cd "$FB_TOP" || fail "no source tree"
files=(image-builder/fleetboot-image image-builder/lib/*.sh image-builder/busybox-root/sbin/init
	initramfs/*.sh initramfs/mkinitramfs-busybox initramfs/busybox/init initramfs/busybox/udhcpc.script
	initramfs/initramfs-tools/hooks/fleetboot initramfs/initramfs-tools/scripts/init-premount/fleetboot
	initramfs/initramfs-tools/scripts/fleetboot initramfs/dracut/90fleetboot/*.sh
	initramfs/userspace/fleetboot-userspace image-builder/guest/fleetboot-test tests/image/*.sh)
shellcheck -x "${files[@]}" || fail "shellcheck found problems"
# The initramfs scripts must stay POSIX sh (busybox ash, klibc sh, dash).
shellcheck -s sh -x initramfs/*.sh initramfs/busybox/init initramfs/busybox/udhcpc.script \
	initramfs/initramfs-tools/scripts/fleetboot image-builder/busybox-root/sbin/init image-builder/guest/fleetboot-test ||
	fail "initramfs scripts are not POSIX sh"
echo "ok: ${#files[@]} files clean"
