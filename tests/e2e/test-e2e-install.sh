#!/usr/bin/env bash
# End to end, scenario 9: install mode. The client PXE-boots, its initramfs
# writes the image to the VM's own virtio disk (MBR + extlinux) and
# reboots; the VM then boots from that disk with the network cable pulled
# (no NIC at all) and reaches userspace from its local root.
# timeout: 500
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
lab_server tap0
lab_image tiny "console=ttyS0 fleetboot.test=write:/data/i:installed fleetboot.test=check:/data/i:installed fleetboot.test=poweroff"
MAC=52:54:00:e2:e0:09
fb machine add $MAC --image tiny --mode install >/dev/null || fail "machine add"
lab_up "$CONF" "$LAB_DIR/up.log"
disk=$LAB_DIR/disk.raw
truncate -s 400M "$disk"

# 1. PXE boot in install mode: copy, then reboot (QEMU exits: -no-reboot).
log=$LAB_DIR/install.serial
lab_qemu inst $MAC tap0 "$log" bios -drive "file=$disk,format=raw,if=virtio"
pid=$(cat "$LAB_DIR/inst.pid")
wait_for 300 sh -c "! kill -0 $pid 2>/dev/null" ||
	fail "install did not finish in 300 s: $(tail -c 3000 "$log")"
grep -aq 'install: 100%' "$log" || fail "no install progress to 100%: $(tail -c 3000 "$log")"
grep -aq 'FLEETBOOT-USERSPACE-OK' "$log" && fail "install mode ran the network image instead of installing"
fb events --machine $MAC --stage installed | grep -q installed || fail "no 'installed' stage recorded"
# The disk now has an MBR boot signature and an active Linux partition.
[ "$(od -An -tx1 -j510 -N2 "$disk" | tr -d ' ')" = 55aa ] || fail "no MBR boot signature on the disk"

# 2. Boot from the disk with no network device at all.
log2=$LAB_DIR/local.serial
timeout 240 qemu-system-x86_64 -accel "$(lab_accel)" -m 768 -nographic -no-reboot \
	-serial "file:$log2" -monitor none -nic none \
	-drive "file=$disk,format=raw,if=virtio" -boot c >"$log2.qemu" 2>&1 ||
	fail "the local boot did not power off: $(tail -c 3000 "$log2")"
grep -aq 'FLEETBOOT-USERSPACE-OK' "$log2" || fail "no userspace from the local disk: $(tail -c 3000 "$log2")"
grep -aq 'FLEETBOOT-TEST check /data/i ok' "$log2" || fail "the installed root is not writable"
grep -aq 'mode=local' "$log2" || fail "the installed system did not run from its local root"

# 3. Network first again (as many firmwares are set): bootd knows the
#    machine is installed and hands it its local disk instead of
#    re-imaging it in a loop.
log3=$LAB_DIR/again.serial
lab_boot again $MAC tap0 "$log3" bios 240 -drive "file=$disk,format=raw,if=virtio"
grep -aq 'is installed; booting its local disk' "$log3" || fail "bootd did not send the installed machine to its disk"
grep -aq 'install: ' "$log3" && fail "the installed machine was re-imaged"
grep -aq 'mode=local' "$log3" || fail "the machine did not run from its local root"
fb events --machine $MAC --stage ipxe-script | grep -q 'local-disk (installed)' || fail "no local-disk script recorded"
# Asking for install mode again re-arms it.
fb machine set $MAC --mode install >/dev/null || fail "re-arm"
assert_eq "$(fb machine show $MAC --json | sed -n 's/.*"stage": "\(.*\)".*/\1/p')" install-pending "stage after re-arming"
echo "scenario 9 passed"
