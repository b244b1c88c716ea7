#!/usr/bin/env bash
# Every shell script in the repository passes shellcheck at warning level.
. "$(dirname "$0")/../lib.sh"
requires shellcheck
cd "$FB_TOP" || exit 1
mapfile -t files < <(git ls-files '*.sh' .ci/run image-builder/fleetboot-image \
	initramfs 2>/dev/null | while read -r f; do
	[ -f "$f" ] && head -c 100 "$f" | grep -qE '^#!.*(ba|da)?sh|shellcheck shell=' && echo "$f"
done | sort -u)
[ ${#files[@]} -gt 0 ] || fail "no shell scripts found"
shellcheck -x -S warning "${files[@]}" || fail "shellcheck found problems"
echo "${#files[@]} scripts clean"
