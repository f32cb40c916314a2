#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: the same set-up as start.sh,
# then type checks and every Jest project (unit, integration, e2e). Each test
# file creates its own database and Redis key prefix and removes them after,
# so runs can overlap. Extra arguments go to Jest (e.g. a path filter).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dependencies
ensure_build
ensure_services

step "Type checking (tsc --noEmit)"
npx --no-install tsc --noEmit -p tsconfig.json

step "Running the tests (jest)"
mkdir -p .data
report=".data/jest-report.json"
rm -f "$report"
status=0
# A hard limit, so a test that leaks a connection fails the run instead of hanging it.
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  timeout --kill-after=30 "${TEST_TIMEOUT_S:-2400}" npx --no-install jest ${CI:+--ci} --json --outputFile="$report" "$@" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "The test run exceeded ${TEST_TIMEOUT_S:-2400} s and was stopped (a leaked handle or a hung test)." >&2
fi

# One plain closing line, whatever the reporter printed above.
if [ -f "$report" ]; then
  node -e '
    const r = require(process.argv[1]);
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
    if (r.numTotalTests === 0) { console.error("No test ran."); process.exit(1); }
  ' "$ROOT/$report" || status=1
fi
exit "$status"
