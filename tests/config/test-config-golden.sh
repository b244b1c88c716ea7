#!/usr/bin/env bash
# Golden tests for the configuration parser: each NAME.conf either prints
# NAME.ok through `fleetboot config`, or fails with exit 1 and exactly the
# one line in NAME.err.
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")" || exit 1
n=0
for conf in *.conf; do
	base=${conf%.conf}
	if [ -f "$base.ok" ]; then
		out=$("$FB_BIN/fleetboot" -c "$conf" config 2>&1) || fail "$conf: exit $?: $out"
		diff -u "$base.ok" <(printf '%s\n' "$out") || fail "$conf: output differs"
	else
		out=$("$FB_BIN/fleetboot" -c "$conf" config 2>&1)
		rc=$?
		assert_eq "$rc" 1 "$conf exit code"
		diff -u "$base.err" <(printf '%s\n' "$out") || fail "$conf: message differs"
	fi
	n=$((n + 1))
done
# A missing file named with -c is an error naming it.
out=$("$FB_BIN/fleetboot" -c /nonexistent/x.conf config 2>&1)
assert_eq "$?" 1 "missing -c file exit code"
assert_eq "$out" "fleetboot: /nonexistent/x.conf: No such file or directory" "missing file message"
echo "$n golden files checked"
