#!/usr/bin/env bash
# End to end, scenarios 1 and 2: a BIOS client (QEMU's iPXE ROM) boots the
# busybox image over NBD through `fleetboot up` with no disk.
#   1. persistent: the first boot writes a file; after a reboot it is there.
#   2. the same machine switched to ephemeral: after a reboot it is gone.
#   3. (issue 13) as user nobody the guest finds neither this boot's
#      credential nor the machine's secret in /proc/cmdline, any process's
#      argv or environment, or any readable file (fleetboot.test=leakscan).
# Asserts what the machine printed on its serial console and the boot
# events fleetboot recorded, in order; and, on the server, that the first
# boot's write is in the machine's overlay (its disk read over NBD from its
# own address once the client is off).
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires nbdcopy debugfs e2fsck
lab_server tap0
# The image's command line drives the test: check for the file, then
# write it, then power off.
tests="console=ttyS0 fleetboot.test=check:/data/marker:hello-$$ fleetboot.test=write:/data/marker:hello-$$"
tests="$tests fleetboot.test=leakscan fleetboot.test=poweroff"
fb image build tiny --from busybox --cmdline "$tests" >"$LAB_DIR/build.log" 2>&1 ||
	fail "image build: $(tail -n 20 "$LAB_DIR/build.log")"
MAC=52:54:00:e2:e0:01
IP=10.66.0.41
fb machine add $MAC --image tiny --mode persistent --ip $IP >/dev/null || fail "machine add"
lab_up "$CONF" "$LAB_DIR/up.log"

boot() { # N: boot once, wait for power-off; print the serial log path
	local log="$LAB_DIR/boot$1.serial"
	lab_qemu "c$1" $MAC tap0 "$log" bios
	local pid
	pid=$(cat "$LAB_DIR/c$1.pid")
	wait_for 240 sh -c "! kill -0 $pid 2>/dev/null" ||
		fail "boot $1 did not power off in 240 s: $(tail -c 3000 "$log")"
	grep -aq 'FLEETBOOT-USERSPACE-OK' "$log" || fail "boot $1 never reached userspace: $(tail -c 3000 "$log")"
	echo "$log"
}

t0=$SECONDS
log=$(boot 1) || exit 1
echo "boot 1: $((SECONDS - t0)) s to power-off"
grep -aq "FLEETBOOT-TEST check /data/marker FAILED" "$log" || fail "boot 1: the file existed before it was written"
grep -aq "FLEETBOOT-TEST write /data/marker ok" "$log" || fail "boot 1: write failed"
stages=$(lab_events "$CONF" $MAC)
echo "events: $stages"
echo "$stages" | grep -Eq 'dhcp .*ipxe-script .*kernel .*initrd .*credential .*root-attached .*userspace' ||
	fail "boot events out of order or missing: $stages"
lab_assert_no_leak "$CONF" $MAC "$log"
echo "$stages" | grep -q takeover-suspected && fail "a takeover was suspected in a plain boot"
# The server side: the machine's disk, as storaged serves it to the
# machine's address (a stand-in with its MAC while the client is off),
# holds the file.
id=$(echo $MAC | tr : -)
[ -s "$LAB_DIR/srv/state/overlays/$id.ovl" ] || fail "persistent: no overlay on the server"
cred=$("$FB_BIN/../tests/storaged/sd-dbtool" "$LAB_DIR/srv/state" credential "$id") || fail "no credential for $id"
peer=$(lab_peer c1 "$MAC" $IP)
ip netns exec "$peer" timeout 60 nbdcopy "nbd://$LAB_SERVER/$id.$cred" "$LAB_DIR/disk1.img" ||
	fail "cannot copy the machine's disk over NBD: $(tail -n 5 "$LAB_DIR/up.log")"
ip netns del "$peer"
assert_eq "$(lab_disk_file "$LAB_DIR/disk1.img" /data/marker)" "hello-$$" "the write in the machine's overlay"
rm -f "$LAB_DIR/disk1.img"

log=$(boot 2) || exit 1
grep -aq "FLEETBOOT-TEST check /data/marker ok" "$log" || fail "persistent: the file did not survive a reboot"
# A new boot got a credential of its own (the first one no longer counts).
lab_assert_no_leak "$CONF" $MAC "$log"

fb machine set $MAC --mode ephemeral >/dev/null || fail "set ephemeral"
log=$(boot 3) || exit 1
grep -aq "FLEETBOOT-TEST check /data/marker FAILED" "$log" || fail "ephemeral: the file survived a reboot"
log=$(boot 4) || exit 1
grep -aq "FLEETBOOT-TEST check /data/marker FAILED" "$log" || fail "ephemeral: a write from the previous boot survived"
echo "scenarios 1 and 2 passed in $((SECONDS - t0)) s"
