#!/usr/bin/env bash
# Power-cut safety: the crash test's workload (sub-cluster and whole-cluster
# writes, zeroes, FUA, a flush every 25 writes) against the fleetboot plugin,
# with every change nbdkit makes to the overlay file recorded (an LD_PRELOAD
# recorder, powercut_shim.c), and the power cut right after a random change
# (the recorder kills nbdkit there; every other cut right after a write to
# the map area, mid-flush). nbdkit has written every change to the
# page cache, so the file it leaves says nothing about a power cut: each
# cycle starts from a copy of the overlay, and each round rebuilds the disk
# from that copy and the record (powercut.c, its own seed): everything the
# latest completed sync covered is there; of the rest, a random subset, some
# writes torn at 512-byte sectors. Then, as after a crash: the overlay passes
# `fleetboot-storaged --check`, the plugin opens it, and every sector
# acknowledged by a flush (or a FUA write) reads back exactly; every other
# sector holds its flushed content or one of its later writes, nothing else.
# The base image is random data, so a cluster whose map survived but whose
# data did not (reads zeros) is caught.
#
# Proof that it can fail: an engine built with the map made durable before
# its data (make B=build-mapfirst COW_TEST_MAP_FIRST=1, then run with
# FB_BIN=build-mapfirst/bin) must fail here.
#
# FB_POWERCUT_SEED reproduces a run (the seed is printed); FB_POWERCUT_CYCLES
# and FB_POWERCUT_ROUNDS set the number of cuts and disks built per cut.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import nbd' 2>/dev/null ||
	skip "python3-libnbd (Debian's nbd module) is not installed"
TOOLS=$(cd "$FB_BIN/.." && pwd)/tests/storaged
[ -x "$TOOLS/powercut" ] && [ -f "$TOOLS/powercut-shim.so" ] || skip "powercut tools not built"
sd_setup
CYCLES=${FB_POWERCUT_CYCLES:-10}
ROUNDS=${FB_POWERCUT_ROUNDS:-5}
SEED=${FB_POWERCUT_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "seed $SEED ($CYCLES cuts, $ROUNDS disks each)"
RANDOM=$SEED

# A base of random data (ext4 without a journal, one file filling it), so
# almost no sector of it reads as zeros.
mkdir -p "$T/rnd"
head -c 15M /dev/urandom >"$T/rnd/blob"
mke2fs -q -t ext4 -O ^has_journal,^resize_inode -N 32 -m 0 -d "$T/rnd" "$T/rnd.img" 16M \
	>/dev/null 2>&1 || fail "mke2fs"
fb image import rnd --rootfs "$T/rnd.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	>/dev/null 2>&1 || fail "image import rnd"
A=52-54-00-cc-00-02
fb machine add $A --image rnd --mode persistent --ip 10.77.1.11 >/dev/null || fail "add $A"
sd_net 1 10.77.1.11
kill_at_exit "$T/nbdkit.pid"
uri=$(sd_uri 1 $A)
ovl=$T/state/overlays/$A.ovl
base=$T/state/images/rnd/1/rootfs.img
[ -f "$base" ] || fail "no base image at $base"
wl="/usr/bin/python3 $FB_TOP/tests/storaged/crash_workload.py"

stop_nbdkit() {
	kill -9 "$NBDKIT_PID" 2>/dev/null
	wait "$NBDKIT_PID" 2>/dev/null
}

# The overlay exists before the first cycle.
sd_nbdkit
in_client 1 $wl verify "$uri" "$T/model" "$base" >/dev/null 2>&1 || fail "first connection"
stop_nbdkit
[ -f "$ovl" ] || fail "no overlay after the first connection"

writes=0 syncs=0 rounds=0 lossy=0 sectors=0
for i in $(seq 1 "$CYCLES"); do
	# The starting point: the overlay as it is (the last round's disk).
	cp --sparse=always "$ovl" "$T/start.ovl"
	rm -f "$T/pc.log"
	# Every other cut lands right after a write into the map area (below
	# the data area at 1 MiB, FORMAT.md): mid-flush, where the order of
	# data and map matters most; the others after any change.
	if [ $((i % 2)) = 1 ]; then
		cut=$((1 + RANDOM % 30)) below=1048576 what="map write"
	else
		cut=$((1 + RANDOM % 300)) below=0 what=change
	fi
	SD_NBDKIT_ENV="FB_PC_MATCH=/$A.ovl FB_PC_LOG=$T/pc.log FB_PC_CUT=$cut FB_PC_CUT_BELOW=$below" \
		sd_nbdkit "$TOOLS/powercut-shim.so"
	in_client 1 timeout 60 $wl write "$uri" "$T/model" "$base" "$((SEED * 100 + i))" >"$T/wl.log" 2>&1
	grep -q "workload stopped" "$T/wl.log" || { cat "$T/wl.log"; fail "cut $i: workload did not run"; }
	if ! wait_for 10 grep -q "power cut after change $cut\$" "$T/nbdkit.log"; then
		stop_nbdkit
		tail -n 20 "$T/nbdkit.log"
		fail "cut $i: the power did not go after $what $cut"
	fi
	stop_nbdkit
	# Take the message out of the log, so that the next cut's is its own.
	sed -i "/power cut after change $cut\$/d" "$T/nbdkit.log"
	# What the workload knows: its flushed model and the writes it sent
	# since. Each round's verification starts from it (and adopts what
	# its disk holds, so the last round's disk and model go on).
	cp "$T/model" "$T/model.cut"
	cp "$T/model.log" "$T/model.log.cut"
	for r in $(seq 1 "$ROUNDS"); do
		cp --sparse=always "$T/start.ovl" "$ovl"
		cp "$T/model.cut" "$T/model"
		cp "$T/model.log.cut" "$T/model.log"
		seed=$((SEED * 10000 + i * 100 + r))
		out=$("$TOOLS/powercut" "$ovl" "$T/pc.log" "$seed") || fail "cut $i round $r: powercut failed"
		"$FB_BIN/fleetboot-storaged" --check "$ovl" >"$T/check.log" 2>&1 ||
			{ cat "$T/check.log"; fail "cut $i round $r: overlay inconsistent after a power cut ($out)"; }
		sd_nbdkit
		in_client 1 $wl verify "$uri" "$T/model" "$base" >"$T/verify.log" 2>&1 ||
			{ cat "$T/verify.log"; fail "cut $i round $r: wrong data after a power cut ($out)"; }
		stop_nbdkit
		echo "cut $i (after $what $cut) round $r: $out; $(cat "$T/verify.log")"
		rounds=$((rounds + 1))
		# "ok: N sectors exact, M with un-flushed writes resolved"
		read -r exact resolved < <(sed -n \
			's/^ok: \([0-9]*\) sectors exact, \([0-9]*\) with.*/\1 \2/p' "$T/verify.log")
		[ -n "$resolved" ] || fail "cut $i round $r: no counts from the verifier"
		sectors=$((sectors + exact + resolved))
		case $out in *" 0 torn, 0 dropped") ;; *) lossy=$((lossy + 1)) ;; esac
	done
	read -r w s < <(printf '%s\n' "$out" |
		sed -n 's/.*(\([0-9]*\) writes), \([0-9]*\) syncs completed.*/\1 \2/p')
	[ -n "$s" ] || fail "cut $i: no counts from powercut"
	writes=$((writes + w))
	syncs=$((syncs + s))
done
grep -E "ERROR: AddressSanitizer|runtime error:" "$T/nbdkit.log" && fail "sanitizer report"
# Rounds that kept everything test nothing a kill -9 would not.
[ "$lossy" -gt 0 ] || fail "no round dropped or tore a change"
echo "seed $SEED: $writes writes recorded, $syncs syncs, $CYCLES power cuts, $rounds rounds" \
	"($lossy with changes dropped or torn), $sectors sectors checked"
