# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# src-debootstrap.sh - `debootstrap:SUITE`: a Debian root made with
# `debootstrap --variant=minbase` from the mirror in this host's own apt
# configuration, with a kernel (linux-image-FLAVOR), nbd-client,
# open-iscsi, initramfs-tools, busybox and systemd-sysv, plus the fleetboot
# initramfs-tools hook; the initramfs is then made inside the root by its
# own update-initramfs, so kernel and modules match. For verified boots
# the root also gets veritysetup and openssl (apt-get in the root, the
# packages cached like dracut's) and the site CA, which the hook pins.
#
# With `--initramfs dracut` the same root gets Debian's dracut and
# dracut-network instead (apt-get in the root, which removes
# initramfs-tools) and fleetboot's dracut module (90fleetboot); dracut's
# own run in the root makes the initramfs.
#
# The finished debootstrap (before the fleetboot files) is cached as a
# tarball in CACHE/debootstrap, keyed by suite, mirror, flavor and package
# list, so a second build of the same root takes seconds. Both initramfs
# generators share it; the few dracut packages are kept beside it
# (CACHE/debootstrap/SUITE-FLAVOR-KEY-dracut-debs/) so later dracut builds
# download nothing.

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

# install_fleetboot_files ROOT: the shared fleetboot scripts, the
# initramfs generator's part (initramfs-tools hook and scripts, or the
# dracut module and its configuration), the userspace reporter and the
# fleetboot.test runner.
install_fleetboot_files() {
	local r=$1 it=$SHARE/initramfs/initramfs-tools g=$SHARE/image-builder/guest
	install -D -m 644 "$SHARE/initramfs/fleetboot-cmdline.sh" "$r/usr/share/fleetboot/initramfs/fleetboot-cmdline.sh"
	install -D -m 644 "$SHARE/initramfs/fleetboot-lib.sh" "$r/usr/share/fleetboot/initramfs/fleetboot-lib.sh"
	if [ "$INITRAMFS" = dracut ]; then
		install_dracut_module "$r"
	else
		install -D -m 755 "$it/hooks/fleetboot" "$r/usr/share/initramfs-tools/hooks/fleetboot"
		install -D -m 755 "$it/scripts/init-premount/fleetboot" "$r/usr/share/initramfs-tools/scripts/init-premount/fleetboot"
		install -D -m 644 "$it/scripts/fleetboot" "$r/usr/share/initramfs-tools/scripts/fleetboot"
	fi
	install -D -m 755 "$SHARE/initramfs/userspace/fleetboot-userspace" "$r/usr/lib/fleetboot/fleetboot-userspace"
	install -D -m 644 "$SHARE/initramfs/userspace/fleetboot-userspace.service" "$r/etc/systemd/system/fleetboot-userspace.service"
	install -D -m 755 "$g/fleetboot-test" "$r/usr/lib/fleetboot/fleetboot-test"
	install -D -m 644 "$g/fleetboot-test.service" "$r/etc/systemd/system/fleetboot-test.service"
	mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
	ln -sf ../fleetboot-userspace.service "$r/etc/systemd/system/multi-user.target.wants/fleetboot-userspace.service"
	ln -sf ../fleetboot-test.service "$r/etc/systemd/system/multi-user.target.wants/fleetboot-test.service"
}

# install_dracut_module ROOT: fleetboot's dracut module and the dracut
# configuration that uses it. The initramfs is generic (not host-only: it
# is made in a chroot on the build host, not on the machine that boots
# it) and runs dracut's shell init: the module is a netroot handler of
# dracut's classic network stack (network-legacy: dhclient), so the
# systemd flavour of the initramfs and its network modules are left out.
install_dracut_module() {
	local r=$1 m f
	m=$r/usr/lib/dracut/modules.d/90fleetboot
	mkdir -p "$m" "$r/etc/dracut.conf.d"
	for f in "$SHARE"/initramfs/dracut/90fleetboot/*.sh; do
		install -m 755 "$f" "$m/"
	done
	cat >"$r/etc/dracut.conf.d/90-fleetboot.conf" <<-'EOF'
		# Written by fleetboot-image: a generic initramfs with dracut's
		# shell init, its classic network stack and the fleetboot module
		# (see /usr/lib/dracut/modules.d/90fleetboot).
		hostonly="no"
		add_dracutmodules+=" network-legacy fleetboot "
		omit_dracutmodules+=" systemd systemd-initrd dracut-systemd systemd-networkd network-manager nbd iscsi plymouth "
		early_microcode="no"
	EOF
}

# root_apt_install ROOT DEBS PKG...: Debian packages into the root with
# the root's own apt (services kept from starting by policy-rc.d). The
# packages come from the folder DEBS when an earlier build fetched them,
# and what was downloaded is kept there, so later builds download nothing.
root_apt_install() {
	local r=$1 debs=$2 n f
	shift 2
	mkdir -p "$r/var/cache/apt/archives"
	n=$(find "$debs" -maxdepth 1 -name '*.deb' 2>/dev/null | wc -l)
	[ "$n" = 0 ] || cp "$debs"/*.deb "$r/var/cache/apt/archives/"
	# The root's apt talks to the mirror debootstrap used; name servers
	# from this host for the length of the install.
	# (Never through a symlink of the root: it would point into this host.)
	[ -L "$r/etc/resolv.conf" ] || [ -e "$r/etc/resolv.conf" ] || : >"$r/etc/resolv.conf"
	if [ ! -L "$r/etc/resolv.conf" ] && [ -f "$r/etc/resolv.conf" ] && [ -r /etc/resolv.conf ]; then
		mount --bind /etc/resolv.conf "$r/etc/resolv.conf" && track_mount "$r/etc/resolv.conf"
	fi
	local apt=(apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "$@")
	if ! in_chroot "$r" "${apt[@]}" >>"$BUILD_LOG" 2>&1; then
		# The package lists of the cached debootstrap may be older than
		# the mirror: refresh them once.
		step "apt-get install $* failed; refreshing the root's package lists"
		run_quiet "apt-get update in the root" in_chroot "$r" apt-get update -q
		run_quiet "apt-get install $* in the root" in_chroot "$r" "${apt[@]}"
	fi
	mountpoint -q "$r/etc/resolv.conf" && umount "$r/etc/resolv.conf"
	# Keep what was downloaded (each file complete, or not at all).
	mkdir -p "$debs"
	for f in "$r"/var/cache/apt/archives/*.deb; do
		if [ -f "$f" ] && [ ! -e "$debs/${f##*/}" ]; then
			cp "$f" "$debs/.tmp.$$" && mv "$debs/.tmp.$$" "$debs/${f##*/}"
		fi
	done
	rm -f "$debs/.tmp.$$"
	in_chroot "$r" apt-get clean >>"$BUILD_LOG" 2>&1
}

# dracut_install ROOT KEY: Debian's dracut and dracut-network into the
# root (apt-get removes initramfs-tools); installing dracut makes the
# initramfs of every kernel in /boot with the configuration above.
dracut_install() {
	local r=$1 key=$2
	root_apt_install "$r" "$CACHE/debootstrap/${key}-dracut-debs" dracut dracut-network procps
	[ -x "$r/usr/bin/dracut" ] || die "dracut is not in the root after apt-get install"
}

# verified_boot_install ROOT KEY: what the initramfs-tools hook puts into
# the initramfs for a verified boot (initramfs/README.md): veritysetup
# (cryptsetup-bin) and openssl into the root, and the site CA
# (`fleetboot init`'s STATE/tls/ca-cert.pem) at /etc/fleetboot/ca-cert.pem,
# where the hook pins it. The CA certificate is public; the root keeps it,
# so a later update-initramfs in the image pins it again. Without a site
# CA the image still builds, and a verified boot of it stops with that
# reason. nbd-client's TLS needs nothing more: Debian's is built with
# GnuTLS.
verified_boot_install() {
	local r=$1 key=$2
	if [ -n "$SITE_CA" ]; then
		install -D -m 644 "$SITE_CA" "$r/etc/fleetboot/ca-cert.pem"
	else
		step "warning: no site CA ($STATE_DIR/tls/ca-cert.pem; fleetboot init makes it): this image cannot boot verified"
	fi
	if [ ! -x "$r/usr/sbin/veritysetup" ] || [ ! -x "$r/usr/bin/openssl" ]; then
		root_apt_install "$r" "$CACHE/debootstrap/${key}-verity-debs" cryptsetup-bin openssl
	fi
	[ -x "$r/usr/sbin/veritysetup" ] || [ -x "$r/sbin/veritysetup" ] || die "veritysetup is not in the root after apt-get install"
	[ -x "$r/usr/bin/openssl" ] || die "openssl is not in the root after apt-get install"
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

	step "installing the fleetboot $INITRAMFS files and making the initramfs"
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
	if [ "$INITRAMFS" = dracut ]; then
		local had_dracut=0 kv
		[ ! -x "$root/usr/bin/dracut" ] || had_dracut=1
		dracut_install "$root" "$(basename "$tarball" .tar)"
		kv=$(newest_in "$root/boot" 'vmlinuz-*')
		kv=${kv#vmlinuz-}
		[ -n "$kv" ] || die "debootstrap: no kernel in /boot"
		# dracut was there already (--packages): its install made no
		# initramfs with the fleetboot module, so run it now.
		[ $had_dracut = 0 ] || run_quiet "dracut in the root" in_chroot "$root" dracut --force --kver "$kv" "/boot/initrd.img-$kv"
		in_chroot "$root" lsinitrd "/boot/initrd.img-$kv" >"$WORK/lsinitrd" 2>>"$BUILD_LOG" ||
			die "lsinitrd cannot read the initramfs dracut made"
		grep -q 'sbin/fleetbootroot$' "$WORK/lsinitrd" || die "dracut made an initramfs without the fleetboot module (log $BUILD_LOG)"
	else
		verified_boot_install "$root" "$(basename "$tarball" .tar)"
		run_quiet "update-initramfs in the root" in_chroot "$root" update-initramfs -u -k all
	fi
	unmount_all
	rm -f "$root/usr/sbin/policy-rc.d"

	KVER=$(newest_in "$root/boot" 'vmlinuz-*')
	KVER=${KVER#vmlinuz-}
	[ -n "$KVER" ] || die "debootstrap: no kernel in /boot"
	cp "$root/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
	cp "$(in_root "$root" "/boot/initrd.img-$KVER")" "$WORK/initrd.img" || die "debootstrap: no initrd.img-$KVER"
	KERNEL=$WORK/vmlinuz INITRD=$WORK/initrd.img
	root_packages "$root"
	EXTRA_JSON="\"mirror\": $(json_str "$mirror"), \"kernel_flavor\": $(json_str "$FLAVOR"), \"initramfs\": $(json_str "$INITRAMFS")"
	SUITE=$suite
	ROOTDIR=$root
}
