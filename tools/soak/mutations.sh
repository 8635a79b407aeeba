#!/usr/bin/env bash
# tools/soak/mutations.sh [MUTATIONS] [SEED] - the long form of the mutation
# test in tests/e2e/018-mutations: MUTATIONS random mutations of a step's
# inputs (default 10000), each checked for a false hit, and as many
# unchanged reruns checked for a false miss.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export AGENTFLOW=${AGENTFLOW:-$root/build/agentflow}
export AF_SOURCE_DIR=$root AF_BUILD_DIR=$root/build AF_TEST_BIN=$root/tests/bin
export AF_TEST_TMP=${AF_TEST_TMP:-$(mktemp -d)}
export MUTATIONS=${1:-10000}
[ $# -ge 2 ] && export SEED=$2
cd "$root/tests/e2e/018-mutations"
time bash run.sh
