# Shared set-up for start.sh and test.sh: dependencies, build, services.
# Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*" >&2; }

# npm ci when node_modules is missing or older than the lock file.
ensure_dependencies() {
  if ! command -v node >/dev/null 2>&1; then
    echo "Node.js 20 or newer is needed: install it (https://nodejs.org or your package manager) and run this again." >&2
    exit 1
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 20 ]; then
    echo "Node.js $(node --version) is too old: version 20 or newer is needed." >&2
    exit 1
  fi
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "Installing dependencies (npm ci)"
    npm ci --no-audit --no-fund
  fi
}

# Compiles to dist/ when a source file is newer than the last build.
ensure_build() {
  if [ ! -f dist/src/main.js ] || [ -n "$(find src migrations ui package-lock.json tsconfig.json -newer dist/src/main.js -print -quit)" ]; then
    step "Building (nest build, then the dashboard with vite build)"
    npm run --silent build
    touch dist/src/main.js
  fi
}

# Finds or starts Postgres and Redis; exports DATABASE_URL and REDIS_URL.
ensure_services() {
  step "Finding Postgres and Redis"
  local exports
  exports="$(node scripts/services.mjs)" || exit 1
  eval "$exports"
}
