#!/usr/bin/env bash
# End to end, scenario 3: a UEFI client (OVMF's own PXE client, no iPXE
# ROM) gets ipxe.efi from bootd over TFTP; iPXE then fetches its script over
# HTTP, and the kernel's initramfs logs in to fleetboot's iSCSI target with
# CHAP (user MACID, this boot's credential) and boots the busybox image
# from it. As user nobody the guest finds neither the credential nor the
# machine's secret anywhere it can read (fleetboot.test=leakscan), the
# iSCSI session's sysfs password included.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "OVMF is not installed (make deps installs ovmf)"
lab_server tap0
lab_image tiny "console=ttyS0 fleetboot.test=write:/data/uefi:yes fleetboot.test=check:/data/uefi:yes fleetboot.test=leakscan fleetboot.test=poweroff"
MAC=52:54:00:e2:e0:03
fb machine add $MAC --image tiny --mode persistent --protocol iscsi >/dev/null || fail "machine add"
lab_up "$CONF" "$LAB_DIR/up.log"
t0=$SECONDS
log=$LAB_DIR/uefi.serial
lab_boot uefi $MAC tap0 "$log" uefi 300
echo "UEFI iSCSI boot: $((SECONDS - t0)) s to power-off"
grep -aq 'FLEETBOOT-TEST check /data/uefi ok' "$log" || fail "write/read on the iSCSI root failed"
lab_assert_events "$CONF" $MAC 'dhcp .*tftp .*dhcp .*ipxe-script .*kernel .*initrd .*credential .*root-attached .*userspace'
lab_assert_no_leak "$CONF" $MAC "$log"
lab_assert_iscsi_password_hidden "$log"
fb events --machine $MAC --stage tftp | grep -q 'ipxe.efi\|snponly.efi' || fail "no TFTP of an EFI iPXE recorded"
fb events --machine $MAC --stage dhcp | grep -q 'ipxe=0' || fail "the firmware's own DHCP was not recorded"
echo "scenario 3 passed"
