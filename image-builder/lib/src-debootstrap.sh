# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# src-debootstrap.sh - `debootstrap:SUITE`: a Debian root made with
# `debootstrap --variant=minbase` from the mirror in this host's own apt
# configuration, with a kernel (linux-image-FLAVOR), nbd-client,
# open-iscsi, initramfs-tools, busybox and systemd-sysv, plus the fleetboot
# initramfs-tools hook; the initramfs is then made inside the root by its
# own update-initramfs, so kernel and modules match.
#
# The finished debootstrap (before the fleetboot files) is cached as a
# tarball in CACHE/debootstrap, keyed by suite, mirror, flavor and package
# list, so a second build of the same root takes seconds.

# apt_mirror SUITE: the archive URI of this host's apt sources, preferring
# one that lists SUITE; never a hard-coded host.
apt_mirror() {
	local suite=$1
	{
		# deb822 (.sources): print "URI SUITES..." per deb stanza.
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			awk '
				function flush() { if (types ~ /(^| )deb( |$)/ && uris != "") { n = split(uris, u, " "); for (i = 1; i <= n; i++) print u[i], suites }; types = uris = suites = "" }
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
				/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
				/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
				END { flush() }' "$f"
		done
		# one-line format: deb [opts] URI SUITE COMPONENTS...
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } print $i, $(i + 1) }' "$f"
		done
	} >"$WORK/mirrors"
	# A URI that lists the suite; else one serving a main archive suite
	# (no -security or -updates), which usually carries the others too.
	awk -v s="$suite" '{ for (i = 2; i <= NF; i++) if ($i == s) { print $1; exit } }' "$WORK/mirrors" | head -n 1 | grep . ||
		awk '{ for (i = 2; i <= NF; i++) if ($i !~ /-|\//) { print $1; exit } }' "$WORK/mirrors" | head -n 1
}

# chroot_mount ROOT: /proc, /sys and /dev for programs run in the root,
# recorded so the exit trap always unmounts them.
chroot_mount() {
	local r=$1
	mount -t proc proc "$r/proc" || die "cannot mount /proc in the root"
	track_mount "$r/proc"
	mount -t sysfs sysfs "$r/sys" || die "cannot mount /sys in the root"
	track_mount "$r/sys"
	mount --bind /dev "$r/dev" || die "cannot bind /dev into the root"
	track_mount "$r/dev"
	mount -t devpts devpts "$r/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null && track_mount "$r/dev/pts"
}

# in_chroot ROOT CMD...: run CMD in the root with services kept from starting.
in_chroot() {
	local r=$1
	shift
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$r" "$@"
}

# install_fleetboot_files ROOT: the initramfs-tools hook and scripts, the
# shared fleetboot scripts and the userspace reporter.
install_fleetboot_files() {
	local r=$1 it=$SHARE/initramfs/initramfs-tools
	install -D -m 644 "$SHARE/initramfs/fleetboot-cmdline.sh" "$r/usr/share/fleetboot/initramfs/fleetboot-cmdline.sh"
	install -D -m 644 "$SHARE/initramfs/fleetboot-lib.sh" "$r/usr/share/fleetboot/initramfs/fleetboot-lib.sh"
	install -D -m 755 "$it/hooks/fleetboot" "$r/usr/share/initramfs-tools/hooks/fleetboot"
	install -D -m 755 "$it/scripts/init-premount/fleetboot" "$r/usr/share/initramfs-tools/scripts/init-premount/fleetboot"
	install -D -m 644 "$it/scripts/fleetboot" "$r/usr/share/initramfs-tools/scripts/fleetboot"
	install -D -m 755 "$SHARE/initramfs/userspace/fleetboot-userspace" "$r/usr/lib/fleetboot/fleetboot-userspace"
	install -D -m 644 "$SHARE/initramfs/userspace/fleetboot-userspace.service" "$r/etc/systemd/system/fleetboot-userspace.service"
	mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
	ln -sf ../fleetboot-userspace.service "$r/etc/systemd/system/multi-user.target.wants/fleetboot-userspace.service"
}

src_debootstrap() {
	local suite=$1 mirror root=$WORK/root key cdir tarball pkgs
	[ -n "$suite" ] || usage_die "--from debootstrap:SUITE needs a SUITE (for example bookworm)"
	case $suite in *[!a-z0-9.-]*) die "debootstrap:$suite: not a suite name" ;; esac
	command -v debootstrap >/dev/null || die "debootstrap is not installed"
	case $FLAVOR in cloud-amd64 | amd64) ;; *) die "--kernel-flavor: '$FLAVOR' is not cloud-amd64 or amd64" ;; esac
	[ -z "$OPT_KERNEL$OPT_INITRD" ] || die "--kernel/--initrd: a debootstrap image brings its own"
	mirror=$(apt_mirror "$suite")
	[ -n "$mirror" ] || die "no Debian mirror in this host's apt sources (/etc/apt/sources.list*)"
	pkgs="linux-image-$FLAVOR,nbd-client,open-iscsi,initramfs-tools,busybox,systemd-sysv,udev,kmod,e2fsprogs,extlinux,syslinux-common,iproute2"
	[ -z "$OPT_PACKAGES" ] || pkgs="$pkgs,$OPT_PACKAGES"
	key=$(printf '%s|%s|%s' "$suite" "$mirror" "$pkgs" | sha256sum | cut -c1-16)
	cdir=$CACHE/debootstrap
	tarball=$cdir/$suite-$FLAVOR-$key.tar
	mkdir -p "$cdir" "$root"
	exec {dblock}>"$cdir/.lock"
	flock "$dblock"
	if [ -s "$tarball" ]; then
		step "unpacking cached debootstrap of $suite (${tarball##*/})"
		tar -x -f "$tarball" -C "$root" --numeric-owner --xattrs --xattrs-include='*' ||
			die "cannot unpack $tarball (remove it to rebuild)"
	else
		step "debootstrap $suite from $mirror (several minutes; log $BUILD_LOG)"
		local t0=$SECONDS
		run_quiet "debootstrap $suite" debootstrap --variant=minbase --include="$pkgs" \
			--components=main "$suite" "$root" "$mirror"
		step "debootstrap took $((SECONDS - t0)) s"
		in_chroot "$root" apt-get clean >>"$BUILD_LOG" 2>&1
		tar -c -f "$tarball.tmp" -C "$root" --numeric-owner --xattrs --one-file-system . ||
			die "cannot write $tarball"
		mv "$tarball.tmp" "$tarball"
	fi
	flock -u "$dblock"
	exec {dblock}>&-

	step "installing the fleetboot initramfs hook and making the initramfs"
	install_fleetboot_files "$root"
	# Every machine gets its own machine-id at boot (the initramfs writes
	# it); the image carries none.
	: >"$root/etc/machine-id"
	rm -f "$root/var/lib/dbus/machine-id"
	echo "fleetboot" >"$root/etc/hostname"
	printf '# The root is mounted by the fleetboot initramfs.\n' >"$root/etc/fstab"
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	chroot_mount "$root"
	run_quiet "update-initramfs in the root" in_chroot "$root" update-initramfs -u -k all
	unmount_all
	rm -f "$root/usr/sbin/policy-rc.d"

	KVER=$(newest_in "$root/boot" 'vmlinuz-*')
	KVER=${KVER#vmlinuz-}
	[ -n "$KVER" ] || die "debootstrap: no kernel in /boot"
	cp "$root/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
	cp "$(in_root "$root" "/boot/initrd.img-$KVER")" "$WORK/initrd.img" || die "debootstrap: no initrd.img-$KVER"
	KERNEL=$WORK/vmlinuz INITRD=$WORK/initrd.img
	root_packages "$root"
	EXTRA_JSON="\"mirror\": $(json_str "$mirror"), \"kernel_flavor\": $(json_str "$FLAVOR")"
	SUITE=$suite
	ROOTDIR=$root
}
