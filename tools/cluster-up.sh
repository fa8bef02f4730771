#!/usr/bin/env bash
# Starts a local control plane on 127.0.0.1 for tests and the demo (DESIGN §8): etcd, kube-apiserver,
# kube-controller-manager (garbage collection, Deployments), kube-scheduler and kwok (a simulated node
# whose pods become Ready), with fresh certificates, on free ports. The admin kubeconfig goes to
# target/cluster/kubeconfig. Processes are recorded by PID in target/cluster/pids and stopped by
# tools/cluster-down.sh. Nothing listens or connects beyond loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=${SHEP_CLUSTER_DIR:-$ROOT/target/cluster}
BIN=${SHEP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shep-operator}/bin
log() { printf '[cluster-up] %s\n' "$*" >&2; }

# Alive when every control-plane process is (operators, routes and providers the tests and the demo
# record here too come and go).
alive() {
  [ -f "$DIR/pids" ] || return 1
  while read -r name pid; do
    case "$name" in etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok) kill -0 "$pid" 2>/dev/null || return 1 ;; esac
  done < "$DIR/pids"
}
if alive && kubectl --kubeconfig "$DIR/kubeconfig" get --raw=/readyz >/dev/null 2>&1; then
  log "already running"
  echo "export KUBECONFIG=$DIR/kubeconfig"
  exit 0
fi
"$ROOT/tools/cluster-down.sh" >/dev/null 2>&1 || true

"$ROOT/tools/build-control-plane.sh" all
mkdir -p "$DIR/pki" "$DIR/logs" "$DIR/cmd"
: > "$DIR/pids"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ETCD_PORT=$(free_port); PEER_PORT=$(free_port); API_PORT=$(free_port); KCM_PORT=$(free_port); SCHED_PORT=$(free_port); KWOK_PORT=$(free_port)

# Certificates, made fresh for every run.
P=$DIR/pki
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj "/CN=shep-local-ca" 2>/dev/null
cat > "$P/apiserver.ext" <<EOF
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
EOF
openssl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" -subj "/CN=kube-apiserver" 2>/dev/null
openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/apiserver.crt" -days 30 -extfile "$P/apiserver.ext" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > "$P/client.ext"
openssl req -newkey rsa:2048 -nodes -keyout "$P/admin.key" -out "$P/admin.csr" -subj "/O=system:masters/CN=shep-admin" 2>/dev/null
openssl x509 -req -in "$P/admin.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -out "$P/admin.crt" -days 30 -extfile "$P/client.ext" 2>/dev/null
openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null

KUBECONFIG_FILE=$DIR/kubeconfig
cat > "$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: shep-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $P/ca.crt
users:
- name: shep-admin
  user:
    client-certificate: $P/admin.crt
    client-key: $P/admin.key
contexts:
- name: shep-local
  context: {cluster: shep-local, user: shep-admin}
current-context: shep-local
EOF

start() { # name command...
  local name=$1; shift
  # The command is kept so that a test can restart one component (tools/cluster-restart.sh).
  printf '%q ' "$@" > "$DIR/cmd/$name"
  "$@" >> "$DIR/logs/$name.log" 2>&1 &
  echo "$name $!" >> "$DIR/pids"
}

log "etcd on 127.0.0.1:$ETCD_PORT"
start etcd "$BIN/etcd" --name default --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$PEER_PORT" --unsafe-no-fsync --log-level warn
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done

# Audit: every request made with a ServiceAccount token (the operator's), at Metadata level, so
# that the tests can compare what the operator did with what its RBAC grants.
cat > "$DIR/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts"]
- level: None
EOF

log "kube-apiserver on https://127.0.0.1:$API_PORT"
start kube-apiserver "$BIN/kube-apiserver" \
  --advertise-address=127.0.0.1 --bind-address=127.0.0.1 --secure-port="$API_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc \
  --authorization-mode=RBAC --service-cluster-ip-range=10.96.0.0/16 \
  --enable-priority-and-fairness=false --storage-media-type=application/json \
  --audit-policy-file="$DIR/audit-policy.yaml" --audit-log-path="$DIR/logs/audit.log" \
  --audit-log-format=json --audit-log-mode=batch --audit-log-batch-max-wait=1s \
  --audit-log-maxsize=100 --audit-log-maxbackup=2 \
  --v=0
for i in $(seq 1 300); do
  kubectl --kubeconfig "$KUBECONFIG_FILE" get --raw=/readyz >/dev/null 2>&1 && break
  if ! kill -0 "$(awk '/^kube-apiserver /{print $2}' "$DIR/pids")" 2>/dev/null; then
    log "kube-apiserver exited; its log:"; tail -n 30 "$DIR/logs/kube-apiserver.log" >&2; exit 1
  fi
  [ "$i" = 300 ] && { log "kube-apiserver did not become ready"; tail -n 30 "$DIR/logs/kube-apiserver.log" >&2; exit 1; }
  sleep 0.2
done

log "kube-controller-manager and kube-scheduler"
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --controllers='*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ephemeral-volume,-pv-protection,-pvc-protection' \
  --concurrent-gc-syncs=5 --v=0
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false --v=0

log "kwok (a simulated node)"
# kwok's own "fast" stages: nodes become Ready, pods Running and Ready at once.
KWOK_VERSION=$(cat "$BIN/kwok.version")
KWOK_SRC=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION
[ -d "$KWOK_SRC" ] || GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@$KWOK_VERSION"
: > "$DIR/kwok-stages.yaml"
for f in "$KWOK_SRC"/kustomize/stage/node/fast/*.yaml "$KWOK_SRC"/kustomize/stage/pod/fast/*.yaml; do
  case "$f" in */kustomization.yaml) continue ;; esac
  { echo "---"; cat "$f"; } >> "$DIR/kwok-stages.yaml"
done
start kwok "$BIN/kwok" --kubeconfig="$KUBECONFIG_FILE" --config="$DIR/kwok-stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" --cidr=127.1.0.1/16
kubectl --kubeconfig "$KUBECONFIG_FILE" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
spec: {}
EOF

# The API server taints a new node not-ready; the node lifecycle controller that would lift the taint
# once kwok reports the node Ready is not run here, so the taint is lifted by hand: pods (the chart's,
# the routes') are scheduled.
for _ in $(seq 1 150); do
  [ "$(kubectl --kubeconfig "$KUBECONFIG_FILE" get node kwok-node-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] && break
  sleep 0.2
done
kubectl --kubeconfig "$KUBECONFIG_FILE" taint nodes kwok-node-0 node.kubernetes.io/not-ready:NoSchedule- >/dev/null 2>&1 || true

for _ in $(seq 1 150); do
  kubectl --kubeconfig "$KUBECONFIG_FILE" get serviceaccount default -n default >/dev/null 2>&1 && break
  sleep 0.2
done
log "ready"
echo "export KUBECONFIG=$KUBECONFIG_FILE"
