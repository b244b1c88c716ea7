#!/usr/bin/env bash
# Builds every libFuzzer target and runs each for a short while, so make
# check notices a parser that crashes on garbage. Longer runs: make fuzz.
# timeout: 900
. "$(dirname "$0")/../lib.sh"
requires clang
make -s -C "$FB_TOP" fuzzers
mapfile -t fuzzers < <(make -s -C "$FB_TOP" SAN=fuzz print-fuzzers)
[ ${#fuzzers[@]} -ge 10 ] || fail "make names only ${#fuzzers[@]} fuzzers"
bash "$FB_TOP/tests/fuzz/run.sh" "${FB_FUZZ_SECS:-15}" "${fuzzers[@]/#/$FB_TOP/}"
