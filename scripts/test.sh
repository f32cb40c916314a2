#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: the same set-up as start.sh,
# then type checks, the Jest projects unit, integration and e2e, and last the
# chaos run on its own (test/chaos: its own Postgres cluster and redis-server,
# which it kills and restarts). Each other test file creates its own database
# and Redis key prefix and removes them after, so runs can overlap. Extra
# arguments go to Jest (e.g. a path filter).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dependencies
ensure_build
ensure_services
ensure_chromium

step "Type checking (tsc --noEmit: server, then dashboard)"
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc --noEmit -p ui/tsconfig.json

mkdir -p .data
status=0
# Jest in two runs: every ordinary test first, then the fault-injection run alone
# (it stops, flushes and restarts its own Postgres and Redis, and keeps the
# machine busy). A hard limit on each, so a test that leaks a connection fails
# the run instead of hanging it.
run_jest() {
  local label="$1" report="$2"
  shift 2
  step "Running the tests: $label (jest)"
  rm -f "$report"
  local code=0
  NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
    timeout --kill-after=30 "${TEST_TIMEOUT_S:-2400}" npx --no-install jest ${CI:+--ci} --passWithNoTests --json --outputFile="$report" "$@" || code=$?
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    echo "The test run exceeded ${TEST_TIMEOUT_S:-2400} s and was stopped (a leaked handle or a hung test)." >&2
  fi
  [ "$code" -eq 0 ] || status=1
}
run_jest "unit, integration, e2e" .data/jest-report.json --selectProjects unit integration e2e "$@"
run_jest "chaos (fault injection)" .data/jest-report-chaos.json --selectProjects chaos "$@"

# One plain closing line, whatever the reporters printed above.
node -e '
  const fs = require("fs");
  const reports = process.argv.slice(1).filter((f) => fs.existsSync(f)).map((f) => require(f));
  const sum = (k) => reports.reduce((n, r) => n + r[k], 0);
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
  if (sum("numTotalTests") === 0) { console.error("No test ran."); process.exit(1); }
' "$ROOT/.data/jest-report.json" "$ROOT/.data/jest-report-chaos.json" || status=1
exit "$status"
