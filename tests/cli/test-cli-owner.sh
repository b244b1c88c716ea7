#!/usr/bin/env bash
# `fleetboot init` run as root gives a root-owned state tree to the service
# user (nobody stands in for "fleetboot" here), so the daemons drop root;
# without that user, root keeps the tree and init says why. Needs root: on
# CI it runs (an unlisted skip fails there).
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root: init as root gives the tree away with chown"
requires mke2fs cpio
T=$(tmpdir_new)
fixture_image "$T"

svc=$(fixture_state "$T/svc")
# nobody must reach the state dir through $T (mktemp made it 0700),
# or init refuses to give it the tree.
chmod 711 "$T"
# No such user yet: root keeps the tree, with a warning that says why.
FLEETBOOT_USER=fb-no-such-user fb -c "$svc" init >/dev/null 2>"$T/nouser.err" ||
	fail "init without the service user failed"
grep -q "no user 'fb-no-such-user'" "$T/nouser.err" || fail "no warning: $(cat "$T/nouser.err")"
[ "$(stat -c %U "$T/svc/state")" = root ] || fail "state dir given away without a user"
fb -c "$svc" image import tiny --rootfs "$T/root.img" --kernel "$T/vmlinuz" \
	--initrd "$T/initrd.img" >/dev/null || fail "import into the root-owned tree"
# Once the user exists, init again hands the whole tree over.
FLEETBOOT_USER=nobody fb -c "$svc" init >"$T/svc.out" 2>&1 || fail "init as root: $(cat "$T/svc.out")"
grep -q "belongs to nobody" "$T/svc.out" || fail "init did not say whom the tree is for: $(cat "$T/svc.out")"
for f in "" /fleetboot.db /overlays /tftp/undionly.kpxe /images /images/tiny; do
	[ "$(stat -c %U "$T/svc/state$f")" = nobody ] || fail "state$f is not nobody's after init"
done
# The chown moved the image's ctime; the verification record that
# spares storaged a full hash was written again to match it.
img=$(echo "$T"/svc/state/images/tiny/*/rootfs.img)
rec=$(echo "$T"/svc/state/overlays/.verified/*)
[ -f "$rec" ] || fail "no verification record after init"
[ "$(awk '{ print $7 }' "$rec")" = "$(stat -c %.9Z "$img")" ] ||
	fail "the verification record no longer matches the image after the chown"
[ "$(stat -c %U "$rec")" = nobody ] || fail "the verification record is not nobody's"
# A tree already given to someone stays theirs.
FLEETBOOT_USER=root fb -c "$svc" init >/dev/null 2>&1 || fail "third init as root"
[ "$(stat -c %U "$T/svc/state/fleetboot.db")" = nobody ] || fail "a later init took the tree back"
echo "init ownership ok"
