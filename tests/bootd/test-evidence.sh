#!/usr/bin/env bash
# Verified-boot evidence (issue 16, db/evidence.c), from the client's side
# with curl and TFTP as the initramfs and the firmware would: a Secure Boot
# machine is "verified" only when bootd handed it its signed UKI this boot
# (uki-served, by TFTP or HTTP) and its initramfs then reported `verified`
# with the version's dm-verity root hash. Hostile reports do not make it
# so: `verified` for another machine (refused), for itself before or
# without the UKI this boot, with a wrong root hash, and a forged
# uki-served. machine show says which part is missing.
# timeout: 120
. "$(dirname "$0")/common.sh"
requires busybox veritysetup sbsign objcopy openssl jq
P=$BOOTD_TOOLS/pxeprobe
G=$BOOTD_TOOLS/tftpget
[ -x "$P" ] && [ -x "$G" ] || skip "pxeprobe/tftpget not built"
[ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || skip "no EFI stub (Debian package systemd-boot-efi)"
SNAKE=/usr/share/ovmf/PkKek-1-snakeoil
[ -f $SNAKE.key ] || skip "no $SNAKE.key (Debian package ovmf)"

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600"
make_image sb 300000
f() { fb -c "$CONF" "$@"; }
openssl rsa -passin pass:snakeoil -in $SNAKE.key -out "$T/snake.key" 2>/dev/null || fail "openssl rsa"
f key import "$T/snake.key" $SNAKE.pem >/dev/null || fail "key import"
SBM=52:54:00:5b:00:01 # Secure Boot on: the machine under test
OTH=52:54:00:5b:00:03 # Secure Boot on: another machine
OFF=52:54:00:5b:00:02 # Secure Boot off
for m in $SBM $OTH; do
	f machine add "$m" --image sb --mode readonly --secure-boot on >/dev/null || fail "add $m"
done
f machine add $OFF --image sb >/dev/null || fail "add $OFF"
img=$(f image show sb --json) || fail "image show sb"
RH=$(jq -r .verity_root_hash <<<"$img")
RS=$(jq -r .sha256 <<<"$img")
US=$(jq -r .uki_sha256 <<<"$img")
[ ${#RH} = 64 ] && [ ${#US} = 64 ] || fail "image sb has no root hash or UKI: $img"
bootd_net
bootd_start
U=http://10.77.0.1:8067
udhcpc_script

ev() { # MAC [FIELD]: a field of machine show's verified_boot (state)
	f machine show "$1" --json | jq -r ".verified_boot.${2:-state}"
}
expect() { # MAC STATE WHAT: the evidence reaches STATE (events are written async)
	wait_for 5 sh -c "[ \"\$('$FB_BIN/fleetboot' -c '$CONF' machine show $1 --json | jq -r .verified_boot.state)\" = $2 ]" ||
		fail "$3: verified_boot of $1 is '$(ev "$1")' ($(ev "$1" why)), expected $2"
	echo "ok: $3: $2 ($(ev "$1" why))"
}
as() { # MAC: the client's interface becomes MAC, with a firmware DISCOVER (a new boot) and a lease
	ip -n "$CLI" addr flush dev bc0
	ip -n "$CLI" link set bc0 address "$1"
	ip netns exec "$SRV" ip neigh flush all
	ip netns exec "$CLI" "$P" -i bc0 -m "$1" -a 7 -V PXEClient:Arch:00007:UNDI:003016 >/dev/null ||
		fail "no DHCP reply to $1's firmware"
	OUT=$T/l ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
		>/dev/null 2>&1 || fail "no lease for $1"
}
nverified() { # MAC: how many verified reports its events hold
	f events --machine "$1" --stage verified --limit 1000 | grep -c verified
}
recorded() { # MAC N: wait until the events hold N verified reports
	wait_for 5 sh -c "[ \$('$FB_BIN/fleetboot' -c '$CONF' events --machine $1 --stage verified --limit 1000 | grep -c verified) = $2 ]" ||
		fail "the verified report of $1 was not recorded"
}
report() { # MAC QUERY: POST a stage report from the client; prints the HTTP status
	ip netns exec "$CLI" curl -s -o /dev/null -w '%{http_code}' -X POST "$U/boot/${1//:/-}/stage?$2"
}
tftp_uki() {
	ip netns exec "$CLI" "$G" -b 1468 -o "$T/uki" 10.77.0.1 images/sb/1/boot.efi >/dev/null ||
		fail "TFTP of images/sb/1/boot.efi"
}
ZERO=$(printf '0%.0s' $(seq 64))

expect $SBM no-uki "never booted"
expect $OFF not-secure-boot "Secure Boot off"

# The other machine boots: its UKI by TFTP, no report yet.
as $OTH
tftp_uki
expect $OTH unreported "the other machine, UKI served"

# The machine under test boots (firmware DHCP: a new boot).
as $SBM
expect $SBM no-uki "a new boot, nothing served yet"
# `verified` before the UKI was served this boot: recorded, not evidence.
assert_eq "$(report $SBM "name=verified&root_hash=$RH")" 200 "verified from the machine"
recorded $SBM 1
expect $SBM no-uki "verified before the UKI was served"
# A client cannot say bootd served a UKI, nor report verified without a hash.
assert_eq "$(report $SBM "name=uki-served")" 403 "uki-served posted by a client"
assert_eq "$(report $SBM "name=verified")" 400 "verified with no root hash"
assert_eq "$(report $SBM "name=verified&root_hash=XYZ")" 400 "verified with a malformed root hash"
expect $SBM no-uki "after the forged reports"

tftp_uki
expect $SBM unreported "UKI served by TFTP"
assert_eq "$(ev $SBM uki_sha256)" "$US" "uki_sha256"
assert_eq "$(ev $SBM image)" sb@1 "image"
[ "$(ev $SBM uki_served)" -gt 0 ] || fail "no uki_served time"

# `verified` for the other machine, from this machine's address: refused,
# and the other machine's evidence is unchanged.
assert_eq "$(report $OTH "name=verified&root_hash=$RH")" 403 "verified for another machine"
sleep 0.5
expect $OTH unreported "verified posted for it by another machine"

# A wrong root hash.
assert_eq "$(report $SBM "name=verified&root_hash=$ZERO")" 200 "verified, wrong hash"
expect $SBM mismatch "verified with a wrong root hash"
ev $SBM why | grep -q "root hash reported $ZERO, expected $RH" || fail "why: $(ev $SBM why)"

# The right one: verified, with the version's hashes.
assert_eq "$(report $SBM "name=verified&root_hash=$RH")" 200 "verified, right hash"
expect $SBM verified "verified with the version's root hash"
assert_eq "$(ev $SBM rootfs_sha256)" "$RS" "rootfs_sha256"
assert_eq "$(ev $SBM verity_root_hash)" "$RH" "verity_root_hash"
assert_eq "$(ev $SBM uki_sha256)" "$US" "uki_sha256"
[ "$(ev $SBM verified_at)" -ge "$(ev $SBM uki_served)" ] || fail "verified_at before uki_served"
f machine show $SBM | grep -q "^verified boot: verified - booted sb@1, rootfs sha256 $RS, root hash $RH" ||
	fail "machine show's line: $(f machine show $SBM | grep 'verified boot')"

# A later verity-failed wins.
assert_eq "$(report $SBM "name=verity-failed")" 200 "verity-failed"
expect $SBM verity-failed "verity-failed after verified"

# A new boot: the last boot's UKI no longer counts, and a report alone
# does not make it verified.
as $SBM
expect $SBM no-uki "a new boot"
n=$(nverified $SBM)
assert_eq "$(report $SBM "name=verified&root_hash=$RH")" 200 "verified, no UKI this boot"
recorded $SBM $((n + 1))
expect $SBM no-uki "verified without the UKI this boot"

# The UKI over HTTP (UEFI HTTP Boot) counts too.
ip netns exec "$CLI" curl -sf -o "$T/uki2" $U/images/sb/1/boot.efi || fail "HTTP boot.efi"
expect $SBM unreported "UKI served by HTTP"
assert_eq "$(report $SBM "name=verified&root_hash=$RH")" 200 "verified after HTTP"
expect $SBM verified "verified after the UKI by HTTP"
expect $OFF not-secure-boot "Secure Boot off, still"
# machine list --json carries each machine's evidence, as show does.
for m in $SBM $OFF; do
	id=$(f machine show $m --json | jq -r .mac)
	assert_eq "$(f machine list --json | jq -c ".[] | select(.mac == \"$id\") | .verified_boot")" \
		"$(f machine show $m --json | jq -c .verified_boot)" "machine list's verified_boot of $m"
done
bootd_alive
echo "ok: verified-boot evidence"
