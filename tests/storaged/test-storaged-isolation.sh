#!/usr/bin/env bash
# Isolation in fleetboot-storaged itself (issue 13), each attacker an
# ordinary user (nobody) on its own client:
#   - one machine, however its MAC is spelt in the iSCSI login (capitals,
#     colons), is one machine with one overlay;
#   - a flood of NBD connections for one machine stops at
#     nbd_conns_per_machine, while another machine still opens its disk;
#   - storaged -vv logs no export name and no credential.
# timeout: 240
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-storaged.sh
. "$(dirname "$0")/lib-storaged.sh"
requires setpriv
/usr/bin/python3 -c 'import nbd' 2>/dev/null || skip "no python3-libnbd"
tool=$FB_BIN/../tests/storaged/iscsi-badclient
[ -x "$tool" ] || skip "iscsi-badclient not built"
sd_setup
echo "nbd_conns_per_machine = 2" >>"$CONF"
A=52-54-00-ee-00-01 B=52-54-00-ee-00-02 C=52-54-00-ee-00-03
fb machine add $A --image base --mode persistent --protocol iscsi --ip 10.77.1.11 >/dev/null ||
	fail "add A"
fb machine add $B --image base --mode persistent --ip 10.77.2.12 >/dev/null || fail "add B"
fb machine add $C --image base --mode persistent --ip 10.77.3.13 >/dev/null || fail "add C"
sd_net 1 10.77.1.11
sd_net 2 10.77.2.12
sd_net 3 10.77.3.13
SD_ARGS=-vv sd_start_iscsi
SA=$(cred_of $A) SB=$(cred_of $B) SC=$(cred_of $C)
user() { # N CMD...: CMD as nobody in client namespace N
	local n=$1
	shift
	in_client "$n" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

echo "== MAC spellings: one machine, one overlay"
ucA=$(echo $A | tr a-f A-F)
colA=$(echo $A | tr - :)
for spell in "$A $A" "$ucA $ucA" "$colA $colA" "$colA $ucA"; do
	# shellcheck disable=SC2086 # two words: target MAC, CHAP name
	user 1 timeout 30 "$tool" 10.77.1.1 3260 $A "$SA" spell $spell ||
		{ tail -20 "$SD_LOG"; fail "spelling '$spell' of A refused"; }
done
for spell in "$(echo $A | tr -d -)" "52-54:00-ee-00-01" "$A-00"; do
	user 1 timeout 30 "$tool" 10.77.1.1 3260 $A "$SA" spell "$spell" "$spell" &&
		fail "malformed spelling '$spell' logged in"
done
ls "$T/state/overlays/"
n=$(find "$T/state/overlays" -name '*.ovl' | wc -l)
assert_eq "$n" 1 "overlays after four spellings of one machine"
[ -f "$T/state/overlays/$A.ovl" ] || fail "the overlay is not named by the canonical MACID"

echo "== NBD connection flood for one machine (cap 2)"
user 2 /usr/bin/python3 - "$(sd_uri 2 $B "$SB")" 6 >"$T/flood.out" 2>&1 <<'PY' &
import nbd, sys, time
uri, n = sys.argv[1], int(sys.argv[2])
hs, ok = [], 0
for _ in range(n):
    h = nbd.NBD()
    try:
        h.connect_uri(uri)
        h.pread(512, 0)
        hs.append(h)
        ok += 1
    except nbd.Error:
        pass
print("open", ok, flush=True)
time.sleep(6)
for h in hs:
    h.shutdown()
PY
flood=$!
wait_for 20 grep -q "^open" "$T/flood.out" || { cat "$T/flood.out"; fail "flood did not run"; }
opened=$(sed -n 's/^open //p' "$T/flood.out")
echo "opened: $opened of 6"
[ "$opened" -le 2 ] || fail "$opened NBD connections for one machine (cap 2)"
user 3 timeout 20 nbdinfo --size "$(sd_uri 3 $C "$SC")" >/dev/null ||
	fail "another machine could not open its disk during the flood"
logged "refused export for $B from 10.77.2.12: 2 connections open" "NBD cap"
[ "$(grep -c "connections open, the cap" "$SD_LOG")" -le 2 ] || fail "over-cap log not rate-limited"
wait $flood

echo "== storaged -vv logs no credential"
for s in "$SA" "$SB" "$SC"; do
	grep -q "$s" "$SD_LOG" && fail "a credential is in the -vv log"
done
grep -q "NBD: $C connected from 10.77.3.13" "$SD_LOG" || fail "-vv did not log the connection by MACID"
sd_stop
grep -E "ERROR: AddressSanitizer|runtime error:" "$SD_LOG" && fail "sanitizer report"
echo ok
