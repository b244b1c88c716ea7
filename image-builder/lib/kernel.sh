# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# kernel.sh - the Debian kernel used by images built without their own:
# the package behind linux-image-FLAVOR (cloud-amd64 or amd64), fetched
# with `apt-get download` from the host's own apt sources, unpacked with
# `dpkg -x` into CACHE/kernels/PACKAGE_VERSION (never installed on the
# host), modules indexed with `depmod -b`. Kept across builds: the busybox
# image takes seconds once the kernel is cached.
#
# kernel_fetch FLAVOR sets KROOT (the unpacked tree), KVER (uname -r of
# the kernel), KPKG and KPKGVER.

kernel_fetch() {
	local flavor=$1 meta pkg ver dir deb
	case $flavor in
	cloud-amd64 | amd64) ;;
	*) die "--kernel-flavor: '$flavor' is not cloud-amd64 or amd64" ;;
	esac
	meta=linux-image-$flavor
	mkdir -p "$CACHE/kernels"
	# One build at a time fetches (parallel tests share the cache).
	exec {lockfd}>"$CACHE/kernels/.lock"
	flock "$lockfd"
	pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	if [ -n "$pkg" ]; then
		ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
	fi
	if [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		# No apt metadata (offline): the newest cached kernel of this flavor.
		dir=$(find "$CACHE/kernels" -maxdepth 1 -name "linux-image-*-${flavor}_*" -type d 2>/dev/null | sort -V | tail -n 1)
		[ -n "$dir" ] || die "cannot find the package behind $meta (apt-get update, or check the apt sources)"
		step "apt knows no $meta; using cached ${dir##*/}"
	else
		dir=$CACHE/kernels/${pkg}_$ver
	fi
	if [ ! -f "$dir/.fleetboot-ok" ]; then
		step "fetching kernel $pkg $ver (apt-get download)"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp/deb"
		(cd "$dir.tmp/deb" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver") >>"$BUILD_LOG" 2>&1 ||
			{ tail -n 5 "$BUILD_LOG" >&2; rm -rf "$dir.tmp"; die "apt-get download $pkg=$ver failed"; }
		deb=$(find "$dir.tmp/deb" -name '*.deb' | head -n 1)
		dpkg -x "$deb" "$dir.tmp/root" || { rm -rf "$dir.tmp"; die "dpkg -x $deb failed"; }
		rm -rf "$dir.tmp/deb"
		mv "$dir.tmp/root" "$dir"
		rmdir "$dir.tmp"
		local kv
		kv=$(find "$dir/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -n 1)
		[ -n "$kv" ] || { rm -rf "$dir"; die "$pkg has no /lib/modules"; }
		depmod -b "$dir" "$kv" || { rm -rf "$dir"; die "depmod failed for $kv"; }
		echo "$pkg $ver $kv" >"$dir/.fleetboot-ok"
	fi
	flock -u "$lockfd"
	exec {lockfd}>&-
	read -r KPKG KPKGVER KVER <"$dir/.fleetboot-ok"
	KROOT=$dir
	[ -f "$KROOT/boot/vmlinuz-$KVER" ] || die "cached kernel $KROOT has no vmlinuz-$KVER"
	debug "kernel $KVER from $KROOT"
}

# kernel_copy_modules DESTROOT MODULE...: the modules (with dependencies)
# into DESTROOT/lib/modules/KVER, indexed.
kernel_copy_modules() {
	local dest=$1 ko rel
	shift
	for m in "$@"; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null || :
	done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
		rel=${ko#"$KROOT"}
		mkdir -p "$dest$(dirname "$rel")"
		cp "$ko" "$dest$rel"
	done
	cp "$KROOT/lib/modules/$KVER"/modules.order "$KROOT/lib/modules/$KVER"/modules.builtin* \
		"$dest/lib/modules/$KVER/" 2>/dev/null || :
	depmod -b "$dest" "$KVER"
}
