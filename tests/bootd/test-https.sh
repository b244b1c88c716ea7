#!/usr/bin/env bash
# bootd's HTTPS port (issue 16, the authenticated server): a Secure Boot
# machine's script carries fleetboot.tls=PORT and fleetboot.image=, and
# its initramfs (the real fb_fetch_credential of initramfs/fleetboot-lib.sh,
# under busybox sh) fetches the boot credential over HTTPS, checking the
# server against the site CA:
#   - pinning another CA, the client refuses the server (impostor);
#   - pinning the site CA, it gets this boot's credential, and a sniffer
#     (tcpdump on the client's link) does not see it; a second request is
#     still refused (once per boot);
#   - the same fetch over plain HTTP (a machine without Secure Boot) is
#     seen by the sniffer (the check can fail);
#   - the script of a machine without Secure Boot has no fleetboot.tls;
#   - a UKI's initramfs (fb_uki_params) takes the machine's parameters
#     from /boot/MACID/params under its signed line, and refuses them for
#     another image version.
# (The fetch is the initramfs's; the QEMU boot is tests/e2e/test-e2e-verity.sh.)
# timeout: 120
. "$(dirname "$0")/common.sh"
requires busybox tcpdump openssl

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600"
make_image img1 3000000
S=52-54-00-00-00-01 P=52-54-00-00-00-02
fb -c "$CONF" machine add $S --image img1 --mode readonly --secure-boot on >/dev/null ||
	fail "add S"
fb -c "$CONF" machine add $P --image img1 --mode readonly >/dev/null || fail "add P"
bootd_net
bootd_start
grep -q "HTTPS on port 8068" "$T/bootd.log" || fail "bootd did not start HTTPS: $(cat "$T/bootd.log")"
udhcpc_script
ip -n "$CLI" link set bc0 address 52:54:00:00:00:01
lease() {
	OUT=$T/a ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
		>/dev/null 2>&1 || fail "no lease"
}
lease
U=http://10.77.0.1:8067

echo "== a Secure Boot machine's script"
ip netns exec "$CLI" curl -s $U/boot/$S.ipxe >"$T/script"
grep -q " fleetboot.tls=8068 " "$T/script" || fail "no fleetboot.tls=8068: $(cat "$T/script")"
ip netns exec "$CLI" curl -s $U/boot/$S/params | grep -q " fleetboot.tls=8068$" ||
	fail "no fleetboot.tls=8068 in the UKI's parameters"

echo "== a UKI's initramfs learns the machine's parameters (fb_uki_params)"
# The signed line has the image and root hash, no machine; the NIC's MAC
# names the machine, the DHCP server is bootd.
rh=$(printf '%064d' 0 | tr 0 b)
cat >"$T/uki.sh" <<'X'
. "$1/fleetboot-cmdline.sh"
. "$1/fleetboot-lib.sh"
FB_RUN=$2
mkdir -p "$FB_RUN"
echo bc0 >"$FB_RUN/interface"
echo 10.77.0.1 >"$FB_RUN/dhcp-server"
line="ip=dhcp fleetboot.image=$3 fleetboot.verity=$4 fleetboot.http_port=8067 console=ttyS0"
fb_cmdline_parse "$line"
[ $? = 1 ] || { echo "ERROR a UKI line is not a local boot"; exit 1; }
if fb_uki_params "$line"; then
	echo "OK machine=$FB_MACHINE mode=$FB_MODE root=$FB_ROOT tls=$FB_TLS_PORT image=$FB_IMAGE verity=$FB_VERITY"
else
	echo "ERROR $FB_ERROR"
	exit 1
fi
X
uki() { ip netns exec "$CLI" busybox sh "$T/uki.sh" "$FB_TOP/initramfs" "$T/run-uki" "$@"; }
out=$(uki img1@1 "$rh") || fail "fb_uki_params: $out"
out=$(grep "^OK" <<<"$out") || fail "no OK line"
echo "   $out"
assert_eq "$out" "OK machine=$S mode=readonly root=nbd:10.77.0.1:10809 tls=8068 image=img1@1 verity=$rh" \
	"the machine's parameters under the signed line"
out=$(uki img1@2 "$rh") && fail "a UKI of another version took the parameters: $out"
echo "$out" | grep -q "needs that version's boot file" || fail "another version: $out"

# fetch CA TLS_PORT: the initramfs's own credential fetch, in the client
# namespace; prints the credential (this test's copy) or the error.
cat >"$T/fetch.sh" <<'X'
. "$1/fleetboot-cmdline.sh"
. "$1/fleetboot-lib.sh"
FB_CA=$2 FB_TLS_PORT=$3 FB_SERVER=10.77.0.1 FB_MACHINE=$5
FB_CRED_URL=http://10.77.0.1:8067/boot/$5/credential
FB_RUN_PRIVATE=$4
if fb_fetch_credential; then echo "CRED $FB_CRED"; else echo "ERROR $FB_ERROR"; exit 1; fi
X
fetch() { # CA TLS_PORT [MACHINE]
	ip netns exec "$CLI" busybox sh "$T/fetch.sh" "$FB_TOP/initramfs" "$1" "$2" "$T/priv" "${3:-$S}"
}
sniff_start() {
	# Text with the payload (-A): what a sniffer reads.
	ip netns exec "$CLI" tcpdump -i bc0 -l -n -s 0 -A tcp >"$T/$1.cap" 2>"$T/$1.tcpdump" &
	echo $! >"$T/tcpdump.pid"
	kill_at_exit "$T/tcpdump.pid"
	wait_for 10 grep -q "listening on" "$T/$1.tcpdump" || fail "tcpdump did not start"
}
sniff_stop() {
	sleep 0.5
	kill "$(cat "$T/tcpdump.pid")"
	wait "$(cat "$T/tcpdump.pid")" 2>/dev/null
	rm -f "$T/tcpdump.pid"
}

echo "== pinning another CA: the client refuses the server"
mkdir -p "$T/other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj "/CN=fleetboot-server" -keyout "$T/other/key.pem" -out "$T/other/ca.pem" \
	2>/dev/null || fail "make another CA"
out=$(fetch "$T/other/ca.pem" 8068) && fail "a client pinning another CA got: $out"
echo "$out" | grep -q "not authenticated by the site CA" || fail "refused for another reason: $out"
echo "   $out"

echo "== pinning the site CA: the credential, unseen by a sniffer"
sniff_start tls
out=$(fetch "$T/state/tls/ca-cert.pem" 8068) || fail "TLS fetch: $out"
sniff_stop
cred=${out#CRED }
[ ${#cred} = 32 ] || fail "not a credential: $out"
assert_eq "$("$FB_BIN/../tests/storaged/sd-dbtool" "$T/state" credential $S)" "$cred" \
	"the credential fetched over HTTPS is this boot's"
grep -q "10.77.0.1.8068 > " "$T/tls.cap" || fail "the capture has no HTTPS traffic: $(head -n 5 "$T/tls.cap")"
grep -aq "$cred" "$T/tls.cap" && fail "the sniffer saw the credential sent over HTTPS"
out=$(fetch "$T/state/tls/ca-cert.pem" 8068) && fail "a second request in one boot got: $out"
echo "$out" | grep -q "refused this boot's credential" || fail "second request: $out"

echo "== a machine without Secure Boot, over plain HTTP: the sniffer sees it"
ip -n "$CLI" addr flush dev bc0
ip -n "$CLI" link set bc0 address 52:54:00:00:00:02
ip netns exec "$SRV" ip neigh flush dev bs0
lease
ip netns exec "$CLI" curl -s $U/boot/$P.ipxe >"$T/script-p"
grep -q "fleetboot.machine=$P" "$T/script-p" || fail "P's script: $(cat "$T/script-p")"
grep -q "fleetboot.tls" "$T/script-p" && fail "a machine without Secure Boot got fleetboot.tls"
sniff_start plain
out=$(fetch "$T/state/tls/ca-cert.pem" "" $P) || fail "plain fetch: $out"
sniff_stop
cred=${out#CRED }
[ ${#cred} = 32 ] || fail "not a credential: $out"
grep -aq "$cred" "$T/plain.cap" || fail "the sniffer did not see the plain HTTP credential"

echo ok
