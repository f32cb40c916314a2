#!/usr/bin/env bash
# A series against the baseline peers (PEERS_DIR, default ../shared/peers):
# ROUNDS interleaved rounds (round-robin, so drift hits every system alike)
# of this server (bench/peer.mjs, the suite's own harness) and each of PEERS
# (default "dbos restate", run with their own run.sh), then the suite's
# summary of medians and our ratios to the best durable peer.
#   bash bench/peers.sh                    # after the same set-up as the tests
#   ROUNDS=1 SAGA_N=500 bash bench/peers.sh
# Raw lines and the summary go to .data/peers/<timestamp>/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
PEERS_DIR="$(cd "${PEERS_DIR:-$ROOT/../shared/peers}" 2>/dev/null && pwd)" || {
  echo "No peer suite at ${PEERS_DIR:-$ROOT/../shared/peers}; set PEERS_DIR to the folder that holds common/harness.mjs." >&2
  exit 2
}
export PEERS_DIR
ROUNDS="${ROUNDS:-3}"
PEERS="${PEERS:-dbos restate}"
ensure_dependencies
ensure_build
ensure_services
for p in $PEERS; do
  if [ ! -d "$PEERS_DIR/$p/node_modules" ]; then
    step "Installing the $p peer (npm ci in $PEERS_DIR/$p)"
    (cd "$PEERS_DIR/$p" && npm ci --no-audit --no-fund >/dev/null)
  fi
done
OUT="$ROOT/.data/peers/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
step "Series: $ROUNDS round(s) of saga-orchestrator and $PEERS -> $OUT"
for r in $(seq 1 "$ROUNDS"); do
  for p in saga-orchestrator $PEERS; do
    start=$(date +%s)
    if [ "$p" = saga-orchestrator ]; then
      node "$ROOT/bench/peer.mjs" > "$OUT/$p.r$r.json" 2> "$OUT/$p.r$r.log" && rc=0 || rc=$?
    else
      "$PEERS_DIR/$p/run.sh" > "$OUT/$p.r$r.json" 2> "$OUT/$p.r$r.log" && rc=0 || rc=$?
    fi
    echo "round $r/$ROUNDS $p: exit $rc in $(( $(date +%s) - start )) s $(grep -ho '"sagas_per_s":[0-9.]*' "$OUT/$p.r$r.json" | head -2 | tr '\n' ' ')"
    [ "$rc" = 0 ] || echo "  (see $OUT/$p.r$r.log)"
  done
done
node "$PEERS_DIR/summarize.mjs" "$OUT" > "$OUT/summary.md"
node "$ROOT/bench/ratios.mjs" "$OUT" >> "$OUT/summary.md"
cat "$OUT/summary.md"
