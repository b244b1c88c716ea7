#!/usr/bin/env bash
# Builds the iSCSI target's libFuzzer targets (PDU codec, login and
# session handling, CDB decoder + SCSI unit) and runs each for a short
# while on its seed corpus, so make check notices a parser that crashes on
# garbage. Longer runs: make fuzz, or FB_FUZZ_SECS=600.
# timeout: 300
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
requires clang
secs=${FB_FUZZ_SECS:-20}
out=$(tmpdir_new)
cd "$FB_TOP" || fail "no tree"
read -ra pkgcflags <<<"$(pkg-config --cflags sqlite3 libnl-3.0 jansson)"
read -ra pkglibs <<<"$(pkg-config --libs libcrypto)"
flags=(-std=c11 -D_GNU_SOURCE -g -O1 "-fsanitize=fuzzer,address,undefined"
	-fno-sanitize-recover=undefined -I. -Ilib "${pkgcflags[@]}")
for name in fuzz_iscsi_pdu fuzz_iscsi_login fuzz_scsi_cdb; do
	src=tests/fuzz/$name.c
	deps=$(sed -n 's|.*fuzz-sources:\(.*\)\*/.*|\1|p' "$src" | head -n 1)
	# shellcheck disable=SC2086
	clang "${flags[@]}" -o "$out/$name" "$src" $deps "${pkglibs[@]}" -lpthread ||
		fail "cannot build $name"
	mkdir -p "$out/corpus-$name"
	cp tests/fuzz/corpus/"${name#fuzz_}"/* "$out/corpus-$name/" 2>/dev/null
	echo "running $name for ${secs}s"
	"$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
		"$out/corpus-$name" >"$out/$name.log" 2>&1 || {
		tail -n 40 "$out/$name.log"
		fail "$name found a crash"
	}
	grep -E 'stat::number_of_executed_units' "$out/$name.log"
done
echo ok
