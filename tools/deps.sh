#!/usr/bin/env bash
# Installs every Debian package fleetboot needs to build, run, test and
# benchmark. Idempotent: packages already present are left alone, and apt is
# only consulted when something is missing. Package sources come from the
# machine's own apt configuration; this script names no mirror.
set -euo pipefail

BUILD="gcc make pkg-config clang clang-format libclang-rt-14-dev
 libsqlite3-dev sqlite3 libnl-3-dev libnl-route-3-dev libmicrohttpd-dev
 libjansson-dev libssl-dev nbdkit-plugin-dev libiscsi-dev libnbd-dev libargon2-dev"
RUN="nbdkit ipxe busybox-static nbd-client open-iscsi e2fsprogs cpio kmod
 debootstrap zstd xz-utils fdisk dosfstools extlinux syslinux-common
 memtest86+ debian-installer-12-netboot-amd64 cryptsetup-bin sbsigntool
 systemd-boot-efi binutils openssl"
TEST="qemu-system-x86 qemu-utils qemu-block-extra ovmf libiscsi-bin
 libnbd-bin python3-libnbd fio kea-admin kea-dhcp4-server dnsmasq-base tgt
 tftp-hpa tftpd-hpa curl iproute2 bridge-utils procps psmisc chromium
 shellcheck nginx-light wrk tcpdump file jq bc iptables"
# The browser test needs node and npm; a machine that already has them (from
# any source) keeps its own, since Debian's npm conflicts with other builds.
command -v npm >/dev/null 2>&1 || TEST="$TEST nodejs npm"

want="$BUILD $RUN $TEST"
case "${1:-}" in
--list) echo $want; exit 0 ;;
esac

missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	# Keep package install scripts from starting services (kea, tgt,
	# nginx, tftpd-hpa) on the host: the tests start their own copies
	# inside network namespaces.
	policy=/usr/sbin/policy-rc.d
	made_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
	fi
	trap '[ $made_policy = 1 ] && rm -f "$policy"' EXIT
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The browser test drives Debian's chromium with playwright-core from npm.
if [ ! -d "$(dirname "$0")/../tests/web/node_modules/playwright-core" ] &&
	[ -f "$(dirname "$0")/../tests/web/package.json" ]; then
	(cd "$(dirname "$0")/../tests/web" && npm install --no-audit --no-fund -q)
fi
echo "deps: all $(echo $want | wc -w) packages present"
