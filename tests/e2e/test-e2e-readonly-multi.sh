#!/usr/bin/env bash
# End to end, scenarios 4 and 5.
#   4. readonly: the client's writes land in its RAM (overlayfs on tmpfs);
#      the server keeps no overlay for it, and a reboot forgets them.
#   5. two clients boot at once as different machines, twice: each sees
#      only its own writes, and the second boot sees the first boot's; the
#      writes are in each machine's overlay on the server (its disk read
#      over NBD once the client is off). One machine's export name with
#      the other's boot credential, or with its own long-lived secret, is
#      refused for the credential; its own credential from an address that
#      is not its lease is refused for the address; each refusal is the
#      server's, for that reason, in its log.
# Every verdict is checked twice: on the client's console (the image's
# fleetboot.test actions) and on the server (overlays, disk content, boot
# events in the database).
# timeout: 700
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
requires nbdinfo nbdcopy debugfs e2fsck
lab_server tap0 tap1
STATE=$LAB_DIR/srv/state
# Every boot: look for the other machine's file and for our own (before
# writing it: a persistent machine's second boot finds it, a readonly
# machine's never does), write our own, read it back, power off.
# fleetboot.test values are fixed per image, so each machine gets its own
# image (same content, own command line).
for who in a b; do
	other=$([ $who = a ] && echo b || echo a)
	lab_image "img-$who" "console=ttyS0 fleetboot.test=check:/data/owner-$other:$other fleetboot.test=check:/data/owner-$who:$who fleetboot.test=write:/data/owner-$who:$who fleetboot.test=check:/data/owner-$who:$who fleetboot.test=poweroff"
done
# Fixed addresses (reservations), so the server side can be checked from
# each machine's own address once its client is off.
RO=52:54:00:e2:e0:04 RO_IP=10.66.0.44
A=52:54:00:e2:e0:05 A_IP=10.66.0.45
B=52:54:00:e2:e0:06 B_IP=10.66.0.46
fb machine add $RO --image img-a --mode readonly --ip $RO_IP >/dev/null || fail "add readonly"
fb machine add $A --image img-a --mode persistent --ip $A_IP >/dev/null || fail "add a"
fb machine add $B --image img-b --mode persistent --ip $B_IP >/dev/null || fail "add b"
ro_id=$(echo $RO | tr : -) a_id=$(echo $A | tr : -) b_id=$(echo $B | tr : -)
lab_up "$CONF" "$LAB_DIR/up.log"

missing() { # PATH VALUE: the console line of a check that found no file
	echo "FLEETBOOT-TEST check $1 FAILED got '<missing>' expected '$2'"
}
# The console lines of one boot of machine WHO (a or b): OWN is the line
# of the check of its own file before it writes it.
boot_lines() { # WHO OWN_BEFORE
	local who=$1 other
	other=$([ "$1" = a ] && echo b || echo a)
	printf '%s\n' "$(missing /data/owner-$other $other)" "$2" \
		"FLEETBOOT-TEST write /data/owner-$who ok" "FLEETBOOT-TEST check /data/owner-$who ok" \
		"FLEETBOOT-TEST poweroff"
}
# disk_of NS MACID NAME: copy the machine's disk, as storaged serves it now,
# to $LAB_DIR/NAME.img from namespace NS (the machine's address and MAC),
# with the credential of its current boot.
disk_of() {
	local cred
	cred=$("$FB_BIN/../tests/storaged/sd-dbtool" "$STATE" credential "$2") ||
		fail "no credential for $2"
	ip netns exec "$1" timeout 60 nbdcopy "nbd://$LAB_SERVER/$2.$cred" "$LAB_DIR/$3.img" ||
		fail "cannot copy $2's disk over NBD: $(tail -n 5 "$LAB_DIR/up.log")"
}
no_overlay() { # WHEN
	local list
	[ -e "$STATE/overlays/$ro_id.ovl" ] && fail "readonly ($1): the server made an overlay file"
	list=$(fb overlay list --json) || fail "overlay list"
	case $list in *"\"$ro_id\""*) fail "readonly ($1): the server lists an overlay: $list" ;; esac
	return 0
}

# Scenario 4: two boots of the readonly machine; each finds no file of its
# own before writing it, writes it to RAM and reads it back.
mapfile -t want < <(boot_lines a "$(missing /data/owner-a a)")
for n in 1 2; do
	lab_boot "ro$n" $RO tap0 "$LAB_DIR/ro$n.serial" bios 240
	grep -aq "FLEETBOOT-USERSPACE-OK machine=$ro_id mode=readonly" "$LAB_DIR/ro$n.serial" ||
		fail "readonly: boot $n did not run readonly"
	if [ $n = 1 ]; then
		lab_expect_lines "$LAB_DIR/ro$n.serial" "readonly: boot 1 could not write to its RAM overlay" "${want[@]}"
	else
		lab_expect_lines "$LAB_DIR/ro$n.serial" "readonly: a write survived the reboot" "${want[@]}"
	fi
	no_overlay "boot $n"
	assert_eq "$(lab_stage_count "$CONF" $RO userspace)" $n "readonly: userspace events after boot $n"
	assert_eq "$(lab_stage_count "$CONF" $RO root-attached)" $n "readonly: root-attached events after boot $n"
	# What storaged serves the machine holds none of its writes (read
	# from a stand-in at its address while the client is off).
	ro_peer=$(lab_peer "ro$n" "$RO" $RO_IP)
	disk_of "$ro_peer" "$ro_id" "ro$n"
	ip netns del "$ro_peer"
	assert_eq "$(lab_disk_file "$LAB_DIR/ro$n.img" /data/owner-a)" '<missing>' \
		"readonly: the server's disk after boot $n holds the client's write"
	rm -f "$LAB_DIR/ro$n.img"
done
fb image verify img-a >/dev/null 2>&1 || fail "readonly: the base image changed"
echo "scenario 4 passed"

# Scenario 5: both at once, twice. The first boot finds no file of its own;
# the second finds the first boot's (persistence); neither ever finds the
# other machine's.
for round in 1 2; do
	lab_qemu "a$round" $A tap0 "$LAB_DIR/a$round.serial" bios
	lab_qemu "b$round" $B tap1 "$LAB_DIR/b$round.serial" bios
	for who in a b; do
		pid=$(cat "$LAB_DIR/$who$round.pid")
		wait_for 300 sh -c "! kill -0 $pid 2>/dev/null" ||
			fail "client $who (round $round) did not power off: $(tail -c 2000 "$LAB_DIR/$who$round.serial")"
		if [ $round = 1 ]; then
			own=$(missing /data/owner-$who $who)
		else
			own="FLEETBOOT-TEST check /data/owner-$who ok"
		fi
		mapfile -t want < <(boot_lines $who "$own")
		lab_expect_lines "$LAB_DIR/$who$round.serial" \
			"$who (round $round): not exactly its own writes (persistence, isolation)" "${want[@]}"
	done
done
for m in $A $B; do
	assert_eq "$(lab_stage_count "$CONF" $m userspace)" 2 "$m: userspace events"
	assert_eq "$(lab_stage_count "$CONF" $m root-attached)" 2 "$m: root-attached events"
done
echo "two clients at once: each saw only its own writes, and its own again after a reboot"

# The server side: each machine's disk, as storaged serves it to the
# machine's own address, holds its write and not the other's.
a_peer=$(lab_peer a "$A" $A_IP)
b_peer=$(lab_peer b "$B" $B_IP)
for who in a b; do
	other=$([ $who = a ] && echo b || echo a)
	if [ $who = a ]; then id=$a_id peer=$a_peer; else id=$b_id peer=$b_peer; fi
	[ -s "$STATE/overlays/$id.ovl" ] || fail "$who has no overlay on the server"
	disk_of "$peer" "$id" "$who"
	assert_eq "$(lab_disk_file "$LAB_DIR/$who.img" /data/owner-$who)" "$who" "$who's write in its overlay"
	assert_eq "$(lab_disk_file "$LAB_DIR/$who.img" /data/owner-$other)" '<missing>' \
		"$who's disk holds $other's write"
	rm -f "$LAB_DIR/$who.img"
done
echo "the server holds each machine's write in its own overlay"

# Refusals, each for its reason. From A's own address and MAC: B's
# credential and A's long-lived secret are wrong credentials, while A's
# credential opens the disk there; from the server's own address, A's
# credential is refused for the address.
secret() { fb machine show "$1" --json | sed -n 's/.*"secret": "\(.*\)".*/\1/p'; }
cred() { "$FB_BIN/../tests/storaged/sd-dbtool" "$STATE" credential "$1"; }
ca=$(cred $A) || fail "no credential for A"
cb=$(cred $B) || fail "no credential for B"
sa=$(secret $A)
[ ${#sa} = 32 ] || fail "cannot read A's secret"
log=$LAB_DIR/up.log
lab_refused "$log" "refused export for $a_id from $A_IP: wrong credential for machine $a_id" \
	"A's export with B's credential" ip netns exec "$a_peer" timeout 20 nbdinfo "nbd://$LAB_SERVER/$a_id.$cb"
lab_refused "$log" "refused export for $a_id from $A_IP: wrong credential for machine $a_id" \
	"A's export with A's long-lived secret" ip netns exec "$a_peer" timeout 20 nbdinfo "nbd://$LAB_SERVER/$a_id.$sa"
out=$(ip netns exec "$a_peer" timeout 20 nbdinfo --size "nbd://$LAB_SERVER/$a_id.$ca" 2>&1) ||
	fail "A's own credential from A's address was refused: $out"
lab_refused "$log" "refused export for $a_id from $LAB_SERVER: peer $LAB_SERVER is not machine $a_id's leased or reserved address" \
	"A's export from an address that is not A's" ip netns exec "$LAB_NS" timeout 20 nbdinfo "nbd://$LAB_SERVER/$a_id.$ca"
echo "scenario 5 passed"
