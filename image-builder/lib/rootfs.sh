# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# rootfs.sh - turn a prepared root folder into the image's raw ext4 block
# image with `mke2fs -d` (no mounting, no loop devices), and find a kernel
# and initrd for it.

# make_ext4 ROOTDIR IMAGE: sized to the content plus headroom, or to
# --size (SIZE_BYTES) when given, refusing a root that does not fit.
make_ext4() {
	local root=$1 img=$2 kib files inodes bytes
	kib=$(du -sx --block-size=1K "$root" 2>/dev/null | awk '{ print $1 }')
	[ -n "$kib" ] || die "cannot measure $root"
	files=$(find "$root" -xdev 2>/dev/null | wc -l)
	inodes=$((files + files / 2 + 4096))
	# Inode tables, journal and group descriptors, then 25% + 64 MiB of
	# room for the machines' own writes (their overlays).
	local need=$((kib * 1024 + inodes * 256 + 16 * 1048576))
	if [ -n "${SIZE_BYTES:-}" ]; then
		bytes=$SIZE_BYTES
		if [ "$need" -gt "$bytes" ]; then
			die "the root needs about $(human "$need") ($(human $((kib * 1024))) of files) and does not fit --size $SIZE_ARG"
		fi
	else
		bytes=$((need + kib * 1024 / 4 + 64 * 1048576))
	fi
	bytes=$(((bytes + 4194303) / 4194304 * 4194304))
	ROOTFS_CONTENT=$((kib * 1024))
	step "making ext4 root image: $(human "$bytes") for $(human $((kib * 1024))) of files, $files inodes used"
	rm -f "$img"
	truncate -s "$bytes" "$img" || die "cannot create $img"
	# ^64bit: extlinux (install mode) cannot read 64-bit ext4 file systems.
	if ! mke2fs -q -F -t ext4 -O ^64bit -b 4096 -N "$inodes" -L fleetboot-root \
		-E root_owner=0:0 -d "$root" "$img" >>"$BUILD_LOG" 2>&1; then
		if grep -q -i -e 'no space' -e 'could not allocate' -e 'not enough' "$BUILD_LOG"; then
			die "the root ($(human $((kib * 1024))) of files) does not fit in $(human "$bytes")${SIZE_ARG:+ (--size $SIZE_ARG)}"
		fi
		tail -n 5 "$BUILD_LOG" | sed 's/^/    /' >&2
		die "mke2fs failed"
	fi
	e2fsck -fn "$img" >>"$BUILD_LOG" 2>&1 || die "the new file system does not check clean (e2fsck; log $BUILD_LOG)"
	ROOTFS_SIZE=$bytes
}

# newest_in DIR GLOB: the newest (version sort) file matching DIR/GLOB.
newest_in() {
	find "$1" -maxdepth 1 -name "$2" \( -type f -o -type l \) -printf '%f\n' 2>/dev/null | sort -V | tail -n 1
}

# root_has_fleetboot_hook ROOT: its own initramfs generator carries the
# fleetboot hook or dracut module, so its initrd can boot over the network.
root_has_fleetboot_hook() {
	local r=$1
	[ -e "$r/usr/share/initramfs-tools/hooks/fleetboot" ] ||
		[ -e "$r/etc/initramfs-tools/hooks/fleetboot" ] ||
		[ -d "$r/usr/lib/dracut/modules.d/90fleetboot" ]
}

# kernel_for_root ROOT: set KERNEL, INITRD, KVER for a root folder: --kernel
# and --initrd when given; else the newest /boot/vmlinuz-VERSION, with the
# root's own initrd.img-VERSION when its initramfs has the fleetboot hook,
# or else a fleetboot busybox initramfs made from the root's own modules.
kernel_for_root() {
	local root=$1 k
	if [ -n "$OPT_KERNEL" ]; then
		[ -r "$OPT_KERNEL" ] || die "--kernel $OPT_KERNEL: cannot read it"
		[ -n "$OPT_INITRD" ] || die "--kernel needs --initrd too"
		[ -r "$OPT_INITRD" ] || die "--initrd $OPT_INITRD: cannot read it"
		KERNEL=$OPT_KERNEL INITRD=$OPT_INITRD
		KVER=$(file -bL "$KERNEL" 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p')
		return 0
	fi
	[ -z "$OPT_INITRD" ] || die "--initrd needs --kernel too"
	k=$(newest_in "$root/boot" 'vmlinuz-*')
	[ -n "$k" ] || die "no kernel: the root has no /boot/vmlinuz-*; pass --kernel FILE and --initrd FILE"
	KVER=${k#vmlinuz-}
	KERNEL=$(in_root "$root" "/boot/$k")
	{ [ -f "$KERNEL" ] && [ -r "$KERNEL" ]; } || die "no kernel: /boot/$k in the root is not readable (a dangling link?)"
	if root_has_fleetboot_hook "$root" && [ -f "$(in_root "$root" "/boot/initrd.img-$KVER")" ]; then
		INITRD=$(in_root "$root" "/boot/initrd.img-$KVER")
		step "kernel $KVER and its initrd from the root's /boot"
		return 0
	fi
	# The root's own modules drive a fleetboot busybox initramfs.
	local mods=''
	for d in "$root/lib/modules/$KVER" "$root/usr/lib/modules/$KVER"; do
		[ -d "$d" ] && { mods=$d; break; }
	done
	[ -n "$mods" ] || die "no initrd: the root has kernel $KVER but no /lib/modules/$KVER and no fleetboot initramfs hook; pass --initrd FILE"
	step "kernel $KVER from the root's /boot; making a fleetboot initramfs from its modules"
	local kr=$WORK/kroot
	mkdir -p "$kr/lib/modules"
	cp -a "$mods" "$kr/lib/modules/$KVER"
	depmod -b "$kr" "$KVER" >>"$BUILD_LOG" 2>&1 || die "depmod failed on the root's modules ($KVER)"
	run_quiet "making the initramfs" "$SHARE/initramfs/mkinitramfs-busybox" \
		--kernel-root "$kr" --kver "$KVER" -o "$WORK/initrd.img" "${CA_ARGS[@]}"
	rm -rf "$kr"
	INITRD=$WORK/initrd.img
}
