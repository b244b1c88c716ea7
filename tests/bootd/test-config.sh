#!/usr/bin/env bash
# fleetboot-bootd -n: a valid configuration passes (and -v prints it), a
# bad one fails with a message naming the file, line and key.
# timeout: 30
. "$(dirname "$0")/../lib.sh"
B=$FB_BIN/fleetboot-bootd
[ -x "$B" ] || skip "fleetboot-bootd is not built"
T=$(tmpdir_new)
cleanup "rm -rf '$T'"
cat >"$T/ok.conf" <<C
[global]
state_dir = $T/state
[bootd]
interface = eth9
dhcp = authoritative
pool = 10.0.0.100-10.0.0.199
http_port = 8067
C
"$B" -n -c "$T/ok.conf" || fail "valid configuration refused"
out=$("$B" -n -v -c "$T/ok.conf" 2>&1) || fail "valid configuration refused with -v: $out"
echo "$out" | grep -q "pool.*10.0.0.100-10.0.0.199" || fail "-n -v does not print the configuration: $out"

printf '[bootd]\ninterface = eth9\ndhcp = sometimes\n' >"$T/bad1.conf"
out=$("$B" -n -c "$T/bad1.conf" 2>&1) && fail "bad dhcp mode accepted"
echo "$out"
echo "$out" | grep -q "bad1.conf:3" || fail "no file:line in: $out"
echo "$out" | grep -q "dhcp" || fail "key not named in: $out"

printf '[bootd]\ninterface = eth9\nhttp_port = 99999\n' >"$T/bad2.conf"
out=$("$B" -n -c "$T/bad2.conf" 2>&1) && fail "bad port accepted"
echo "$out" | grep -q "bad2.conf:3" || fail "no file:line in: $out"

printf '[bootd]\ninterface = eth9\ndhcp = authoritative\n' >"$T/bad3.conf"
out=$("$B" -n -c "$T/bad3.conf" 2>&1) && fail "authoritative without a pool accepted"
echo "$out" | grep -q "pool" || fail "pool not named in: $out"

"$B" -n -c "$T/missing.conf" 2>/dev/null && fail "missing -c file accepted"
"$B" -x 2>/dev/null
[ $? = 2 ] || fail "usage error is not exit 2"
echo pass
