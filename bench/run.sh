#!/usr/bin/env bash
# make bench: run every bench/*-*.sh side by side with its peer software and
# print their tables. Timings are reported, never asserted.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export FB_TOP=$top FB_BIN=${FB_BIN:-$top/build/bin}
status=0
ran=0
for b in "$top"/bench/*-*.sh; do
	[ -f "$b" ] || continue
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "   (benchmark exited $?)"; status=1; }
	ran=$((ran + 1))
	echo
done
# The boot storm (bench/storm.sh): FB_STORM_NS lists the machine counts.
for n in ${FB_STORM_NS:-50 200}; do
	echo "== storm, $n machines"
	FB_STORM_N=$n bash "$top/bench/storm.sh" || { echo "   (storm exited $?)"; status=1; }
	ran=$((ran + 1))
	echo
done
[ $ran = 0 ] && echo "no benchmarks yet"
exit $status
