#!/usr/bin/env bash
# Starts the saga orchestrator on a fresh machine: installs dependencies,
# finds or starts Postgres and Redis, migrates, serves. Configuration comes
# from the environment (see README); DATABASE_URL and REDIS_URL are found
# automatically when unset.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_dependencies
ensure_build
ensure_services
export MIGRATE_ON_START="${MIGRATE_ON_START:-true}"
step "Starting the server (role ${ROLE:-all}) on port ${PORT:-3000}"
exec node dist/src/main.js
