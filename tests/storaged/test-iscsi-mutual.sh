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
# timeout: 120
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/storaged/lib-storaged.sh
. "$(dirname "$0")/lib-storaged.sh"
requires busybox
tool=$SD_TOOLS/iscsi-badclient
[ -x "$tool" ] || skip "iscsi-badclient not built"
[ -x "$FB_BIN/fleetboot-iscsi-testtarget" ] || skip "fleetboot-iscsi-testtarget not built"
sd_setup
S=52-54-00-ac-00-01
fb machine add $S --image base --mode readonly --ip 10.77.1.11 --protocol iscsi \
	--secure-boot on >/dev/null || fail "add S"
sd_net 1 10.77.1.11
sd_start_iscsi
cred=$(cred_of $S)

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
echo ok
