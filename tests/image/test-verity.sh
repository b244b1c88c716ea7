#!/usr/bin/env bash
# dm-verity per image version (issue 16): `image import` writes
# rootfs.verity beside rootfs.img; its root hash is the same in the
# database (`image show --json`), the manifest and `image show`, and
# `veritysetup verify` accepts rootfs.img against it. `image verify` checks
# the tree too: a byte changed in rootfs.verity (the rootfs's sha256 still
# right) or in rootfs.img is found and named. A root file system whose size
# is not a multiple of 4096 bytes is imported with a warning and no tree.
# timeout: 60
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
requires_root
requires veritysetup jq mke2fs cpio sha256sum

T=$(tmpdir_new)
cleanup "rm -rf '$T'"
fixture_image "$T"
CONF=$(fixture_state "$T")
f() { fb -c "$CONF" "$@"; }
f init >"$T/init.log" 2>&1 || { cat "$T/init.log"; fail "init"; }

f image import v --rootfs "$T/root.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	>/dev/null || fail "import"
d=$T/state/images/v/1
[ -s "$d/rootfs.verity" ] || fail "no rootfs.verity"
rh=$(f image show v --json | jq -r .verity_root_hash)
salt=$(f image show v --json | jq -r .verity_salt)
if [ ${#rh} != 64 ] || [ ${#salt} != 64 ]; then
	fail "image show --json: root hash '$rh', salt '$salt'"
fi
assert_eq "$(jq -r .verity.root_hash "$d/manifest.json")" "$rh" "manifest root hash"
assert_eq "$(jq -r .verity.salt "$d/manifest.json")" "$salt" "manifest salt"
assert_eq "$(jq -r '.files["rootfs.verity"].sha256' "$d/manifest.json")" \
	"$(sha256sum <"$d/rootfs.verity" | cut -d' ' -f1)" "manifest sha256 of rootfs.verity"
f image show v | grep -q "^verity: *$rh$" || fail "image show does not list the root hash"
veritysetup verify "$d/rootfs.img" "$d/rootfs.verity" "$rh" ||
	fail "veritysetup verify refuses the version's own tree and root hash"
veritysetup dump "$d/rootfs.verity" | grep -Eq "Data block size:[[:space:]]+4096" || fail "data block size is not 4096"
f image verify v >"$T/o" 2>&1 || { cat "$T/o"; fail "image verify of an intact version"; }
grep -q "dm-verity root hash ${rh:0:16}... checked" "$T/o" || fail "image verify did not check the tree: $(cat "$T/o")"

# One byte of the hash tree (past its 4096-byte superblock) changed.
flip() { # FILE OFFSET: invert one byte
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	# The byte as an octal escape, which printf's format expands.
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
cp "$d/rootfs.verity" "$T/tree.bak"
flip "$d/rootfs.verity" 5000
f image verify v >"$T/o" 2>&1 && fail "image verify passed with a changed hash tree"
cat "$T/o"
grep -q "dm-verity MISMATCH" "$T/o" || fail "a changed tree is not named"
grep -q "rootfs.img MISMATCH" "$T/o" && fail "the rootfs's sha256 was blamed for a changed tree"
cp "$T/tree.bak" "$d/rootfs.verity"

# One byte of the root file system changed: both checks see it.
flip "$d/rootfs.img" 3000000
veritysetup verify "$d/rootfs.img" "$d/rootfs.verity" "$rh" 2>/dev/null &&
	fail "veritysetup verify accepts a changed rootfs"
f image verify v >"$T/o" 2>&1 && fail "image verify passed with a changed rootfs"
grep -q "dm-verity MISMATCH" "$T/o" || fail "the tree check missed a changed rootfs: $(cat "$T/o")"

# A size that is not a multiple of 4096: imported, warned, no tree.
mke2fs -q -t ext4 -b 1024 -d "$T/rootdir" "$T/odd.img" 8193K || fail "mke2fs"
f image import odd --rootfs "$T/odd.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	>/dev/null 2>"$T/e" || { cat "$T/e"; fail "import of an odd-sized rootfs"; }
grep -q "not a multiple of 4096 bytes: no dm-verity tree" "$T/e" || fail "no warning: $(cat "$T/e")"
[ ! -e "$T/state/images/odd/1/rootfs.verity" ] || fail "a tree for an odd-sized rootfs"
assert_eq "$(f image show odd --json | jq -r .verity_root_hash)" "" "odd root hash"
f image verify odd >/dev/null || fail "image verify of a version without a tree"
echo "ok: dm-verity tree, root hash in DB/manifest/show, verify catches tree and rootfs changes"
