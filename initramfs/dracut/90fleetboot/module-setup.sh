#!/bin/bash
# dracut module "fleetboot": network root over NBD or iSCSI from the
# fleetboot.* kernel parameters, with the same shared scripts (and so the
# same behaviour) as the initramfs-tools hook and the busybox initramfs.
# Install as /usr/lib/dracut/modules.d/90fleetboot/; the shared scripts
# are taken from this folder or /usr/share/fleetboot/initramfs.
# Functions are called by dracut (check, depends, installkernel, install).
#
# The module is a netroot handler for dracut's shell init and its classic
# network stack (network-legacy, dhclient): dracut.conf needs
# omit_dracutmodules+=" systemd " and add_dracutmodules+=" network-legacy "
# (fleetboot-image writes both; see initramfs/README.md).

check() {
	require_binaries nbd-client md5sum timeout || return 1
	return 0
}

depends() {
	# network-legacy first: dracut's network module then takes it as its
	# handler instead of the first one it finds installed.
	echo network-legacy network
	return 0
}

installkernel() {
	instmods nbd iscsi_tcp sd_mod overlay ext4 virtio_net virtio_pci virtio_blk virtio_scsi
	instmods '=drivers/net'
}

install() {
	local f src bb
	# shellcheck disable=SC2154 # moddir and hookdir are dracut's
	for f in fleetboot-cmdline.sh fleetboot-lib.sh; do
		src=$moddir/$f
		[ -e "$src" ] || src=/usr/share/fleetboot/initramfs/$f
		inst_simple "$src" "/lib/fleetboot/$f"
	done
	inst_multiple nbd-client md5sum timeout sleep hostname dd sync mkdir cat ip
	inst_multiple -o iscsistart wget curl extlinux setsid blockdev partprobe
	# Stage reports and the credential need wget or curl: a minimal
	# Debian has neither, but busybox's wget applet does the job.
	if ! find_binary wget >/dev/null 2>&1 && ! find_binary curl >/dev/null 2>&1; then
		bb=$(find_binary busybox) || {
			derror "fleetboot: no wget, curl or busybox: the initramfs could not fetch its credential"
			return 1
		}
		inst_binary "$bb" /usr/bin/busybox
		ln_r /usr/bin/busybox /usr/bin/wget
	fi
	if dracut_module_included systemd; then
		dwarn "fleetboot: the module runs under dracut's shell init; omit the systemd module"
	fi
	[ -r /usr/lib/syslinux/mbr/mbr.bin ] && inst_simple /usr/lib/syslinux/mbr/mbr.bin
	inst_hook cmdline 90 "$moddir/fleetboot-parse.sh"
	inst_script "$moddir/fleetbootroot.sh" /sbin/fleetbootroot
	dracut_need_initqueue
}
