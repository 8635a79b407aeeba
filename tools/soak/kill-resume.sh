#!/usr/bin/env bash
# tools/soak/kill-resume.sh [KILLS] - the long form of the kill test in
# tests/e2e/011-kill-resume: SIGKILL at random moments, resume until done,
# KILLS times in all (default 1000), with the same checks.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export AGENTFLOW=${AGENTFLOW:-$root/build/agentflow}
export AF_SOURCE_DIR=$root AF_BUILD_DIR=$root/build AF_TEST_BIN=$root/tests/bin
export AF_TEST_TMP=${AF_TEST_TMP:-$(mktemp -d)}
export KILLS=${1:-1000}
cd "$root/tests/e2e/011-kill-resume"
time bash run.sh
