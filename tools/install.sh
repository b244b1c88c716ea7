#!/usr/bin/env bash
# make install: copy the built tree into DESTDIR/PREFIX.
#   PREFIX/bin        fleetboot, fleetboot-image and its helpers
#   PREFIX/sbin       fleetboot-bootd, fleetboot-storaged, fleetboot-web
#   PREFIX/lib/fleetboot/nbdkit-fleetboot-plugin.so
#   PREFIX/share/fleetboot/   web UI, initramfs hooks, templates
#   PREFIX/share/man/man{1,8}, PREFIX/lib/systemd/system
# Programs find their files relative to their own location, so the tree
# runs from any PREFIX as it is.
# Installing into the running system (no DESTDIR) as root also creates the
# system user "fleetboot": `fleetboot init` gives it the state tree, and the
# daemons then run as it once their ports are bound.
set -euo pipefail
B=$1 DESTDIR=$2 PREFIX=$3
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
root="$DESTDIR$PREFIX"
install -d "$root/bin" "$root/sbin" "$root/lib/fleetboot" "$root/share/fleetboot" \
	"$root/share/man/man1" "$root/share/man/man8" "$root/lib/systemd/system"

for f in "$B"/bin/*; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	case "$n" in
	*test*) continue ;; # test helpers stay in the build tree
	fleetboot-bootd | fleetboot-storaged | fleetboot-web) install -m 0755 "$f" "$root/sbin/$n" ;;
	*.so) install -m 0644 "$f" "$root/lib/fleetboot/$n" ;;
	*) install -m 0755 "$f" "$root/bin/$n" ;;
	esac
done

# Shared files: the same relative layout as the source tree.
for d in web/ui initramfs image-builder templates; do
	[ -d "$d" ] || continue
	install -d "$root/share/fleetboot/$d"
	cp -R "$d"/. "$root/share/fleetboot/$d"/
done
# Sources and build rules are not shared files.
find "$root/share/fleetboot" \( -name '*.c' -o -name '*.h' -o -name '*.o' -o -name '*.d' \
	-o -name module.mk \) -type f -delete
# initramfs/ must exist: programs locate share/fleetboot by it.
install -d "$root/share/fleetboot/initramfs"

for m in man/*.[18]; do
	[ -f "$m" ] || continue
	sec=${m##*.}
	install -m 0644 "$m" "$root/share/man/man$sec/$(basename "$m")"
done
for u in systemd/*.service; do
	[ -f "$u" ] || continue
	sed "s|@PREFIX@|$PREFIX|g" "$u" >"$root/lib/systemd/system/$(basename "$u")"
	chmod 0644 "$root/lib/systemd/system/$(basename "$u")"
done
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && ! getent passwd fleetboot >/dev/null; then
	nologin=$(command -v nologin || echo /usr/sbin/nologin)
	useradd --system --user-group --no-create-home --home-dir /var/lib/fleetboot \
		--shell "$nologin" --comment "fleetboot daemons" fleetboot
	echo "created the system user fleetboot"
fi
echo "installed into $root"
