#!/usr/bin/env bash
# End to end, scenarios 4 and 5.
#   4. readonly: the client's writes land in its RAM (overlayfs on tmpfs);
#      the server keeps no overlay for it, and a reboot forgets them.
#   5. two clients boot at once as different machines: each sees only its
#      own writes; one machine's export name with the other's boot
#      credential, with its own long-lived secret, or from an address that
#      is not its lease, is refused.
# timeout: 500
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires nbdinfo
lab_new
lab_tap tap0
lab_tap tap1
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
# Every boot: show what the other machine may have left, write our own
# name, read it back, power off. fleetboot.test values are fixed per image,
# so each machine gets its own image (same content, own command line).
for who in a b; do
	other=$([ $who = a ] && echo b || echo a)
	lab_image "img-$who" "console=ttyS0 fleetboot.test=check:/data/owner-$other:$other fleetboot.test=write:/data/owner-$who:$who fleetboot.test=check:/data/owner-$who:$who fleetboot.test=poweroff"
done
RO=52:54:00:e2:e0:04
A=52:54:00:e2:e0:05
B=52:54:00:e2:e0:06
fb machine add $RO --image img-a --mode readonly >/dev/null || fail "add readonly"
fb machine add $A --image img-a --mode persistent >/dev/null || fail "add a"
fb machine add $B --image img-b --mode persistent >/dev/null || fail "add b"
lab_up "$CONF" "$LAB_DIR/up.log"

# Scenario 4.
lab_boot ro1 $RO tap0 "$LAB_DIR/ro1.serial" bios 240
grep -aq 'FLEETBOOT-TEST check /data/owner-a ok' "$LAB_DIR/ro1.serial" ||
	fail "readonly: the client could not write to its RAM overlay"
grep -aq 'mode=readonly' "$LAB_DIR/ro1.serial" || fail "readonly: the client did not run readonly"
ro_id=$(echo $RO | tr : -)
fb overlay list --json | grep -q "\"mac\": \"$ro_id\"" && fail "readonly: the server made an overlay"
lab_boot ro2 $RO tap0 "$LAB_DIR/ro2.serial" bios 240
grep -aq 'FLEETBOOT-TEST check /data/owner-a FAILED' "$LAB_DIR/ro2.serial" ||
	grep -aq 'FLEETBOOT-TEST check /data/owner-b FAILED' "$LAB_DIR/ro2.serial" ||
	fail "readonly: a write survived the reboot"
fb overlay list --json | grep -q "\"mac\": \"$ro_id\"" && fail "readonly: the server made an overlay"
echo "scenario 4 passed"

# Scenario 5: both at once, twice (the second boot sees persistence).
for round in 1 2; do
	lab_qemu "a$round" $A tap0 "$LAB_DIR/a$round.serial" bios
	lab_qemu "b$round" $B tap1 "$LAB_DIR/b$round.serial" bios
	for who in a b; do
		pid=$(cat "$LAB_DIR/$who$round.pid")
		wait_for 300 sh -c "! kill -0 $pid 2>/dev/null" ||
			fail "client $who (round $round) did not power off: $(tail -c 2000 "$LAB_DIR/$who$round.serial")"
		log=$LAB_DIR/$who$round.serial
		grep -aq "FLEETBOOT-TEST check /data/owner-$who ok" "$log" || fail "$who cannot read its own write"
		other=$([ $who = a ] && echo b || echo a)
		grep -aq "FLEETBOOT-TEST check /data/owner-$other FAILED got '<missing>'" "$log" ||
			fail "$who sees a file written by $other"
	done
done
echo "two clients at once: each saw only its own writes"

# The other machine's credential, A's long-lived secret, and A's own
# credential from a foreign address.
secret() { fb machine show "$1" --json | sed -n 's/.*"secret": "\(.*\)".*/\1/p'; }
cred() { "$FB_BIN/../tests/storaged/sd-dbtool" "$LAB_DIR/srv/state" credential "$1"; }
a_id=$(echo $A | tr : -)
ca=$(cred $A) || fail "no credential for A"
cb=$(cred $B) || fail "no credential for B"
out=$(ip netns exec "$LAB_NS" timeout 20 nbdinfo "nbd://$LAB_SERVER/$a_id.$cb" 2>&1) &&
	fail "machine A's export with B's credential was served: $out"
out=$(ip netns exec "$LAB_NS" timeout 20 nbdinfo "nbd://$LAB_SERVER/$a_id.$(secret $A)" 2>&1) &&
	fail "machine A's export with A's long-lived secret was served: $out"
out=$(ip netns exec "$LAB_NS" timeout 20 nbdinfo "nbd://$LAB_SERVER/$a_id.$ca" 2>&1) &&
	fail "machine A's export was served to the server's own address (not A's lease): $out"
grep -q "$a_id" "$LAB_DIR/up.log" || fail "refusals were not logged"
grep -Ei "refus|denied|wrong credential|not .*lease" "$LAB_DIR/up.log" | tail -n 4
echo "scenario 5 passed"
