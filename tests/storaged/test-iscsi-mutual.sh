#!/usr/bin/env bash
# Mutual CHAP for Secure Boot machines over iSCSI (issue 16): the
# initramfs derives the server secret it expects from the boot's
# credential (fb_hmac_sha256_hex of initramfs/fleetboot-lib.sh, shell only)
# and hands it to iscsistart (-U/-W). Here an initiator that checks the
# target's answer against that secret
#   - logs in to storaged, which proves it (the shell derivation and
#     storaged's agree);
#   - rejects a target that answers with another secret (an impostor that
#     accepts the initiator but does not hold the server's secret:
#     fleetboot-iscsi-testtarget, whose mutual secret is the initiator's
#     reversed).
# And storaged insists on it (DESIGN.md): with a real initiator (libiscsi's
# iscsi-inq and iscsi-ls), a Secure Boot machine's one-way CHAP login with
# the right credential is refused (Authentication failure, and the log says
# why); its mutual login succeeds; a machine without Secure Boot still
# logs in one way.
# timeout: 120
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-storaged.sh
. "$(dirname "$0")/lib-storaged.sh"
requires busybox iscsi-inq iscsi-ls
tool=$SD_TOOLS/iscsi-badclient
[ -x "$tool" ] || skip "iscsi-badclient not built"
[ -x "$FB_BIN/fleetboot-iscsi-testtarget" ] || skip "fleetboot-iscsi-testtarget not built"
sd_setup
S=52-54-00-ac-00-01
fb machine add $S --image base --mode readonly --ip 10.77.1.11 --protocol iscsi \
	--secure-boot on >/dev/null || fail "add S"
N=52-54-00-ac-00-02
fb machine add $N --image base --mode readonly --ip 10.77.2.11 --protocol iscsi >/dev/null ||
	fail "add N"
sd_net 1 10.77.1.11
sd_net 2 10.77.2.11
sd_start_iscsi
cred=$(cred_of $S)
ncred=$(cred_of $N)

# The server secret as the initramfs computes it.
server=$(busybox sh -c '. "$1/fleetboot-lib.sh"; fb_hmac_sha256_hex "$2" "fleetboot iscsi mutual chap"' \
	sh "$FB_TOP/initramfs" "$cred")
server=${server:0:32}
[ ${#server} = 32 ] || fail "no server secret from the initramfs's HMAC: '$server'"

echo "== storaged proves the server secret"
in_client 1 timeout 20 "$tool" 10.77.1.1 3260 $S "$cred" mutual "$server" >"$T/good.out" 2>&1 ||
	{ cat "$T/good.out"; tail -n 20 "$SD_LOG"; fail "mutual CHAP with storaged"; }
cat "$T/good.out"

echo "== an impostor target with another server secret is rejected"
cp "$T/base.img" "$T/impostor.img"
ip netns exec "$SRV" "$FB_BIN/fleetboot-iscsi-testtarget" -f -l 10.77.1.1 -p 3261 \
	-P "$T/impostor.pid" -m "$S:$cred:$T/impostor.img" >"$T/impostor.log" 2>&1 &
san_watch "$T/impostor.log"
kill_at_exit "$T/impostor.pid"
wait_for 20 test -s "$T/impostor.pid" || { cat "$T/impostor.log"; fail "impostor target did not start"; }
if in_client 1 timeout 20 "$tool" 10.77.1.1 3261 $S "$cred" mutual "$server" >"$T/bad.out" 2>&1; then
	cat "$T/bad.out"
	fail "the initiator accepted a target that does not hold the server secret"
fi
cat "$T/bad.out"
grep -q "ok mutual CHAP login" "$T/bad.out" || fail "the impostor was refused for another reason"
grep -q "FAIL the target proves the server secret" "$T/bad.out" || fail "no server-secret check"

IQN=$ISCSI_IQN
# inq N MAC CRED [TARGET_PASSWORD]: iscsi-inq from client N as MAC, the
# initiator checking the target's answer against TARGET_PASSWORD if given.
inq() {
	local n=$1 mac=$2 pw=$3 tpw=${4:-}
	local url="iscsi://$mac%$pw@10.77.$n.1/$IQN:$mac/0"
	if [ -n "$tpw" ]; then
		in_client "$n" env LIBISCSI_CHAP_TARGET_USERNAME="$mac" \
			LIBISCSI_CHAP_TARGET_PASSWORD="$tpw" timeout 20 iscsi-inq "$url"
	else
		in_client "$n" timeout 20 iscsi-inq "$url"
	fi
}
sb_refusal="refused: secure boot machine $S: the initiator must authenticate the target (mutual CHAP)"

echo "== a Secure Boot machine's one-way CHAP login is refused"
if inq 1 $S "$cred" >"$T/oneway.out" 2>&1; then
	cat "$T/oneway.out"
	fail "storaged let a Secure Boot machine log in with one-way CHAP"
fi
cat "$T/oneway.out"
grep -qi "authentication fail\|0x0201\|Login Failed\|login failed" "$T/oneway.out" ||
	fail "the one-way login did not fail at login: $(cat "$T/oneway.out")"
logged "$sb_refusal" "the one-way login's reason"
grep -- "$sb_refusal" "$SD_LOG" | tail -n 1
# Discovery is a login too.
if in_client 1 timeout 20 iscsi-ls "iscsi://$S%$cred@10.77.1.1/" >"$T/ls.out" 2>&1; then
	cat "$T/ls.out"
	fail "a Secure Boot machine's one-way discovery login succeeded"
fi
[ "$(grep -c -- "$sb_refusal" "$SD_LOG")" -ge 2 ] || fail "the one-way discovery was refused for another reason"

echo "== its mutual CHAP login succeeds (iscsi-inq checks the server secret)"
inq 1 $S "$cred" "$server" >"$T/mutual.out" 2>&1 ||
	{ cat "$T/mutual.out"; tail -n 5 "$SD_LOG"; fail "mutual CHAP login of the Secure Boot machine"; }
grep -q "Vendor:FLEETBT" "$T/mutual.out" || fail "no INQUIRY data: $(cat "$T/mutual.out")"
logged "session: .* as machine $S, mutual CHAP" "the Secure Boot machine's mutual session"
# The initiator does check: the wrong server secret fails on its side.
if inq 1 $S "$cred" "${server:1}0" >"$T/wrongsrv.out" 2>&1; then
	cat "$T/wrongsrv.out"
	fail "iscsi-inq accepted a target answer for another server secret (no check in this test)"
fi
head -n 2 "$T/wrongsrv.out"

echo "== a machine without Secure Boot still logs in one way"
inq 2 $N "$ncred" >"$T/n.out" 2>&1 || { cat "$T/n.out"; tail -n 5 "$SD_LOG"; fail "one-way CHAP login of $N"; }
grep -q "Vendor:FLEETBT" "$T/n.out" || fail "no INQUIRY data for $N: $(cat "$T/n.out")"
logged "session: .* as machine $N, one-way CHAP" "the one-way session of $N"
grep -q -- "secure boot machine $N" "$SD_LOG" && fail "$N was held to mutual CHAP"
echo ok
