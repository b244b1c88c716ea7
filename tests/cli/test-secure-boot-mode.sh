#!/usr/bin/env bash
# A Secure Boot machine runs a verified (dm-verity) root, on which only
# readonly mode works (issue 16): `machine add/set` refuses --secure-boot on
# with any other mode, with the reason, and changes nothing; readonly is
# taken, and a Secure Boot machine cannot be switched to another mode.
. "$(dirname "$0")/../lib.sh"
requires mke2fs cpio sqlite3
T=$(tmpdir_new)
export FLEETBOOT_CONF
FLEETBOOT_CONF=$(fixture_state "$T")
fixture_image "$T"
fb init >/dev/null || fail "init"
fb image import tiny --rootfs "$T/root.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	>/dev/null || fail "import"
M=52:54:00:12:34:70
for mode in persistent ephemeral install; do
	out=$(fb machine add $M --image tiny --mode $mode --secure-boot on 2>&1) &&
		fail "added a Secure Boot machine in $mode mode"
	echo "$out" | grep -q "only --mode readonly can run on; mode $mode" || fail "reason: $out"
done
echo "   $out"
fb machine show $M >/dev/null 2>&1 && fail "a refused add left a machine"
out=$(fb machine add $M --image tiny --secure-boot on 2>&1) && fail "default (persistent) mode taken"
fb machine add $M --image tiny --mode readonly --secure-boot on >/dev/null || fail "readonly refused"
out=$(fb machine set $M --mode persistent 2>&1) && fail "switched a Secure Boot machine to persistent"
fb machine show $M | grep -q "^mode: *readonly" || fail "a refused set changed the mode"
fb machine set $M --secure-boot off --mode persistent >/dev/null || fail "off + persistent refused"
out=$(fb machine set $M --secure-boot on 2>&1) && fail "Secure Boot on a persistent machine"
echo ok
