#!/usr/bin/env bash
# Runs a benchmark against the compiled server with the same set-up as the
# tests (dependencies, build, Postgres and Redis found or started).
#   bash bench/run.sh                      # bench/saga-throughput.mjs
#   SAGA_N=500 bash bench/run.sh           # knobs: see the script's header
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
ensure_dependencies
ensure_build
ensure_services
step "Benchmark: saga throughput and latency"
exec node bench/saga-throughput.mjs "$@"
