#!/usr/bin/env bash
# fleetboot-storaged's iSCSI side wired to the database and the engine
# (the target protocol itself is tested by tests/storaged/test-iscsi*.sh):
# a machine logs in with CHAP as itself and reads/writes its own overlay;
# the overlay is the one NBD serves; a second protocol is refused while one
# holds the overlay; a wrong credential, the machine's long-lived secret, an
# earlier boot's credential and foreign peers are refused and logged.
# timeout: 240
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
# Everything it needs is checked here, before any check runs: a skip
# halfway would throw away the checks already passed.
requires iscsi-ls iscsi-inq qemu-io
qemu-io --help 2>&1 | grep -q iscsi || qemu-img --help 2>&1 | grep -qw iscsi ||
	skip "qemu has no iscsi:// support (Debian package qemu-block-extra; make deps installs it)"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import nbd' 2>/dev/null ||
	skip "no python3 nbd module (Debian package python3-libnbd; make deps installs it)"
sd_setup
A=52-54-00-dd-00-01 B=52-54-00-dd-00-02
fb machine add $A --image base --mode persistent --protocol iscsi --ip 10.77.1.11 >/dev/null ||
	fail "add A"
fb machine add $B --image base --mode persistent --protocol iscsi --ip 10.77.2.12 >/dev/null ||
	fail "add B"
sd_net 1 10.77.1.11
sd_net 2 10.77.2.12
sd_start_iscsi
SA=$(cred_of $A)
iqn=$ISCSI_IQN ini=$ISCSI_INI
url() { echo "iscsi://$1%$2@10.77.$3.1:3260/$iqn:$1/0"; }

# iscsi_refused PATTERN WHAT URL: iscsi-inq from client 1 fails, for the
# reason storaged logs.
iscsi_refused() {
	refused_for "$SD_LOG" "$1" "$2" in_client 1 timeout 20 iscsi-inq -i $ini "$3"
}

echo "== login with CHAP, inquiry, write and read back"
in_client 1 iscsi-inq -i $ini "$(url $A "$SA" 1)" >"$T/inq.log" 2>&1 ||
	{ cat "$T/inq.log" "$SD_LOG"; fail "iscsi-inq as A"; }
in_client 1 qemu-io -c 'write -P 0x3c 1M 256k' -c flush \
	--image-opts "driver=iscsi,transport=tcp,portal=10.77.1.1:3260,target=$iqn:$A,lun=0,user=$A,password=$SA,initiator-name=$ini" \
	>"$T/qio.log" 2>&1 || { cat "$T/qio.log" "$SD_LOG"; fail "qemu-io write over iSCSI"; }

echo "== the same overlay over NBD shows the write"
sd_qio_read 1 "$(sd_uri 1 $A)" "the iSCSI write read over NBD" 'read -P 0x3c 1M 256k'

echo "== one writer: iSCSI refused while NBD holds the overlay"
in_client 1 /usr/bin/python3 -c '
import nbd, sys, time
h = nbd.NBD(); h.connect_uri(sys.argv[1]); h.pread(512, 0); time.sleep(4); h.shutdown()
' "$(sd_uri 1 $A)" &
holder=$!
sleep 1.5
iscsi_refused "$A: overlay in use by another connection" "iSCSI got the overlay while NBD held it" \
	"$(url $A "$SA" 1)"
wait $holder || fail "NBD holder failed"
in_client 1 iscsi-inq -i $ini "$(url $A "$SA" 1)" >/dev/null 2>&1 ||
	fail "iSCSI refused after NBD let go"

echo "== refusals"
iscsi_refused "refused: wrong CHAP secret" "a wrong CHAP secret" \
	"$(url $A 0123456789abcdef0123456789abcdef 1)"
iscsi_refused "iSCSI login refused for $B from 10.77.1.11" "A's address logging in as B" \
	"$(url $B "$(cred_of $B)" 1)"
# Issue 13: the long-lived secret is no CHAP secret any more.
iscsi_refused "refused: wrong CHAP secret" "the machine's long-lived secret as CHAP secret" \
	"$(url $A "$(secret_of $A)" 1)"
# A new boot: the previous boot's credential no longer logs in; the new one does.
sd_newboot $A
iscsi_refused "refused: wrong CHAP secret" "the previous boot's credential" "$(url $A "$SA" 1)"
in_client 1 iscsi-inq -i $ini "$(url $A "$(cred_of $A)" 1)" >/dev/null 2>&1 ||
	fail "the new boot's credential did not log in"

sd_stop
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$SD_LOG" && fail "sanitizer report"
echo "iSCSI daemon checks passed"
