#!/usr/bin/env bash
# The iSCSI attacks of issue 13, each by an ordinary user (nobody) on a
# client, against the target of fleetboot-storaged (the test target, with
# machines A and B):
#   - solicited Data-Out replayed and overlapping: CHECK CONDITION, and the
#     target stays up with a clean sanitizer log;
#   - TargetName switched in a later login PDU: A's login fails and B's
#     session survives;
#   - the MAC spelt with colons or capitals is the same machine; anything
#     else is refused;
#   - unknown machine, refused address and wrong CHAP secret get
#     byte-identical login responses;
#   - mutual CHAP: the target does not answer with the initiator's secret;
#   - a flood of connections that never log in is capped per address, and
#     another address still logs in.
# timeout: 180
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-iscsi.sh
. "$(dirname "$0")/lib-iscsi.sh"
requires setpriv
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
tool=$FB_BIN/../tests/storaged/iscsi-badclient
[ -x "$tool" ] || skip "iscsi-badclient not built"
it_setup
# A second client address for "another address still logs in".
ip -n "$CLI" addr add 10.79.1.3/24 dev eth0
it_start -L 4:16
# The same target, but every peer address refused (as require_lease_ip
# refuses a client that is not the machine's).
PORT=3261 it_start -a 10.79.1.99
user() { in_cli setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
alive() { kill -0 "$(cat "$T/target-$1.pid")" || fail "target on port $1 died"; }

echo "== Data-Out replay and overlap"
user timeout 30 "$tool" 10.79.1.1 3260 "$A" "$SA" dataout || {
	tail -20 "$T/target-3260.log"
	fail "replayed Data-Out not refused"
}
alive 3260

echo "== TargetName switch"
user timeout 30 "$tool" 10.79.1.1 3260 "$A" "$SA" switch "$B" "$SB" || {
	tail -20 "$T/target-3260.log"
	fail "TargetName switch"
}
grep -q "TargetName changed during login" "$T/target-3260.log" || fail "switch not logged"

echo "== MAC spellings"
ucA=$(echo "$A" | tr a-f A-F)
colA=$(echo "$A" | tr - :)
for spell in "$A $A" "$ucA $ucA" "$colA $colA" "$colA $ucA"; do
	# shellcheck disable=SC2086 # two words: target MAC, CHAP name
	user timeout 20 "$tool" 10.79.1.1 3260 "$A" "$SA" spell $spell ||
		fail "spelling '$spell' of A refused"
done
for spell in "$(echo "$A" | tr -d -)" "${A%?}" "$A-00" "${A}x" "52-54:00-1c-00-0a"; do
	user timeout 20 "$tool" 10.79.1.1 3260 "$A" "$SA" spell "$spell" "$spell" &&
		fail "malformed spelling '$spell' logged in"
done
grep -q "not a fleetboot target name" "$T/target-3260.log" || fail "bad spelling not logged"

echo "== uniform login failures"
unknown=$(user timeout 20 "$tool" 10.79.1.1 3260 52-54-00-ee-ee-ee "$SA" loginbytes)
wrong=$(user timeout 20 "$tool" 10.79.1.1 3260 "$A" 00000000000000000000000000000000 loginbytes)
forbidden=$(user timeout 20 "$tool" 10.79.1.1 3261 "$A" "$SA" loginbytes)
echo "unknown:   $unknown"
echo "wrong:     $wrong"
echo "forbidden: $forbidden"
case $wrong in RESP\ *) ;; *) fail "wrong secret: $wrong" ;; esac
assert_eq "$unknown" "$wrong" "unknown machine answered unlike a wrong secret"
assert_eq "$forbidden" "$wrong" "refused address answered unlike a wrong secret"
grep -q "unknown machine" "$T/target-3260.log" || fail "unknown machine not logged as such"
grep -q "wrong CHAP secret" "$T/target-3260.log" || fail "wrong secret not logged as such"
grep -q "peer address not allowed" "$T/target-3261.log" || fail "refused address not logged"

echo "== mutual CHAP"
user timeout 20 "$tool" 10.79.1.1 3260 "$A" "$SA" mutual || fail "mutual CHAP"

echo "== pre-login connection flood (cap 4 per address)"
# 20 connections from 10.79.1.2 that never log in; count how many the
# target keeps open after a moment.
user /usr/bin/python3 - 10.79.1.1 3260 20 10.79.1.2 >"$T/flood.out" 2>&1 <<'PY' &
import socket, sys, time
host, port, n, src = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(3)
    s.connect((host, port))
    socks.append(s)
time.sleep(1.5)
open_ = 0
for s in socks:
    s.settimeout(0.2)
    try:
        if s.recv(1) == b"":
            continue  # closed by the target
    except socket.timeout:
        pass
    except OSError:
        continue
    open_ += 1
print("open", open_, flush=True)
time.sleep(6)
PY
flood=$!
wait_for 10 grep -q "^open" "$T/flood.out" || { cat "$T/flood.out"; fail "flood did not run"; }
kept=$(sed -n 's/^open //p' "$T/flood.out")
echo "kept open: $kept of 20"
[ "$kept" -le 4 ] || fail "$kept pre-login connections kept from one address (cap 4)"
grep -q "too many from this address not logged in" "$T/target-3260.log" ||
	fail "cap not logged"
[ "$(grep -c "too many from this address" "$T/target-3260.log")" -le 2 ] ||
	fail "over-cap log not rate-limited"
BADCLIENT_SRC=10.79.1.3 user timeout 20 "$tool" 10.79.1.1 3260 "$B" "$SB" spell "$B" "$B" ||
	fail "another address could not log in during the flood"
wait $flood
alive 3260
alive 3261
it_san_check
echo ok
