#!/usr/bin/env bash
# timeout: 300
# Builds fleetboot-web's libFuzzer targets (tests/fuzz/fuzz_web_*.c: URL
# paths, JSON bodies and machine fields, event query parameters) and runs
# each for a short while from its seed corpus, so make check notices a
# crash in the request parsing. Longer runs: make fuzz.
. "$(dirname "$0")/../lib.sh"
requires clang pkg-config
secs=${FB_FUZZ_SECS:-10}
out=$(tmpdir_new)
cleanup "rm -rf '$out'" # the one tmpdir_new registers is lost in $(...)
cd "$FB_TOP" || exit 1
read -ra cflags <<<"$(pkg-config --cflags sqlite3 libnl-3.0 jansson)"
read -ra libs <<<"$(pkg-config --libs sqlite3 libnl-3.0 libnl-route-3.0 libmicrohttpd jansson libcrypto)"
for src in tests/fuzz/fuzz_web_*.c; do
	name=$(basename "$src" .c)
	deps=$(sed -n 's|.*fuzz-sources:\(.*\)\*/.*|\1|p' "$src" | head -n 1)
	# shellcheck disable=SC2086 # deps is a list of paths and globs
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I. -Ilib "${cflags[@]}" -o "$out/$name" "$src" $deps \
		"${libs[@]}" -lpthread 2>"$out/$name.build" || {
		cat "$out/$name.build"
		fail "cannot build $name (is libclang-rt installed?)"
	}
	mkdir -p "$out/corpus-$name"
	cp -r "tests/fuzz/corpus/${name#fuzz_}/." "$out/corpus-$name/" 2>/dev/null || true
	"$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 "$out/corpus-$name" \
		>"$out/$name.log" 2>&1 || {
		tail -n 40 "$out/$name.log"
		fail "$name found a crash"
	}
	echo "$name: $(grep -o 'Done [0-9]* runs' "$out/$name.log" | tail -n 1) in ${secs}s"
done
