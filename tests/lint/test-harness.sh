#!/usr/bin/env bash
# The test harness does not let failures hide:
# - san_watch: a sanitizer report in a watched daemon log turns a test that
#   passed (or skipped) into a failure naming the log and the report;
# - a daemon that `fleetboot up` restarted (here a stand-in killed with
#   SIGSEGV) fails the test too, unless it says restarts are expected;
# - tests/run.sh under CI=true fails a skip that tests/skips-allowed does
#   not list with a reason, and prints that list.
# The children below are small tests of their own, run in a scratch tree.
. "$(dirname "$0")/../lib.sh"
T=$(tmpdir_new)

# child NAME BODY: a test script sourcing lib.sh; prints its path.
child() {
	{
		echo '#!/usr/bin/env bash'
		echo ". '$FB_TOP/tests/lib.sh'"
		printf '%s\n' "$2"
	} >"$T/$1.sh"
	echo "$T/$1.sh"
}

echo "== a sanitizer report in a watched log fails a passing test"
printf 'started\n%s\n%s\n' "web/handler.c:12:5: runtime error: signed integer overflow" \
	"SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior" >"$T/ubsan.log"
c=$(child ubsan "san_watch '$T/ubsan.log'; echo body ran; exit 0")
out=$(FB_ARTIFACTS=$T/art bash "$c" 2>&1)
rc=$?
echo "$out"
assert_eq "$rc" 1 "exit status of a passing test with a UBSan report"
echo "$out" | grep -q "FAIL: $T/ubsan.log" || fail "the log is not named"
echo "$out" | grep -q "runtime error: signed integer overflow" || fail "the report is not shown"
ls "$T"/art/logs/watch-ubsan-*-ubsan.log >/dev/null || fail "the log was not kept"
c=$(child skipper "san_watch '$T/ubsan.log'; skip 'no tool'")
bash "$c" >/dev/null 2>&1
assert_eq "$?" 1 "exit status of a skipped test with a sanitizer report"
printf 'ERROR: AddressSanitizer: heap-use-after-free on address 0x6020\n' >"$T/asan.log"
c=$(child failing "san_watch '$T/asan.log'; exit 3")
bash "$c" >/dev/null 2>&1
assert_eq "$?" 3 "a failing test keeps its own status"
printf 'all quiet\n' >"$T/clean.log"
c=$(child clean "san_watch '$T/clean.log'; san_watch '$T/clean.log'; exit 0")
out=$(bash "$c" 2>&1) || fail "a clean log failed the test: $out"

echo "== a daemon restarted by fleetboot up fails the test"
mkdir -p "$T/bin"
cp "$FB_BIN/fleetboot" "$T/bin/"
for d in bootd storaged web; do
	cat >"$T/bin/fleetboot-$d" <<S
#!/bin/sh
echo \$\$ >>"$T/$d.pids"
trap 'exit 0' TERM
while :; do sleep 0.1; done
S
	chmod +x "$T/bin/fleetboot-$d"
done
conf=$(fixture_state "$T/st")
out=$("$T/bin/fleetboot" -c "$conf" init 2>&1) || fail "init: $out"
# The child starts up, kills storaged with SIGSEGV, waits for the restart
# and exits 0 ($1: san_watch's options).
body=$(
	cat <<S
san_watch \${1:-} '$T/up.log'
rm -f '$T/storaged.pids'
'$T/bin/fleetboot' -c '$conf' up >'$T/up.log' 2>&1 &
echo \$! >'$T/up.pid'
cleanup "kill -TERM \$(cat '$T/up.pid'); wait_for 10 sh -c '! kill -0 \$(cat $T/up.pid)'"
wait_for 10 test -s '$T/storaged.pids' || fail "storaged did not start"
kill -SEGV "\$(head -n 1 '$T/storaged.pids')"
wait_for 10 sh -c "test \\\$(wc -l <'$T/storaged.pids') = 2" || fail "no restart"
exit 0
S
)
c=$(child up "$body")
out=$(FB_ARTIFACTS=$T/art bash "$c" 2>&1)
rc=$?
echo "$out"
assert_eq "$rc" 1 "exit status of a test whose daemon was restarted"
echo "$out" | grep -q "a daemon was restarted by fleetboot up" || fail "no restart named"
echo "$out" | grep -q "fleetboot-storaged exited (signal 11, Segmentation fault); restarting in 1 s" ||
	fail "the restart line is not shown"
"$T/bin/fleetboot" -c "$conf" status | grep -q '^ *up.restarts *1 (last: fleetboot-storaged exited (signal 11' ||
	fail "status has no up.restarts: $("$T/bin/fleetboot" -c "$conf" status)"
out=$(bash "$c" --restarts-ok 2>&1) || fail "a test expecting restarts failed: $out"

echo "== run.sh under CI=true: an unlisted skip fails"
mkdir -p "$T/top/tests/demo"
cp "$FB_TOP/tests/run.sh" "$FB_TOP/tests/lib.sh" "$T/top/tests/"
printf '#!/usr/bin/env bash\necho "skip: frobctl is not installed"\nexit 77\n' \
	>"$T/top/tests/demo/test-skips.sh"
printf '# nothing\n' >"$T/top/tests/skips-allowed"
run() { (unset FB_BIN FB_BIN_FAST FB_ARTIFACTS FB_TESTS && "$@" bash "$T/top/tests/run.sh" 2>&1); }
out=$(run env CI=true)
rc=$?
echo "$out"
[ $rc != 0 ] || fail "an unlisted skip passed under CI=true"
echo "$out" | grep -q "^FAIL demo/test-skips: skipped under CI=true.*frobctl is not installed" ||
	fail "no clear line for the skip"
echo "$out" | grep -q "^    (nothing)" || fail "the empty allow-list is not printed"
out=$(run env CI=) || fail "a skip outside CI failed: $out"
echo "$out" | grep -q "^SKIP demo/test-skips: frobctl is not installed" || fail "skip line: $out"
printf 'demo/test-skips  frobctl exists on no CI machine\n' >>"$T/top/tests/skips-allowed"
out=$(run env CI=true) || fail "a listed skip failed under CI=true: $out"
echo "$out" | grep -q "^    demo/test-skips  frobctl exists on no CI machine" ||
	fail "the allow-list is not printed: $out"
printf 'demo/test-other\n' >>"$T/top/tests/skips-allowed"
out=$(run env CI=true)
assert_eq "$?" 2 "an allow-list entry without a reason"
echo "$out" | grep -q "skips-allowed:3: 'demo/test-other' has no reason" || fail "message: $out"

echo "== requires names the Debian package"
c=$(child req "PATH=/nonexistent; requires perfdhcp")
out=$(bash "$c" 2>&1)
assert_eq "$?" 77 "requires of a missing tool"
echo "$out" | grep -q "^skip: perfdhcp is not installed (Debian package kea-admin" || fail "message: $out"
echo "harness ok"
