# shellcheck shell=bash
# tests/image/lib-image.sh - shared setup of the image builder's tests:
# a fresh state folder with its configuration (fleetboot init), and a
# kernel cache kept under $FB_ARTIFACTS so the cloud kernel package is
# downloaded once, not once per test.
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

requires_root
requires mke2fs debugfs cpio depmod apt-get veritysetup jq
[ -x "$FB_BIN/fleetboot-image" ] || skip "fleetboot-image is not built in $FB_BIN"

export FLEETBOOT_CACHE=${FLEETBOOT_CACHE:-$FB_ARTIFACTS/cache/image}
mkdir -p "$FLEETBOOT_CACHE"

# image_state_new: a new state dir; sets T (scratch), CONF, STATE.
image_state_new() {
	T=$(tmpdir_new)
	STATE=$T/state
	CONF=$T/fleetboot.conf
	printf '[global]\nstate_dir = %s\n' "$STATE" >"$CONF"
	"$FB_BIN/fleetboot" -c "$CONF" init >"$T/init.log" 2>&1 || {
		cat "$T/init.log"
		fail "fleetboot init failed"
	}
}
fbc() { "$FB_BIN/fleetboot" -c "$CONF" "$@"; }

# image_dir NAME VERSION: the folder of a registered version.
image_dir() { echo "$STATE/images/$1/$2"; }

# json_get FILE FILTER: a value from a JSON file (jq).
json_get() { jq -r "$2" "$1"; }

# check_manifest NAME VERSION: every file's size and sha256 match.
check_manifest() {
	local d m f size sum
	d=$(image_dir "$1" "$2")
	m=$d/manifest.json
	[ -f "$m" ] || fail "$1@$2 has no manifest.json"
	for f in rootfs.img vmlinuz initrd.img; do
		size=$(json_get "$m" ".files[\"$f\"].size")
		sum=$(json_get "$m" ".files[\"$f\"].sha256")
		assert_eq "$size" "$(stat -c %s "$d/$f")" "$1@$2 manifest size of $f"
		assert_eq "$sum" "$(sha256sum "$d/$f" | cut -d' ' -f1)" "$1@$2 manifest sha256 of $f"
	done
	# The dm-verity tree (issue 16): its root hash, as recorded, checks
	# every block of the root file system.
	local rh
	rh=$(json_get "$m" .verity.root_hash)
	assert_eq "$rh" "$(fbc image show "$1@$2" --json | jq -r .verity_root_hash)" "$1@$2 manifest root hash"
	veritysetup verify "$d/rootfs.img" "$d/rootfs.verity" "$rh" ||
		fail "$1@$2: veritysetup verify refuses rootfs.img with its recorded root hash"
}

# no_leftovers: nothing left in state_dir/tmp and no half-written version.
no_leftovers() {
	local left
	left=$(find "$STATE/tmp" -mindepth 1 -maxdepth 1 2>/dev/null | head -n 3)
	[ -z "$left" ] || fail "scratch left behind in $STATE/tmp: $left"
	left=$(find "$STATE/images" -name '.tmp-*' 2>/dev/null | head -n 3)
	[ -z "$left" ] || fail "half-written version left behind: $left"
}
