#!/usr/bin/env bash
# Import existing disks: a partitioned disk (a data partition, then the
# root) as disk:FILE in raw and qcow2 form, served by nbdkit as nbd://,
# and by tgt with CHAP as iscsi:// - the builder runs inside the network
# namespace and reads them with libnbd and libiscsi. Each imported root
# must equal the source partition byte for byte; a wrong CHAP secret and
# a missing export fail clearly with nothing registered.
# timeout: 400
# shellcheck source=tests/image/lib-image.sh
. "$(dirname "$0")/lib-image.sh"
requires jq sfdisk qemu-img nbdkit tgtd tgtadm

image_state_new
fbc image build src --from busybox >"$T/bb.log" 2>&1 || { cat "$T/bb.log"; fail "busybox build failed"; }
d=$(image_dir src 1)
src=$d/rootfs.img
sectors=$(($(stat -c %s "$src") / 512))

# disk.img: MBR; partition 1 an ext4 with no os-release (not a root),
# partition 2 the busybox root.
disk=$T/disk.img
truncate -s $(((2048 + 16384 + sectors + 2048) * 512)) "$disk"
printf 'start=2048, size=16384, type=83\nstart=18432, size=%d, type=83\n' "$sectors" |
	sfdisk -q "$disk" >/dev/null || fail "sfdisk failed"
truncate -s 8M "$T/data.img"
mke2fs -q -F -t ext4 "$T/data.img"
dd if="$T/data.img" of="$disk" bs=512 seek=2048 conv=notrunc,sparse status=none
dd if="$src" of="$disk" bs=512 seek=18432 conv=notrunc,sparse status=none
want=$(sha256sum <"$src")

same_root() { # NAME: imported rootfs equals the source partition
	assert_eq "$(sha256sum <"$(image_dir "$1" 1)/rootfs.img")" "$want" "$1: imported root differs from the source"
	check_manifest "$1" 1
	fbc image verify "$1" >/dev/null 2>&1 || fail "verify $1 failed"
	cmp -s "$d/vmlinuz" "$(image_dir "$1" 1)/vmlinuz" || fail "$1: kernel is not the one in the disk's /boot"
}

# disk: raw and qcow2
fbc image build fromraw --from "disk:$disk" >"$T/raw.log" 2>&1 || { cat "$T/raw.log"; fail "disk: raw failed"; }
same_root fromraw
qemu-img convert -O qcow2 "$disk" "$T/disk.qcow2"
fbc image build fromqcow --from "disk:$T/disk.qcow2" >"$T/qcow.log" 2>&1 || { cat "$T/qcow.log"; fail "disk: qcow2 failed"; }
same_root fromqcow
assert_eq "$(json_get "$(image_dir fromqcow 1)/manifest.json" .source_kind)" disk "disk manifest"
no_leftovers

ns=$(netns_new imp)
ip -n "$ns" addr add 10.78.0.1/32 dev lo

# nbd://
ip netns exec "$ns" nbdkit --pidfile="$T/nbd.pid" -i 10.78.0.1 -p 10809 -r -e disk file "$disk" ||
	fail "nbdkit did not start"
kill_at_exit "$T/nbd.pid"
wait_for 5 test -s "$T/nbd.pid" || fail "nbdkit has no pid file"
ip netns exec "$ns" env FLEETBOOT_CACHE="$FLEETBOOT_CACHE" "$FB_BIN/fleetboot" -c "$CONF" \
	image build fromnbd --from nbd://10.78.0.1:10809/disk >"$T/nbd.log" 2>&1 ||
	{ cat "$T/nbd.log"; fail "nbd:// import failed"; }
same_root fromnbd
assert_eq "$(json_get "$(image_dir fromnbd 1)/manifest.json" .source)" nbd://10.78.0.1:10809/disk "nbd manifest source"
grep -q "reading the disk" "$T/nbd.log" || fail "no progress shown while reading over NBD"

# iscsi:// with CHAP (tgt; LUN 1, LUN 0 is tgt's controller)
port=$((20000 + $$ % 10000))
ip netns exec "$ns" tgtd -f -C "$port" --iscsi portal=10.78.0.1:3260 >"$T/tgtd.log" 2>&1 &
echo $! >"$T/tgtd.pid"
kill_at_exit "$T/tgtd.pid"
tgt() { ip netns exec "$ns" tgtadm -C "$port" --lld iscsi "$@"; }
wait_for 10 tgt --op show --mode target || fail "tgtd did not start"
iqn=iqn.2026-11.org.fleetboot.test:disk
tgt --op new --mode target --tid 1 -T "$iqn"
tgt --op new --mode logicalunit --tid 1 --lun 1 -b "$disk"
tgt --op bind --mode target --tid 1 -I ALL
tgt --op new --mode account --user fbuser --password fbsecret-1234
tgt --op bind --mode account --tid 1 --user fbuser
ip netns exec "$ns" env FLEETBOOT_CACHE="$FLEETBOOT_CACHE" "$FB_BIN/fleetboot" -c "$CONF" \
	image build fromiscsi --from "iscsi://fbuser%fbsecret-1234@10.78.0.1:3260/$iqn/1" >"$T/iscsi.log" 2>&1 ||
	{ cat "$T/iscsi.log"; fail "iscsi:// import failed"; }
same_root fromiscsi
src_json=$(json_get "$(image_dir fromiscsi 1)/manifest.json" .source)
assert_eq "$src_json" "iscsi://fbuser%***@10.78.0.1:3260/$iqn/1" "iscsi manifest source (secret hidden)"
grep -rq fbsecret-1234 "$(image_dir fromiscsi 1)" && fail "the CHAP secret was stored in the image"

# Failures: nothing registered.
before=$(fbc image list --json | jq length)
ip netns exec "$ns" "$FB_BIN/fleetboot" -c "$CONF" image build bad \
	--from "iscsi://fbuser%wrong-secret@10.78.0.1:3260/$iqn/1" >/dev/null 2>"$T/bad1.err" && fail "wrong CHAP secret accepted"
grep -q "could not read iscsi://fbuser%\*\*\*@" "$T/bad1.err" || { cat "$T/bad1.err"; fail "no clear error for a wrong CHAP secret"; }
grep -q wrong-secret "$T/bad1.err" && fail "the secret was printed"
ip netns exec "$ns" "$FB_BIN/fleetboot" -c "$CONF" image build bad \
	--from nbd://10.78.0.1:10810/disk >/dev/null 2>"$T/bad2.err" && fail "a closed NBD port was accepted"
grep -q "could not read nbd://10.78.0.1:10810/disk" "$T/bad2.err" || { cat "$T/bad2.err"; fail "no clear error for a closed port"; }
assert_eq "$(fbc image list --json | jq length)" "$before" "failed imports registered something"
no_leftovers
echo "ok: disk (raw, qcow2), nbd:// and iscsi:// imports equal the source root"
