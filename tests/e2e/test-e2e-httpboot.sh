#!/usr/bin/env bash
# End to end, UEFI HTTP Boot of a Secure Boot machine (issue 16): OVMF's
# Secure Boot firmware (snakeoil db, the snakeoil key imported as the site
# key) on a network where TFTP does not pass (UDP port 69 dropped in the
# lab), so its PXE boot option fails and the firmware goes on to its HTTP
# Boot option: DHCP with vendor class HTTPClient (arch 16), to which bootd
# answers with the URL of the image version's signed UKI. The firmware
# fetches it over HTTP, checks its signature, and the client reaches
# userspace over the verified root. Checked: the kernel started with the
# signed command line, dm-verity on the root, userspace, the UKI fetched
# over HTTP (a kernel event for the version), no TFTP at all and no iPXE.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
lab_requires_secure_boot
requires iptables
lab_server tap0
lab_image tiny "console=ttyS0 fleetboot.test=poweroff"
lab_snakeoil_site_key
rh=$(fb image show tiny --json | jq -r .verity_root_hash)
SB=52:54:00:e2:5b:16
fb machine add $SB --image tiny --mode readonly --secure-boot on >/dev/null || fail "machine add $SB"
lab_up "$CONF" "$LAB_DIR/up.log"
# No TFTP on this network: the firmware's PXE option cannot get its file.
ip netns exec "$LAB_NS" iptables -I INPUT -p udp --dport 69 -j DROP || fail "iptables"

t0=$SECONDS
log=$LAB_DIR/http.serial
lab_qemu http $SB tap0 "$log" uefi-sb
lab_wait_serial "$log" "Linux version\|No bootable option or device" 480
grep -aq "Linux version" "$log" ||
	fail "no kernel started: $(grep -a "BdsDxe\|Access Denied\|HTTP\|PXE" "$log" | tail -n 8)"
echo "HTTP Boot: kernel started after $((SECONDS - t0)) s"
grep -a "BdsDxe: loading\|BdsDxe: starting" "$log" | head -n 6
grep -aq "BdsDxe: loading Boot[0-9A-F]* \"UEFI HTTPv4" "$log" ||
	fail "the firmware did not boot through its HTTP Boot option: $(grep -a BdsDxe "$log")"
grep -aq "Command line: .*fleetboot.verity=$rh" "$log" ||
	fail "the kernel did not get the signed command line: $(grep -a 'Command line' "$log")"
lab_wait_verified_userspace http "$log" "$rh" "the client"
echo "HTTP Boot: userspace over the verified root after $((SECONDS - t0)) s"
lab_stop_qemu http

sleep 2
ev=$(fb events --machine $SB)
echo "$ev" | grep -q "dhcp .*arch=16 " || fail "no DHCP event of an HTTP Boot client (arch 16): $ev"
echo "$ev" | grep -q "uki-served .*image=tiny@1 .*via=http" || fail "no HTTP fetch of the UKI recorded: $ev"
assert_eq "$(fb machine show $SB --json | jq -r '.verified_boot.state + " " + .verified_boot.image')" \
	"verified tiny@1" "the verified-boot evidence of the HTTP Boot"
echo "$ev" | grep -q " tftp " && fail "a TFTP transfer was recorded on a network without TFTP: $ev"
echo "$ev" | grep -q "ipxe-script\|ipxe=1" && fail "iPXE reached the Secure Boot client: $ev"
echo "UEFI HTTP Boot of the signed UKI passed"
