#!/usr/bin/env bash
# bench/qemu-storm.sh - the boot storm's cross-check with real clients:
# QEMU machines (BIOS, QEMU's iPXE ROM, TCG unless FB_QEMU_ACCEL says
# otherwise) booting the busybox image through `fleetboot up` (iPXE's
# DHCP, its script, HTTP kernel and initrd, credential, NBD root) to the
# userspace marker: one machine alone, then FB_QEMU_STORM_N (6) powered on
# at once. Prints each one's seconds from QEMU start to the marker and the
# ratio of the storm's slowest to the lone boot. Fails if any machine does
# not reach userspace or bootd did not see each one's whole boot.
#
#   flock /tmp/fb-heavy.lock bash bench/qemu-storm.sh
#
# Under TCG the guests' CPU is the limit: 6 emulated machines share this
# host's cores, so the storm's times say what 6 slow CPUs cost, not what
# the server costs (bench/storm.sh measures the server).
set -u
. "$(dirname "$0")/../tests/lib.sh"
. "$(dirname "$0")/../tests/e2e/lab.sh"
requires bc
N=${FB_QEMU_STORM_N:-6}
SECS=${FB_QEMU_STORM_SECS:-600}
lab_new
for i in $(seq 0 "$N"); do lab_tap "tap$i"; done
CONF=$(lab_conf "$LAB_DIR/srv")
export FLEETBOOT_CONF=$CONF
fb init >/dev/null || fail "init"
lab_image tiny "console=ttyS0 fleetboot.test=poweroff"
mac_of() { printf '52:54:00:be:01:%02x' "$1"; }
for i in $(seq 0 "$N"); do
	fb machine add "$(mac_of "$i")" --image tiny --mode ephemeral >/dev/null || fail "machine add $i"
done
lab_up "$CONF" "$LAB_DIR/up.log"

# boot I...: power on machines I... at once; each one's seconds to the
# marker into $LAB_DIR/tI.
boot() {
	local i t0
	t0=$(date +%s.%N)
	for i in "$@"; do
		rm -f "$LAB_DIR/q$i.serial" "$LAB_DIR/t$i"
		lab_qemu "q$i" "$(mac_of "$i")" "tap$i" "$LAB_DIR/q$i.serial" bios
	done
	local left=$#
	local end=$((SECONDS + SECS))
	while [ "$left" -gt 0 ] && [ $SECONDS -lt $end ]; do
		for i in "$@"; do
			[ -e "$LAB_DIR/t$i" ] && continue
			if grep -aq FLEETBOOT-USERSPACE-OK "$LAB_DIR/q$i.serial" 2>/dev/null; then
				echo "$(date +%s.%N) - $t0" | bc >"$LAB_DIR/t$i"
				left=$((left - 1))
			fi
		done
		sleep 0.2
	done
	for i in "$@"; do
		[ -e "$LAB_DIR/t$i" ] || fail "machine $i did not reach userspace in $SECS s: $(tail -n 5 "$LAB_DIR/q$i.serial" | tr -d '\r')"
		wait_for 60 sh -c "! kill -0 $(cat "$LAB_DIR/q$i.pid") 2>/dev/null" || lab_stop_qemu "q$i"
	done
}
seen_all() { # I: bootd saw the whole boot of machine I (QEMU's NIC ROM is
	# iPXE: its DHCP goes straight to the script, with no TFTP)
	lab_events "$CONF" "$(mac_of "$1")" |
		grep -Eq 'dhcp (.* )?ipxe-script (.* )?kernel (.* )?initrd (.* )?credential (.* )?root-attached (.* )?userspace'
}

boot 0
alone=$(cat "$LAB_DIR/t0")
echo "one machine alone: $alone s"
seen_all 0 || fail "bootd did not see machine 0's whole boot: $(lab_events "$CONF" "$(mac_of 0)")"
storm=$(seq 1 "$N")
# shellcheck disable=SC2086 # the machine numbers, one word each
boot $storm
times=()
for i in $storm; do
	seen_all "$i" || fail "bootd did not see machine $i's whole boot: $(lab_events "$CONF" "$(mac_of "$i")")"
	times+=("$(cat "$LAB_DIR/t$i")")
done
worst=$(printf '%s\n' "${times[@]}" | sort -n | tail -n 1)
printf '%-46s %8s\n' "real clients ($(lab_accel)), QEMU start to userspace" seconds
printf '%-46s %8.1f\n' "one machine alone" "$alone"
printf '%-46s %8s\n' "$N at once, each" "$(printf '%.1f ' "${times[@]}")"
printf '%-46s %8.1f  (%.2fx the lone boot)\n' "$N at once, the last" "$worst" "$(echo "$worst / $alone" | bc -l)"
kill -TERM "$(cat "$LAB_DIR/up.pid")"
