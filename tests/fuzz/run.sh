#!/usr/bin/env bash
# Runs each libFuzzer target for SECS seconds on a copy of its corpus
# (tests/fuzz/corpus/NAME/). make builds them (`make fuzzers`, into
# build-fuzz/); `make fuzz` builds and runs them.
#
#   bash tests/fuzz/run.sh SECS FUZZER...
set -euo pipefail
secs=${1:?usage: run.sh SECS FUZZER...}
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$top/tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	if [ -d "$corpus" ]; then cp -r "$corpus"/. "$work"/; fi
	echo "fuzz: running $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$work" >"$bin.log" 2>&1; then
		echo "fuzz: $name found a crash; see $bin.log" >&2
		tail -n 40 "$bin.log" >&2
		rm -rf "$work"
		exit 1
	fi
	grep -E 'stat::number_of_executed_units' "$bin.log"
	rm -rf "$work"
done
echo "fuzz: ran $# targets"
