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
  # package.json "engines": 20.19 or newer (the oldest version every installed package accepts).
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "Node.js $(node --version) is too old: version 20.19 or newer is needed (https://nodejs.org, or your package manager)." >&2
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

# Debian's Chromium for the dashboard's browser tests (playwright-core drives it;
# a test tool's own browser download does not work here). Installed with apt-get
# when missing; CHROMIUM_PATH names another binary.
ensure_chromium() {
  local bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [ -x "$bin" ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "Installing Chromium for the browser tests (apt-get install chromium, once)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing at $bin and this user cannot apt-get it: install chromium (or set CHROMIUM_PATH), then run again. The browser tests will fail without it." >&2
  fi
}
