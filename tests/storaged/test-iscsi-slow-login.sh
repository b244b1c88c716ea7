#!/usr/bin/env bash
# A login that is slow on the server's side does not stall other sessions.
# Machine A reads its disk over iSCSI, one command at a time, while machine
# B logs in to a disk whose 3 GiB base image must first have its sha256
# checked (its record of an earlier check no longer matches the file). The
# login's database lookup and disk open run on an I/O thread, so A's
# commands keep being answered within milliseconds meanwhile; before, the
# network thread hashed the image and every session waited seconds.
# timeout: 180
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-storaged.sh"
requires iscsi-inq
ib=$FB_BIN/../tests/storaged/iscsi-bench
[ -x "$ib" ] || skip "iscsi-bench not built"
sd_setup
truncate -s 3G "$T/big.img"
mke2fs -q -t ext4 "$T/big.img" || fail "mke2fs"
for img in big big2; do
	fb image import $img --rootfs "$T/big.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
		>/dev/null 2>&1 || fail "import $img"
done
A=52-54-00-de-00-01 B=52-54-00-de-00-02 C=52-54-00-de-00-03
fb machine add $A --image base --mode persistent --protocol iscsi --ip 10.77.1.11 >/dev/null ||
	fail "add A"
fb machine add $B --image big --mode persistent --protocol iscsi --ip 10.77.2.12 >/dev/null ||
	fail "add B"
fb machine add $C --image big2 --mode persistent --protocol iscsi --ip 10.77.3.13 >/dev/null ||
	fail "add C"
sd_net 1 10.77.1.11
sd_net 2 10.77.2.12
sd_net 3 10.77.3.13
sd_start_iscsi
iqn=$ISCSI_IQN ini=$ISCSI_INI
url() { echo "iscsi://$1%$(cred_of "$1")@10.77.$2.1:3260/$iqn:$1/0"; }

# The files change (same content): their ctime no longer matches the
# record of the check made at import.
touch "$T/state/images/big/1/rootfs.img" "$T/state/images/big2/1/rootfs.img"

echo "== A reads for 8 s; B logs in after 2 s and its base is checked"
in_client 1 "$ib" "$(url $A 1)" randread 4096 1 8 >"$T/a.out" 2>"$T/a.err" &
apid=$!
sleep 2
t0=$(date +%s%N)
in_client 2 iscsi-inq -i $ini "$(url $B 2)" >"$T/b.log" 2>&1 ||
	{ cat "$T/b.log"; tail -n 20 "$SD_LOG"; fail "B's login failed"; }
b_ms=$((($(date +%s%N) - t0) / 1000000))
wait $apid || { cat "$T/a.err"; fail "A's reads failed"; }
read -r iops _ errors max_ms <"$T/a.out"
echo "B's login took $b_ms ms; A: $iops IOPS, $errors errors, slowest command $max_ms ms"
logged "big/1/rootfs.img: sha256 matches" "the check of B's base"
[ "$b_ms" -ge 800 ] ||
	fail "B's login took only $b_ms ms: too quick to tell whether it stalls others"
[ "$errors" = 0 ] || fail "A saw $errors failed commands"
awk -v m="$max_ms" -v b="$b_ms" 'BEGIN { exit !(m < 300 && m < b / 3) }' ||
	fail "A waited $max_ms ms for a command while B logged in ($b_ms ms)"

echo "== C gives up during a slow login: nothing is left holding its disk"
in_client 3 timeout -s KILL 1 iscsi-inq -i $ini "$(url $C 3)" >/dev/null 2>&1 &&
	fail "the login finished within 1 s: too quick to tell"
wait_for 60 in_client 3 iscsi-inq -i $ini "$(url $C 3)" ||
	{ tail -n 20 "$SD_LOG"; fail "C cannot log in after giving up once"; }
kill -0 "$SD_PID" 2>/dev/null || fail "storaged died"
in_client 1 "$ib" "$(url $A 1)" randread 4096 1 1 >"$T/a.out" 2>"$T/a.err" ||
	{ cat "$T/a.err"; fail "A's reads failed afterwards"; }
echo "ok"
