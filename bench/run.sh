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
[ $ran = 0 ] && echo "no benchmarks yet"
exit $status
