#!/usr/bin/env bash
# bootd PXELINUX (issue 15), with real clients (busybox udhcpc, tftp-hpa,
# curl): a machine set to --loader pxelinux gets pxelinux.0 by DHCP (also
# when it asks as iPXE; a UEFI one falls back to iPXE, logged), init put
# pxelinux.0 and the vesamenu modules in the TFTP root, bootd makes
# pxelinux.cfg/01-MAC from the database (checked line by line: a pinned
# machine's image, a menu machine's every image, kernel entries, local),
# kernels and initrds over TFTP, a next boot as DEFAULT once and consumed
# as on the iPXE path, another machine's config refused (a second
# namespace asks for it), bad config names and paths refused at once.
# timeout: 120
. "$(dirname "$0")/common.sh"
requires busybox tftp cmp jq
PXL=/usr/lib/PXELINUX/pxelinux.0
MODS=/usr/lib/syslinux/modules/bios
[ -f $PXL ] || skip "no $PXL (Debian package pxelinux; make deps)"
[ -f $MODS/vesamenu.c32 ] || skip "no $MODS/vesamenu.c32 (Debian package syslinux-common; make deps)"

A=52:54:00:00:0a:01 # pinned to img1, the client in $CLI
B=52:54:00:00:0a:02 # set to the menu, the client in $CLI2
C=52:54:00:00:0a:03 # iPXE (the default loader)
bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600" \
	"menu_timeout = 7" "menu_default = img2"
TR=$T/state/tftp
for f in pxelinux.0 ldlinux.c32 vesamenu.c32 libcom32.c32 libutil.c32; do
	[ -f "$TR/$f" ] || fail "fleetboot init did not put $f in the TFTP root"
done
make_image img1 2000000
make_image img2 1000000
head -c 50000 /dev/urandom >"$T/memtest.bin"
printf 'HdrS' | dd of="$T/memtest.bin" bs=1 seek=$((0x202)) conv=notrunc status=none
fb -c "$CONF" entry add memtest --kernel "$T/memtest.bin" --cmdline "console=ttyS0,115200" \
	--title "Memtest86+" >/dev/null || fail "entry add memtest"
# At a URL: plain pxelinux.0 speaks TFTP only, so it is not in the menu.
fb -c "$CONF" entry add mirrored --kernel http://10.77.0.9/linux >/dev/null || fail "entry add mirrored"
fb -c "$CONF" machine add $A --image img1 --mode ephemeral --loader pxelinux >/dev/null || fail "add A"
fb -c "$CONF" machine add $B --image menu --loader pxelinux >/dev/null || fail "add B"
fb -c "$CONF" machine add $C --image img1 >/dev/null || fail "add C"

# The server's side is a bridge (bs0, as bootd_env names the interface)
# with one veth per client namespace.
ns_new SRV srv
ns_new CLI cli
ns_new CLI2 cli2
ip -n "$SRV" link add bs0 type bridge
ip -n "$SRV" addr add $SRV_IP/24 dev bs0
ip -n "$SRV" link set bs0 up
i=0
for ns in "$CLI" "$CLI2"; do
	i=$((i + 1))
	ip link add "bp$i" netns "$SRV" type veth peer name bc0 netns "$ns" || fail "veth $i"
	ip -n "$SRV" link set "bp$i" master bs0
	ip -n "$SRV" link set "bp$i" up
done
ip -n "$CLI" link set bc0 address $A
ip -n "$CLI2" link set bc0 address $B
ip -n "$CLI" link set bc0 up
ip -n "$CLI2" link set bc0 up
bootd_start
udhcpc_script
# A PXE DHCP: vendor class PXEClient and architecture (option 93) ARCH;
# extra udhcpc arguments after it.
pxe_dhcp() { # NS OUT ARCH [ARGS]
	local ns=$1 out=$2 arch=$3
	shift 3
	OUT=$out ip netns exec "$ns" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
		-V PXEClient:Arch:$arch:UNDI:002001 -x "0x5d:$arch" "$@" >/dev/null 2>&1
}
# Events are committed by bootd's writer in batches: wait up to 5 s.
ev_has() { # MAC PATTERN
	local i
	for i in $(seq 50); do
		events_of "$1" | grep -q -- "$2" && return 0
		sleep 0.1
	done
	return 1
}
boot_file() { sed -n 's/^boot_file=//p' "$1.bound"; }

# DHCP: pxelinux.0 for A, as PXE firmware and as iPXE (its NIC's ROM).
pxe_dhcp "$CLI" "$T/a" 0000 || fail "no lease for A"
assert_eq "$(boot_file "$T/a")" pxelinux.0 "A's boot file"
pxe_dhcp "$CLI" "$T/a-ipxe" 0000 -x 0x4d:69505845 || fail "no lease for A as iPXE"
assert_eq "$(boot_file "$T/a-ipxe")" pxelinux.0 "A's boot file when it asks as iPXE"
# A UEFI client set to PXELINUX: iPXE, and the log says why.
pxe_dhcp "$CLI" "$T/a-uefi" 0007 || fail "no lease for A as UEFI"
assert_eq "$(boot_file "$T/a-uefi")" ipxe.efi "A's boot file as a UEFI client"
grep -q "52-54-00-00-0a-01 is set to PXELINUX but is a UEFI client (arch 7)" "$T/bootd.log" ||
	fail "the UEFI fallback was not logged"
pxe_dhcp "$CLI2" "$T/b" 0000 || fail "no lease for B"
assert_eq "$(boot_file "$T/b")" pxelinux.0 "B's boot file"
A_IP=$(sed -n 's/^ip=//p' "$T/a-uefi.bound")
B_IP=$(sed -n 's/^ip=//p' "$T/b.bound")
# Machine C (iPXE) from A's namespace, then A again (its PXE DHCP last).
ip -n "$CLI" link set bc0 address $C
pxe_dhcp "$CLI" "$T/c" 0000 || fail "no lease for C"
assert_eq "$(boot_file "$T/c")" undionly.kpxe "C's boot file (iPXE machine)"
ip -n "$CLI" link set bc0 address $A
ip -n "$CLI" addr flush dev bc0
ip netns exec "$SRV" ip neigh flush dev bs0
pxe_dhcp "$CLI" "$T/a2" 0000 || fail "no lease for A (again)"
assert_eq "$(sed -n 's/^ip=//p' "$T/a2.bound")" "$A_IP" "A's address"

get() { # NS FILE OUT: tftp-hpa, as a ROM does (512-byte blocks)
	ip netns exec "$1" tftp $SRV_IP -m binary -c get "$2" "$3"
}
# The loader and its modules, intact.
get "$CLI" pxelinux.0 "$T/pxelinux.0" || fail "tftp pxelinux.0"
cmp $PXL "$T/pxelinux.0" || fail "pxelinux.0 differs"
for f in ldlinux.c32 vesamenu.c32 libcom32.c32 libutil.c32; do
	get "$CLI" $f "$T/$f" || fail "tftp $f"
	cmp "$MODS/$f" "$T/$f" || fail "$f differs"
done

# A's config, line by line: its own image only, the TFTP-served kernel
# entry, local; the same kernel command line as its iPXE script.
get "$CLI" pxelinux.cfg/01-52-54-00-00-0a-01 "$T/cfg-a" || fail "A's config"
cat "$T/cfg-a"
cmdline() { # MACID
	echo "ip=dhcp fleetboot.server=$SRV_IP fleetboot.machine=$1 fleetboot.mode=$2" \
		"fleetboot.root=nbd:$SRV_IP:10809" \
		"fleetboot.report=http://$SRV_IP:$HTTP_PORT/boot/$1/stage console=ttyS0 console=tty0 quiet"
}
header() { # MACID TIMEOUT DEFAULT
	printf '%s\n' "# fleetboot: the PXELINUX config of $1, made for this boot" "SERIAL 0 115200" \
		"UI vesamenu.c32" "MENU TITLE fleetboot: $1" "PROMPT 0" "TIMEOUT $2" "DEFAULT $3"
}
label_img() { # LABEL NAME VERSION MACID MODE [TITLE]
	printf '%s\n' "LABEL $1" "  MENU LABEL ${6:-$2@$3}" "  KERNEL images/$2/$3/vmlinuz" \
		"  APPEND initrd=images/$2/$3/initrd.img $(cmdline "$4" "$5")"
}
label_memtest() { # LABEL [TITLE]
	printf '%s\n' "LABEL $1" "  MENU LABEL ${2:-Memtest86+}" "  KERNEL entries/memtest/kernel" \
		"  APPEND console=ttyS0,115200"
}
label_local() {
	printf '%s\n' "LABEL local" "  MENU LABEL Boot from the local disk" "  LOCALBOOT 0"
}
MA=52-54-00-00-0a-01
MB=52-54-00-00-0a-02
{
	header $MA 70 img0
	label_img img0 img1 1 $MA ephemeral
	label_memtest ent0
	label_local
} >"$T/want-a"
diff -u "$T/want-a" "$T/cfg-a" || fail "A's config is not as expected"
ev_has $A "ipxe-script  *image=img1@1 pxelinux" || fail "no script event for A's config"
# The iPXE script's kernel line carries the same command line.
ip netns exec "$CLI" curl -s "http://$SRV_IP:$HTTP_PORT/boot/$MA.ipxe" | grep -qF -- "$(cmdline $MA ephemeral)" ||
	fail "the iPXE script's command line differs"

# B (set to the menu) asks from its own namespace: every ready image, the
# default by menu_default (img2).
get "$CLI2" pxelinux.cfg/01-$MB "$T/cfg-b" || fail "B's config"
{
	header $MB 70 img1
	label_img img0 img1 1 $MB persistent
	label_img img1 img2 1 $MB persistent
	label_memtest ent0
	label_local
} >"$T/want-b"
diff -u "$T/want-b" "$T/cfg-b" || fail "B's config is not as expected"

# The attack: B's namespace (its own lease, its own MAC) asks for A's
# config, and A's for B's; the server itself (no lease) for A's.
curl_code() { # NS NAME: curl's exit status (68 not found, 69 access violation)
	ip netns exec "$1" curl -s --path-as-is -o "$T/x" "tftp://$SRV_IP/$2"
	echo $?
}
assert_eq "$(curl_code "$CLI2" pxelinux.cfg/01-$MA)" 69 "A's config to B"
grep -q "refused the PXELINUX config of $MA to $B_IP: not that machine (the neighbour table maps the address to another MAC)" \
	"$T/bootd.log" || fail "the refusal of A's config to B was not logged"
assert_eq "$(curl_code "$CLI" pxelinux.cfg/01-$MB)" 69 "B's config to A"
assert_eq "$(curl_code "$SRV" pxelinux.cfg/01-$MA)" 69 "A's config to the server itself"
# B's namespace puts on A's address (it does not hold A's lease): refused.
ip -n "$CLI" addr flush dev bc0
ip -n "$CLI2" addr add "$A_IP/24" dev bc0
ip netns exec "$SRV" ip neigh flush dev bs0
ip netns exec "$CLI2" curl -s --interface "$A_IP" -o "$T/x" "tftp://$SRV_IP/pxelinux.cfg/01-$MA"
assert_eq $? 69 "A's config to B on A's address"
ip -n "$CLI2" addr del "$A_IP/24" dev bc0
ip -n "$CLI" addr add "$A_IP/24" dev bc0
ip netns exec "$SRV" ip neigh flush dev bs0

# Other lookups PXELINUX makes, and bad names: file not found, at once.
t0=$(date +%s%N)
for f in pxelinux.cfg/default pxelinux.cfg/0A4D0064 pxelinux.cfg/01-52:54:00:00:0a:01 \
	pxelinux.cfg/01-zz-54-00-00-0a-01 pxelinux.cfg/52-54-00-00-0a-01 \
	pxelinux.cfg/01-52-54-00-00-0a-01x pxelinux.cfg/564d1234-5678-9abc-def0-123456789abc; do
	assert_eq "$(curl_code "$CLI" "$f")" 68 "$f"
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "7 config lookups refused in $ms ms"
[ $ms -lt 3000 ] || fail "refusing config lookups took $ms ms"

# A MAC that is not the asker's is refused before anything is looked up
# (no answer says whether a machine exists).
assert_eq "$(curl_code "$CLI" pxelinux.cfg/01-52-54-00-00-0a-09)" 69 "an unknown machine's config"

# Kernels and initrds over TFTP, intact; bad paths refused.
ID=$T/state/images/img1/1
[ -f "$ID/vmlinuz" ] || ID=$(dirname "$(find "$T/state/images" -path '*img1*' -name vmlinuz | head -n 1)")
get "$CLI" images/img1/1/vmlinuz "$T/k" || fail "tftp the image's kernel"
cmp "$ID/vmlinuz" "$T/k" || fail "the kernel over TFTP differs"
get "$CLI" images/img1/1/initrd.img "$T/i" || fail "tftp the image's initrd"
cmp "$ID/initrd.img" "$T/i" || fail "the initrd over TFTP differs"
get "$CLI" entries/memtest/kernel "$T/m" || fail "tftp the entry's kernel"
cmp "$T/memtest.bin" "$T/m" || fail "the entry's kernel over TFTP differs"
ev_has $A "kernel  *entry=memtest file=kernel via=tftp" || fail "no kernel event for the entry"
for f in images/img1/1/rootfs.img images/img1/2/vmlinuz images/nope/1/vmlinuz \
	entries/mirrored/kernel entries/memtest/initrd images/img1/1/vmlinuz/x; do
	assert_eq "$(curl_code "$CLI" "$f")" 68 "$f: not found"
done
for f in images/img1/1/../../../fleetboot.conf images/../fleetboot.conf \
	entries/memtest/../../fleetboot.conf 'images\img1\1\..\..\..\fleetboot.conf' \
	pxelinux.cfg/../fleetboot.conf; do
	assert_eq "$(curl_code "$CLI" "$f")" 69 "$f: an access violation"
done
grep -q "asked for 'images/../fleetboot.conf': '..' is not allowed" "$T/bootd.log" ||
	fail "traversal not logged"

# Next boot, once: DEFAULT next with a one-second timeout, again for a
# retry in the same boot, consumed by the next PXE DHCP boot.
fb -c "$CONF" machine set $A --next-boot memtest >/dev/null || fail "next boot memtest"
sleep 1.3 # the cache refresh
get "$CLI" pxelinux.cfg/01-$MA "$T/cfg-n1" || fail "A's config (next boot)"
{
	header $MA 10 next
	label_memtest next "Next boot, once: Memtest86+"
	label_img img0 img1 1 $MA ephemeral
	label_memtest ent0
	label_local
} >"$T/want-n"
diff -u "$T/want-n" "$T/cfg-n1" || fail "A's next-boot config is not as expected"
get "$CLI" pxelinux.cfg/01-$MA "$T/cfg-n2" || fail "A's config (retry)"
diff -u "$T/want-n" "$T/cfg-n2" || fail "a retry in the same boot lost the next boot"
ev_has $A "ipxe-script  *next-boot=memtest pxelinux" || fail "no next-boot script event"
events_of $A >"$T/ev1"
assert_eq "$(grep -c "next-boot  *memtest, once" "$T/ev1")" 1 "next-boot events"
pxe_dhcp "$CLI" "$T/a3" 0000 || fail "no lease for A (new boot)"
get "$CLI" pxelinux.cfg/01-$MA "$T/cfg-n3" || fail "A's config (new boot)"
diff -u "$T/want-a" "$T/cfg-n3" || fail "the boot after the next boot is not the normal one"
sleep 1.3
assert_eq "$(fb -c "$CONF" machine show $A --json | jq -r .next_boot)" "" "next boot cleared"

bootd_alive
bootd_stop
echo "PXELINUX: boot files, configs, isolation and next boot as expected"
