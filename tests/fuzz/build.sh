#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c into build-fuzz/.
#
# Each target names the sources it needs on a line of its own:
#     /* fuzz-sources: lib/proto/dhcp.c lib/buf.c */
# so adding a target never means editing this script. Targets are built
# with clang, -fsanitize=fuzzer,address,undefined.
#
#   bash tests/fuzz/build.sh            build all
#   bash tests/fuzz/build.sh --run SECS run each target for SECS seconds
#                                       on its corpus (tests/fuzz/corpus/NAME/)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=build-fuzz
mkdir -p "$out"
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not installed (make deps)" >&2; exit 1; }
read -ra pkgcflags <<<"$(pkg-config --cflags sqlite3 libnl-3.0 jansson)"
read -ra pkglibs <<<"$(pkg-config --libs sqlite3 libnl-3.0 libnl-route-3.0 libmicrohttpd jansson libcrypto)"
flags=(-std=c11 -D_GNU_SOURCE -g -O1 -Wall -Werror "-fsanitize=fuzzer,address,undefined"
	-fno-sanitize-recover=undefined -I. -Ilib "${pkgcflags[@]}")
libs=("${pkglibs[@]}" -lpthread)

built=()
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	deps=$(sed -n 's|.*fuzz-sources:\(.*\)\*/.*|\1|p' "$src" | head -n 1)
	echo "fuzz: building $name"
	# shellcheck disable=SC2086
	"$CC" "${flags[@]}" -o "$out/$name" "$src" $deps "${libs[@]}"
	built+=("$name")
done

if [ "${1:-}" = --run ]; then
	secs=${2:-20}
	for name in "${built[@]}"; do
		corpus=tests/fuzz/corpus/${name#fuzz_}
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
		echo "fuzz: running $name for ${secs}s"
		"$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
			"$work" >"$out/$name.log" 2>&1 || {
			echo "fuzz: $name found a crash; see $out/$name.log" >&2
			tail -n 40 "$out/$name.log" >&2
			rm -rf "$work"
			exit 1
		}
		grep -E 'stat::number_of_executed_units' "$out/$name.log" || true
		rm -rf "$work"
	done
fi
echo "fuzz: ${#built[@]} targets built into $out/"
