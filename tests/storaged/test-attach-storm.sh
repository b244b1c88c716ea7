#!/usr/bin/env bash
# First attaches of many machines at once do not queue behind each other's
# fsyncs (issue 17's attach queue): nbdkit with the fleetboot plugin runs
# with every fsync of an overlay file or of the overlays directory slowed
# by DELAY (tests/storaged/slowsync_shim.c), and N persistent machines
# with no overlay yet connect at the same moment. Each first attach syncs
# its new overlay and the directory (2 x DELAY); one after another they
# would take at least N x 2 x DELAY, so the N together must take less than
# N x DELAY. Every machine then has its overlay file and its database row.
# Then one more machine opens 4 connections at once at its first attach:
# all 4 get its disk, the overlay is created once (one writer per overlay).
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
shim=$SD_TOOLS/slowsync-shim.so
[ -f "$shim" ] || skip "$shim is not built"
sd_setup
N=8
DELAY_MS=400

mac_of() { printf '52-54-00-dd-00-%02x' "$1"; }
for i in $(seq 1 $((N + 1))); do
	fb machine add "$(mac_of "$i")" --image base --mode persistent --ip "10.77.$i.11" >/dev/null ||
		fail "add $(mac_of "$i")"
	sd_net "$i" "10.77.$i.11"
	cred_of "$(mac_of "$i")" >/dev/null
done
SD_NBDKIT_ENV="FB_SLOW_MATCH=/overlays FB_SLOW_MS=$DELAY_MS" sd_nbdkit "$shim"
SD_LOG=$T/nbdkit.log

echo "== $N first attaches at once, each overlay fsync slowed by $DELAY_MS ms"
t0=$(date +%s%N)
for i in $(seq 1 "$N"); do
	in_client "$i" timeout 60 nbdinfo --size "$(sd_uri "$i" "$(mac_of "$i")")" >"$T/info-$i.log" 2>&1 &
	echo $! >"$T/info-$i.pid"
done
for i in $(seq 1 "$N"); do
	wait "$(cat "$T/info-$i.pid")" || { cat "$T/info-$i.log" "$SD_LOG"; fail "machine $i: nbdinfo failed"; }
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "$N first attaches took $ms ms (one after another: at least $((N * 2 * DELAY_MS)) ms)"
[ "$ms" -lt $((N * DELAY_MS)) ] ||
	fail "$N first attaches took $ms ms, not under $((N * DELAY_MS)) ms: they waited for each other's fsyncs"
for i in $(seq 1 "$N"); do
	m=$(mac_of "$i")
	[ -s "$T/state/overlays/$m.ovl" ] || fail "machine $i: no overlay file"
	"$FB_BIN/fleetboot-storaged" --check "$T/state/overlays/$m.ovl" >/dev/null ||
		fail "machine $i: overlay inconsistent"
done
rows=$(fb overlay list --json | grep -o '"mac": *"52-54-00-dd-00-0[0-9]"' | sort -u | wc -l)
assert_eq "$rows" "$N" "overlay rows recorded"

echo "== 4 connections of one machine at its first attach share one disk"
i=$((N + 1)) m=$(mac_of $((N + 1)))
for k in 1 2 3 4; do
	in_client "$i" timeout 60 nbdinfo --size "$(sd_uri "$i" "$m")" >"$T/multi-$k.log" 2>&1 &
	echo $! >"$T/multi-$k.pid"
done
for k in 1 2 3 4; do
	wait "$(cat "$T/multi-$k.pid")" || { cat "$T/multi-$k.log" "$SD_LOG"; fail "connection $k of $m failed"; }
done
assert_eq "$(grep -c "$m: new overlay" "$SD_LOG")" 1 "overlays created for $m"
grep -E "ERROR: AddressSanitizer|runtime error:" "$SD_LOG" && fail "sanitizer report"
echo "ok: $N first attaches in $ms ms with $DELAY_MS ms fsyncs; 4 connections shared one new overlay"
