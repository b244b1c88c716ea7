#!/usr/bin/env bash
# End to end, scenario 6: a debootstrap:bookworm image (Debian's own
# kernel and update-initramfs with fleetboot's initramfs-tools hook) boots
# over NBD through every daemon and reaches systemd's multi-user target,
# where fleetboot-userspace.service prints the marker and reports the
# userspace stage. The debootstrap is cached under $FB_ARTIFACTS, shared
# with tests/image, so a run builds it at most once.
# Then the same version boots verified (issue 16): the snakeoil key
# imported as the site key makes its signed UKI, and a Secure Boot OVMF
# client set to --mode readonly --secure-boot on runs it; Debian's
# initramfs (fleetboot's initramfs-tools hook: veritysetup, openssl, the
# dm-verity modules and the site CA pinned by the image builder) gets the
# machine's parameters from bootd, its credential over HTTPS, the root
# over NBD with TLS, puts dm-verity over it and systemd reaches
# multi-user.target on the verified root under the RAM overlay.
# timeout: 1500
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
lab_requires_secure_boot
requires debootstrap
lab_server tap0
t0=$SECONDS
fb image build deb --from debootstrap:bookworm --cmdline "console=ttyS0" \
	>"$LAB_DIR/build.log" 2>&1 || fail "debootstrap build: $(tail -n 30 "$LAB_DIR/build.log")"
echo "debootstrap:bookworm image ready in $((SECONDS - t0)) s"
MAC=52:54:00:e2:e0:06
fb machine add $MAC --image deb --mode ephemeral >/dev/null || fail "machine add"
lab_up "$CONF" "$LAB_DIR/up.log"
log=$LAB_DIR/deb.serial
t0=$SECONDS
lab_qemu deb $MAC tap0 "$log" bios
lab_wait_serial "$log" 'FLEETBOOT-USERSPACE-OK' 420 ||
	fail "no userspace marker in 420 s: $(tail -c 4000 "$log")"
echo "userspace marker after $((SECONDS - t0)) s"
# systemd itself says it reached multi-user.target: its status line on the
# console ("Reached target multi-user.target - Multi-User System.", in
# colour), which it prints only once every unit the target wants has
# started.
multi_user() {
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | grep -aEq 'Reached target (multi-user\.target|Multi-User System)'
}
wait_for 120 multi_user ||
	fail "systemd did not reach multi-user.target: $(grep -a 'Reached target\|Failed\|emergency' "$log" | tail -n 15)"
echo "Debian reached multi-user.target in $((SECONDS - t0)) s"
wait_for 30 sh -c "$FB_BIN/fleetboot events --machine $MAC --stage userspace | grep -q userspace" ||
	fail "the userspace stage was not reported"
lab_assert_events "$CONF" $MAC 'dhcp .*ipxe-script .*kernel .*initrd .*root-attached .*userspace'
lab_stop_qemu deb
echo "scenario 6 passed"

echo "== the same version, booted verified by a Secure Boot client"
lab_snakeoil_site_key
rh=$(fb image show deb --json | jq -r .verity_root_hash)
[ ${#rh} = 64 ] || fail "no root hash for deb: $(fb image show deb --json)"
SB=52:54:00:e2:e0:5b
fb machine add $SB --image deb --mode readonly --secure-boot on >/dev/null || fail "machine add $SB"
log=$LAB_DIR/deb-sb.serial
t0=$SECONDS
lab_qemu debsb $SB tap0 "$log" uefi-sb
lab_wait_serial "$log" 'FLEETBOOT-USERSPACE-OK\|FLEETBOOT-BOOT-FAILED\|No bootable option or device' 600 ||
	fail "the Secure Boot client reached neither userspace nor a failure in 600 s: $(tail -c 3000 "$log")"
grep -a "FLEETBOOT-BOOT-FAILED" "$log" | head -n 1
grep -aq 'FLEETBOOT-USERSPACE-OK' "$log" ||
	fail "the verified Debian boot did not reach userspace: $(grep -a 'fleetboot: \|FLEETBOOT\|BdsDxe\|Access Denied' "$log" | tail -n 8)"
echo "verified userspace marker after $((SECONDS - t0)) s"
grep -aq "Command line: .*fleetboot.verity=$rh" "$log" ||
	fail "the kernel did not run the signed command line: $(grep -a 'Command line' "$log")"
grep -aq "Secure boot enabled" "$log" || fail "the kernel does not see Secure Boot enabled"
grep -ao "fleetboot: .*" "$log" | tr -d '\r' | head -n 14
grep -aq "fleetboot: dm-verity: root hash ${rh:0:16}" "$log" ||
	fail "the root is not under dm-verity: $(grep -a 'fleetboot: ' "$log" | tail -n 5)"
grep -aq "FLEETBOOT-USERSPACE-OK machine=$(echo $SB | tr : -) mode=readonly" "$log" ||
	fail "the userspace marker does not name the machine and readonly: $(grep -a FLEETBOOT-USERSPACE-OK "$log")"
wait_for 120 multi_user ||
	fail "systemd did not reach multi-user.target on the verified root: $(grep -a 'Reached target\|Failed\|emergency' "$log" | tail -n 15)"
echo "verified Debian reached multi-user.target in $((SECONDS - t0)) s"
wait_for 30 sh -c "$FB_BIN/fleetboot events --machine $SB --stage userspace | grep -q userspace" ||
	fail "the verified boot's userspace stage was not reported"
lab_assert_events "$CONF" $SB 'tftp .*credential .*root-attached .*userspace'
fb events --machine $SB --stage tftp | grep -q "file=images/deb/1/boot.efi" || fail "no TFTP of deb's UKI recorded"
fb events --machine $SB | grep -q "ipxe-script" && fail "the Secure Boot client got an iPXE script"
lab_stop_qemu debsb
echo "verified Debian boot passed"
