#!/usr/bin/env bash
# bootd HTTP: the generic and per-machine scripts (no secret in them), the
# menu and its image choice, 403 for another machine's script, kernel/initrd
# with Content-Length, HEAD and Range, the boot credential (handed out once
# to the machine; a second request refused and recorded as
# takeover-suspected; refused to other addresses), stage reports (requester
# or this boot's credential, never the long-lived secret), boot events, and
# garbage requests.
# timeout: 120
. "$(dirname "$0")/common.sh"
requires busybox sha256sum

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600" \
	"menu_timeout = 7"
make_image img1 3000000
fb -c "$CONF" machine add 52:54:00:00:00:01 --image img1 --mode ephemeral >/dev/null || fail "add A"
fb -c "$CONF" machine add 52:54:00:00:00:02 --image img1 --protocol iscsi >/dev/null || fail "add B"
secret_of() { fb -c "$CONF" machine show "$1" --json | sed -n 's/.*"secret": *"\([0-9a-f]*\)".*/\1/p'; }
SA=$(secret_of 52:54:00:00:00:01)
SB=$(secret_of 52:54:00:00:00:02)
[ ${#SA} = 32 ] && [ ${#SB} = 32 ] || fail "cannot read the machines' secrets ($SA, $SB)"
bootd_net
bootd_start
udhcpc_script
ip -n "$CLI" link set bc0 address 52:54:00:00:00:01
OUT=$T/a ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "no lease"
U=http://10.77.0.1:8067
c() { ip netns exec "$CLI" curl -s --path-as-is "$@"; }
code() { c -o /dev/null -w '%{http_code}' "$@"; }

# Generic script.
c $U/boot.ipxe | grep -q "chain http://10.77.0.1:8067/boot/\${netX/mac:hexhyp}.ipxe" ||
	fail "generic script: $(c $U/boot.ipxe)"

# The machine's own script (either MAC spelling).
c $U/boot/52-54-00-00-00-01.ipxe >"$T/sa"
cat "$T/sa"
grep -q "^#!ipxe" "$T/sa" || fail "not an iPXE script"
grep -q "^initrd --name initrd.img $U/images/img1/1/initrd.img$" "$T/sa" || fail "initrd line"
grep -q "^kernel $U/images/img1/1/vmlinuz initrd=initrd.img ip=dhcp .* quiet$" "$T/sa" || fail "kernel line"
for w in fleetboot.server=10.77.0.1 fleetboot.machine=52-54-00-00-00-01 fleetboot.mode=ephemeral \
	"fleetboot.root=nbd:10.77.0.1:10809" \
	"fleetboot.report=$U/boot/52-54-00-00-00-01/stage" console=ttyS0; do
	grep -q " $w " "$T/sa" || fail "machine script lacks $w"
done
# Issue 13: nothing secret on the kernel command line (every user of the
# client reads /proc/cmdline).
grep -q "$SA" "$T/sa" && fail "the machine script carries the machine's secret"
grep -q "fleetboot.secret" "$T/sa" && fail "the machine script has fleetboot.secret"
grep -q "^boot$" "$T/sa" || fail "no boot line"
assert_eq "$(code $U/boot/52:54:00:00:00:01.ipxe)" 200 "colon MAC form"

# Another machine's script: 403, no secret, logged.
c -D "$T/hb" $U/boot/52-54-00-00-00-02.ipxe >"$T/sb"
head -n 1 "$T/hb" | grep -q " 403" || fail "another machine's script: $(head -n 1 "$T/hb")"
grep -q "$SB" "$T/sb" "$T/hb" && fail "another machine's secret leaked"
grep -q "refused the script of 52-54-00-00-00-02 to 10.77.0.1" "$T/bootd.log" || fail "403 not logged"
# An address bootd did not lease and no neighbour entry: 403 too.
ip netns exec "$SRV" curl -s -o /dev/null -w '%{http_code}' $U/boot/52-54-00-00-00-01.ipxe |
	grep -q 403 || fail "the server itself got machine A's script"

# iSCSI machine's root (checked through a reservation for its address):
# the client becomes machine B (its MAC too; an address alone is no
# identity, test-identity.sh), then A again.
fb -c "$CONF" machine set 52:54:00:00:00:02 --ip 10.77.0.60 >/dev/null
sleep 1.3
ip -n "$CLI" addr add 10.77.0.60/24 dev bc0
assert_eq "$(code --interface 10.77.0.60 $U/boot/52-54-00-00-00-02.ipxe)" 403 \
	"B's script to B's reserved address on A's MAC"
ip -n "$CLI" link set bc0 address 52:54:00:00:00:02
ip netns exec "$SRV" ip neigh flush dev bs0
c --interface 10.77.0.60 $U/boot/52-54-00-00-00-02.ipxe | grep -q \
	"fleetboot.root=iscsi:10.77.0.1:3260:iqn.2026-11.org.fleetboot:52-54-00-00-00-02:0" ||
	fail "iscsi root for the reserved address"
ip -n "$CLI" addr del 10.77.0.60/24 dev bc0
ip -n "$CLI" link set bc0 address 52:54:00:00:00:01
ip netns exec "$SRV" ip neigh flush dev bs0

# Kernel and initrd: Content-Length, HEAD, Range, sendfile; bytes intact.
K=$T/img-img1/vmlinuz
c -D "$T/hk" -o "$T/k" $U/images/img1/1/vmlinuz
cmp "$K" "$T/k" || fail "kernel download differs"
grep -qi "^content-length: $(stat -c %s "$K")" "$T/hk" || fail "no Content-Length: $(cat "$T/hk")"
c -I $U/images/img1/1/initrd.img >"$T/hh"
grep -qi "^content-length: $(stat -c %s "$T/img-img1/initrd.img")" "$T/hh" || fail "HEAD: $(cat "$T/hh")"
grep -qi "^accept-ranges: bytes" "$T/hh" || fail "no Accept-Ranges"
c -D "$T/hr" -r 1000-1999 -o "$T/r" $U/images/img1/1/vmlinuz
head -n 1 "$T/hr" | grep -q " 206" || fail "range: $(head -n 1 "$T/hr")"
grep -qi "^content-range: bytes 1000-1999/$(stat -c %s "$K")" "$T/hr" || fail "content-range"
cmp "$T/r" <(dd if="$K" bs=1000 skip=1 count=1 status=none) || fail "range bytes differ"
c -r -500 -o "$T/r2" $U/images/img1/1/vmlinuz
cmp "$T/r2" <(tail -c 500 "$K") || fail "suffix range differs"
assert_eq "$(code -r 99999999- $U/images/img1/1/vmlinuz)" 416 "unsatisfiable range"
assert_eq "$(code $U/images/img1/2/vmlinuz)" 404 "missing version"
assert_eq "$(code $U/images/img1/1/rootfs.img)" 404 "rootfs is not served"
assert_eq "$(code $U/images/../../etc/passwd)" 404 "traversal in /images"
code $U/images/img1/..%2f..%2f/vmlinuz | grep -Eq "^(400|404)$" || fail "encoded traversal served"
assert_eq "$(code $U/tftp/undionly.kpxe)" 200 "TFTP root over HTTP"
assert_eq "$(code $U/tftp/..%2ffleetboot.conf)" 400 "traversal in /tftp"

# The boot credential (issue 13). From an address that is not the machine
# (the server itself, no lease; A's address asking for B's): refused.
CU=$U/boot/52-54-00-00-00-01/credential
assert_eq "$(ip netns exec "$SRV" curl -s -o /dev/null -w '%{http_code}' $CU)" 403 "credential to a foreign address"
grep -q "refused the credential of 52-54-00-00-00-01 to 10.77.0.1" "$T/bootd.log" || fail "foreign credential request not logged"
assert_eq "$(code $U/boot/52-54-00-00-00-02/credential)" 403 "B's credential to A's address"
assert_eq "$(code -I $CU)" 405 "HEAD on the credential"
assert_eq "$(code -X POST $CU)" 405 "POST on the credential"
assert_eq "$(code $U/boot/52-54-00-00-00-09/credential)" 404 "credential of an unknown machine"
# The machine's own first request: its boot's credential.
CA=$(c -f $CU) || fail "the machine did not get its credential"
echo "$CA" | grep -Eq '^[0-9a-f]{32,}$' || fail "credential malformed: $CA"
[ "$CA" != "$SA" ] || fail "the credential is the long-lived secret"
# A second request in the same boot: refused, recorded as takeover-suspected.
c -D "$T/hc2" -o "$T/c2" $CU
head -n 1 "$T/hc2" | grep -q " 403" || fail "second credential request: $(head -n 1 "$T/hc2")"
grep -q "$CA" "$T/c2" && fail "the second request got the credential"
grep -q "refused a second credential for 52-54-00-00-00-01" "$T/bootd.log" || fail "second request not logged"
sleep 0.5
events_of 52:54:00:00:00:01 | grep -q takeover-suspected || fail "no takeover-suspected event"
fb -c "$CONF" events --machine 52:54:00:00:00:01 --stage takeover-suspected | grep -q "second credential" ||
	fail "takeover-suspected event lacks its detail"
# Replay from another address: the credential opens stage reports there,
# but is never handed out again.
assert_eq "$(ip netns exec "$SRV" curl -s -o /dev/null -w '%{http_code}' $CU)" 403 "credential replayed to another address"

# Stage reports: by the machine itself, or with this boot's credential;
# never with the long-lived secret (query or header).
assert_eq "$(code -X POST "$U/boot/52-54-00-00-00-01/stage?name=root-attached")" 200 "stage by the machine"
assert_eq "$(code -X POST "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 403 "stage for another machine"
assert_eq "$(code -X POST "$U/boot/52-54-00-00-00-02/stage?name=userspace&secret=$SB")" 403 "stage with the long-lived secret"
assert_eq "$(code -X POST -H "X-Fleetboot-Secret: $SB" "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 403 "long-lived secret header"
assert_eq "$(code -X POST -H "X-Fleetboot-Credential: $SB" "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 403 "long-lived secret as a credential"
CB=$(fb -c "$CONF" machine credential 52:54:00:00:00:02) || fail "machine credential B"
echo "$CB" | grep -Eq '^[0-9a-f]{32,}$' || fail "machine credential printed: $CB"
assert_eq "$(code -X POST -H "X-Fleetboot-Credential: $CB" "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 200 "stage with B's credential"
assert_eq "$(code -X POST -H "X-Fleetboot-Credential: $CA" "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 403 "A's credential for B"
# A new boot of B: its previous credential reports nothing any more.
CB2=$(fb -c "$CONF" machine credential 52:54:00:00:00:02) || fail "machine credential B again"
[ "$CB2" != "$CB" ] || fail "a new boot got the same credential"
assert_eq "$(code -X POST -H "X-Fleetboot-Credential: $CB" "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 403 "an earlier boot's credential"
assert_eq "$(code -X POST -H "X-Fleetboot-Credential: $CB2" "$U/boot/52-54-00-00-00-02/stage?name=userspace")" 200 "the new boot's credential"
assert_eq "$(code -X POST "$U/boot/52-54-00-00-00-01/stage?name=Bad%20Name")" 400 "bad stage name"
assert_eq "$(code -X POST "$U/boot/52-54-00-00-00-01/stage")" 400 "missing stage name"
assert_eq "$(code "$U/boot/52-54-00-00-00-01/stage?name=x")" 405 "GET on stage"
assert_eq "$(code -X DELETE $U/boot.ipxe)" 405 "DELETE"
sleep 0.5
ev=$(events_of 52:54:00:00:00:01)
echo "$ev"
for s in ipxe-script kernel root-attached; do
	echo "$ev" | grep -q "$s" || fail "no $s event for machine A"
done
events_of 52:54:00:00:00:02 | grep -q userspace || fail "no userspace event for B"

# The menu, and a choice from it.
fb -c "$CONF" machine set 52:54:00:00:00:01 --image menu >/dev/null
sleep 1.3
c $U/boot/52-54-00-00-00-01.ipxe >"$T/menu"
cat "$T/menu"
grep -q "^menu " "$T/menu" || fail "no menu"
grep -q "img1@1" "$T/menu" || fail "menu lacks the image"
grep -q "^choose --default local --timeout 7000 " "$T/menu" || fail "choose line"
grep -q "^sanboot --no-describe --drive 0x80" "$T/menu" || fail "no local-disk item"
# No iPXE shell unless [bootd] menu_shell = on (a console user would act as
# the machine); with it, the item and its label.
grep -Eq "^item shell|^:shell|^shell" "$T/menu" && fail "the menu offers the iPXE shell by default"
grep -q "$SA" "$T/menu" && fail "the menu carries the secret"
c "$U/boot/52-54-00-00-00-01.ipxe?image=img1@1" >"$T/choice"
grep -q "fleetboot.machine=52-54-00-00-00-01 " "$T/choice" || fail "menu choice: $(cat "$T/choice")"
grep -q "$SA" "$T/choice" && fail "the menu choice carries the secret"
assert_eq "$(code "$U/boot/52-54-00-00-00-01.ipxe?image=nope@1")" 404 "menu choice of a missing image"
bootd_stop
echo "menu_shell = on" >>"$CONF"
bootd_start
c $U/boot/52-54-00-00-00-01.ipxe >"$T/menu-shell"
grep -q "^item shell iPXE shell$" "$T/menu-shell" || fail "menu_shell = on: no shell item: $(cat "$T/menu-shell")"
grep -q "^:shell$" "$T/menu-shell" || fail "menu_shell = on: no :shell label"
fb -c "$CONF" machine set 52:54:00:00:00:01 --image img1 >/dev/null
sleep 1.3
assert_eq "$(code "$U/boot/52-54-00-00-00-01.ipxe?image=img1@1")" 403 "image choice when not on the menu"

# Garbage: oversized headers, junk request lines, a huge body; still serving.
big=$(head -c 60000 /dev/zero | tr '\0' a)
code -H "X-Big: $big" $U/healthz | grep -Eq '^(413|431|400)$' || fail "oversized header accepted"
raw() { ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/10.77.0.1/8067; printf '$1' >&3; timeout 5 cat <&3" 2>/dev/null | head -n 1; }
# A request line with no URI: libmicrohttpd closes the connection.
[ -z "$(raw 'GARBAGE\r\n\r\n')" ] || fail "junk request line answered"
raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad header line\r\n\r\n' | grep -q " 400" || fail "bad header line"
raw 'GET /healthz HTTP/9.9\r\n\r\n' | grep -q " 505" || fail "bad HTTP version"
ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/10.77.0.1/8067; printf 'GET /%s HTTP/1.1\r\n\r\n' $big >&3; timeout 5 cat <&3" \
	>"$T/junk2" 2>/dev/null
# libmicrohttpd answers 414 or closes the connection; it must never be 200.
head -n 1 "$T/junk2" | grep -q " 200" && fail "huge URL: $(head -n 1 "$T/junk2")"
head -c 100000 /dev/zero >"$T/body"
code -X POST --data-binary @"$T/body" "$U/boot/52-54-00-00-00-01/stage?name=x" | grep -q 413 ||
	fail "huge body not refused"
assert_eq "$(code $U/healthz)" 200 "healthz after garbage"

# A credential belongs to the boot that asks for it, also when the
# initramfs asks right after the firmware's DHCP, while bootd's writer
# (it commits every 100 ms) still holds the event that starts the boot:
# issued before it lands, the credential is the previous boot's and
# storaged refuses it ("not this boot's"). Ten boots, each asking at once.
n_ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	ip netns exec "$CLI" "$BOOTD_TOOLS/pxeprobe" -i bc0 -m 52:54:00:00:00:01 -a 0 \
		-V PXEClient:Arch:00000:UNDI:002001 >/dev/null || fail "boot $i: no PXE answer"
	c -f -o /dev/null $U/boot/52-54-00-00-00-01/credential || fail "boot $i: no credential"
	seqs=$(sqlite3 "$T/state/fleetboot.db" "SELECT c.boot_seq || ' ' || m.boot_seq FROM credentials c
		JOIN machines m ON m.mac = c.mac WHERE c.mac = '52-54-00-00-00-01'")
	read -r cs ms <<<"$seqs"
	[ -n "$cs" ] && [ "$cs" = "$ms" ] ||
		fail "boot $i: the credential is boot ${cs:-?}'s, the machine is in boot ${ms:-?}"
	n_ok=$((n_ok + 1))
done
echo "ok: $n_ok boots, each credential its own boot's"
bootd_alive
bootd_stop
echo pass
