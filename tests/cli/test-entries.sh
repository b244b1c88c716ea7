#!/usr/bin/env bash
# Boot entries and next boot (issue 15): `fleetboot entry add|list|show|rm`
# with files copied into the state tree (sha256 recorded) and URLs; bad
# input (a missing file, a bad URL, a name that exists, a bad name, a file
# that is not what its option says, an entry in use on rm) gives one line
# on stderr, exit 1, and leaves the database and the entries folder as they
# were; bootd serves an entry's files at /entries/NAME/FILE to anyone (as
# image files: HEAD, Range, the recorded sha256); the menu lists entries
# next to the images (kernel+initrd, sanboot, chain) and may default to
# one; `machine set --next-boot` gives the machine's next script to the
# entry once: a retry of the same boot gets it again, the next boot is the
# normal one, and a next-boot event is recorded once.
# timeout: 120
. "$(dirname "$0")/../bootd/common.sh"
requires busybox sha256sum sqlite3 gzip jq

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600" \
	"menu_timeout = 3"
db=$T/state/fleetboot.db
make_image img1 200000
f() { fb -c "$CONF" "$@"; }

# Entry files: a bzImage stand-in, a gzip initrd, an ISO 9660 stand-in
# ("CD001" at 0x8001) and a PE stand-in ("MZ").
head -c 150000 /dev/urandom >"$T/k"
printf 'HdrS' | dd of="$T/k" bs=1 seek=$((0x202)) conv=notrunc status=none
head -c 100000 /dev/urandom | gzip -1 >"$T/i.gz"
head -c 70000 /dev/urandom >"$T/x.iso"
printf 'CD001' | dd of="$T/x.iso" bs=1 seek=$((0x8001)) conv=notrunc status=none
{ printf 'MZ'; head -c 5000 /dev/urandom; } >"$T/x.efi"

f entry add rescue --kernel "$T/k" --initrd "$T/i.gz" --cmdline "console=ttyS0 rescue=1" \
	--title "Rescue system" >"$T/out" || fail "entry add rescue: $(cat "$T/out")"
f entry add cd --iso "$T/x.iso" >/dev/null || fail "entry add --iso"
f entry add fw --efi http://10.77.0.9/tools/fw.efi --title "Firmware tool" >/dev/null ||
	fail "entry add --efi URL"
f entry add netinst --kernel http://10.77.0.9/di/linux --initrd http://10.77.0.9/di/initrd.gz \
	>/dev/null || fail "entry add with URLs"

diff -u - <(f entry list) <<'G' || fail "entry list table differs"
NAME     KIND    FILES   TITLE
cd       iso     served  -
fw       efi     url     Firmware tool
netinst  kernel  url     -
rescue   kernel  served  Rescue system
G
json=$(f entry show rescue --json) || fail "entry show --json"
ksha=$(echo "$json" | jq -r .sha256)
isha=$(echo "$json" | jq -r .initrd_sha256)
assert_eq "$ksha" "$(sha256sum <"$T/k" | cut -d' ' -f1)" "recorded kernel sha256"
assert_eq "$isha" "$(sha256sum <"$T/i.gz" | cut -d' ' -f1)" "recorded initrd sha256"
assert_eq "$(echo "$json" | jq -r .cmdline)" "console=ttyS0 rescue=1" "cmdline"
assert_eq "$(f entry list --json | jq -r '.[].name' | tr '\n' ' ')" "cd fw netinst rescue " \
	"entry list --json"
assert_eq "$(f entry show fw --json | jq -r '.url + " " + (.served|tostring)')" \
	"http://10.77.0.9/tools/fw.efi false" "URL entry"
cmp -s "$T/k" "$T/state/entries/rescue/kernel" || fail "the kernel was not copied into the state tree"
cmp -s "$T/x.iso" "$T/state/entries/cd/image.iso" || fail "the ISO was not copied into the state tree"

# Bad input: exit 1 (2 for usage), one line on stderr, nothing changed.
f machine add 52:54:00:00:00:01 --image img1 >/dev/null || fail "machine add A"
f machine add 52:54:00:00:00:02 --image menu >/dev/null || fail "machine add B"
f machine set 52:54:00:00:00:02 --next-boot cd >/dev/null || fail "next boot of B"
db_settle "$db"
before=$(db_sum "$db")
files_before=$(cd "$T/state/entries" && find . | sort | sha256sum)
check_err() { # expected-exit message-substring args...
	local want=$1 msg=$2 rc
	shift 2
	f "$@" >"$T/o" 2>"$T/e"
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*': exit $rc, expected $want: $(cat "$T/e")"
	grep -qF -- "$msg" "$T/e" || fail "'$*': stderr lacks '$msg': $(cat "$T/e")"
	[ "$want" = 2 ] || [ "$(wc -l <"$T/e")" = 1 ] || fail "'$*': not one line: $(cat "$T/e")"
	[ -s "$T/o" ] && fail "'$*' printed on stdout: $(cat "$T/o")"
	[ "$(db_sum "$db")" = "$before" ] || fail "'$*' changed the database"
	[ "$(cd "$T/state/entries" && find . | sort | sha256sum)" = "$files_before" ] ||
		fail "'$*' changed the entries folder"
}
check_err 1 "--kernel $T/nope: No such file or directory" entry add x --kernel "$T/nope"
check_err 1 "--initrd $T/nope: No such file or directory" entry add x --kernel "$T/k" --initrd "$T/nope"
check_err 1 "--kernel ftp://10.77.0.9/k: not a URL" entry add x --kernel ftp://10.77.0.9/k
check_err 1 "--iso http://: not a URL" entry add x --iso http://
check_err 1 "not a URL" entry add x --efi 'http://10.77.0.9/a b.efi'
check_err 1 "not a URL" entry add x --efi 'http://10.77.0.9/${net0/mac}.efi'
check_err 1 "entry rescue already exists" entry add rescue --kernel "$T/k"
check_err 1 "an image is named img1" entry add img1 --kernel "$T/k"
check_err 1 "name: 'bad/name' is not a valid entry name" entry add bad/name --kernel "$T/k"
check_err 1 "name: 'local' is not a valid entry name" entry add local --kernel "$T/k"
check_err 1 "--kernel $T/x.iso: not a Linux kernel" entry add x --kernel "$T/x.iso"
check_err 1 "--iso $T/k: not an ISO 9660 image" entry add x --iso "$T/k"
check_err 1 "--efi $T/i.gz: not a UEFI program" entry add x --efi "$T/i.gz"
check_err 1 "cmdline: only printable characters" entry add x --kernel "$T/k" --cmdline 'a $x'
check_err 1 "entry cd is in use: the next boot of 52-54-00-00-00-02" entry rm cd
check_err 1 "no entry nope" entry rm nope
check_err 1 "no entry nope" entry show nope
check_err 1 "--next-boot: no entry or ready image named nope" machine set 52:54:00:00:00:01 --next-boot nope
check_err 2 "entry add needs one of --kernel, --iso, --efi" entry add x --kernel "$T/k" --iso "$T/x.iso"
check_err 2 "--initrd and --cmdline go with --kernel" entry add x --iso "$T/x.iso" --initrd "$T/i.gz"
check_err 2 "--cache is for entries given by URL" entry add x --kernel "$T/k" --cache
# The menu default of the config is a use too.
sed -i 's/^menu_timeout = 3$/menu_timeout = 3\nmenu_default = rescue/' "$CONF"
check_err 1 "entry rescue is in use: [bootd] menu_default names it" entry rm rescue
f machine set 52:54:00:00:00:02 --next-boot none >/dev/null || fail "clear next boot"
f machine show 52:54:00:00:00:02 | grep -q "Next boot" && fail "next boot not cleared"

# bootd serves entry files to anyone, as image files.
bootd_net
bootd_start
udhcpc_script
ip -n "$CLI" link set bc0 address 52:54:00:00:00:01
OUT=$T/a ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
	>/dev/null 2>&1 || fail "no lease"
U=http://10.77.0.1:8067
c() { ip netns exec "$CLI" curl -s --path-as-is "$@"; }
code() { c -o /dev/null -w '%{http_code}' "$@"; }
assert_eq "$(c $U/entries/rescue/kernel | sha256sum | cut -d' ' -f1)" "$ksha" "served kernel sha256"
assert_eq "$(c $U/entries/rescue/initrd | sha256sum | cut -d' ' -f1)" "$isha" "served initrd sha256"
c -I $U/entries/rescue/kernel | tr -d '\r' >"$T/head"
grep -q "^Content-Length: 150000$" "$T/head" || fail "HEAD: $(cat "$T/head")"
grep -q "^Accept-Ranges: bytes$" "$T/head" || fail "HEAD lacks Accept-Ranges: $(cat "$T/head")"
c -D "$T/rh" -r 514-517 $U/entries/rescue/kernel >"$T/range"
head -n 1 "$T/rh" | grep -q " 206" || fail "Range: $(head -n 1 "$T/rh")"
assert_eq "$(cat "$T/range")" "HdrS" "Range bytes"
assert_eq "$(ip netns exec "$SRV" curl -s $U/entries/cd/image.iso | sha256sum)" \
	"$(sha256sum <"$T/x.iso")" "ISO from the server's own namespace (public, like images)"
assert_eq "$(code $U/entries/fw/program.efi)" 404 "a URL entry's file is not served"
assert_eq "$(code $U/entries/rescue/image.iso)" 404 "a kernel entry has no ISO"
assert_eq "$(code $U/entries/nope/kernel)" 404 "unknown entry"
assert_eq "$(code $U/entries/rescue/../../fleetboot.db)" 404 "traversal"
assert_eq "$(code $U/entries/.x/kernel)" 400 "bad entry name"
assert_eq "$(code $U/entries/rescue/vmlinuz)" 404 "other file names"

# --cache: fetched once by the command (curl, from a server in the lab),
# checked, and served by bootd; a download that is not a kernel changes
# nothing.
mkdir -p "$T/www"
cp "$T/k" "$T/www/k"
cp "$T/i.gz" "$T/www/notakernel"
ip netns exec "$SRV" busybox httpd -f -p 10.77.0.1:8090 -h "$T/www" &
echo $! >"$T/httpd.pid"
kill_at_exit "$T/httpd.pid"
wait_for 10 ip netns exec "$SRV" curl -sf -o /dev/null http://10.77.0.1:8090/k || fail "httpd"
db_settle "$db"
before=$(db_sum "$db")
ip netns exec "$SRV" "$FB_BIN/fleetboot" -c "$CONF" entry add cached \
	--kernel http://10.77.0.1:8090/notakernel --cache >"$T/o" 2>"$T/e" && fail "cached non-kernel accepted"
grep -q "^fleetboot: --kernel http://10.77.0.1:8090/notakernel: not a Linux kernel" "$T/e" || fail "cache check: $(cat "$T/e")"
ip netns exec "$SRV" "$FB_BIN/fleetboot" -c "$CONF" entry add cached \
	--kernel http://10.77.0.1:8090/missing --cache >"$T/o" 2>"$T/e" && fail "a 404 was cached"
grep -q "download failed" "$T/e" || fail "cache 404: $(cat "$T/e")"
[ "$(db_sum "$db")" = "$before" ] || fail "a failed --cache changed the database"
[ -e "$T/state/entries/cached" ] && fail "a failed --cache left files"
ip netns exec "$SRV" "$FB_BIN/fleetboot" -c "$CONF" entry add cached \
	--kernel http://10.77.0.1:8090/k --cache >/dev/null || fail "entry add --cache"
assert_eq "$(f entry show cached --json | jq -r '.served, .sha256, .source' | tr '\n' ' ')" \
	"true $ksha cached:http://10.77.0.1:8090/k " "cached entry"
sleep 1.5 # bootd's cache refresh
assert_eq "$(c $U/entries/cached/kernel | sha256sum | cut -d' ' -f1)" "$ksha" "cached kernel served"

# The menu (machine A set to the menu): images, then entries, each booted
# in place; menu_default names an entry; no shell item.
f machine set 52:54:00:00:00:01 --image menu >/dev/null || fail "A to the menu"
bootd_stop
bootd_start
c $U/boot/52-54-00-00-00-01.ipxe >"$T/menu"
cat "$T/menu"
grep -q "^item img0 img1@1$" "$T/menu" || fail "menu lacks the image"
n=$(grep -n "^item ent" "$T/menu" | cut -d: -f1 | head -n 1)
[ -n "$n" ] && [ "$n" -gt "$(grep -n '^item img0' "$T/menu" | cut -d: -f1)" ] ||
	fail "entries are not listed after the images"
for l in "item ent0 cached" "item ent1 cd" "item ent2 Firmware tool" "item ent3 netinst" \
	"item ent4 Rescue system" "kernel $U/entries/cached/kernel" \
	"sanboot $U/entries/cd/image.iso" "chain http://10.77.0.9/tools/fw.efi" \
	"kernel http://10.77.0.9/di/linux initrd=initrd.img" \
	"initrd --name initrd.img http://10.77.0.9/di/initrd.gz" \
	"kernel $U/entries/rescue/kernel initrd=initrd.img console=ttyS0 rescue=1" \
	"initrd --name initrd.img $U/entries/rescue/initrd" \
	"item local Boot from the local disk"; do
	grep -qxF "$l" "$T/menu" || fail "menu lacks '$l'"
done
grep -q "^choose --default ent4 --timeout 3000 target" "$T/menu" || fail "menu default is not the entry"
grep -qi "shell" "$T/menu" && fail "a shell item without menu_shell = on"

# Next boot, once: the entry, again for a retry of the same boot, then the
# normal script after a new boot.
f machine set 52:54:00:00:00:01 --image img1 --next-boot rescue >/dev/null || fail "set next boot"
f machine show 52:54:00:00:00:01 | grep -qx "Next boot: rescue, once" ||
	fail "machine show: $(f machine show 52:54:00:00:00:01)"
assert_eq "$(f machine show 52:54:00:00:00:01 --json | jq -r .next_boot)" rescue "show --json"
sleep 1.5 # bootd's cache refresh
c $U/boot/52-54-00-00-00-01.ipxe >"$T/nb1"
grep -qxF "kernel $U/entries/rescue/kernel initrd=initrd.img console=ttyS0 rescue=1" "$T/nb1" ||
	fail "next boot script: $(cat "$T/nb1")"
c $U/boot/52-54-00-00-00-01.ipxe >"$T/nb2"
cmp -s "$T/nb1" "$T/nb2" || fail "a retry in the same boot lost the next boot: $(cat "$T/nb2")"
nb_event() { events_of 52:54:00:00:00:01 | grep -q 'next-boot  *rescue, once'; }
wait_for 5 nb_event ||
	fail "no next-boot event: $(events_of 52:54:00:00:00:01)"
# A new boot: the firmware's PXE DHCP.
OUT=$T/b ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -V PXEClient:Arch:00000 \
	-s "$T/udhcpc.sh" >/dev/null 2>&1 || fail "no PXE lease"
c $U/boot/52-54-00-00-00-01.ipxe >"$T/nb3"
grep -q "^kernel $U/images/img1/1/vmlinuz " "$T/nb3" || fail "the boot after is not the normal one: $(cat "$T/nb3")"
assert_eq "$(f machine show 52:54:00:00:00:01 --json | jq -r .next_boot)" "" "next boot cleared"
assert_eq "$(events_of 52:54:00:00:00:01 | awk '$4 == "next-boot"' | wc -l)" 1 "next-boot events"
# local, and a new boot the database knows of first (a hand-made credential).
f machine set 52:54:00:00:00:01 --next-boot local >/dev/null || fail "next boot local"
sleep 1.5
c $U/boot/52-54-00-00-00-01.ipxe | grep -q "^sanboot --no-describe --drive 0x80" || fail "next boot local"
f machine credential 52:54:00:00:00:01 >/dev/null || fail "credential"
c $U/boot/52-54-00-00-00-01.ipxe | grep -q "^kernel $U/images/img1/1/vmlinuz " ||
	fail "after local, the normal boot"
bootd_alive
bootd_stop
echo "ok: entries, their files over HTTP, menus and next boot"
