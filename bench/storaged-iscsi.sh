#!/usr/bin/env bash
# bench/storaged-iscsi.sh - fleetboot's iSCSI target against tgt (tgtd,
# rdwr file backing store), same 1 GiB base content, same run, same
# client: a small libiscsi load generator (tests/storaged/iscsi_bench.c,
# built by make) over TCP inside a private network namespace. fleetboot twice:
# fleetboot-storaged itself serving a machine's persistent copy-on-write
# overlay on the imported base (what a booted machine gets), and the same
# target over a plain copy of the base (fleetboot-iscsi-testtarget, the
# like-for-like comparison with tgt's plain file). Four workloads: 4 KiB
# random read and write at queue depth 16, 1 MiB sequential read and
# write at queue depth 4. Then the target's memory per idle session.
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

for c in gcc tgtd tgtadm jq mke2fs; do
	command -v $c >/dev/null || { echo "skip: $c not installed"; exit 0; }
done
[ -f /usr/include/iscsi/iscsi.h ] || { echo "skip: libiscsi-dev not installed"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root (network namespace)"; exit 0; }
for b in fleetboot fleetboot-storaged fleetboot-iscsi-testtarget; do
	[ -x "$FB_BIN/$b" ] || { echo "skip: build first (make)"; exit 0; }
done

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

IB=$FB_BIN/../tests/storaged/iscsi-bench
[ -x "$IB" ] || { echo "skip: $IB not built (make)"; exit 0; }

MAC=52-54-00-be-00-01
SEC=bebebebebebebebebebebebebebebebe
IQN=iqn.2026-11.org.fleetboot:$MAC
# One base (1 GiB of incompressible data with an ext4 signature, so
# `image import` takes it): imported for storaged, copied for the others.
export FLEETBOOT_CONF=$T/fleetboot.conf
export FLEETBOOT_USER=root # the tree stays root's: $T (0700) shuts out a service user
printf '[global]\nstate_dir = %s\n[storaged]\nnbd_port = 10819\niscsi_port = 3262\nrequire_lease_ip = off\n' \
	"$T/state" >"$FLEETBOOT_CONF"
fb() { "$FB_BIN/fleetboot" "$@"; }
fb init >/dev/null 2>&1 || { echo "fleetboot init failed"; exit 1; }
mke2fs -q -t ext4 "$T/base.img" "$SIZE" >/dev/null 2>&1
dd if=/dev/urandom of="$T/base.img" bs=1M seek=4 count=$(($(stat -c %s "$T/base.img") / 1048576 - 4)) \
	conv=notrunc status=none
printf 'MZ bench kernel' >"$T/k"
printf '070701 bench initrd' >"$T/i"
fb image import base --rootfs "$T/base.img" --kernel "$T/k" --initrd "$T/i" >/dev/null 2>&1 ||
	{ echo "image import failed"; exit 1; }
fb machine add $MAC --image base --mode persistent --protocol iscsi >/dev/null ||
	{ echo "machine add failed"; exit 1; }
SD_SEC=$(fb machine credential $MAC)
cp --sparse=always "$T/base.img" "$T/fb.img"
cp --sparse=always "$T/base.img" "$T/tgt.img"

inns "$FB_BIN/fleetboot-storaged" -f >"$T/sd.log" 2>&1 &
pids+=($!)
# -L: every bench session comes from one address, so the pre-login cap per
# address (8 by default, against floods) must admit the idle row's sessions.
inns "$FB_BIN/fleetboot-iscsi-testtarget" -l 10.79.9.1 -p 3260 -P "$T/fb.pid" \
	-L "$((NIDLE + 8)):$((NIDLE + 64))" -m "$MAC:$SEC:$T/fb.img" >"$T/fb.log" 2>&1 &
pids+=($!)
cp=$((($$ % 10000) + 10000))
inns tgtd -f -C "$cp" --iscsi portal=10.79.9.1:3261 >"$T/tgtd.log" 2>&1 &
pids+=($!)
tadm() { inns tgtadm -C "$cp" --lld iscsi "$@"; }
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

SD_URL="iscsi://$MAC%$SD_SEC@10.79.9.1:3262/$IQN/0"
FB_URL="iscsi://$MAC%$SEC@10.79.9.1:3260/$IQN/0"
TGT_URL="iscsi://$MAC%$SEC@10.79.9.1:3261/$IQN/1"
# The base in the page cache for everyone alike.
cat "$T/state/images/base/1/rootfs.img" "$T/fb.img" "$T/tgt.img" >/dev/null
run() { inns "$IB" "$@" 2>"$T/err" || { cat "$T/err" >&2; echo "0 0 1"; }; }
# CPU time (ms) a process used so far: the machine is shared, so besides
# throughput the table shows the server CPU each I/O cost.
cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$1/stat"; }
# run_cpu PID URL MODE BS QD -> "IOPS MBps US_PER_IO"
run_cpu() {
	local pid=$1 a b r
	shift
	a=$(cpu_ms "$pid")
	r=$(run "$@" "$SECS")
	b=$(cpu_ms "$pid")
	echo "$r" | awk -v d=$((b - a)) -v s="$SECS" '{printf "%s %s %.1f\n", $1, $2, $1 ? d * 1000 / ($1 * s) : 0}'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.2fx", y ? x / y : 0}'; }

FB_PID=$(cat "$T/fb.pid")
SD_PID=$(ip netns pids "$NS" | while read -r p; do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = fleetboot-stora ] && echo "$p"
done | head -n 1)
printf '%-18s %14s %14s %14s %7s %8s %22s\n' workload "fleetboot CoW" "fleetboot file" \
	"tgt $(tgtd --version 2>/dev/null | head -n1)" "CoW/tgt" "file/tgt" "server us/IO C/f/t"
for w in "4K randread QD16:randread 4096 16" "4K randwrite QD16:randwrite 4096 16" \
	"1M seq read QD4:read 1048576 4" "1M seq write QD4:write 1048576 4"; do
	name=${w%%:*}
	read -r mode bs qd <<<"${w#*:}"
	declare -A io=() mb=() us=()
	for k in sd fb tgt; do io[$k]=0 mb[$k]=0 us[$k]=0; done
	for _ in $(seq "$ROUNDS"); do
		for k in sd fb tgt; do
			case $k in
			sd) pid=$SD_PID url=$SD_URL ;;
			fb) pid=$FB_PID url=$FB_URL ;;
			tgt) pid=$TGT_PID url=$TGT_URL ;;
			esac
			read -r a b c <<<"$(run_cpu "$pid" "$url" "$mode" "$bs" "$qd")"
			[ "${a%.*}" -gt "${io[$k]%.*}" ] && io[$k]=$a mb[$k]=$b us[$k]=$c
		done
	done
	unit=IOPS
	[ "$bs" = 4096 ] || { unit=MB/s; for k in sd fb tgt; do io[$k]=${mb[$k]}; done; }
	printf '%-18s %14s %14s %14s %7s %8s %22s\n' "$name" "${io[sd]} $unit" "${io[fb]} $unit" \
		"${io[tgt]} $unit" "$(ratio "${io[sd]}" "${io[tgt]}")" \
		"$(ratio "${io[fb]}" "${io[tgt]}")" "${us[sd]} / ${us[fb]} / ${us[tgt]}"
done

# Memory per idle logged-in session (the test target: one process, no
# nbdkit beside it).
if [ "$NIDLE" -gt 0 ]; then
	rss0=$(awk '/VmRSS/ {print $2}' "/proc/$FB_PID/status")
	fd0=$(find "/proc/$FB_PID/fd" -mindepth 1 | wc -l)
	for _ in $(seq "$NIDLE"); do
		inns "$IB" "$FB_URL" idle 4096 1 20 >/dev/null 2>&1 &
		echo $! >>"$T/idle.pids"
	done
	# Wait until every session is in (or 20 s): one fd per session.
	for _ in $(seq 40); do
		fd1=$(find "/proc/$FB_PID/fd" -mindepth 1 | wc -l)
		[ $((fd1 - fd0)) -ge "$NIDLE" ] && break
		sleep 0.5
	done
	sleep 1
	rss1=$(awk '/VmRSS/ {print $2}' "/proc/$FB_PID/status")
	fd1=$(find "/proc/$FB_PID/fd" -mindepth 1 | wc -l)
	n=$((fd1 - fd0))
	if [ "$n" -lt "$NIDLE" ]; then
		echo "   only $n of $NIDLE idle sessions logged in"
		status=1
	fi
	echo "idle sessions: $n logged in; target RSS +$((rss1 - rss0)) KiB," \
		"$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN {printf "%.1f", n ? (b - a) / n : 0}') KiB and 1 fd per session"
	while read -r p; do kill "$p" 2>/dev/null; done <"$T/idle.pids"
fi
exit "${status:-0}"
