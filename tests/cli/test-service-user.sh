#!/usr/bin/env bash
# timeout: 240
# The service user, with a real one of this test's own (a temporary system
# user, fbtestPID, named with FLEETBOOT_USER so the machine's 'fleetboot'
# user, if any, and other runs are untouched; removed at exit):
# - `fleetboot init` refuses a state dir under a directory that user cannot
#   search, naming that directory in one line and changing nothing; under a
#   traversable one it gives the tree to the user; it refuses again if the
#   way is closed later.
# - bootd, storaged and web drop to the user and serve the tree: a kernel
#   over HTTP, a TFTP file, a disk over NBD, a UI file.
# - A file there that the user cannot read is said to be so, plainly:
#   "cannot read FILE: Permission denied (runs as user U)" in the log, 403
#   over HTTP, a TFTP access violation, an NBD open refused (not "missing").
. "$(dirname "$0")/../bootd/common.sh"
. "$FB_TOP/tests/storaged/lib-storaged.sh"
requires useradd userdel nbdinfo mke2fs cpio cmp
[ -x "$FB_BIN/fleetboot-storaged" ] || skip "fleetboot-storaged is not built in $FB_BIN"
[ -x "$FB_BIN/fleetboot-web" ] || skip "fleetboot-web is not built in $FB_BIN"

U=fbtest$$
getent passwd "$U" >/dev/null && fail "user $U exists already"
useradd --system --user-group --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin "$U" || fail "useradd $U"
# Registered first, so it runs last: after every daemon of the user is gone.
cleanup "userdel -f '$U'"

tmp_new T
mkdir -m 755 "$T/srv"
CONF=$T/srv/fleetboot.conf
cat >"$CONF" <<EOF
[global]
state_dir = $T/srv/state
[bootd]
interface = bs0
http_port = $HTTP_PORT
dhcp = off
[web]
listen = 127.0.0.1:8080
EOF
export FLEETBOOT_CONF=$CONF
S=$T/srv/state
svc_init() { FLEETBOOT_USER=$U fb init >"$T/init.out" 2>"$T/init.err"; }

# 1. $T is 0700 (mktemp): the user cannot reach $T/srv/state. One line,
# naming $T, exit 1, nothing made.
svc_init && fail "init gave a tree under a 0700 directory to $U"
cat "$T/init.err"
assert_eq "$(wc -l <"$T/init.err")" 1 "lines on stderr"
grep -qF "state dir $S: the service user '$U' cannot reach it: $T is 0700 root:root; chmod o+x it" \
	"$T/init.err" || fail "refusal does not name $T: $(cat "$T/init.err")"
[ -e "$S" ] && fail "a refused init created $S"

# 2. Traversable: the tree is the user's; missing parents are made 0755.
chmod 711 "$T"
svc_init || fail "init under a traversable directory: $(cat "$T/init.err")"
grep -q "belongs to $U" "$T/init.out" || fail "init did not give the tree: $(cat "$T/init.out")"
assert_eq "$(stat -c %U "$S")" "$U" "owner of the state dir"
printf '[global]\nstate_dir = %s/new/a/state\n' "$T" >"$T/new.conf"
FLEETBOOT_USER=$U fb -c "$T/new.conf" init >/dev/null 2>"$T/new.err" || fail "init: $(cat "$T/new.err")"
assert_eq "$(stat -c '%a %U' "$T/new" "$T/new/a" | tr '\n' ' ')" "755 root 755 root " "parents init made"

# 3. The way closed later: init refuses, whatever FLEETBOOT_USER says (the
# daemons run as the tree's owner).
chmod 700 "$T"
fb init >/dev/null 2>"$T/init.err" && fail "init accepted a tree its owner cannot reach"
grep -qF "the service user '$U' cannot reach it: $T is 0700" "$T/init.err" ||
	fail "second refusal: $(cat "$T/init.err")"
chmod 711 "$T"

# Two images: "tiny" served, "locked" whose files the user cannot read.
fixture_image "$T/img"
for n in tiny locked; do
	fb image import $n --rootfs "$T/img/root.img" --kernel "$T/img/vmlinuz" \
		--initrd "$T/img/initrd.img" >/dev/null 2>&1 || fail "image import $n"
done
idir() { fb image show "$1" --json | sed -n 's/.*"dir": "\(.*\)".*/\1/p'; }
TINY=$(idir tiny)
LOCKED=$(idir locked)
[ -n "$TINY" ] && [ -n "$LOCKED" ] || fail "no image dirs"
assert_eq "$(stat -c %U "$TINY/vmlinuz")" "$U" "owner of an imported kernel"
chmod 000 "$LOCKED/vmlinuz" "$LOCKED/rootfs.img"
echo "tftp payload" >"$S/tftp/open.bin"
echo "tftp secret" >"$S/tftp/locked.bin"
chown "$U:" "$S/tftp/open.bin" "$S/tftp/locked.bin"
chmod 644 "$S/tftp/open.bin"
chmod 000 "$S/tftp/locked.bin"
A=52-54-00-5e-00-01
B=52-54-00-5e-00-02
fb machine add $A --image tiny --mode ephemeral --ip 10.77.1.2 >/dev/null || fail "machine add A"
fb machine add $B --image locked --mode ephemeral --ip 10.77.2.2 >/dev/null || fail "machine add B"

# bootd: HTTP and TFTP, as the user.
bootd_net
ip -n "$CLI" addr add 10.77.0.2/24 dev bc0
bootd_start
wait_for 10 grep -q "running as $U" "$T/bootd.log" || fail "bootd did not drop to $U: $(cat "$T/bootd.log")"
in_cli() { ip netns exec "$CLI" "$@"; }
url=http://$SRV_IP:$HTTP_PORT
code() { in_cli curl -s -o "$T/got" -w '%{http_code}' "$url$1"; }
assert_eq "$(code "/images/tiny/1/vmlinuz")" 200 "a kernel over HTTP"
cmp -s "$T/got" "$T/img/vmlinuz" || fail "the kernel served differs"
assert_eq "$(code "/images/locked/1/vmlinuz")" 403 "an unreadable kernel over HTTP"
grep -qF "cannot read $LOCKED/vmlinuz: Permission denied (runs as user $U)" "$T/bootd.log" ||
	fail "bootd did not log the unreadable kernel: $(tail -n 5 "$T/bootd.log")"
assert_eq "$(code "/tftp/open.bin")" 200 "a TFTP-root file over HTTP"
assert_eq "$(code "/tftp/locked.bin")" 403 "an unreadable TFTP-root file over HTTP"
in_cli curl -s -o "$T/t1" "tftp://$SRV_IP/open.bin" || fail "TFTP get as $U"
cmp -s "$T/t1" "$S/tftp/open.bin" || fail "the TFTP file served differs"
in_cli curl -s -o "$T/t2" "tftp://$SRV_IP/locked.bin"
rc=$?
# curl: 69 = TFTP access violation, 68 = file not found.
assert_eq "$rc" 69 "curl's exit for an unreadable TFTP file"
grep -qF "cannot read $S/tftp/locked.bin: Permission denied (runs as user $U)" "$T/bootd.log" ||
	fail "bootd did not log the unreadable TFTP file: $(tail -n 5 "$T/bootd.log")"
bootd_alive

# storaged: a disk over NBD, as the user; an unreadable base is said so.
sd_net 1 10.77.1.2 $A
sd_net 2 10.77.2.2 $B
sd_start
wait_for 10 grep -q "running as $U" "$SD_LOG" || fail "storaged did not drop to $U: $(cat "$SD_LOG")"
in_client 1 nbdinfo --size "$(sd_uri 1 $A)" >"$T/size" 2>"$T/nbd1.err" ||
	fail "nbdinfo as machine A: $(cat "$T/nbd1.err") $(tail -n 5 "$SD_LOG")"
assert_eq "$(cat "$T/size")" "$(stat -c %s "$T/img/root.img")" "size of A's disk"
in_client 2 nbdinfo --size "$(sd_uri 2 $B)" >/dev/null 2>"$T/nbd2.err" &&
	fail "a disk over an unreadable base was served"
logged "cannot read $LOCKED/rootfs.img: Permission denied (runs as user $U)" \
	"the unreadable base"
sd_stop

# web: a UI file, as the user (a copy of the UI, one file closed).
cp -r "$FB_TOP/web/ui" "$T/ui"
chmod -R a+rX "$T/ui"
chmod 000 "$T/ui/style.css"
WLOG=$T/web.log
FLEETBOOT_WEB_UI=$T/ui ip netns exec "$SRV" "$FB_BIN/fleetboot-web" -f -c "$CONF" >"$WLOG" 2>&1 &
echo $! >"$T/web.pid"
kill_at_exit "$T/web.pid"
wcode() { ip netns exec "$SRV" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8080$1"; }
web_up() { [ "$(wcode /login.html)" = 200 ]; }
wait_for 20 web_up || fail "web did not serve login.html: $(cat "$WLOG")"
grep -q "running as $U" "$WLOG" || fail "web did not drop to $U: $(cat "$WLOG")"
assert_eq "$(wcode /style.css)" 403 "an unreadable UI file"
grep -qF "cannot read $T/ui/style.css: Permission denied (runs as user $U)" "$WLOG" ||
	fail "web did not log the unreadable file: $(tail -n 5 "$WLOG")"
echo "service user $U: init refuses and accepts as it should; bootd, storaged and web run as $U and say what they cannot read"
