#!/usr/bin/env bash
# make demo: the main job on a fresh machine. Brings up the local control plane (building it once),
# installs the Helm chart, runs `shep operator` under the chart's ServiceAccount, applies the example
# registry, waits until it settles, prints the registry, sends a message through the bank's route
# (`shep route` with the files the operator wrote, in front of a local provider), revokes the bank's
# IS-security protocol and shows the same message refused, the suspension and the journal. Leaves
# everything running unless DEMO_STOP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SHEP=${SHEP:-$ROOT/target/release/shep}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "local control plane (first run builds kube-apiserver, etcd and kwok from the Go module proxy)"
eval "$(tools/cluster-up.sh | grep '^export ')"
DIR=$(dirname "$KUBECONFIG")

say "helm install shep-operator (the chart: CRDs, least-privilege RBAC, two replicas, PDB, NetworkPolicy)"
tools/build-control-plane.sh helm >/dev/null 2>&1 || tools/build-control-plane.sh helm
HELM=${SHEP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shep-operator}/bin/helm
# CRDs an earlier demo applied with kubectl are handed to the release.
for crd in informationsystems integrationservices serviceconnections techwindows; do
  if kubectl get crd "$crd.integration.egov.kz" >/dev/null 2>&1; then
    kubectl label --overwrite "crd/$crd.integration.egov.kz" app.kubernetes.io/managed-by=Helm >/dev/null
    kubectl annotate --overwrite "crd/$crd.integration.egov.kz" meta.helm.sh/release-name=shep-operator \
      meta.helm.sh/release-namespace=shep-system >/dev/null
  fi
done
# The same RBAC applied without Helm (deploy/rbac.yaml, as the tests do) gives way to the release's.
if kubectl get sa shep-operator -n shep-system >/dev/null 2>&1 && \
   [ "$(kubectl get sa shep-operator -n shep-system -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}')" != Helm ]; then
  kubectl delete -f deploy/rbac.yaml --ignore-not-found >/dev/null
fi
"$HELM" upgrade --install shep-operator charts/shep-operator -n shep-system --create-namespace \
  --set leaseSeconds=6 --wait --timeout 180s --kubeconfig "$KUBECONFIG" >/dev/null
kubectl get deploy,pdb,networkpolicy,svc,sa -n shep-system
# The local control plane simulates pods (kwok): the chart's replicas are placeholders. The operator
# runs here as a process, with the token of the chart's ServiceAccount: exactly the chart's RBAC.
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

say "shep operator (under the chart's ServiceAccount; log: $DIR/logs/operator-demo.log)"
awk '$1=="operator" {print $2}' "$DIR/pids" | xargs -r kill 2>/dev/null || true
sed -i '/^operator /d' "$DIR/pids"
KUBECONFIG="$DIR/operator.kubeconfig" "$SHEP" operator --health-addr 127.0.0.1:0 --lease-seconds 6 \
  --lease-namespace shep-system --lease-name shep-operator > "$DIR/logs/operator-demo.log" 2>&1 &
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

say "a message through the bank's production route: shep route with the files the operator wrote"
# The route runs here as a process (the cluster's pods are simulated), in front of a local provider
# (tests/route/provider.py) instead of the ministry's backend; the login and password are the ones
# the operator issued to the bank's connection (p.53.2).
RDIR=$DIR/demo-route; mkdir -p "$RDIR"; rm -f "$RDIR"/*.log
python3 tests/route/provider.py "$RDIR/provider.log" > "$RDIR/provider.out" 2>&1 &
echo "provider $!" >> "$DIR/pids"
for _ in $(seq 1 50); do grep -q '^PORT ' "$RDIR/provider.out" 2>/dev/null && break; sleep 0.1; done
PPORT=$(awk '/^PORT /{print $2}' "$RDIR/provider.out")
route_files() {
  kubectl get configmap legal-entity-info-production -n minjust -o jsonpath='{.data.route\.yaml}' \
    | sed "s#^  url: .*#  url: http://127.0.0.1:$PPORT/ws/LegalEntityInfo#" > "$RDIR/route.yaml.new"
  kubectl get secret legal-entity-info-production-senders -n minjust -o jsonpath='{.data.senders\.yaml}' \
    | base64 -d > "$RDIR/senders.yaml.new"
  mv "$RDIR/route.yaml.new" "$RDIR/route.yaml"; mv "$RDIR/senders.yaml.new" "$RDIR/senders.yaml"
}
route_files
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SHEP" route --config "$RDIR/route.yaml" --senders "$RDIR/senders.yaml" --listen "127.0.0.1:$RPORT" \
  --journal "$RDIR/journal.log" --reload-millis 300 2> "$RDIR/route.log" &
echo "route $!" >> "$DIR/pids"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$RPORT/readyz" >/dev/null && break; sleep 0.1; done
SENDER=$(kubectl get secret legal-entity-info-production-credentials -n altyn-bank -o jsonpath='{.data.senderId}' | base64 -d)
PASSWORD=$(kubectl get secret legal-entity-info-production-credentials -n altyn-bank -o jsonpath='{.data.password}' | base64 -d)
KEY=$(awk '/^serviceKey:/{print $2}' "$RDIR/route.yaml")
send() {
  curl -s -X POST -H 'Content-Type: text/xml; charset=utf-8' "http://127.0.0.1:$RPORT/bip-sync-wss-gost/" --data-binary @- <<EOX
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v10="http://bip.bee.kz/SyncChannel/v10/Types"><soapenv:Body><v10:SendMessage><request><requestInfo><messageId>demo-$1</messageId><serviceId>$KEY</serviceId><messageDate>$(date +%Y-%m-%dT%H:%M:%S%:z)</messageDate><sender><senderId>$SENDER</senderId><password>$PASSWORD</password></sender></requestInfo><requestData><data><bin>051140004354</bin></data></requestData></request></v10:SendMessage></soapenv:Body></soapenv:Envelope>
EOX
}
field() { grep -o "<$1>[^<]*</$1>" | head -n 1 | sed -e "s#<$1>##" -e "s#</$1>##"; }
ANSWER=$(send 1)
echo "  status: $(echo "$ANSWER" | field code), sessionId: $(echo "$ANSWER" | field sessionId)"
echo "  the provider received the message without the password: $(grep -c '<password>' "$RDIR/provider.log" | sed 's/^0$/yes/')"
echo "  journal: $(tail -n 1 "$RDIR/journal.log" | cut -c1-200)..."

say "the bank's IS-security test protocol is revoked now (p.65)"
kubectl patch informationsystem altyn-core -n altyn-bank --type=json \
  -p "[{\"op\":\"add\",\"path\":\"/spec/securityProtocols/0/revokedAt\",\"value\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]" >/dev/null
kubectl wait --for=jsonpath='{.status.suspension.reason}'=SecurityProtocolRevoked --timeout=60s \
  serviceconnection/legal-entity-info -n altyn-bank >/dev/null
kubectl get svcconn -A
echo
kubectl get svcconn legal-entity-info -n altyn-bank \
  -o jsonpath='suspension: {.status.suspension.reason}, since {.status.suspension.since}, deadline {.status.suspension.deadline}, metDeadline {.status.suspension.metDeadline}{"\n"}'

route_files
for _ in $(seq 1 30); do
  ANSWER=$(send 2)
  echo "$ANSWER" | grep -q '<errorCode>' && break
  sleep 0.5
done
echo "  the same message now: $(echo "$ANSWER" | field errorCode): $(echo "$ANSWER" | field errorMessage)"

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
