#!/usr/bin/env bash
# fleetboot test runner (make check).
#
# Runs the unit-test programs of the normal and the sanitizer build, then
# every tests/*/test-*.sh script. A script passes with exit 0, is skipped
# with exit 77 (it must print "skip: REASON" first), and fails otherwise.
# Scripts run the sanitizer build of the daemons ($FB_BIN), so real traffic
# is checked by ASan and UBSan too.
#
#   bash tests/run.sh            everything
#   bash tests/run.sh --unit     unit tests only
#   FB_TESTS='bootd/*' bash tests/run.sh   scripts matching a glob (under tests/);
#                                         several globs separated by spaces
#
# Under CI=true a skip is a failure, unless the test is listed in
# tests/skips-allowed ("area/test-name  reason" per line, # comments), which
# the run prints first: a package that stops shipping a tool cannot turn its
# tests into quiet skips on CI.
#
# The last line is "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

unit_only=0
[ "${1:-}" = --unit ] && unit_only=1

export FB_TOP=$top
export FB_ARTIFACTS=${FB_ARTIFACTS:-$top/test-artifacts}
if [ -x "$top/build-san/bin/fleetboot" ] && [ "${FB_NO_SAN:-0}" != 1 ]; then
	export FB_BIN=${FB_BIN:-$top/build-san/bin}
else
	export FB_BIN=${FB_BIN:-$top/build/bin}
fi
export FB_BIN_FAST=$top/build/bin
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$FB_ARTIFACTS/logs"

passed=0 failed=0 skipped=0
failures=()

# The allow-list: entries without a reason are an error.
allow_file=tests/skips-allowed
allowed=()
ci=0
[ "${CI:-}" = true ] && ci=1
if [ -f "$allow_file" ]; then
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}
		read -r entry reason <<<"$line"
		[ -n "${entry:-}" ] || continue
		if [ -z "${reason:-}" ]; then
			echo "$allow_file:$n: '$entry' has no reason; write why it may skip" >&2
			exit 2
		fi
		allowed+=("$entry")
	done <"$allow_file"
fi
if [ $ci = 1 ]; then
	echo "CI=true: a skip fails unless allowed in $allow_file, which allows:"
	if [ ${#allowed[@]} = 0 ]; then
		echo "    (nothing)"
	else
		grep -v '^[[:space:]]*\(#\|$\)' "$allow_file" | sed 's/^/    /'
	fi
fi
skip_allowed() { # NAME
	local a
	for a in "${allowed[@]}"; do
		[ "$a" = "$1" ] && return 0
	done
	return 1
}

run_one() { # name timeout command...
	local name=$1 limit=$2
	shift 2
	local log="$FB_ARTIFACTS/logs/${name//\//_}.log"
	local t0=$SECONDS rc
	timeout --kill-after=20 "$limit" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	local dt=$((SECONDS - t0))
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		echo "PASS $name (${dt}s)"
	elif [ $rc = 77 ]; then
		local why
		why=$(grep -i '^skip:' "$log" | tail -n 1)
		if [ $ci = 1 ] && ! skip_allowed "$name"; then
			failed=$((failed + 1))
			failures+=("$name")
			echo "FAIL $name: skipped under CI=true, and $allow_file does not allow it: ${why#*: }"
		else
			skipped=$((skipped + 1))
			echo "SKIP $name: ${why#*: }"
		fi
	else
		failed=$((failed + 1))
		failures+=("$name")
		[ $rc = 124 ] && echo "  (timed out after ${limit}s)" >>"$log"
		echo "FAIL $name (exit $rc, ${dt}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
	fi
}

for b in build build-san; do
	for t in "$top/$b"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.o | *.d) continue ;; esac
		run_one "unit/$(basename "$t")[$b]" 300 "$t"
	done
done

if [ $unit_only = 0 ]; then
	patterns=${FB_TESTS:-*/test-*.sh}
	scripts=()
	# Split on spaces without expanding: 'cli/*' must match under tests/,
	# not the top folder's cli/.
	read -ra globs <<<"$patterns"
	for p in "${globs[@]}"; do
		# shellcheck disable=SC2206 # the glob is meant to expand here
		scripts+=(tests/$p)
	done
	for t in "${scripts[@]}"; do
		[ -f "$t" ] || continue
		case "$t" in tests/unit/*) continue ;; esac
		# A glob like 'cli/*' also names the folder's other files: only
		# test-*.sh scripts are tests.
		case "$(basename "$t")" in test-*.sh) ;; *) continue ;; esac
		name=${t#tests/}
		limit=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" | head -n 1)
		run_one "${name%.sh}" "${limit:-600}" bash "$t"
	done
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
