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
# Every API call needs a key. Without BOOTSTRAP_ADMIN_KEY, one is made once and
# kept in .data/ (readable by this user only), so the first keys can be created.
if [ -z "${BOOTSTRAP_ADMIN_KEY:-}" ] && [ "${AUTH_DISABLED:-false}" != "true" ]; then
  key_file="$ROOT/.data/bootstrap-admin-key"
  if [ ! -s "$key_file" ]; then
    mkdir -p "$ROOT/.data"
    (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(36).toString("base64url"))' > "$key_file")
    echo "Made a bootstrap admin key in .data/bootstrap-admin-key (use it as: Authorization: Bearer \$(cat .data/bootstrap-admin-key))"
  fi
  BOOTSTRAP_ADMIN_KEY="$(cat "$key_file")"
  export BOOTSTRAP_ADMIN_KEY
fi
step "Starting the server (role ${ROLE:-all}) on port ${PORT:-3000}"
# V8 otherwise lets the heap grow far past the live set (a 270 MB heap holding 95 MB) before it collects.
exec node --max-old-space-size="${MAX_OLD_SPACE_MB:-256}" dist/src/main.js
