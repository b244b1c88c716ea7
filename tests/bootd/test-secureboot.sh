#!/usr/bin/env bash
# The Secure Boot path in bootd (issue 16), with crafted PXE requests: a
# machine set to --secure-boot on is offered its image version's signed
# UKI itself - by TFTP (images/NAME/V/boot.efi) for PXE arch 7 and 9, as an
# HTTP URL for UEFI HTTP Boot (arch 16) - and never an iPXE binary or
# script: not as BIOS (arch 0), not as iPXE. With no UKI (no site key yet)
# it gets no boot file at all, a log line and a secureboot-refused event.
# The UKI comes whole over TFTP and HTTP, as does rootfs.verity; the
# machine's iPXE script and /boot/MAC/params carry the verity root hash
# and its per-machine parameters. A machine with Secure Boot off boots
# exactly as before.
# timeout: 120
. "$(dirname "$0")/common.sh"
requires busybox veritysetup sbsign objcopy openssl jq cmp
P=$BOOTD_TOOLS/pxeprobe
G=$BOOTD_TOOLS/tftpget
[ -x "$P" ] && [ -x "$G" ] || skip "pxeprobe/tftpget not built"
[ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || skip "no EFI stub (Debian package systemd-boot-efi)"
SNAKE=/usr/share/ovmf/PkKek-1-snakeoil
[ -f $SNAKE.key ] || skip "no $SNAKE.key (Debian package ovmf)"

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600"
make_image sb 300000
f() { fb -c "$CONF" "$@"; }
SBM=52:54:00:5b:00:01 # Secure Boot on
OFF=52:54:00:5b:00:02 # Secure Boot off
f machine add $SBM --image sb --mode readonly --secure-boot on >/dev/null || fail "add $SBM"
f machine add $OFF --image sb --secure-boot off >/dev/null || fail "add $OFF"
bootd_net
bootd_start

probe() { # MAC ARGS...: one DISCOVER from MAC (the client's interface takes it)
	local mac=$1
	shift
	if [ "$(ip netns exec "$CLI" cat /sys/class/net/bc0/address)" != "$mac" ]; then
		ip -n "$CLI" link set bc0 address "$mac"
		ip netns exec "$SRV" ip neigh flush all
	fi
	ip netns exec "$CLI" "$P" -i bc0 -m "$mac" "$@"
}
never_ipxe() { # WHAT OUT
	case $2 in *ipxe* | *undionly* | *snponly* | *.kpxe*) fail "$1: an unsigned loader was offered: $2" ;; esac
}
U=http://10.77.0.1:8067

# No site key: no UKI, so no boot file at all (an address still).
out=$(probe $SBM -a 7 -V PXEClient:Arch:00007:UNDI:003016) || fail "no reply to the Secure Boot machine"
echo "no key, arch 7: $out"
echo "$out" | grep -q " file=- " || fail "a boot file was offered with no UKI: $out"
never_ipxe "no key" "$out"
wait_for 5 grep -q "no boot offer to 52-54-00-5b-00-01 (Secure Boot, image sb): .*no signed UKI" "$T/bootd.log" ||
	fail "no log line saying why the Secure Boot machine got no boot file"
wait_for 5 sh -c "'$FB_BIN/fleetboot' -c '$CONF' events --machine $SBM | grep -q secureboot-refused" ||
	fail "no secureboot-refused event"

# The site key: every version's UKI is signed; bootd sees it.
openssl rsa -passin pass:snakeoil -in $SNAKE.key -out "$T/snake.key" 2>/dev/null || fail "openssl rsa"
f key import "$T/snake.key" $SNAKE.pem >/dev/null || fail "key import"
efi=$T/state/images/sb/1/boot.efi
rh=$(f image show sb --json | jq -r .verity_root_hash)
offer() { # WHAT PATTERN ARGS...
	local what=$1 pat=$2 o
	shift 2
	o=$(probe "$@") || fail "$what: no reply"
	echo "$what: $o"
	[ "$1" = $OFF ] || never_ipxe "$what" "$o"
	echo "$o" | grep -q -- "$pat" || fail "$what: expected '$pat' in: $o"
}
wait_for 5 sh -c "ip netns exec '$CLI' '$P' -i bc0 -m $SBM -a 7 -V PXEClient | grep -q 'file=images/sb/1/boot.efi '" ||
	fail "bootd did not start offering the UKI after key import"
offer "PXE arch 7" "siaddr=10.77.0.1 file=images/sb/1/boot.efi " $SBM -a 7 -V PXEClient:Arch:00007:UNDI:003016
offer "PXE arch 9" "siaddr=10.77.0.1 file=images/sb/1/boot.efi " $SBM -a 9 -V PXEClient:Arch:00009:UNDI:003016
offer "HTTP boot arch 16" "file=$U/images/sb/1/boot.efi sid=10.77.0.1 vendor=HTTPClient" \
	$SBM -a 16 -V HTTPClient:Arch:00016:UNDI:003016
offer "BIOS arch 0" " file=- " $SBM -a 0 -V PXEClient:Arch:00000:UNDI:002001
offer "as iPXE" " file=- " $SBM -a 7 -u iPXE -V PXEClient:Arch:00007:UNDI:003016
offer "Secure Boot off, arch 7" "file=ipxe.efi " $OFF -a 7 -V PXEClient:Arch:00007:UNDI:003016
offer "Secure Boot off, iPXE" "file=$U/boot.ipxe " $OFF -a 7 -u iPXE

# The Secure Boot machine takes a lease (its address, for what follows).
ip -n "$CLI" link set bc0 address $SBM
ip netns exec "$SRV" ip neigh flush all
udhcpc_script
OUT=$T/a ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "no lease for $SBM"

# The UKI over TFTP and HTTP, the hash tree over HTTP: whole and the same.
ip netns exec "$CLI" "$G" -b 1468 -o "$T/tftp.efi" 10.77.0.1 images/sb/1/boot.efi >/dev/null ||
	fail "TFTP of images/sb/1/boot.efi"
cmp -s "$T/tftp.efi" "$efi" || fail "the UKI over TFTP differs"
# The kernel, initrd and hash tree are there too (public, as over HTTP;
# PXELINUX fetches kernels by TFTP);
# the root file system and the manifest never are.
for f in rootfs.img manifest.json; do
	rm -f "$T/x"
	ip netns exec "$CLI" "$G" -o "$T/x" 10.77.0.1 "images/sb/1/$f" >/dev/null 2>&1
	[ -s "$T/x" ] && fail "TFTP served images/sb/1/$f"
done
ip netns exec "$CLI" "$G" -o "$T/x" 10.77.0.1 images/nope/1/boot.efi >/dev/null 2>&1 &&
	fail "TFTP served the UKI of an image that does not exist"
ip netns exec "$CLI" curl -sf -o "$T/http.efi" $U/images/sb/1/boot.efi || fail "HTTP boot.efi"
cmp -s "$T/http.efi" "$efi" || fail "the UKI over HTTP differs"
ip netns exec "$CLI" curl -sf -o "$T/tree" $U/images/sb/1/rootfs.verity || fail "HTTP rootfs.verity"
cmp -s "$T/tree" "$T/state/images/sb/1/rootfs.verity" || fail "rootfs.verity over HTTP differs"
veritysetup verify "$T/state/images/sb/1/rootfs.img" "$T/tree" "$rh" || fail "the served tree does not verify"

# The machine's own script and parameters (from its leased address).
ip netns exec "$CLI" curl -sf $U/boot/52-54-00-5b-00-01.ipxe >"$T/script" || fail "script of $SBM"
grep -q " fleetboot.verity=$rh " "$T/script" || fail "the Secure Boot machine's script lacks fleetboot.verity=$rh"
ip netns exec "$CLI" curl -sf $U/boot/52-54-00-5b-00-01/params >"$T/params" || fail "params of $SBM"
cat "$T/params"
for w in fleetboot.server=10.77.0.1 fleetboot.machine=52-54-00-5b-00-01 fleetboot.mode=readonly \
	fleetboot.root=nbd:10.77.0.1:10809 "fleetboot.report=$U/boot/52-54-00-5b-00-01/stage" \
	fleetboot.image=sb@1; do
	grep -q "$w" "$T/params" || fail "params lack $w"
done
assert_eq "$(ip netns exec "$CLI" curl -s -o /dev/null -w '%{http_code}' $U/boot/52-54-00-5b-00-02/params)" 403 \
	"another machine's params"
ip -n "$CLI" addr flush dev bc0
ip -n "$CLI" link set bc0 address $OFF
ip netns exec "$SRV" ip neigh flush all
OUT=$T/b ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "no lease for $OFF"
ip netns exec "$CLI" curl -sf $U/boot/52-54-00-5b-00-02.ipxe >"$T/script2" || fail "script of $OFF"
grep -q "fleetboot.verity" "$T/script2" && fail "a machine with Secure Boot off got fleetboot.verity"
bootd_alive
echo "ok: Secure Boot machines get their signed UKI only"
