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
# Then the N machines connect again, each writes a block it does not flush,
# and all N disconnect at once: each close flushes (DELAY per sync) and
# must not hold up another machine's first attach started meanwhile (it
# takes 2 x DELAY of its own; behind N closes it would take N x DELAY
# more). Every written block is then on the server.
# Last, a machine powered off without disconnecting starts a new boot: its
# new connection retires the old one's disk (flushed, closed; the old
# connection's I/O fails from then on) and sees what the old one wrote.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
shim=$SD_TOOLS/slowsync-shim.so
[ -f "$shim" ] || skip "$shim is not built"
sd_setup
N=8
DELAY_MS=400

mac_of() { printf '52-54-00-dd-00-%02x' "$1"; }
for i in $(seq 1 $((N + 2))); do
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

echo "== $N machines with unflushed writes disconnect at once; another machine attaches"
go=$T/go
# nbdsh runs "python3 -m nbd": Debian's python3, which has python3-libnbd.
nbdsh_env=(env PATH="/usr/bin:$PATH")
for i in $(seq 1 "$N"); do
	# shellcheck disable=SC2016 # python, not shell
	in_client "$i" "${nbdsh_env[@]}" timeout 60 nbdsh -u "$(sd_uri "$i" "$(mac_of "$i")")" \
		-c "h.pwrite(bytes([$i]) * 4096, 8192)" \
		-c 'import os, time' \
		-c "open('$T/held-$i', 'w').close()" \
		-c "while not os.path.exists('$go'): time.sleep(0.02)" \
		-c 'h.shutdown()' >"$T/w-$i.log" 2>&1 &
	echo $! >"$T/w-$i.pid"
done
for i in $(seq 1 "$N"); do
	wait_for 30 test -e "$T/held-$i" || { cat "$T/w-$i.log"; fail "machine $i did not write"; }
done
m=$(mac_of $((N + 2)))
touch "$go"
sleep 0.2
t0=$(date +%s%N)
in_client $((N + 2)) timeout 60 nbdinfo --size "$(sd_uri $((N + 2)) "$m")" >"$T/late.log" 2>&1 ||
	{ cat "$T/late.log" "$SD_LOG"; fail "$m: nbdinfo failed"; }
late=$((($(date +%s%N) - t0) / 1000000))
for i in $(seq 1 "$N"); do
	wait "$(cat "$T/w-$i.pid")" || { cat "$T/w-$i.log"; fail "machine $i: nbdsh failed"; }
done
echo "a first attach while $N machines closed took $late ms (behind their closes: over $((N * DELAY_MS)) ms)"
[ "$late" -lt $((5 * DELAY_MS)) ] ||
	fail "a first attach took $late ms while $N machines closed, not under $((5 * DELAY_MS)) ms: it waited for their flushes"
for i in $(seq 1 "$N"); do
	got=$(in_client "$i" "${nbdsh_env[@]}" timeout 60 nbdsh -u "$(sd_uri "$i" "$(mac_of "$i")")" \
		-c "print(h.pread(4096, 8192) == bytes([$i]) * 4096)") ||
		fail "machine $i: read back failed"
	assert_eq "$got" True "machine $i's block written before its close"
done

echo "== a new boot retires the disk its previous boot's connection still holds"
m=$(mac_of 1)
in_client 1 "${nbdsh_env[@]}" timeout 60 nbdsh -u "$(sd_uri 1 "$m")" \
	-c 'h.pwrite(b"\xee" * 4096, 16384)' \
	-c 'import os, time' \
	-c "open('$T/held-old', 'w').close()" \
	-c "while not os.path.exists('$T/go-old'): time.sleep(0.02)" \
	-c '
try:
    h.pread(4096, 0)
    print("served")
except Exception as e:
    print("refused:", e)' >"$T/old.log" 2>&1 &
echo $! >"$T/old.pid"
wait_for 30 test -e "$T/held-old" || { cat "$T/old.log"; fail "the old boot's connection did not write"; }
sd_newboot "$m"
got=$(in_client 1 "${nbdsh_env[@]}" timeout 60 nbdsh -u "$(sd_uri 1 "$m")" \
	-c 'print(h.pread(4096, 16384) == b"\xee" * 4096)') || fail "the new boot could not read"
assert_eq "$got" True "the new boot sees the old connection's unflushed write"
logged "$m: boot .* started: the connection left from boot .* is stale, its disk is closed" "the retire"
touch "$T/go-old"
wait "$(cat "$T/old.pid")"
grep -q "^refused" "$T/old.log" || fail "the stale connection was still served: $(cat "$T/old.log")"
grep -E "ERROR: AddressSanitizer|runtime error:" "$SD_LOG" && fail "sanitizer report"
echo "ok: $N first attaches in $ms ms with $DELAY_MS ms fsyncs; 4 connections shared one new overlay;" \
	"a first attach beside $N closes in $late ms"
