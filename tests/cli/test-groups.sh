#!/usr/bin/env bash
# Groups (issue 15): `fleetboot group add|list|show|set|rm`; a machine's
# effective settings (its own, else its group's, else the default) with
# where each came from in `machine show` and its JSON; a machine's own
# setting wins; a change to the group shows in its machines at once;
# `machine set --mode inherit` hands a setting back to the group; a machine
# made before it joined keeps its own mode. Bad input (unknown group, bad
# values, a name that exists, rm of a group in use) gives one line on
# stderr, exit 1, and leaves the database as it was. A menu per group:
# the script bootd serves a machine set to the menu takes its group's
# menu default and timeout, other machines the [bootd] ones.
# timeout: 90
. "$(dirname "$0")/../bootd/common.sh"
requires busybox sqlite3 jq

bootd_env "dhcp = authoritative" "pool = 10.77.0.100-10.77.0.150" "lease_time = 600" \
	"menu_timeout = 3"
db=$T/state/fleetboot.db
make_image img1 200000
make_image img2 200000
f() { fb -c "$CONF" "$@"; }
A=52:54:00:00:00:01
B=52:54:00:00:00:02
C=52:54:00:00:00:03

# A machine made before its group had settings keeps its own mode.
f machine add $C --image img1 --mode ephemeral --group lab1 >/dev/null || fail "machine add C"
f group add lab2 >/dev/null || fail "group add lab2 (no settings)"
f group set lab1 --mode readonly --protocol iscsi >/dev/null || fail "group set lab1"
assert_eq "$(f machine add $A --group lab1)" "added 52-54-00-00-00-01 (readonly, iscsi, image unassigned)" \
	"machine add says the settings it takes from its group"
f machine add $B --group lab1 --protocol nbd --image img2 >/dev/null || fail "machine add B"

show() { f machine show "$1" | grep "^$2:" | sed "s/^$2: *//"; }
assert_eq "$(show $A mode)" "readonly (from group lab1)" "A's mode from its group"
assert_eq "$(show $A protocol)" "iscsi (from group lab1)" "A's protocol from its group"
assert_eq "$(show $A image)" "(unassigned) (default)" "A's image: the default"
assert_eq "$(show $A loader)" "ipxe (default)" "A's loader: the default"
assert_eq "$(show $B protocol)" "nbd" "B's own protocol wins over its group's"
assert_eq "$(show $B mode)" "readonly (from group lab1)" "B's mode from its group"
assert_eq "$(show $C mode)" "ephemeral" "C (made before) keeps its own mode"
assert_eq "$(f machine show $A --json | jq -r '[.mode, .from.mode, .protocol, .from.protocol, .from.image] | join(" ")')" \
	"readonly group iscsi group default" "machine show --json origins"
assert_eq "$(f machine list --json | jq -r '.[] | .mac + "=" + .mode' | tr '\n' ' ')" \
	"52-54-00-00-00-01=readonly 52-54-00-00-00-02=readonly 52-54-00-00-00-03=ephemeral " \
	"machine list shows effective modes"

# A change to the group shows in its machines at once; their own settings stay.
f group set lab1 --mode persistent --image img1 --loader pxelinux --secure-boot off \
	>/dev/null || fail "group set lab1 (2)"
assert_eq "$(show $A mode)" "persistent (from group lab1)" "inheritance follows group set"
assert_eq "$(show $A image)" "img1 (from group lab1)" "image from the group"
assert_eq "$(show $A loader)" "pxelinux (from group lab1)" "loader from the group"
assert_eq "$(show $A 'secure boot')" "off (from group lab1)" "Secure Boot from the group"
assert_eq "$(show $B image)" "img2" "B's own image wins"
assert_eq "$(show $C mode)" "ephemeral" "C's own mode wins"
# A change to another setting of a machine leaves its inherited ones inherited.
f machine set $A --name pc-a >/dev/null || fail "machine set --name"
f group set lab1 --mode install >/dev/null || fail "group set lab1 (3)"
assert_eq "$(show $A mode)" "install (from group lab1)" "still inherited after machine set --name"
# The machine's own, then back to the group's with inherit.
f machine set $A --mode ephemeral >/dev/null || fail "machine set --mode"
assert_eq "$(show $A mode)" "ephemeral" "the machine's own mode wins"
f machine set $A --mode inherit --loader inherit >/dev/null || fail "machine set --mode inherit"
assert_eq "$(show $A mode)" "install (from group lab1)" "inherit: the group's again"
# Unset in the group: the default.
f group set lab1 --mode '' --loader '' >/dev/null || fail "group set --mode ''"
assert_eq "$(show $A mode)" "persistent (default)" "unset in the group: the default"
assert_eq "$(show $A loader)" "ipxe (default)" "loader unset in the group: the default"

# list, show, JSON.
diff -u - <(f group list) <<'G' || fail "group list table differs"
GROUP  MACHINES  IMAGE  MODE  PROTO  LOADER  SECURE BOOT  MENU DEFAULT  MENU TIMEOUT
lab1   3         img1   -     iscsi  -       off          -             -
lab2   0         -      -     -      -       -            -             -
G
assert_eq "$(f group show lab1 --json | jq -c '[.name, .machines, .image, .mode, .protocol, .secure_boot, .menu_timeout]')" \
	'["lab1",3,"img1","","iscsi","off",null]' "group show --json"
assert_eq "$(f group list --json | jq -r '.[].name' | tr '\n' ' ')" "lab1 lab2 " "group list --json"
f group show lab1 | grep -qx "protocol:     iscsi" || fail "group show: $(f group show lab1)"

# Bad input: exit 1 (2 for usage), one line on stderr, nothing changed.
db_settle "$db"
before=$(db_sum "$db")
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
}
check_err 1 "no group nope" group show nope
check_err 1 "no group nope" group set nope --mode ephemeral
check_err 1 "no group nope" group rm nope
check_err 1 "group lab1 already exists" group add lab1
check_err 1 "--mode: 'sometimes' is not one of persistent, ephemeral, readonly, install" \
	group set lab1 --mode sometimes
check_err 1 "--protocol: 'nfs' is not nbd or iscsi" group add x --protocol nfs
check_err 1 "--loader: 'grub' is not ipxe or pxelinux" group add x --loader grub
check_err 1 "--secure-boot: 'yes' is not on or off" group set lab2 --secure-boot yes
check_err 1 "--secure-boot: on needs mode readonly (a verified dm-verity root takes no writes), not persistent" \
	group set lab2 --mode persistent --secure-boot on
check_err 1 "--menu-timeout: 'soon' is not a number of seconds from 0 to 3600" \
	group add x --menu-timeout soon
check_err 1 "--menu-timeout: '3601' is not a number" group set lab2 --menu-timeout 3601
check_err 1 "image: no image nope" group set lab2 --image nope
check_err 1 "menu-default: no image or entry named nope" group set lab2 --menu-default nope
check_err 1 "--name: 'bad name' is not a valid group name" group add 'bad name'
check_err 1 "--mode: 'sometimes' is not one of" machine set $A --mode sometimes
check_err 1 "group lab1 is in use by 3 machines" group rm lab1
check_err 2 "group set needs at least one option" group set lab1
assert_eq "$(show $B group)" "lab1" "B still in lab1 after the refused rm"
assert_eq "$(f group show lab1 --json | jq -r .machines)" 3 "lab1 still has its machines"

# A menu per group, on the real script bootd serves: A and C in lab1 (menu
# default img2, timeout 11), B with no group takes [bootd]'s (local, 3 s).
f group set lab1 --image menu --menu-default img2 --menu-timeout 11 >/dev/null ||
	fail "group set lab1 menu"
f machine set $C --image '' >/dev/null || fail "C's image back to the group's"
f machine set $B --image menu --group '' >/dev/null || fail "B out of the group"
assert_eq "$(show $A 'menu default')" "img2 (from group lab1)" "machine show: the group's menu default"
bootd_net
bootd_start
udhcpc_script
U=http://$SRV_IP:$HTTP_PORT
script_of() { # MAC OUT: take a lease as MAC in the client namespace, fetch its script
	local hy=${1//:/-}
	ip -n "$CLI" addr flush dev bc0
	ip -n "$CLI" link set bc0 address "$1"
	OUT=$T/l ip netns exec "$CLI" busybox udhcpc -i bc0 -f -q -n -t 4 -T 1 -s "$T/udhcpc.sh" \
		>/dev/null 2>&1 || fail "no lease for $1"
	ip netns exec "$CLI" curl -sf "$U/boot/$hy.ipxe" >"$2" || fail "no script for $1"
}
script_of $A "$T/menu-a"
grep -q "^item img1 img2@1$" "$T/menu-a" || fail "A's menu: $(cat "$T/menu-a")"
grep -q "^choose --default img1 --timeout 11000 target" "$T/menu-a" ||
	fail "A's menu does not take its group's default and timeout: $(grep choose "$T/menu-a")"
script_of $B "$T/menu-b"
grep -q "^choose --default local --timeout 3000 target" "$T/menu-b" ||
	fail "B (no group) does not take [bootd]'s menu: $(grep choose "$T/menu-b")"
# The group's setting changes: the next script follows (bootd's cache refresh).
f group set lab1 --menu-timeout '' --menu-default local >/dev/null || fail "group set menu (2)"
sleep 1.5
script_of $C "$T/menu-c"
grep -q "^choose --default local --timeout 3000 target" "$T/menu-c" ||
	fail "C's menu after the group's timeout was unset: $(grep choose "$T/menu-c")"
bootd_alive
bootd_stop

# Secure Boot runs only readonly, judged on a machine's effective settings:
# A's own secure-boot on sits on the mode it inherits (lab1's readonly), so
# lab1 cannot take a writable mode, nor go away under A (A would fall back
# to the default, persistent), until A gives its setting back.
f group set lab1 --mode readonly >/dev/null || fail "group set lab1 --mode readonly"
f machine set $A --secure-boot on >/dev/null || fail "A: secure-boot on over lab1's readonly"
db_settle "$db"
before=$(db_sum "$db")
sbwhy="mode persistent would write blocks the root hash covers (machine ${A//:/-}: secure-boot from machine"
check_err 1 "$sbwhy, mode from group)" group set lab1 --mode persistent
check_err 1 "$sbwhy, mode from default)" group rm lab1 --force
check_err 1 "$sbwhy, mode from machine)" machine set $A --mode persistent
f machine set $A --secure-boot inherit >/dev/null || fail "A: secure-boot back to the group's"

# rm --force takes the machines out; they keep their own settings.
f group rm lab1 --force >"$T/o" || fail "group rm --force"
assert_eq "$(cat "$T/o")" "removed group lab1 (2 machines taken out of it)" "rm --force output"
assert_eq "$(show $C mode)" "ephemeral" "C keeps its own mode"
assert_eq "$(show $A image)" "(unassigned) (default)" "A lost the group's image"
assert_eq "$(f machine show $A --json | jq -r .group)" "" "A out of the group"
f group rm lab2 >/dev/null || fail "group rm lab2 (empty)"
assert_eq "$(f group list --json)" "[]" "no groups left"
echo "ok: groups, effective settings and a menu per group"
