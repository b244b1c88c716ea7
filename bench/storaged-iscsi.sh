#!/usr/bin/env bash
# bench/storaged-iscsi.sh - fleetboot's iSCSI target against tgt (tgtd,
# rdwr file backing store), same 1 GiB base file content, same run, same
# client: a small libiscsi load generator (bench/iscsi_bench.c, built
# here) over TCP inside a private network namespace. Four workloads:
# 4 KiB random read and write at queue depth 16, 1 MiB sequential read
# and write at queue depth 4. Then the target's memory per idle session.
#
# The machine may be shared, so each row runs FB_BENCH_ROUNDS times,
# alternating the two targets, and keeps each target's best run.
#
#   FB_BENCH_SECS=5 FB_BENCH_ROUNDS=3 bash bench/storaged-iscsi.sh
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${FB_BIN:=$top/build/bin}"
SECS=${FB_BENCH_SECS:-5}
ROUNDS=${FB_BENCH_ROUNDS:-3}
SIZE=${FB_BENCH_SIZE:-1G}
NIDLE=${FB_BENCH_SESSIONS:-200}

for c in gcc tgtd tgtadm; do
	command -v $c >/dev/null || { echo "skip: $c not installed"; exit 0; }
done
[ -f /usr/include/iscsi/iscsi.h ] || { echo "skip: libiscsi-dev not installed"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root (network namespace)"; exit 0; }
[ -x "$FB_BIN/fleetboot-iscsi-testtarget" ] || { echo "skip: build first (make)"; exit 0; }

T=$(mktemp -d "${TMPDIR:-/tmp}/fbbench.XXXXXX")
NS=fbib$$
pids=()
cleanup() {
	for p in "${pids[@]}" $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${pids[@]}" $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up && ip -n "$NS" addr add 10.79.9.1/32 dev lo || exit 1
inns() { ip netns exec "$NS" "$@"; }

gcc -std=c11 -D_GNU_SOURCE -O2 -o "$T/iscsi-bench" "$top/bench/iscsi_bench.c" -liscsi || exit 1

MAC=52-54-00-be-00-01
SEC=bebebebebebebebebebebebebebebebe
IQN=iqn.2026-11.org.fleetboot:$MAC
# One base, copied for each target so both start from the same content.
head -c 64M /dev/urandom >"$T/chunk"
truncate -s "$SIZE" "$T/base.img"
dd if="$T/chunk" of="$T/base.img" conv=notrunc status=none
cp --sparse=always "$T/base.img" "$T/fb.img"
cp --sparse=always "$T/base.img" "$T/tgt.img"

inns "$FB_BIN/fleetboot-iscsi-testtarget" -l 10.79.9.1 -p 3260 -P "$T/fb.pid" \
	-m "$MAC:$SEC:$T/fb.img" >"$T/fb.log" 2>&1 &
pids+=($!)
cp=$((($$ % 10000) + 10000))
inns tgtd -f -C "$cp" --iscsi portal=10.79.9.1:3261 >"$T/tgtd.log" 2>&1 &
pids+=($!)
tadm() { inns tgtadm -C "$cp" --lld iscsi "$@"; }
TGT_PID=
for _ in $(seq 50); do tadm --op show --mode target >/dev/null 2>&1 && break; sleep 0.1; done
if ! { tadm --op new --mode target --tid 1 -T "$IQN" &&
	tadm --op new --mode logicalunit --tid 1 --lun 1 -b "$T/tgt.img" &&
	tadm --op bind --mode target --tid 1 -I ALL &&
	tadm --op new --mode account --user "$MAC" --password "$SEC" &&
	tadm --op bind --mode account --tid 1 --user "$MAC"; }; then
	echo "tgt setup failed"
	exit 1
fi
TGT_PID=$(ip netns pids "$NS" | while read -r p; do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = tgtd ] && echo "$p"
done | head -n 1)
sleep 0.3

FB_URL="iscsi://$MAC%$SEC@10.79.9.1:3260/$IQN/0"
TGT_URL="iscsi://$MAC%$SEC@10.79.9.1:3261/$IQN/1"
run() { inns "$T/iscsi-bench" "$@" 2>"$T/err" || { cat "$T/err" >&2; echo "0 0 1"; }; }
# CPU time (ms) a process used so far: the machine is shared, so besides
# throughput the table shows the server CPU each I/O cost.
cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$1/stat"; }
# run PID URL MODE BS QD -> "IOPS MBps US_PER_IO"
run_cpu() {
	local pid=$1 a b r
	shift
	a=$(cpu_ms "$pid")
	r=$(run "$@" "$SECS")
	b=$(cpu_ms "$pid")
	echo "$r" | awk -v d=$((b - a)) -v s="$SECS" '{printf "%s %s %.1f\n", $1, $2, $1 ? d * 1000 / ($1 * s) : 0}'
}

FB_PID=$(cat "$T/fb.pid")
printf '%-20s %13s %13s %7s %18s\n' workload "fleetboot" "tgt $(tgtd --version 2>/dev/null | head -n1)" ratio "server us/IO fb/tgt"
for w in "4K randread QD16:randread 4096 16" "4K randwrite QD16:randwrite 4096 16" \
	"1M seq read QD4:read 1048576 4" "1M seq write QD4:write 1048576 4"; do
	name=${w%%:*}
	read -r mode bs qd <<<"${w#*:}"
	f_io=0 f_mb=0 f_cpu=0 t_io=0 t_mb=0 t_cpu=0
	for _ in $(seq "$ROUNDS"); do
		read -r a b c <<<"$(run_cpu "$FB_PID" "$FB_URL" "$mode" "$bs" "$qd")"
		[ "${a%.*}" -gt "${f_io%.*}" ] && f_io=$a f_mb=$b f_cpu=$c
		read -r a b c <<<"$(run_cpu "$TGT_PID" "$TGT_URL" "$mode" "$bs" "$qd")"
		[ "${a%.*}" -gt "${t_io%.*}" ] && t_io=$a t_mb=$b t_cpu=$c
	done
	if [ "$bs" = 4096 ]; then
		a="$f_io IOPS" b="$t_io IOPS" ratio=$(awk -v x="$f_io" -v y="$t_io" 'BEGIN {printf "%.2fx", y ? x / y : 0}')
	else
		a="$f_mb MB/s" b="$t_mb MB/s" ratio=$(awk -v x="$f_mb" -v y="$t_mb" 'BEGIN {printf "%.2fx", y ? x / y : 0}')
	fi
	printf '%-20s %13s %13s %7s %18s\n' "$name" "$a" "$b" "$ratio" "$f_cpu / $t_cpu"
done

# Memory per idle logged-in session (fleetboot target only: one process).
if [ "$NIDLE" -gt 0 ]; then
	rss0=$(awk '/VmRSS/ {print $2}' "/proc/$FB_PID/status")
	fd0=$(find "/proc/$FB_PID/fd" -mindepth 1 | wc -l)
	for _ in $(seq "$NIDLE"); do
		inns "$T/iscsi-bench" "$FB_URL" idle 4096 1 20 >/dev/null 2>&1 &
		echo $! >>"$T/idle.pids"
	done
	sleep 5
	rss1=$(awk '/VmRSS/ {print $2}' "/proc/$FB_PID/status")
	fd1=$(find "/proc/$FB_PID/fd" -mindepth 1 | wc -l)
	n=$((fd1 - fd0))
	echo "idle sessions: $n logged in; target RSS +$((rss1 - rss0)) KiB," \
		"$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN {printf "%.1f", n ? (b - a) / n : 0}') KiB and 1 fd per session"
	xargs -r kill <"$T/idle.pids" 2>/dev/null
fi
