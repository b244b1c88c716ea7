#!/usr/bin/env bash
# Builds every libFuzzer target and runs each for a short while, so make
# check notices a parser that crashes on garbage. Longer runs: make fuzz.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
requires clang
ls "$FB_TOP"/tests/fuzz/fuzz_*.c >/dev/null 2>&1 || skip "no fuzz targets yet"
bash "$FB_TOP/tests/fuzz/build.sh" --run "${FB_FUZZ_SECS:-15}"
