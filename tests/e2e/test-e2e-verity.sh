#!/usr/bin/env bash
# End to end, verified boot on the client (issue 16): a Secure Boot
# machine (OVMF's snakeoil Secure Boot firmware, the snakeoil key imported
# as the site key) runs its version's signed UKI; the busybox initramfs in
# it (the site CA pinned by `fleetboot image build`) learns the machine's
# parameters from /boot/MACID/params, fetches its credential over bootd's
# HTTPS, attaches its root over NBD with TLS, puts dm-verity over it (the
# hash tree `image build` made, from /images/NAME/V/rootfs.verity; the root
# hash from the signed command line) and boots readonly (RAM overlay).
#   1. verified boot to userspace; a sniffer (tcpdump on the lab bridge)
#      never sees the boot's credential; the leak scan finds none;
#   2. a plain machine (no Secure Boot) boots as before, and the same
#      sniffer check finds its credential on the wire;
#   3. the root port redirected to an impostor nbdkit (a copy of the image,
#      label changed, its own certificate): refused, the reason on the
#      console;
#   4. the version's rootfs changed on the server under a running storaged
#      (a plain reader keeps the base open, so storaged's sha256 check at
#      open does not run again): dm-verity refuses, console line and a
#      verity-failed event.
# timeout: 1200
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lab.sh"
lab_requires_secure_boot
requires tune2fs iptables tcpdump nbdkit
lab_server tap0
STATE=$LAB_DIR/srv/state
[ -s "$STATE/tls/ca-cert.pem" ] || fail "init made no site CA"
tests="console=ttyS0 fleetboot.test=write:/tmp/x:1 fleetboot.test=leakscan fleetboot.test=poweroff"
lab_image tiny "$tests"
W=$STATE/images/tiny/1
zcat "$W/initrd.img" | cpio -it 2>/dev/null | grep -q "etc/fleetboot/ca-cert.pem$" ||
	fail "the image's initramfs does not pin the site CA"
[ -s "$W/rootfs.verity" ] || fail "the version has no dm-verity hash tree"
hash=$(fb image show tiny --json | sed -n 's/.*"verity_root_hash": *"\([0-9a-f]*\)".*/\1/p')
[ ${#hash} = 64 ] || fail "no root hash in image show: $(fb image show tiny --json)"
lab_snakeoil_site_key
[ -s "$W/boot.efi" ] || fail "no signed UKI for tiny@1"

S=52:54:00:e2:f0:01 P=52:54:00:e2:f0:02 H=52:54:00:e2:f0:03
fb machine add $S --image tiny --mode readonly --secure-boot on --ip 10.66.0.51 >/dev/null ||
	fail "add S"
fb machine add $P --image tiny --mode readonly --ip 10.66.0.52 >/dev/null || fail "add P"
lab_up "$CONF" "$LAB_DIR/up.log"
lab_port_open 8068 || fail "bootd HTTPS is not up: $(tail -n 20 "$LAB_DIR/up.log")"

sniff() { # NAME: capture the lab bridge's TCP payloads as text
	ip netns exec "$LAB_NS" tcpdump -i br0 -l -n -s 0 -A tcp >"$LAB_DIR/$1.cap" 2>"$LAB_DIR/$1.tcpdump" &
	echo $! >"$LAB_DIR/tcpdump.pid"
	kill_at_exit "$LAB_DIR/tcpdump.pid"
	wait_for 10 grep -q "listening on" "$LAB_DIR/$1.tcpdump" || fail "tcpdump did not start"
}
sniff_stop() { kill "$(cat "$LAB_DIR/tcpdump.pid")" 2>/dev/null; sleep 0.5; }
cred_now() { "$FB_BIN/../tests/storaged/sd-dbtool" "$STATE" credential "$(echo "$1" | tr : -)"; }
boot_fail() { # NAME MAC LOG: a boot that must stop with FLEETBOOT-BOOT-FAILED
	lab_qemu "$1" "$2" tap0 "$3" uefi-sb
	lab_wait_serial "$3" "FLEETBOOT-BOOT-FAILED" 300 ||
		fail "$1 did not stop: $(tail -c 3000 "$3")"
	lab_stop_qemu "$1"
}

echo "== 1. verified boot over NBD with TLS, readonly"
sniff s1
t0=$SECONDS
lab_boot s1 $S tap0 "$LAB_DIR/s1.serial" uefi-sb 500
sniff_stop
echo "verified boot: $((SECONDS - t0)) s"
log=$LAB_DIR/s1.serial
grep -aq "fleetboot: dm-verity: root hash ${hash:0:16}" "$log" || fail "no dm-verity on the root: $(grep -a fleetboot: "$log")"
grep -aq "FLEETBOOT-TEST write /tmp/x ok" "$log" || fail "readonly overlay not writable"
grep -aq "Secure boot enabled" "$log" || fail "the kernel does not see Secure Boot enabled"
grep -a "fleetboot:" "$log" | tr -d '\r' | head -n 20
lab_assert_events "$CONF" $S 'credential .*root-attached .*userspace'
lab_assert_no_leak "$CONF" $S "$log"
cred=$(cred_now $S)
grep -q "10.66.0.1.8068 > 10.66.0.51" "$LAB_DIR/s1.cap" || fail "no HTTPS to the client in the capture"
grep -aq "$cred" "$LAB_DIR/s1.cap" && fail "the sniffer saw the verified machine's credential"
echo "sniffer: $(grep -c ' > ' "$LAB_DIR/s1.cap") packets, no credential"

echo "== 2. a plain machine boots as before; its credential is on the wire"
sniff p1
lab_boot p1 $P tap0 "$LAB_DIR/p1.serial" bios 400
sniff_stop
grep -aq "dm-verity" "$LAB_DIR/p1.serial" && fail "the plain machine used dm-verity"
lab_assert_events "$CONF" $P 'credential .*root-attached .*userspace'
grep -aq "$(cred_now $P)" "$LAB_DIR/p1.cap" || fail "the sniffer did not see the plain machine's credential"

echo "== 3. an impostor root server"
mkdir -p "$LAB_DIR/imp"
cp "$W/rootfs.img" "$LAB_DIR/imp/rootfs.img"
tune2fs -L impostor "$LAB_DIR/imp/rootfs.img" >/dev/null || fail "tune2fs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj "/CN=fleetboot-server" -addext subjectAltName=DNS:fleetboot-server \
	-keyout "$LAB_DIR/imp/server-key.pem" -out "$LAB_DIR/imp/server-cert.pem" 2>/dev/null ||
	fail "impostor certificate"
cp "$LAB_DIR/imp/server-cert.pem" "$LAB_DIR/imp/ca-cert.pem"
ip netns exec "$LAB_NS" nbdkit -f -r -P "$LAB_DIR/imp.pid" -p 10810 --tls=on \
	--tls-certificates "$LAB_DIR/imp" file "$LAB_DIR/imp/rootfs.img" \
	>"$LAB_DIR/imp.log" 2>&1 &
kill_at_exit "$LAB_DIR/imp.pid"
wait_for 20 lab_port_open 10810 || fail "impostor nbdkit did not start: $(cat "$LAB_DIR/imp.log")"
ip netns exec "$LAB_NS" iptables -t nat -A PREROUTING -p tcp --dport 10809 -j REDIRECT --to-ports 10810 ||
	fail "iptables redirect"
boot_fail s2 $S "$LAB_DIR/s2.serial"
ip netns exec "$LAB_NS" iptables -t nat -F PREROUTING
kill "$(cat "$LAB_DIR/imp.pid")"
grep -a "FLEETBOOT-BOOT-FAILED" "$LAB_DIR/s2.serial" | head -n 1
grep -aq "nbd-client over TLS failed" "$LAB_DIR/s2.serial" ||
	fail "the impostor was not refused by TLS: $(grep -a fleetboot: "$LAB_DIR/s2.serial" | tail -n 5)"
grep -aq "FLEETBOOT-USERSPACE-OK" "$LAB_DIR/s2.serial" && fail "booted from the impostor"

echo "== 4. the version's rootfs changed under a running storaged"
# H holds the verified version's base open (a plain reader from its own
# address), so storaged keeps its earlier sha256 verdict.
fb machine add $H --image tiny --mode readonly --ip 10.66.0.53 >/dev/null || fail "add H"
hcred=$(fb machine credential $H) || fail "credential of H"
peer=$(lab_peer h $H 10.66.0.53)
ip netns exec "$peer" /usr/bin/python3 -c '
import nbd, sys, time
h = nbd.NBD(); h.connect_uri(sys.argv[1]); h.pread(4096, 0)
print("holding", flush=True); time.sleep(600)' "nbd://$LAB_SERVER:10809/$(echo $H | tr : -).$hcred" \
	>"$LAB_DIR/hold.log" 2>&1 &
echo $! >"$LAB_DIR/hold.pid"
kill_at_exit "$LAB_DIR/hold.pid"
wait_for 30 grep -q holding "$LAB_DIR/hold.log" || fail "cannot hold the base open: $(cat "$LAB_DIR/hold.log")"
tune2fs -L tampered "$W/rootfs.img" >/dev/null || fail "tune2fs on the served rootfs"
boot_fail s3 $S "$LAB_DIR/s3.serial"
grep -a "fleetboot: the root file system failed verification" "$LAB_DIR/s3.serial" | head -n 1
grep -aq "fleetboot: the root file system failed verification (dm-verity): " "$LAB_DIR/s3.serial" ||
	fail "not refused by dm-verity: $(grep -a fleetboot: "$LAB_DIR/s3.serial" | tail -n 5)"
wait_for 10 sh -c "'$FB_BIN/fleetboot' -c '$CONF' events --machine $S --json | grep -q '\"verity-failed\"'" ||
	fail "no verity-failed event: $(lab_events "$CONF" $S)"
kill "$(cat "$LAB_DIR/hold.pid")"

echo "verified boot checks passed"
