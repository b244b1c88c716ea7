#!/usr/bin/env bash
# Power-cut safety: the crash test's workload (sub-cluster and whole-cluster
# writes, zeroes, FUA, a flush every 25 writes) against the fleetboot plugin,
# with every change nbdkit makes to the overlay file recorded (an LD_PRELOAD
# recorder, powercut_shim.c). nbdkit is killed at a random moment and the
# overlay is replaced by what a disk could hold had the power gone then
# (powercut.c): everything synced is there; of the rest, any subset, in any
# order, with writes torn at 512-byte sectors. Then, as after a crash: the
# overlay passes `fleetboot-storaged --check`, and every sector acknowledged
# before the last acknowledged flush (or by a FUA write) reads back exactly.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import nbd' 2>/dev/null ||
	skip "python3-libnbd (Debian's nbd module) is not installed"
TOOLS=$(cd "$FB_BIN/.." && pwd)/tests/storaged
[ -x "$TOOLS/powercut" ] && [ -f "$TOOLS/powercut-shim.so" ] || skip "powercut tools not built"
sd_setup
CYCLES=${FB_POWERCUT_CYCLES:-15}

A=52-54-00-cc-00-02
sd_crash_machine $A
uri=$(sd_uri 1 $A)
ovl=$T/state/overlays/$A.ovl
base=$T/state/images/base/1/rootfs.img
wl="/usr/bin/python3 $FB_TOP/tests/storaged/crash_workload.py"
export SD_NBDKIT_ENV="FB_PC_MATCH=/$A.ovl FB_PC_LOG=$T/pc.log"
# The overlay exists (and is durable) before the first cycle.
sd_nbdkit
in_client 1 $wl verify "$uri" "$T/model" "$base" >/dev/null 2>&1 || fail "first connection"
kill -9 "$NBDKIT_PID" # its changes are synced when the next cycle begins
wait "$NBDKIT_PID" 2>/dev/null
[ -f "$ovl" ] || fail "no overlay after the first connection"
# Most kills land while the workload saves its model after a flush, with
# nothing unsynced to lose: go on (up to three times as many cycles) until
# some cut has had unsynced changes to drop or tear.
lost_total=0
i=0
while [ $i -lt "$CYCLES" ] || { [ $lost_total -eq 0 ] && [ $i -lt $((CYCLES * 3)) ]; }; do
	i=$((i + 1))
	sync "$ovl"
	rm -f "$T/pc.log"
	sd_nbdkit "$TOOLS/powercut-shim.so"
	in_client 1 $wl write "$uri" "$T/model" "$base" "$i" >"$T/wl.log" 2>&1 &
	wpid=$!
	# The power goes at a random moment once writing has begun (start-up
	# time varies with the machine's load; a cut before any write tests
	# nothing).
	wait_for 20 test -s "$T/pc.log"
	sleep "$(awk -v s="$RANDOM" 'BEGIN {srand(s); printf "%.2f", 0.05 + rand() * 1.2}')"
	kill -9 "$NBDKIT_PID"
	wait "$NBDKIT_PID" 2>/dev/null
	wait "$wpid"
	grep -q "workload stopped" "$T/wl.log" || { cat "$T/wl.log"; fail "cycle $i: workload did not run"; }
	[ -s "$T/pc.log" ] || fail "cycle $i: the recorder saw no change to the overlay"
	cut=$("$TOOLS/powercut" "$ovl" "$T/pc.log" "$i") || fail "cycle $i: powercut failed"
	"$FB_BIN/fleetboot-storaged" --check "$ovl" >"$T/check.log" 2>&1 ||
		{ cat "$T/check.log"; fail "cycle $i: overlay inconsistent after a power cut ($cut)"; }
	sd_nbdkit
	in_client 1 $wl verify "$uri" "$T/model" "$base" >"$T/verify.log" 2>&1 ||
		{ cat "$T/verify.log"; fail "cycle $i: acknowledged data lost in a power cut ($cut)"; }
	kill -9 "$NBDKIT_PID" # its changes are synced when the next cycle begins
	wait "$NBDKIT_PID" 2>/dev/null
	echo "cycle $i: $cut; $(cat "$T/verify.log")"
	case $cut in *" 0 of 0 applied"*) ;; *) lost_total=$((lost_total + 1)) ;; esac
done
grep -E "ERROR: AddressSanitizer|runtime error:" "$T/nbdkit.log" && fail "sanitizer report"
# The cuts must have dropped something, or nothing was tested.
[ "$lost_total" -gt 0 ] || fail "no cycle had unsynced changes to drop"
echo "$i power cuts survived ($lost_total with unsynced changes dropped or torn)"
