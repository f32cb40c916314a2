#!/usr/bin/env bash
# The long fault-injection run (not in CI): 10,000 sagas at a steady 40/s
# against four server processes (API, two workers, all-in-one) on a private
# Postgres cluster and redis-server, with a SIGKILL every 5-20 s, SIGSTOPs,
# two Redis flushes, a Redis restart, Postgres connection kills and a Postgres
# restart. Prints the checks and the figures (sagas/s, latency, re-dispatch
# times, RSS per process). Same set-up as the tests; CHAOS_SEED=n replays a timeline.
#   npm run soak
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
ensure_dependencies
ensure_build
ensure_services
step "Soak: test/chaos with the soak profile (about 6-8 minutes)"
CHAOS_PROFILE=soak NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  exec npx --no-install jest --selectProjects chaos --testTimeout 3600000 "$@"
