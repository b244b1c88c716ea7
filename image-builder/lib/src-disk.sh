# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# src-disk.sh - `disk:FILE` (a raw or qcow2 disk image) and the network
# sources `nbd://` and `iscsi://` (read into a local disk file by
# fleetboot-image-fetch, with libnbd or libiscsi, then treated the same).
#
# The root file system is found without mounting anything: every partition
# (sfdisk) or the whole disk is probed with blkid, and the first ext2/3/4
# file system holding /etc/os-release or /sbin/init (debugfs) is the root. It is copied
# out with dd, checked with e2fsck, and its kernel, initrd, modules and
# package list are read with debugfs.

# dbg IMAGE CMD: run one debugfs request on an ext* image.
dbg() { debugfs -R "$2" "$1" 2>/dev/null; }
# dbg_exists IMAGE PATH: PATH exists in the image.
dbg_exists() { debugfs -R "stat $2" "$1" 2>&1 | grep -q '^Inode:'; }

# find_root DISK: print "OFFSET_BYTES SIZE_BYTES" of the Linux root.
find_root() {
	local disk=$1 total cands=() c off size t
	total=$(stat -c %s "$disk")
	# "start size" in sectors of every partition (MBR or GPT).
	while read -r off size; do
		cands+=("$((off * 512)) $((size * 512))")
	done < <(sfdisk -d "$disk" 2>/dev/null | awk -F'[:,]' '/start=/ {
		s = ""; n = ""
		for (i = 2; i <= NF; i++) {
			if ($i ~ /start=/) { s = $i; sub(/.*start= */, "", s) }
			if ($i ~ /size=/) { n = $i; sub(/.*size= */, "", n) }
		}
		if (s != "" && n != "") print s, n }')
	# No partition table: the disk may be a bare file system.
	cands+=("0 $total")
	for c in "${cands[@]}"; do
		read -r off size <<<"$c"
		t=$(blkid -p -O "$off" -o value -s TYPE "$disk" 2>/dev/null || true)
		debug "candidate at $off size $size: ${t:-unknown}"
		case $t in
		ext2 | ext3 | ext4)
			if dbg_exists "$disk?offset=$off" /etc/os-release ||
				dbg_exists "$disk?offset=$off" /usr/lib/os-release ||
				dbg_exists "$disk?offset=$off" /sbin/init; then
				echo "$off $size"
				return 0
			fi
			;;
		xfs | btrfs)
			FOUND_OTHER="$FOUND_OTHER $t"
			;;
		esac
	done
	return 1
}

src_disk() {
	local file=$1 fmt disk
	[ -n "$file" ] || usage_die "--from disk:FILE needs a FILE"
	[ -f "$file" ] || [ -b "$file" ] || die "disk:$file: no such file"
	[ -r "$file" ] || die "disk:$file: cannot read it (permission denied)"
	fmt=$(qemu-img info --output=json "$file" 2>/dev/null | sed -n 's/^ *"format": "\([a-z0-9]*\)".*/\1/p' | head -n 1)
	[ -n "$fmt" ] || die "disk:$file: not a disk image qemu-img can read"
	if [ "$fmt" = raw ]; then
		disk=$file
	else
		step "converting $fmt disk to raw"
		local p=()
		[ -t 2 ] && p=(-p)
		run_quiet "qemu-img convert" qemu-img convert "${p[@]}" -O raw "$file" "$WORK/disk.raw"
		disk=$WORK/disk.raw
	fi
	disk_to_root "$disk"
}

# src_net URL: nbd:// or iscsi:// read into a local raw disk, then disk:.
src_net() {
	local url=$1 fetch
	fetch=$BINDIR/fleetboot-image-fetch
	[ -x "$fetch" ] || die "fleetboot-image-fetch not found next to $0"
	step "reading $(redact "$url")"
	"$fetch" "$url" "$WORK/disk.raw" || die "could not read $(redact "$url")"
	disk_to_root "$WORK/disk.raw"
}

disk_to_root() {
	local disk=$1 off size img=$WORK/rootfs.img
	FOUND_OTHER=''
	if ! read -r off size < <(find_root "$disk"); then
		[ -z "$FOUND_OTHER" ] || die "no usable Linux root in the disk: found${FOUND_OTHER} (only ext2/3/4 roots can be used)"
		die "no Linux root in the disk (no ext2/3/4 file system with /etc/os-release or /sbin/init)"
	fi
	step "root file system at offset $off ($(human "$size"))"
	extract_bytes "$disk" "$off" "$size" "$img"
	[ "$disk" != "$WORK/disk.raw" ] || rm -f "$disk"
	# Check read-only first (a clean root is kept byte for byte); repair
	# the copy, never the source, only when it was not cleanly unmounted.
	if ! e2fsck -fn "$img" >>"$BUILD_LOG" 2>&1; then
		step "the root file system was not clean; repairing the copy (e2fsck -p)"
		e2fsck -fp "$img" >>"$BUILD_LOG" 2>&1
		[ $? -lt 4 ] || die "the root file system has errors e2fsck cannot repair (log $BUILD_LOG)"
	fi
	if [ -n "${SIZE_BYTES:-}" ]; then
		local used
		used=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '/^Block count/ { c = $2 } /^Free blocks/ { f = $2 } /^Block size/ { b = $2 } END { print (c - f) * b }')
		[ "$used" -lt "$SIZE_BYTES" ] || die "the root uses $(human "$used") and does not fit --size $SIZE_ARG"
		resize2fs "$img" "$((SIZE_BYTES / 1024))K" >>"$BUILD_LOG" 2>&1 ||
			die "the root does not fit --size $SIZE_ARG (resize2fs failed)"
		truncate -s "$SIZE_BYTES" "$img"
	fi
	ROOTFS_IMG=$img
	ROOTFS_SIZE=$(stat -c %s "$img")
	ROOTFS_CONTENT=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '/^Block count/ { c = $2 } /^Free blocks/ { f = $2 } /^Block size/ { b = $2 } END { print (c - f) * b }')
	image_packages "$img"
	kernel_for_image "$img"
}

# extract_bytes SRC OFFSET SIZE DST: copy a byte range, sparse, with progress.
extract_bytes() {
	local src=$1 off=$2 size=$3 dst=$4 chunk=$((64 * 1048576)) done=0 n
	: >"$dst"
	while [ $done -lt "$size" ]; do
		n=$chunk
		[ $((size - done)) -ge $n ] || n=$((size - done))
		dd if="$src" of="$dst" bs=1M iflag=skip_bytes,count_bytes oflag=seek_bytes \
			skip=$((off + done)) seek=$done count=$n conv=sparse,notrunc status=none ||
			die "reading the root file system from the disk failed"
		done=$((done + n))
		progress "extracting the root" "$done" "$size"
	done
	truncate -s "$size" "$dst"
}

image_packages() {
	local img=$1 d=$WORK/dpkg
	PACKAGES_JSON='[]' SUITE='' EXTRA_JSON=''
	mkdir -p "$d"
	if dbg "$img" "dump /var/lib/dpkg/status $d/status" && [ -s "$d/status" ]; then
		PACKAGES_JSON=$(dpkg-query --admindir="$d" -W \
			-f='${db:Status-Abbrev}\t${Package}\t${Version}\n' 2>/dev/null |
			awk -F'\t' '$1 ~ /^ii/ { printf "%s{\"name\": \"%s\", \"version\": \"%s\"}", sep, $2, $3; sep = ", " }
				BEGIN { printf "[" } END { printf "]" }')
	fi
	mkdir -p "$d/etc"
	dbg "$img" "dump /etc/os-release $d/etc/os-release" >/dev/null
	[ -s "$d/etc/os-release" ] || dbg "$img" "dump /usr/lib/os-release $d/etc/os-release" >/dev/null
	os_release_suite "$d"
	rm -rf "$d"
}

# kernel_for_image IMG: like kernel_for_root, reading the image with debugfs.
kernel_for_image() {
	local img=$1 k
	if [ -n "$OPT_KERNEL" ]; then
		kernel_for_root /nonexistent
		return 0
	fi
	[ -z "$OPT_INITRD" ] || die "--initrd needs --kernel too"
	k=$(dbg "$img" "ls -p /boot" | awk -F/ '$6 ~ /^vmlinuz-/ { print $6 }' | sort -V | tail -n 1)
	[ -n "$k" ] || die "no kernel: the disk's root has no /boot/vmlinuz-*; pass --kernel FILE and --initrd FILE"
	KVER=${k#vmlinuz-}
	dbg "$img" "dump /boot/$k $WORK/vmlinuz" >/dev/null
	[ -s "$WORK/vmlinuz" ] || die "cannot read /boot/$k from the disk"
	KERNEL=$WORK/vmlinuz
	if { dbg_exists "$img" /usr/share/initramfs-tools/hooks/fleetboot ||
		dbg_exists "$img" /usr/lib/dracut/modules.d/90fleetboot; } &&
		dbg_exists "$img" "/boot/initrd.img-$KVER"; then
		dbg "$img" "dump /boot/initrd.img-$KVER $WORK/initrd.img" >/dev/null
		INITRD=$WORK/initrd.img
		step "kernel $KVER and its initrd from the disk's /boot"
		return 0
	fi
	local kr=$WORK/kroot m
	mkdir -p "$kr/lib/modules"
	for m in "/lib/modules/$KVER" "/usr/lib/modules/$KVER"; do
		dbg "$img" "rdump $m $kr/lib/modules" >/dev/null
		[ -d "$kr/lib/modules/$KVER" ] && break
	done
	[ -d "$kr/lib/modules/$KVER/kernel" ] ||
		die "no initrd: the disk has kernel $KVER but no /lib/modules/$KVER and no fleetboot initramfs hook; pass --initrd FILE"
	step "kernel $KVER from the disk's /boot; making a fleetboot initramfs from its modules"
	depmod -b "$kr" "$KVER" >>"$BUILD_LOG" 2>&1 || die "depmod failed on the disk's modules ($KVER)"
	run_quiet "making the initramfs" "$SHARE/initramfs/mkinitramfs-busybox" \
		--kernel-root "$kr" --kver "$KVER" -o "$WORK/initrd.img" "${CA_ARGS[@]}"
	rm -rf "$kr"
	INITRD=$WORK/initrd.img
}
