#!/usr/bin/env bash
# Restarts one component of the local control plane (for example kube-apiserver) with the command
# line it was started with, to test that the operator survives it. Usage: cluster-restart.sh NAME
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${SHEP_CLUSTER_DIR:-$(pwd)/target/cluster}
name=${1:?usage: $0 NAME}
pid=$(awk -v n="$name" '$1==n {print $2}' "$DIR/pids")
[ -n "$pid" ] || { echo "no $name in $DIR/pids" >&2; exit 1; }
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
sleep "${SHEP_RESTART_PAUSE:-2}"
bash -c "exec $(cat "$DIR/cmd/$name")" >> "$DIR/logs/$name.log" 2>&1 &
new=$!
awk -v n="$name" -v p="$new" '$1==n {$2=p} {print}' "$DIR/pids" > "$DIR/pids.new" && mv "$DIR/pids.new" "$DIR/pids"
echo "[cluster-restart] $name restarted ($pid -> $new)" >&2
