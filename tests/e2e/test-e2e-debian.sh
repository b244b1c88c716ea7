#!/usr/bin/env bash
# End to end, scenario 6: a debootstrap:bookworm image (Debian's own
# kernel and update-initramfs with fleetboot's initramfs-tools hook) boots
# over NBD through every daemon and reaches systemd's multi-user target,
# where fleetboot-userspace.service prints the marker and reports the
# userspace stage. The debootstrap is cached under $FB_ARTIFACTS, shared
# with tests/image, so a run builds it at most once.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires debootstrap
lab_new
lab_tap tap0
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
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
