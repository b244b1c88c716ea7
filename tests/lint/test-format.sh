#!/usr/bin/env bash
# C sources follow .clang-format (make format fixes them).
. "$(dirname "$0")/../lib.sh"
requires clang-format
cd "$FB_TOP" || exit 1
mapfile -t files < <(git ls-files '*.c' '*.h')
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
[ ${#bad[@]} = 0 ] || fail "not clang-formatted (run make format): ${bad[*]}"
echo "${#files[@]} files formatted"
