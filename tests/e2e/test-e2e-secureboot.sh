#!/usr/bin/env bash
# End to end, verified boot (issue 16), with OVMF's Secure Boot firmware
# whose db trusts Debian's snakeoil key (imported as the site key):
# 1. a Secure Boot client set to --secure-boot on gets its image version's
#    signed UKI as the boot file straight from the firmware's PXE (TFTP),
#    and runs it: the kernel starts with the signed command line (the
#    version's dm-verity root hash on it), and its initramfs (the client
#    side of issue 16: parameters from /boot/MAC/params, dm-verity over
#    the NBD root) brings it to userspace over the verified root, readonly.
# 2. the same UKI changed by one byte on the server: the firmware refuses
#    it (Access Denied on the console) and no kernel starts.
# 3. no unsigned loader (iPXE) ever reaches the Secure Boot client: its
#    recorded TFTP fetches are boot.efi only, no iPXE script was asked for.
# 4. a machine with Secure Boot off boots exactly as before (OVMF PXE ->
#    ipxe.efi -> script -> NBD root -> userspace).
# 5. the Secure Boot client switched to iSCSI boots the same signed UKI to
#    userspace: its initramfs logs in with iscsistart and mutual CHAP (the
#    target proves the server secret; storaged refuses a Secure Boot
#    machine's one-way login), dm-verity over the iSCSI disk. storaged's
#    log shows the session mutual; the console shows the verified root.
# timeout: 1080
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
lab_requires_secure_boot
requires sbverify objcopy objdump
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "no OVMF (make deps installs ovmf)"
SNAKE=/usr/share/ovmf/PkKek-1-snakeoil
lab_server tap0 tap1
lab_image tiny "console=ttyS0 fleetboot.test=poweroff"
lab_snakeoil_site_key
dir=$(fb image show tiny --json | jq -r .dir)
rh=$(fb image show tiny --json | jq -r .verity_root_hash)
efi=$dir/boot.efi
sbverify --cert $SNAKE.pem "$efi" >/dev/null 2>&1 || fail "tiny's boot.efi is not signed with the snakeoil key"
SB=52:54:00:e2:5b:01
OFF=52:54:00:e2:5b:02
fb machine add $SB --image tiny --mode readonly --secure-boot on >/dev/null || fail "machine add $SB"
fb machine add $OFF --image tiny --mode persistent >/dev/null || fail "machine add $OFF"
lab_up "$CONF" "$LAB_DIR/up.log"

# 1. The signed UKI runs under Secure Boot.
t0=$SECONDS
log=$LAB_DIR/sb.serial
lab_qemu sb $SB tap0 "$log" uefi-sb
# (The firmware giving up - "No bootable option" - ends the wait early.)
lab_wait_serial "$log" "Linux version\|No bootable option or device" 300
grep -aq "Linux version" "$log" ||
	fail "the Secure Boot client started no kernel: $(grep -a "BdsDxe\|Access Denied" "$log" | tail -n 5)"
echo "Secure Boot client: kernel started after $((SECONDS - t0)) s"
lab_wait_serial "$log" "Command line: .*fleetboot.verity=$rh" 30 ||
	fail "the kernel did not get the signed command line with fleetboot.verity=$rh: $(grep -a 'Command line' "$log")"
grep -a "Secure boot enabled\|secureboot: Secure boot enabled" "$log" | head -n 1
grep -aq "Secure boot enabled" "$log" || fail "the kernel does not see Secure Boot enabled"
lab_wait_verified_userspace sb "$log" "$rh" "the Secure Boot client"
echo "Secure Boot client: userspace over the verified root after $((SECONDS - t0)) s"
lab_stop_qemu sb

# 3. No unsigned loader reached it: boot.efi was its only TFTP fetch.
sleep 2
tftp=$(fb events --machine $SB --stage tftp)
echo "$tftp"
echo "$tftp" | grep -q "file=images/tiny/1/boot.efi" || fail "no TFTP of the UKI recorded"
echo "$tftp" | grep -q "ipxe\|snponly\|undionly\|kpxe" && fail "an iPXE binary went to the Secure Boot client"
fb events --machine $SB | grep -q "ipxe-script" && fail "the Secure Boot client got an iPXE script"
EVIDENCE=$(fb machine show $SB --json | jq -c .verified_boot) # verified-boot evidence: checked at the end

# 5. The same client over iSCSI: mutual CHAP, dm-verity over the LUN.
fb machine set $SB --protocol iscsi >/dev/null || fail "machine set $SB --protocol iscsi"
t0=$SECONDS
log5=$LAB_DIR/sb-iscsi.serial
lab_qemu sbiscsi $SB tap0 "$log5" uefi-sb
pid=$(cat "$LAB_DIR/sbiscsi.pid")
# A refused login ends the initramfs early (its error on the console).
wait_for 300 sh -c "! kill -0 $pid 2>/dev/null || grep -aq FLEETBOOT-BOOT-FAILED '$log5'" ||
	fail "the Secure Boot client over iSCSI did not power off: $(grep -a "^fleetboot: \|FLEETBOOT" "$log5" | tail -n 5)"
sbid=${SB//:/-}
refusal=$(grep -a "refused: secure boot machine $sbid" "$LAB_DIR/up.log" | tail -n 1)
grep -aq "FLEETBOOT-USERSPACE-OK" "$log5" ||
	fail "the Secure Boot client never reached userspace over iSCSI: $(grep -a "^fleetboot: \|FLEETBOOT" "$log5" | tail -n 5) ${refusal:+(storaged: $refusal)}"
grep -a "^fleetboot: dm-verity: root hash" "$log5" | head -n 1
grep -aq "^fleetboot: dm-verity: root hash ${rh:0:16}" "$log5" ||
	fail "its iSCSI root was not under dm-verity: $(grep -a "^fleetboot: " "$log5" | tail -n 5)"
grep -a "session: .* as machine $sbid, " "$LAB_DIR/up.log" | tail -n 1
grep -aq "normal session: .* as machine $sbid, mutual CHAP" "$LAB_DIR/up.log" ||
	fail "storaged logged no mutual CHAP session for $SB: $(grep -a "$sbid" "$LAB_DIR/up.log" | tail -n 3)"
grep -aq "as machine $sbid, one-way CHAP" "$LAB_DIR/up.log" && fail "a one-way CHAP session of $SB was let in"
[ -z "$refusal" ] || fail "storaged refused a login of $SB: $refusal"
echo "Secure Boot client: userspace over verified iSCSI (mutual CHAP) after $((SECONDS - t0)) s"
lab_stop_qemu sbiscsi
fb machine set $SB --protocol nbd >/dev/null || fail "machine set $SB --protocol nbd"

# 2. One byte of the UKI changed on the server: refused by the firmware.
cp "$efi" "$LAB_DIR/good.efi"
off=$((0x$(objdump -h "$efi" | awk '$2 == ".linux" {print $6}') + 4096))
b=$(od -An -tu1 -j $off -N1 "$efi" | tr -d ' ')
printf '%b' "\\0$(printf %o $((255 - b)))" | dd of="$efi" bs=1 seek=$off conv=notrunc status=none
cmp -s "$efi" "$LAB_DIR/good.efi" && fail "the UKI was not changed"
log2=$LAB_DIR/sb-bad.serial
lab_qemu sbbad $SB tap0 "$log2" uefi-sb
lab_wait_serial "$log2" "Access Denied\|Security Violation\|Linux version" 300
grep -aq "Access Denied\|Security Violation" "$log2" ||
	fail "the firmware did not refuse the changed UKI: $(tail -c 2000 "$log2")"
grep -a "Access Denied\|Security Violation" "$log2" | head -n 2
grep -aq "Linux version" "$log2" && fail "a kernel started from the changed UKI"
lab_stop_qemu sbbad
cp "$LAB_DIR/good.efi" "$efi"

# 4. Secure Boot off: as before.
log3=$LAB_DIR/off.serial
lab_boot off $OFF tap1 "$log3" uefi 400
lab_assert_events "$CONF" $OFF 'dhcp .*tftp .*ipxe-script .*kernel .*initrd .*root-attached .*userspace'
fb events --machine $OFF --stage tftp | grep -q 'ipxe.efi\|snponly.efi' || fail "no TFTP of an EFI iPXE for $OFF"
echo "verified boot end to end passed"

# ---- Verified-boot evidence (issue 16, db/evidence.c) ---------------------
# After the good boot (captured above): verified, with the image's hashes.
echo "evidence after the Secure Boot boot: $EVIDENCE"
img=$(fb image show tiny --json)
for k in rootfs_sha256:sha256 verity_root_hash:verity_root_hash uki_sha256:uki_sha256; do
	assert_eq "$(jq -r ".${k%%:*}" <<<"$EVIDENCE")" "$(jq -r ".${k##*:}" <<<"$img")" "evidence ${k%%:*}"
done
assert_eq "$(jq -r '.state + " " + .image' <<<"$EVIDENCE")" "verified tiny@1" "evidence state and image"
# After the changed UKI's boot (the firmware refused it): not verified.
st=$(fb machine show $SB --json | jq -r .verified_boot.state)
[ "$st" != verified ] || fail "the boot of the changed UKI counts as verified"
echo "evidence after the changed UKI: $st; verified-boot evidence passed"
