#!/usr/bin/env bash
# make install into a DESTDIR under an unusual PREFIX, then run the
# installed tree from there: the programs find their shared files, each
# other and the nbdkit plugin relative to their own location.
. "$(dirname "$0")/../lib.sh"
requires make mke2fs cpio
T=$(tmpdir_new)
make -s -C "$FB_TOP" install B=build DESTDIR="$T/dest" \
	PREFIX=/opt/fleetboot-test >"$T/install.log" 2>&1 || fail "make install: $(tail -n 20 "$T/install.log")"
P=$T/dest/opt/fleetboot-test
for f in bin/fleetboot bin/fleetboot-image sbin/fleetboot-bootd sbin/fleetboot-storaged \
	sbin/fleetboot-web lib/fleetboot/nbdkit-fleetboot-plugin.so share/fleetboot/web/ui/index.html \
	share/fleetboot/initramfs/fleetboot-cmdline.sh share/man/man1/fleetboot.1; do
	[ -e "$P/$f" ] || fail "not installed: $f"
done
src=$(find "$P/share/fleetboot" -name '*.c' -o -name module.mk) || fail "cannot list share/fleetboot"
[ -z "$src" ] || fail "sources installed into share/: $src"
export FLEETBOOT_CONF
FLEETBOOT_CONF=$(fixture_state "$T/run")
fixture_image "$T"
"$P/bin/fleetboot" init >/dev/null || fail "installed fleetboot init"
"$P/bin/fleetboot" image import tiny --rootfs "$T/root.img" --kernel "$T/vmlinuz" \
	--initrd "$T/initrd.img" >/dev/null || fail "installed image import"
printf "[bootd]\ninterface = lo\n[web]\nlisten = 127.0.0.1:18080\n" >>"$FLEETBOOT_CONF"
for d in bootd storaged web; do
	"$P/sbin/fleetboot-$d" -n -c "$FLEETBOOT_CONF" || fail "installed fleetboot-$d -n"
done
# fleetboot-image finds its library and initramfs files in share/.
out=$("$P/bin/fleetboot" image build x --from nonsense:1 2>&1)
echo "$out" | grep -q "unknown source" || fail "installed fleetboot-image did not start: $out"
echo "installed tree runs from $P"
