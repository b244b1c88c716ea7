#!/usr/bin/env bash
# The site key (issue 16): `fleetboot key init` makes an RSA key (0600) and
# a self-signed certificate and refuses to replace them without --force;
# `key import` refuses a key and certificate that do not match, and an
# encrypted key, each with one clear line and the old key untouched; `key
# show` prints the certificate (subject, sha256 fingerprint as openssl
# computes it, validity) and how to enroll it; init and import rebuild
# every image version's boot.efi, which `sbverify --cert` accepts with the
# current certificate (and no longer with the old one); `image import`
# makes a signed boot.efi when the key exists, whose signed command line
# carries the version's dm-verity root hash and nothing machine-specific
# or secret. A version made before verified boot gets its tree and UKI when
# the key is made again.
# timeout: 120
. "$(dirname "$0")/../lib.sh"
requires_root
requires veritysetup sbsign sbverify objcopy objdump openssl jq mke2fs cpio sqlite3
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$STUB" ] || skip "$STUB is missing (Debian package systemd-boot-efi; make deps installs it)"
SNAKE=/usr/share/ovmf/PkKek-1-snakeoil
[ -f $SNAKE.key ] && [ -f $SNAKE.pem ] || skip "no $SNAKE.key/.pem (Debian package ovmf)"

T=$(tmpdir_new)
cleanup "rm -rf '$T'"
fixture_image "$T"
CONF=$(fixture_state "$T")
S=$T/state
f() { fb -c "$CONF" "$@"; }
f init >"$T/init.log" 2>&1 || { cat "$T/init.log"; fail "init"; }

f image import one --rootfs "$T/root.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	>/dev/null || fail "import one"
[ -f "$S/images/one/1/rootfs.verity" ] || fail "no rootfs.verity in one@1"
[ ! -e "$S/images/one/1/boot.efi" ] || fail "boot.efi made with no site key"
f image show one | grep -q "^uki: *none" || fail "image show does not say one@1 has no UKI"

# show with no key: one line, exit 1.
f key show >"$T/o" 2>"$T/e" && fail "key show succeeded with no key"
grep -q "no site key yet" "$T/e" || fail "key show without a key: $(cat "$T/e")"

# init: key 0600, certificate, boot.efi of every version, signed.
f key init >"$T/o" 2>&1 || { cat "$T/o"; fail "key init"; }
cat "$T/o"
assert_eq "$(stat -c %a "$S/keys/site.key")" 600 "site.key mode"
openssl x509 -in "$S/keys/site.crt" -noout || fail "site.crt is not a certificate"
[ -f "$S/images/one/1/boot.efi" ] || fail "key init did not build one@1's boot.efi"
sbverify --cert "$S/keys/site.crt" "$S/images/one/1/boot.efi" >"$T/v" 2>&1 ||
	{ cat "$T/v"; fail "one@1's boot.efi does not verify with the site certificate"; }
grep -q "rebuilt and signed boot.efi of 1 image version" "$T/o" || fail "init did not say what it rebuilt"
f image show one | grep -q "^uki: *boot.efi" || fail "image show does not list the UKI"

# A second init without --force: refused, key unchanged.
sum=$(sha256sum <"$S/keys/site.key")
f key init >"$T/o" 2>"$T/e" && fail "key init replaced an existing key without --force"
grep -q "already exists.*--force" "$T/e" || fail "refusal is not clear: $(cat "$T/e")"
assert_eq "$(sha256sum <"$S/keys/site.key")" "$sum" "key after refused init"

# show: subject, the fingerprint openssl computes, validity, enrollment.
f key show >"$T/show" || fail "key show"
cat "$T/show"
fp=$(openssl x509 -in "$S/keys/site.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
grep -q "^sha256: *$fp$" "$T/show" || fail "key show's fingerprint is not $fp"
grep -q "^subject: */CN=fleetboot site key" "$T/show" || fail "key show: no subject"
grep -q "^valid until: " "$T/show" || fail "key show: no validity"
grep -q "mokutil --import" "$T/show" || fail "key show: no MOK enrollment"
grep -q "efi-updatevar" "$T/show" || fail "key show: no firmware db enrollment"

# import: the snakeoil key (encrypted: refused; a plain copy with the wrong
# certificate: refused; with its own: taken, and boot.efi re-signed).
openssl rsa -passin pass:snakeoil -in $SNAKE.key -out "$T/snake.key" 2>/dev/null || fail "openssl rsa"
f key import $SNAKE.key $SNAKE.pem --force >"$T/o" 2>"$T/e" && fail "an encrypted key was imported"
grep -q "encrypted" "$T/e" || fail "encrypted key refusal: $(cat "$T/e")"
f key import "$T/snake.key" "$S/keys/site.crt" --force >"$T/o" 2>"$T/e" &&
	fail "a key and a certificate that do not match were imported"
assert_eq "$(wc -l <"$T/e")" 1 "lines of the mismatch refusal"
grep -q "do not match" "$T/e" || fail "mismatch refusal: $(cat "$T/e")"
assert_eq "$(sha256sum <"$S/keys/site.key")" "$sum" "key after refused import"
f key import "$T/snake.key" $SNAKE.pem >"$T/o" 2>"$T/e" && fail "import replaced the key without --force"
cp "$S/keys/site.crt" "$T/old.crt"
f key import "$T/snake.key" $SNAKE.pem --force >"$T/o" 2>&1 || { cat "$T/o"; fail "key import"; }
assert_eq "$(stat -c %a "$S/keys/site.key")" 600 "site.key mode after import"
sbverify --cert $SNAKE.pem "$S/images/one/1/boot.efi" >/dev/null 2>&1 ||
	fail "boot.efi was not re-signed with the imported key"
sbverify --cert "$T/old.crt" "$S/images/one/1/boot.efi" >/dev/null 2>&1 &&
	fail "boot.efi still verifies with the replaced certificate"

# A version made before verified boot (no tree, no root hash recorded, no
# UKI) gets its tree and UKI when the key is made again.
db=$S/fleetboot.db
rm -f "$S/images/one/1/rootfs.verity" "$S/images/one/1/boot.efi"
sqlite3 "$db" "UPDATE images SET verity_root_hash='', verity_salt='', uki_sha256='' WHERE name='one'" ||
	fail "sqlite3"
f key import "$T/snake.key" $SNAKE.pem --force >"$T/o" 2>&1 || { cat "$T/o"; fail "key import (backfill)"; }
grep -q "one@1: made its dm-verity tree" "$T/o" || fail "no tree made for one@1: $(cat "$T/o")"
rh1=$(f image show one --json | jq -r .verity_root_hash)
veritysetup verify "$S/images/one/1/rootfs.img" "$S/images/one/1/rootfs.verity" "$rh1" ||
	fail "the tree made afterwards does not verify"
sbverify --cert $SNAKE.pem "$S/images/one/1/boot.efi" >/dev/null 2>&1 || fail "one@1 got no signed UKI"
assert_eq "$(f image show one --json | jq -r .uki_sha256)" "$(sha256sum <"$S/images/one/1/boot.efi" | cut -d' ' -f1)" \
	"recorded sha256 of one@1's UKI"

# A new version gets its signed UKI at import.
f image import two --rootfs "$T/root.img" --kernel "$T/vmlinuz" --initrd "$T/initrd.img" \
	--cmdline "quiet" >/dev/null || fail "import two"
efi=$S/images/two/1/boot.efi
[ -f "$efi" ] || fail "image import with a site key made no boot.efi"
sbverify --cert $SNAKE.pem "$efi" >/dev/null 2>&1 || fail "two@1's boot.efi is not signed with the site key"
objcopy -O binary --only-section=.cmdline "$efi" "$T/cmdline" || fail "no .cmdline section"
cmd=$(tr -d '\0' <"$T/cmdline")
echo "two@1 UKI command line: $cmd"
rh=$(f image show two --json | jq -r .verity_root_hash)
[ ${#rh} = 64 ] || fail "no root hash in image show --json: $rh"
case " $cmd " in *" fleetboot.verity=$rh "*) ;; *) fail "the UKI's command line lacks fleetboot.verity=$rh" ;; esac
case " $cmd " in *" fleetboot.image=two@1 "*) ;; *) fail "the UKI's command line lacks fleetboot.image=two@1" ;; esac
case " $cmd " in *" quiet "*) ;; *) fail "the UKI's command line lacks the image's own --cmdline" ;; esac
for bad in fleetboot.machine fleetboot.secret credential "$(f machine list --json | jq -r '.[].secret' | head -n 1)"; do
	[ -n "$bad" ] || continue
	case $cmd in *"$bad"*) fail "the UKI's command line carries '$bad'" ;; esac
done
objcopy -O binary --only-section=.linux "$efi" "$T/linux" || fail "no .linux section"
cmp -s "$T/linux" "$S/images/two/1/vmlinuz" || fail "the UKI's .linux is not the version's kernel"
objcopy -O binary --only-section=.initrd "$efi" "$T/initrd" || fail "no .initrd section"
cmp -s "$T/initrd" "$S/images/two/1/initrd.img" || fail "the UKI's .initrd is not the version's initrd"
echo "ok: key init/import/show, UKIs signed and rebuilt"
