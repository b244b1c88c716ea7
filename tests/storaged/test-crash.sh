#!/usr/bin/env bash
# Crash safety: a write workload (sub-cluster and whole-cluster writes,
# zeroes, FUA, a flush every 25 writes) against the fleetboot plugin, the
# serving nbdkit killed with SIGKILL at a random moment, 30+ times. After
# each kill: the overlay passes `fleetboot-storaged --check`, and every
# sector acknowledged before the last acknowledged flush (or by a FUA write)
# reads back exactly; sectors written after it hold one of their candidate
# values, never anything else.
# timeout: 400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import nbd' 2>/dev/null ||
	skip "python3-libnbd (Debian's nbd module) is not installed"
sd_setup
CYCLES=${FB_CRASH_CYCLES:-30}

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
	# Kill somewhere between 0.3 s and 1.5 s into the workload.
	sleep "$(awk -v s="$RANDOM" 'BEGIN {srand(s); printf "%.2f", 0.3 + rand() * 1.2}')"
	kill -9 "$NBDKIT_PID"
	wait "$NBDKIT_PID" 2>/dev/null
	wait "$wpid"
	grep -q "workload stopped" "$T/wl.log" || { cat "$T/wl.log"; fail "cycle $i: workload did not run"; }
	"$FB_BIN/fleetboot-storaged" --check "$ovl" >"$T/check.log" 2>&1 ||
		{ cat "$T/check.log"; fail "cycle $i: overlay inconsistent after kill -9"; }
	sd_nbdkit
	in_client 1 $wl verify "$uri" "$T/model" "$base" >"$T/verify.log" 2>&1 ||
		{ cat "$T/verify.log"; fail "cycle $i: acknowledged data lost"; }
	echo "cycle $i: $(cat "$T/verify.log"); $(grep -o '[0-9]* data clusters' "$T/check.log")"
done
grep -E "ERROR: AddressSanitizer|runtime error:" "$T/nbdkit.log" && fail "sanitizer report"
echo "$CYCLES kill -9 cycles survived"
