#!/usr/bin/env bash
# `fleetboot up` supervises the three daemons: their output is relayed with
# their names, one that dies is restarted, SIGTERM stops them all.
# Stand-in daemons (small scripts next to a copy of the fleetboot binary)
# keep this test about the supervisor alone; the real daemons run under it
# in the end-to-end tests.
. "$(dirname "$0")/../lib.sh"
T=$(tmpdir_new)
export FLEETBOOT_CONF
FLEETBOOT_CONF=$(fixture_state "$T")
mkdir -p "$T/bin"
cp "$FB_BIN/fleetboot" "$T/bin/"
for d in bootd storaged web; do
	cat >"$T/bin/fleetboot-$d" <<S
#!/bin/sh
echo "$d here with \$*" >&2
echo \$\$ >>"$T/$d.pids"
trap 'echo "$d got TERM" >&2; exit 0' TERM
# storaged dies once, to be restarted.
if [ $d = storaged ] && [ ! -f "$T/died" ]; then touch "$T/died"; sleep 0.3; exit 3; fi
while :; do sleep 0.1; done
S
	chmod +x "$T/bin/fleetboot-$d"
done
"$T/bin/fleetboot" init >/dev/null || fail init
"$T/bin/fleetboot" up >"$T/up.log" 2>&1 &
up=$!
cleanup "kill -9 $up 2>/dev/null; pkill -9 -f '$T/bin/fleetboot-' 2>/dev/null"
wait_for 10 grep -q 'storaged.*restarting in 1 s' "$T/up.log" || fail "no restart seen: $(cat "$T/up.log")"
wait_for 10 sh -c "test \$(wc -l <$T/storaged.pids) = 2" || fail "storaged not restarted"
grep -q '^bootd   | bootd here with -f -c ' "$T/up.log" || fail "bootd output not relayed: $(cat "$T/up.log")"
"$T/bin/fleetboot" status | grep -q 'up.storaged.*running (pid [0-9]*, restarts 1)' ||
	fail "status does not show the restart: $("$T/bin/fleetboot" status)"
kill -TERM $up
wait_for 10 sh -c "! kill -0 $up 2>/dev/null" || fail "up did not exit after SIGTERM"
for d in bootd storaged web; do
	grep -q "$d got TERM" "$T/up.log" || fail "$d was not stopped: $(cat "$T/up.log")"
	p=$(tail -n 1 "$T/$d.pids")
	kill -0 "$p" 2>/dev/null && fail "$d (pid $p) still running"
done
# Missing daemons are a clear error.
rm "$T/bin/fleetboot-web"
err=$("$T/bin/fleetboot" up 2>&1)
assert_eq "$?" 1 "up without fleetboot-web"
echo "$err" | grep -q 'fleetboot-web not found' || fail "message: $err"
cat "$T/up.log"
