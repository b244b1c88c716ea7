#!/usr/bin/env bash
# Crash safety: a write workload (sub-cluster and whole-cluster writes,
# zeroes, FUA, a flush every 25 writes) against the fleetboot plugin, the
# serving nbdkit killed with SIGKILL at a random moment, 30+ times. After
# each kill: the overlay passes `fleetboot-storaged --check`, and every
# sector acknowledged before the last acknowledged flush (or by a FUA write)
# reads back exactly; sectors written after it hold one of their candidate
# values, never anything else. Each cycle's workload must have had at least
# FB_CRASH_MIN_WRITES writes and one flush acknowledged before the kill
# (the kill comes at a random moment after its first acknowledged flush),
# and the log counts them, so a cycle whose workload never connected or
# wrote nothing fails instead of checking nothing.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import nbd' 2>/dev/null ||
	skip "python3-libnbd (Debian's nbd module) is not installed"
sd_setup
CYCLES=${FB_CRASH_CYCLES:-30}
MIN_WRITES=${FB_CRASH_MIN_WRITES:-25}
total_writes=0 total_flushes=0

A=52-54-00-cc-00-01
sd_crash_machine $A
uri=$(sd_uri 1 $A)
ovl=$T/state/overlays/$A.ovl
base=$T/state/images/base/1/rootfs.img
wl="/usr/bin/python3 $FB_TOP/tests/storaged/crash_workload.py"
sd_nbdkit
for i in $(seq 1 "$CYCLES"); do
	in_client 1 $wl write "$uri" "$T/model" "$base" "$i" >"$T/wl.log" 2>&1 &
	wpid=$!
	# Once the workload has had a flush acknowledged (or has ended), kill
	# somewhere between 0 and 1.2 s later.
	wait_for 30 sh -c 'grep -q "^progress:" "$1" || ! kill -0 "$2"' sh "$T/wl.log" "$wpid" ||
		{ cat "$T/wl.log"; fail "cycle $i: no flush acknowledged within 30 s"; }
	sleep "$(awk -v s="$RANDOM" 'BEGIN {srand(s); printf "%.2f", rand() * 1.2}')"
	kill -9 "$NBDKIT_PID"
	wait "$NBDKIT_PID" 2>/dev/null
	wait "$wpid"
	stopped=$(grep "^workload stopped after" "$T/wl.log") ||
		{ cat "$T/wl.log"; fail "cycle $i: the workload did not run until the kill"; }
	writes=$(echo "$stopped" | sed -n 's/^workload stopped after \([0-9]*\) acknowledged writes and .*/\1/p')
	flushes=$(echo "$stopped" | sed -n 's/.* and \([0-9]*\) acknowledged flushes:.*/\1/p')
	if [ -z "$writes" ] || [ -z "$flushes" ] || [ "$writes" -lt "$MIN_WRITES" ] || [ "$flushes" -lt 1 ]; then
		cat "$T/wl.log"
		fail "cycle $i: only ${writes:-?} writes and ${flushes:-?} flushes acknowledged before the kill (need $MIN_WRITES and 1)"
	fi
	total_writes=$((total_writes + writes)) total_flushes=$((total_flushes + flushes))
	"$FB_BIN/fleetboot-storaged" --check "$ovl" >"$T/check.log" 2>&1 ||
		{ cat "$T/check.log"; fail "cycle $i: overlay inconsistent after kill -9"; }
	sd_nbdkit
	in_client 1 $wl verify "$uri" "$T/model" "$base" >"$T/verify.log" 2>&1 ||
		{ cat "$T/verify.log"; fail "cycle $i: acknowledged data lost"; }
	echo "cycle $i: $writes writes, $flushes flushes acknowledged; $(cat "$T/verify.log"); $(grep -o '[0-9]* data clusters' "$T/check.log")"
done
grep -E "ERROR: AddressSanitizer|runtime error:" "$T/nbdkit.log" && fail "sanitizer report"
echo "$CYCLES kill -9 cycles survived ($total_writes writes and $total_flushes flushes acknowledged before the kills)"
