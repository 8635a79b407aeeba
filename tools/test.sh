#!/usr/bin/env bash
# tools/test.sh - set up, then run every test twice: in the normal build and
# in a build with AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   tools/test.sh [CTEST ARGS]     e.g. tools/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh --test
tools/setup.sh --test --sanitize build-asan

jobs=$(nproc 2>/dev/null || echo 2)
status=0
echo "== tests (build/)"
ctest --test-dir build --output-on-failure -j "$jobs" "$@" || status=1
echo "== tests under ASan + UBSan (build-asan/)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs" "$@" || status=1
exit $status
