# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# src-busybox.sh - the `busybox` source: a tiny root made in seconds from
# Debian's static busybox, the cloud kernel's modules and the fleetboot
# userspace init (image-builder/busybox-root), booted by the busybox
# initramfs. Used for fast tests and the demo.

src_busybox() {
	local root=$WORK/root bb=''
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
			bb=$b
			break
		fi
	done
	[ -n "$bb" ] || die "no static busybox on this host (install busybox-static)"
	[ -z "$OPT_PACKAGES" ] || die "--packages: the busybox source has no package manager"
	kernel_fetch "$FLAVOR"
	step "assembling the busybox root (kernel $KVER)"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,mnt,var/log,boot,lib/fleetboot}
	chmod 1777 "$root/tmp"
	cp "$bb" "$root/bin/busybox"
	for applet in $("$bb" --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
	cp -a "$SHARE/image-builder/busybox-root/." "$root/"
	install -m 644 "$SHARE/initramfs/fleetboot-cmdline.sh" "$root/lib/fleetboot/"
	echo "fleetboot" >"$root/etc/hostname"
	# Modules for the booted system: the initramfs set plus file systems.
	local mods
	mapfile -t mods < <(grep -v -e '^#' -e '^$' "$SHARE/initramfs/busybox/modules")
	kernel_copy_modules "$root" "${mods[@]}" nbd iscsi_tcp overlay squashfs isofs vfat loop >>"$BUILD_LOG" 2>&1
	run_quiet "making the initramfs" "$SHARE/initramfs/mkinitramfs-busybox" \
		--kernel-root "$KROOT" --kver "$KVER" -o "$WORK/initrd.img" "${CA_ARGS[@]}"
	KERNEL=$KROOT/boot/vmlinuz-$KVER
	INITRD=$WORK/initrd.img
	# A copy in /boot lets install mode make the local disk bootable.
	cp "$KERNEL" "$root/boot/vmlinuz-$KVER"
	cp "$INITRD" "$root/boot/initrd.img-$KVER"
	ROOTDIR=$root
	SUITE='' PACKAGES_JSON='[]'
	EXTRA_JSON="\"busybox\": $(json_str "$("$bb" 2>&1 | head -n 1)"), \"kernel_package\": $(json_str "$KPKG $KPKGVER")"
}
