#!/usr/bin/env bash
# make demo: the main job on a fresh machine. Brings up the local control plane (building it once),
# installs the CRDs and the operator's RBAC, runs `shep operator` under its ServiceAccount, applies the
# example registry, waits until it settles, prints the registry and, after an IS-security protocol is
# revoked, the bank connection's journal. Leaves everything running unless DEMO_STOP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHEP=${SHEP:-$ROOT/target/release/shep}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "local control plane (first run builds kube-apiserver, etcd and kwok from the Go module proxy)"
eval "$(tools/cluster-up.sh | grep '^export ')"
DIR=$(dirname "$KUBECONFIG")

say "CRDs and the operator's least-privilege RBAC"
kubectl apply --server-side --force-conflicts -f crds/crds.yaml >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd -l '!shep.nonexistent' >/dev/null 2>&1 || \
  kubectl wait --for=condition=Established --timeout=60s crd/informationsystems.integration.egov.kz \
    crd/integrationservices.integration.egov.kz crd/serviceconnections.integration.egov.kz crd/techwindows.integration.egov.kz >/dev/null
kubectl create namespace shep-system >/dev/null 2>&1 || true
kubectl apply -f deploy/rbac.yaml >/dev/null
TOKEN=$(kubectl create token shep-operator -n shep-system --duration=24h)
SERVER=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
CA=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')
cat > "$DIR/operator.kubeconfig" <<EOK
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$SERVER", certificate-authority: "$CA"}}]
users: [{name: shep-operator, user: {token: "$TOKEN"}}]
contexts: [{name: c, context: {cluster: c, user: shep-operator}}]
current-context: c
EOK

say "shep operator (under the shep-operator ServiceAccount; log: $DIR/logs/operator-demo.log)"
awk '$1=="operator" {print $2}' "$DIR/pids" | xargs -r kill 2>/dev/null || true
sed -i '/^operator /d' "$DIR/pids"
KUBECONFIG="$DIR/operator.kubeconfig" "$SHEP" operator --health-addr 127.0.0.1:0 --lease-seconds 6 \
  > "$DIR/logs/operator-demo.log" 2>&1 &
echo "operator $!" >> "$DIR/pids"

say "the example registry: a ministry's service, a bank, an insurer without a contract, a state body, tech windows"
for d in 01-owner-published-sync-soap 02-bank-connected 04-connection-without-contract 05-state-to-state 06-tech-windows; do
  for ns in $(grep -h '^  namespace:' examples/$d/*.yaml | awk '{print $2}' | sort -u); do
    kubectl create namespace "$ns" >/dev/null 2>&1 || true
  done
  # Referenced objects first, as a GitOps tool with ordering would; the operator copes with any order
  # (a missing reference is reported, and journaled, until it appears).
  for f in systems services connections windows; do
    [ -f "examples/$d/$f.yaml" ] && kubectl apply --server-side --force-conflicts -f "examples/$d/$f.yaml" >/dev/null
  done
done
printf 'waiting for the operator to settle'
for _ in $(seq 1 120); do
  pending=$(kubectl get shep -A -o jsonpath='{range .items[*]}{.metadata.generation}/{.status.observedGeneration}{"\n"}{end}' | awk -F/ '$1!=$2' | wc -l)
  [ "$pending" = 0 ] && break
  printf '.'; sleep 1
done
echo
kubectl get shep -A

say "the bank's IS-security test protocol is revoked now (p.65)"
kubectl patch informationsystem altyn-core -n altyn-bank --type=json \
  -p "[{\"op\":\"add\",\"path\":\"/spec/securityProtocols/0/revokedAt\",\"value\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]" >/dev/null
kubectl wait --for=jsonpath='{.status.suspension.reason}'=SecurityProtocolRevoked --timeout=60s \
  serviceconnection/legal-entity-info -n altyn-bank >/dev/null
kubectl get svcconn -A
echo
kubectl get svcconn legal-entity-info -n altyn-bank \
  -o jsonpath='suspension: {.status.suspension.reason}, since {.status.suspension.since}, deadline {.status.suspension.deadline}, metDeadline {.status.suspension.metDeadline}{"\n"}'

say "journal of altyn-bank/legal-entity-info"
kubectl get svcconn legal-entity-info -n altyn-bank \
  -o jsonpath='{range .status.journal[*]}{.seq}{"  "}{.type}{"  "}{.reason}{"  "}{.message}{"\n"}{end}' | cut -c1-180
kubectl get svcconn legal-entity-info -n altyn-bank -o json | "$SHEP" journal verify

if [ "${DEMO_STOP:-0}" = 1 ]; then
  say "stopping (DEMO_STOP=1)"
  tools/cluster-down.sh
else
  say "left running"
  echo "  export KUBECONFIG=$KUBECONFIG"
  echo "  kubectl get shep -A; kubectl describe svcconn -n altyn-bank legal-entity-info"
  echo "  stop it all with: make cluster-down"
fi
