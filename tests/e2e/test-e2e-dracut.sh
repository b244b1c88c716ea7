#!/usr/bin/env bash
# End to end: a debootstrap:bookworm image whose initramfs Debian's dracut
# made with fleetboot's 90fleetboot module (fleetboot-image --initramfs
# dracut) boots twice through every daemon: over NBD from a BIOS client
# (QEMU's iPXE ROM) and over iSCSI from a UEFI client (OVMF's PXE, then
# ipxe.efi). Each reaches systemd's multi-user target, where
# fleetboot-userspace.service prints the marker and reports `userspace`,
# and fleetboot-test.service runs the leak scan as user nobody: neither
# boot's credential nor the machine's secret is readable on the running
# client. The debootstrap is the cached one the other Debian tests use.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires debootstrap cpio
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "OVMF is not installed (make deps installs ovmf)"
lab_server tap0 tap1
t0=$SECONDS
fb image build drac --from debootstrap:bookworm --initramfs dracut \
	--cmdline "console=ttyS0 fleetboot.test=leakscan" >"$LAB_DIR/build.log" 2>&1 ||
	fail "dracut image build: $(tail -n 30 "$LAB_DIR/build.log")"
echo "debootstrap:bookworm image with a dracut initramfs ready in $((SECONDS - t0)) s"
state=$(sed -n 's/^state_dir = //p' "$CONF")
img=$state/images/drac/1
grep -q '"initramfs": "dracut"' "$img/manifest.json" || fail "the manifest does not say dracut made the initramfs"
grep -q '"name": "initramfs-tools",' "$img/manifest.json" && fail "initramfs-tools is still in the image"
# The initrd is dracut's (its hooks, the fleetboot netroot handler), not
# initramfs-tools's.
case $(head -c 4 "$img/initrd.img" | od -An -tx1 | tr -d ' ') in
1f8b*) unpack=(zcat) ;;
28b52ffd) unpack=(zstd -dc) ;;
fd377a58) unpack=(xzcat) ;;
*) unpack=(cat) ;;
esac
"${unpack[@]}" <"$img/initrd.img" | cpio -t --quiet 2>/dev/null >"$LAB_DIR/initrd.list"
for f in 'usr/sbin/fleetbootroot' 'usr/lib/dracut/hooks/cmdline/90-fleetboot-parse.sh' \
	'usr/lib/fleetboot/fleetboot-lib.sh' 'usr/sbin/nbd-client' 'usr/sbin/iscsistart' 'usr/sbin/dhclient'; do
	grep -Eq "^(usr/)?${f#usr/}$" "$LAB_DIR/initrd.list" || fail "the dracut initrd lacks $f"
done
grep -q '^scripts/init-premount' "$LAB_DIR/initrd.list" && fail "the initrd is initramfs-tools's"

# boot NAME MAC TAP FW MODE ROOTDEV: boot one client until its leak scan has
# run, then check what it printed and what the server recorded.
boot() {
	local name=$1 mac=$2 tap=$3 fw=$4 mode=$5 dev=$6 log=$LAB_DIR/$1.serial t0=$SECONDS id
	id=$(echo "$mac" | tr : -)
	lab_qemu "$name" "$mac" "$tap" "$log" "$fw"
	# Done, or failed: fleetboot's rescue path, or dracut's emergency shell.
	wait_for 360 grep -aq -e 'FLEETBOOT-LEAKSCAN done' -e 'FLEETBOOT-BOOT-FAILED' -e 'rdsosreport' "$log" ||
		fail "$name: no leak scan in 360 s: $(tail -c 3000 "$log")"
	grep -aq -e 'FLEETBOOT-BOOT-FAILED' -e 'rdsosreport' "$log" &&
		fail "$name: the boot failed: $(grep -a -e 'FLEETBOOT-BOOT-FAILED' -e 'dracut' "$log" | tail -n 15)"
	echo "$name ($fw): leak scan done $((SECONDS - t0)) s after power-on"
	cp "$log" "$FB_ARTIFACTS/logs/e2e-dracut-$name.serial" 2>/dev/null
	grep -aq "fleetboot: root attached: $dev" "$log" || fail "$name: the dracut handler did not attach $dev"
	grep -aq "FLEETBOOT-USERSPACE-OK machine=$id mode=$mode" "$log" ||
		fail "$name: no userspace marker: $(grep -a FLEETBOOT "$log" | tail -n 5)"
	grep -aq 'FLEETBOOT-LEAKSCAN truncated' "$log" && fail "$name: the leak scan output was truncated"
	wait_for 30 sh -c "$FB_BIN/fleetboot events --machine $mac --stage userspace | grep -q userspace" ||
		fail "$name: the userspace stage was not reported"
	lab_assert_events "$CONF" "$mac" 'dhcp .*ipxe-script .*kernel .*initrd .*credential .*root-attached .*userspace'
	lab_assert_no_leak "$CONF" "$mac" "$log"
	lab_stop_qemu "$name"
}

NBD_MAC=52:54:00:e2:e0:11
ISCSI_MAC=52:54:00:e2:e0:12
fb machine add $NBD_MAC --image drac --mode ephemeral --protocol nbd >/dev/null || fail "machine add nbd"
fb machine add $ISCSI_MAC --image drac --mode persistent --protocol iscsi >/dev/null || fail "machine add iscsi"
lab_up "$CONF" "$LAB_DIR/up.log"
boot nbd $NBD_MAC tap0 bios ephemeral /dev/nbd0
boot iscsi $ISCSI_MAC tap1 uefi persistent /dev/sd
lab_assert_iscsi_password_hidden "$LAB_DIR/iscsi.serial"
echo "ok: the dracut initramfs booted Debian over NBD (BIOS) and iSCSI (UEFI)"
