#!/usr/bin/env bash
# End to end: whole-disk SAN boot (issue 15). The test builds a small
# bootable disk of its own (MBR, one partition, extlinux, the cached test
# kernel and a tiny busybox initramfs) and imports it with
# `image import --disk`. A BIOS client (QEMU's iPXE ROM) gets a sanboot
# script and boots the disk over iSCSI through iPXE's INT 13; the disk's own
# Linux then logs in to the same target with its own initiator from the
# iBFT iPXE left (`iscsistart -b`, CHAP from the iBFT), as a Windows or Linux
# SAN boot does, reads a marker sector and writes it.
#   1. persistent: boot 1 finds no marker and writes it.
#   2. the server side: the machine's disk, copied through its own target
#      from its own address, holds the marker; the script (it carries the
#      boot's credential) is refused a second time in one boot; another
#      machine's address, another machine's credential and an earlier
#      boot's credential are refused at login.
#   3. persistent: boot 2 finds boot 1's marker.
#   4. ephemeral: the next boot finds no marker.
# Also: bad --disk input is refused with one line and nothing stored;
# readonly with a disk image is refused.
# timeout: 480
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires curl sfdisk mke2fs extlinux busybox iscsistart qemu-img iscsi-inq modprobe cpio unshare
[ -r /usr/lib/EXTLINUX/mbr.bin ] || skip "no /usr/lib/EXTLINUX/mbr.bin (Debian package extlinux)"
lab_new
# A bridge takes the lowest MAC of its ports unless it has its own: the
# second stand-in peer below would otherwise change the server's MAC under
# the first one's ARP cache, and its next connection would go nowhere.
ip -n "$LAB_NS" link set br0 address 02:66:00:00:00:01
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
STATE=$LAB_DIR/srv/state
W=$LAB_DIR/disk
mkdir -p "$W"
# The marker lives in the disk's last MiB, outside the partition.
DISK_MB=60
MARK_SECTOR=$(((DISK_MB - 1) * 2048))
MARK="fleetboot-sanboot-mark-$$"

# ---- the guest: a kernel, an initramfs that SAN-boots from the iBFT ------
read -r KROOT KVER < <("$FB_BIN/fleetboot-image" kernel 2>"$W/kernel.log") ||
	fail "no test kernel: $(tail -n 5 "$W/kernel.log")"
[ -f "$KROOT/boot/vmlinuz-$KVER" ] || fail "no kernel in $KROOT"
I=$W/initramfs
mkdir -p "$I"/{bin,sbin,dev,proc,sys,etc,lib/modules/"$KVER"}
cp "$(command -v busybox)" "$I/bin/busybox"
for a in sh mount ip cat cut dd sync poweroff sleep insmod ls head tr od grep mknod; do
	ln -s busybox "$I/bin/$a"
done
cp -L "$(command -v iscsistart)" "$I/sbin/iscsistart"
for lib in $(ldd "$(command -v iscsistart)" | grep -o '/[^ ]*'); do
	mkdir -p "$I$(dirname "$lib")"
	cp -L "$lib" "$I$lib"
done
# Modules in load order (dependencies first).
for m in virtio_pci virtio_net sd_mod iscsi_tcp iscsi_ibft; do
	modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null
done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$W/mods"
[ -s "$W/mods" ] || fail "no modules found in $KROOT for $KVER"
while read -r ko; do
	cp "$ko" "$I/lib/modules/$KVER/"
	echo "/lib/modules/$KVER/$(basename "$ko")" >>"$I/etc/modules"
done <"$W/mods"
grep -q iscsi_ibft "$I/etc/modules" || fail "the test kernel has no iscsi_ibft module"
cat >"$I/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "SANBOOT-TEST booted from the disk"
while read -r ko; do insmod "\$ko" 2>/dev/null; done </etc/modules
t=/sys/firmware/ibft
[ -d \$t/target0 ] || { echo "SANBOOT-TEST no iBFT"; poweroff -f; }
mac=\$(cat \$t/ethernet0/mac)
for n in /sys/class/net/*; do
	[ "\$(cat \$n/address)" = "\$mac" ] && dev=\${n##*/}
done
ip link set "\$dev" up
ip addr add "\$(cat \$t/ethernet0/ip-addr)/\$(cat \$t/ethernet0/prefix-len 2>/dev/null || echo 24)" dev "\$dev"
# For the record (README): who may read the iBFT's CHAP secret.
echo "SANBOOT-TEST iBFT chap-secret \$(ls -l \$t/target0/chap-secret | cut -c1-10)"
echo "SANBOOT-TEST iBFT target \$(cat \$t/target0/target-name) lun \$(cat \$t/target0/lun) chap-user \$(cat \$t/target0/chap-name)"
iscsistart -b >/tmp.log 2>&1 || { echo "SANBOOT-TEST iscsistart failed"; cat /tmp.log; poweroff -f; }
i=0
while [ ! -b /dev/sda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
[ -b /dev/sda ] || { echo "SANBOOT-TEST no /dev/sda after the iBFT login"; poweroff -f; }
before=\$(dd if=/dev/sda bs=512 skip=$MARK_SECTOR count=1 2>/dev/null | tr -d '\000' | head -n 1)
echo "SANBOOT-TEST before=[\$before]"
echo "$MARK" | dd of=/dev/sda bs=512 seek=$MARK_SECTOR count=1 conv=sync,fsync 2>/dev/null &&
	echo "SANBOOT-TEST wrote the marker"
sync
echo "SANBOOT-TEST done"
poweroff -f
EOF
chmod 755 "$I/init"
(cd "$I" && find . | cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$W/initrd.img"

# ---- the disk: MBR, one active Linux partition, extlinux ------------------
DISK=$W/sandisk.raw
truncate -s ${DISK_MB}M "$DISK"
printf 'label: dos\nstart=2048, size=%d, type=83, bootable\n' $(((DISK_MB - 16) * 2048)) |
	sfdisk -q "$DISK" || fail "sfdisk"
dd if=/usr/lib/EXTLINUX/mbr.bin of="$DISK" bs=440 count=1 conv=notrunc 2>/dev/null || fail "mbr"
P=$W/part.img
mkdir -p "$W/root/boot/extlinux"
cp "$KROOT/boot/vmlinuz-$KVER" "$W/root/vmlinuz"
cp "$W/initrd.img" "$W/root/initrd.img"
printf 'SERIAL 0 115200\nDEFAULT sanboot\nPROMPT 0\nTIMEOUT 0\nLABEL sanboot\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND console=ttyS0 panic=-1\n' \
	>"$W/root/boot/extlinux/extlinux.conf"
mke2fs -q -t ext2 -d "$W/root" "$P" $(((DISK_MB - 16) * 1024))k || fail "mke2fs"
# extlinux installs into a mounted file system only: a loop mount in a
# mount namespace of its own, gone when the command ends.
unshare -m sh -c "mkdir -p '$W/mnt' && mount -o loop '$P' '$W/mnt' &&
	extlinux --install '$W/mnt/boot/extlinux' && umount '$W/mnt'" >"$W/extlinux.log" 2>&1 ||
	fail "extlinux --install: $(cat "$W/extlinux.log")"
dd if="$P" of="$DISK" bs=1M seek=1 conv=notrunc,sparse 2>/dev/null || fail "copy the partition in"
rm -f "$P"

# ---- import: bad input first, nothing stored -----------------------------
bad() { # WHAT PATTERN ARGS...: fb fails with one line matching PATTERN
	local what=$1 pat=$2 out n
	shift 2
	if out=$(fb image import "$@" 2>&1); then fail "$what: accepted: $out"; fi
	n=$(printf '%s\n' "$out" | wc -l)
	[ "$n" = 1 ] || fail "$what: not one line: $out"
	printf '%s\n' "$out" | grep -q -- "$pat" || fail "$what: unclear: $out"
	echo "refused ($what): $out"
}
bad "missing file" "No such file" sd --disk "$W/nope.raw"
head -c 4M /dev/zero >"$W/zero.raw"
bad "not a disk" "no MBR boot signature" sd --disk "$W/zero.raw"
head -c 64K "$DISK" >"$W/small.raw"
bad "too small" "too small" sd --disk "$W/small.raw"
# A protective MBR (type EE) with no GPT header behind it.
cp "$DISK" "$W/gpt.raw"
printf '\xee' | dd of="$W/gpt.raw" bs=1 seek=450 conv=notrunc 2>/dev/null
bad "GPT without its header" "no GPT header" sd --disk "$W/gpt.raw"
mke2fs -q -t ext2 "$W/fs.img" 4M || fail "mke2fs fs.img"
fb image import rootimg --rootfs "$W/fs.img" --kernel "$KROOT/boot/vmlinuz-$KVER" --initrd "$W/initrd.img" \
	>/dev/null || fail "import of a rootfs image"
bad "name exists as a rootfs image" "already exists as a rootfs image" rootimg --disk "$DISK"
fb image list sd --json | grep -q '"name"' && fail "a refused import stored something"
assert_eq "$(fb image list rootimg --json | grep -c '"version"')" 1 "versions of rootimg after a refused --disk import"
for v in "$STATE"/images/sd/[0-9]*; do
	[ -e "$v" ] && fail "a refused import left a version folder: $v"
done

fb image import sd --disk "$DISK" 2>/dev/null || fail "image import --disk"
show=$(fb image show sd) || fail "image show"
echo "$show" | grep -q '^kind: *disk' || fail "image show does not say kind: disk: $show"
fb image show sd --json | grep -q '"kind": "disk"' || fail "image show --json: no kind disk"
fb image verify sd >/dev/null 2>&1 || fail "image verify of a disk image"

MAC=52:54:00:e2:e0:15
IP=10.66.0.55
id=$(echo $MAC | tr : -)
out=$(fb machine add $MAC --image sd --mode readonly --ip $IP 2>&1) && fail "readonly with a disk image accepted"
echo "$out" | grep -q "whole-disk image" || fail "readonly refusal unclear: $out"
echo "refused (readonly): $out"
fb machine add $MAC --image sd --mode persistent --ip $IP >/dev/null || fail "machine add"
out=$(fb machine set $MAC --mode readonly 2>&1) && fail "set readonly with a disk image accepted"
echo "$out" | grep -q "whole-disk image" || fail "readonly refusal (set) unclear: $out"
OTHER=52:54:00:e2:e0:16
OTHER_IP=10.66.0.56
fb machine add $OTHER --image sd --mode persistent --ip $OTHER_IP >/dev/null || fail "machine add other"
lab_up "$CONF" "$LAB_DIR/up.log"
cleanup "mkdir -p '$FB_ARTIFACTS/logs' && cp '$LAB_DIR/up.log' '$FB_ARTIFACTS/logs/sanboot-up.log'"

boot() { # N: boot once, wait for power-off; print the serial log path
	local log="$LAB_DIR/boot$1.serial"
	lab_qemu "c$1" $MAC tap0 "$log" bios
	local pid
	pid=$(cat "$LAB_DIR/c$1.pid")
	wait_for 150 sh -c "! kill -0 $pid 2>/dev/null" ||
		fail "boot $1 did not power off in 150 s: $(tail -c 3000 "$log")"
	grep -aq 'SANBOOT-TEST done' "$log" || fail "boot $1 did not finish: $(tail -c 3000 "$log")"
	echo "$log"
}
lines() { grep -ao 'SANBOOT-TEST .*' "$1" | tr -d '\r'; }

t0=$SECONDS
log=$(boot 1) || exit 1
echo "boot 1 (persistent): $((SECONDS - t0)) s to power-off"
lines "$log"
grep -aq "SANBOOT-TEST iBFT target iqn.2026-11.org.fleetboot:$id lun 0* chap-user $id" "$log" ||
	fail "the iBFT does not name the machine's target and CHAP user"
lines "$log" | grep -qx 'SANBOOT-TEST before=\[\]' || fail "boot 1: a marker before any write"
grep -aq 'SANBOOT-TEST wrote the marker' "$log" || fail "boot 1: the write failed"
lab_assert_events "$CONF" $MAC 'dhcp .*credential .*ipxe-script .*iscsi-login .*iscsi-login'
fb events --machine $MAC --stage ipxe-script | grep -q 'sanboot' || fail "no sanboot script event"
stages=$(lab_events "$CONF" $MAC)
echo "$stages" | grep -q takeover-suspected && fail "a takeover was suspected in a plain boot"

# ---- server side: the disk through the machine's own target --------------
cred=$("$FB_BIN/../tests/storaged/sd-dbtool" "$STATE" credential "$id") || fail "no credential for $id"
peer=$(lab_peer c1 "$MAC" $IP)
url="iscsi://$id%$cred@$LAB_SERVER/iqn.2026-11.org.fleetboot:$id/0"
ip netns exec "$peer" timeout 60 qemu-img convert -f raw -O raw "$url" "$LAB_DIR/copy.raw" ||
	fail "cannot copy the machine's disk over iSCSI: $(tail -n 5 "$LAB_DIR/up.log")"
got=$(dd if="$LAB_DIR/copy.raw" bs=512 skip=$MARK_SECTOR count=1 2>/dev/null | tr -d '\000' | head -n 1)
assert_eq "$got" "$MARK" "the marker in the machine's disk on the server"
cmp -n 1048576 "$LAB_DIR/copy.raw" "$DISK" || fail "the disk's MBR and boot loader area changed"
rm -f "$LAB_DIR/copy.raw"
echo "server: the machine's disk holds the marker"

# The script, with this boot's credential in it, went out once: asking
# again in the same boot, even from the machine's own address and MAC, is
# refused and recorded; and the credential is in no log of the server.
ip netns exec "$peer" curl -s -o "$LAB_DIR/again.txt" -w '%{http_code}' \
	"http://$LAB_SERVER:8067/boot/$id.ipxe" >"$LAB_DIR/again.code" || fail "curl the script again"
assert_eq "$(cat "$LAB_DIR/again.code")" 403 "a second sanboot script in one boot"
grep -q "$cred" "$LAB_DIR/again.txt" && fail "the refused second script holds the credential"
wait_for 5 sh -c "'$FB_BIN/fleetboot' -c '$CONF' events --machine $MAC --stage takeover-suspected | grep -q 'second sanboot script'" ||
	fail "no takeover-suspected event for a second sanboot script"
grep -q "$cred" "$LAB_DIR/up.log" && fail "the boot's credential is in the server's log"

# Attacks: each refused at login, for its reason.
ocred=$(fb machine credential $OTHER) || fail "credential for the other machine"
opeer=$(lab_peer c2 "$OTHER" $OTHER_IP)
log=$LAB_DIR/up.log
lab_refused "$log" "iSCSI login refused for $id from $OTHER_IP: peer $OTHER_IP is not machine $id's" \
	"this machine's target from another machine's address" \
	ip netns exec "$opeer" timeout 20 iscsi-inq "$url"
lab_refused "$log" "from $IP:.*target iqn.2026-11.org.fleetboot:$id) refused: wrong CHAP secret" \
	"this machine's target with another machine's credential" \
	ip netns exec "$peer" timeout 20 iscsi-inq "iscsi://$id%$ocred@$LAB_SERVER/iqn.2026-11.org.fleetboot:$id/0"
oldcred=$cred
newcred=$(fb machine credential $MAC) || fail "a new credential"
[ "$newcred" != "$oldcred" ] || fail "the new boot's credential is the old one"
lab_refused "$log" "from $IP:.*target iqn.2026-11.org.fleetboot:$id) refused: wrong CHAP secret" \
	"this machine's target with an earlier boot's credential" \
	ip netns exec "$peer" timeout 20 iscsi-inq "$url"
ip netns del "$peer"
ip netns del "$opeer"

log=$(boot 2) || exit 1
lines "$log" | grep -qx "SANBOOT-TEST before=\[$MARK\]" ||
	fail "persistent: boot 2 did not find boot 1's marker: $(lines "$log")"
echo "persistent: boot 2 found boot 1's write"

# ---- ephemeral: the next boot starts from the image again ----------------
fb machine set $MAC --mode ephemeral >/dev/null || fail "set ephemeral"
log=$(boot 3) || exit 1
lines "$log" | grep -qx 'SANBOOT-TEST before=\[\]' ||
	fail "ephemeral: boot 3 found an earlier boot's marker: $(lines "$log")"
echo "ephemeral: boot 3 found no marker"
fb image verify sd >/dev/null 2>&1 || fail "the base disk image changed"
echo "sanboot passed"
