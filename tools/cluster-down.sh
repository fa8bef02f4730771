#!/usr/bin/env bash
# Stops the local control plane started by tools/cluster-up.sh, process by process (by PID), and
# removes its data.
set -uo pipefail
cd "$(dirname "$0")/.."
DIR=${SHEP_CLUSTER_DIR:-$(pwd)/target/cluster}
[ -f "$DIR/pids" ] || exit 0
tac "$DIR/pids" | while read -r name pid; do
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "[cluster-down] stopped $name ($pid)" >&2
  fi
done
rm -rf "$DIR/etcd" "$DIR/pids"
