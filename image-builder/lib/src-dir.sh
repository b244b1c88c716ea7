# shellcheck shell=bash
# shellcheck disable=SC2034 # globals shared by the builder's parts
# src-dir.sh - `dir:PATH` and `tar:FILE`: a prepared root (for example a
# `docker export` or an OCI root file system tarball). mke2fs reads a
# folder as it is; a tarball is unpacked into the scratch folder first.

src_dir() {
	local path=$1
	[ -n "$path" ] || usage_die "--from dir:PATH needs a PATH"
	[ -d "$path" ] || die "dir:$path: not a folder"
	{ [ -r "$path" ] && [ -x "$path" ]; } || die "dir:$path: cannot read it"
	[ -e "$path/etc" ] || [ -e "$path/bin" ] || [ -e "$path/usr" ] ||
		die "dir:$path: does not look like a root file system (no /etc, /bin or /usr)"
	ROOTDIR=$(readlink -f "$path")
	root_packages "$ROOTDIR"
	kernel_for_root "$ROOTDIR"
}

src_tar() {
	local file=$1
	[ -n "$file" ] || usage_die "--from tar:FILE needs a FILE"
	[ -f "$file" ] || die "tar:$file: no such file"
	[ -r "$file" ] || die "tar:$file: cannot read it (permission denied)"
	local root=$WORK/root
	mkdir -p "$root"
	step "unpacking $file"
	# tar detects gzip, xz, zstd and bzip2 by itself; numeric ids keep the
	# tarball's owners whatever this host's user names are.
	if ! tar -x -f "$file" -C "$root" --numeric-owner --xattrs --xattrs-include='*' \
		--exclude='./dev/*' --exclude='dev/*' >>"$BUILD_LOG" 2>&1; then
		tail -n 3 "$BUILD_LOG" | sed 's/^/    /' >&2
		die "tar:$file: not a readable tarball"
	fi
	[ -e "$root/etc" ] || [ -e "$root/bin" ] || [ -e "$root/usr" ] ||
		die "tar:$file: does not hold a root file system (no /etc, /bin or /usr at its top)"
	chmod 755 "$root"
	ROOTDIR=$root
	root_packages "$ROOTDIR"
	kernel_for_root "$ROOTDIR"
}

# root_packages ROOT: PACKAGES_JSON from the root's dpkg database (read on
# the host with --admindir: nothing runs inside the root), SUITE from its
# os-release.
root_packages() {
	local r=$1
	PACKAGES_JSON='[]'
	if [ -d "$r/var/lib/dpkg" ] && [ -f "$r/var/lib/dpkg/status" ]; then
		PACKAGES_JSON=$(dpkg-query --admindir="$r/var/lib/dpkg" -W \
			-f='${db:Status-Abbrev}\t${Package}\t${Version}\n' 2>/dev/null |
			awk -F'\t' '$1 ~ /^ii/ { printf "%s{\"name\": \"%s\", \"version\": \"%s\"}", sep, $2, $3; sep = ", " }
				BEGIN { printf "[" } END { printf "]" }')
	fi
	os_release_suite "$r"
	EXTRA_JSON=''
}

# in_root ROOT PATH: PATH resolved inside ROOT, following symlinks the way
# the booted system would (an absolute link target is inside ROOT, never
# on the host). Prints the host path.
in_root() {
	local root=$1 p=$1$2 t n=0
	while [ -L "$p" ] && [ $n -lt 20 ]; do
		t=$(readlink "$p")
		case $t in
		/*) p=$root$t ;;
		*) p=$(dirname "$p")/$t ;;
		esac
		n=$((n + 1))
	done
	printf '%s' "$p"
}

# os_release_suite ROOT: SUITE as ID:VERSION_CODENAME (debian:bookworm).
os_release_suite() {
	local osr id code
	SUITE=''
	osr=$(in_root "$1" /etc/os-release)
	[ -r "$osr" ] || osr=$(in_root "$1" /usr/lib/os-release)
	[ -r "$osr" ] || return 0
	# Parsed, never sourced: the root is not trusted to run on the host.
	id=$(sed -n 's/^ID="\{0,1\}\([A-Za-z0-9._-]*\)"\{0,1\}$/\1/p' "$osr" | head -n 1)
	code=$(sed -n 's/^VERSION_CODENAME="\{0,1\}\([A-Za-z0-9._-]*\)"\{0,1\}$/\1/p' "$osr" | head -n 1)
	SUITE=$id${code:+:$code}
}
