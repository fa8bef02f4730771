#!/usr/bin/env bash
# Builds the local control plane used by tests and the demo from the Go module proxy (DESIGN §8):
# kube-apiserver, kube-controller-manager and kube-scheduler from k8s.io/kubernetes with every k8s.io
# staging module replaced by its matching v0.x release, etcd from go.etcd.io/etcd/server/v3 through a
# three-line etcdmain wrapper, kwok (simulated nodes and pods) and helm. Binaries go to
# $SHEP_CACHE_DIR/bin (default ~/.cache/shep-operator/bin, outside any clone, so that a fresh clone on
# the same machine reuses them); a binary that is already there for the same version is not rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION=${K8S_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.17}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v4.3.2}
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
ROOT=${SHEP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shep-operator}
BIN=$ROOT/bin
mkdir -p "$BIN" "$ROOT/src"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
log() { printf '[build-control-plane] %s\n' "$*" >&2; }

have() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.version" 2>/dev/null)" = "$2" ]; }

build_kubernetes() {
  local want=()
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    have "$b" "$K8S_VERSION" || want+=("$b")
  done
  [ ${#want[@]} -eq 0 ] && { log "kubernetes $K8S_VERSION: cached"; return; }
  log "kubernetes $K8S_VERSION: building ${want[*]} (first time only; about 10-20 minutes on 2 cores)"
  local dir=$ROOT/src/kubernetes-$K8S_VERSION
  mkdir -p "$dir"
  (
    cd "$dir"
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
    local mod
    mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod
    {
      echo "module shep.local/control-plane"
      echo
      echo "go $(awk '/^go /{print $2; exit}' "$mod")"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      grep -E '^\s+k8s.io/[a-z0-9-]+ => ./staging' "$mod" | awk -v v="$STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
    } > go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
    go mod tidy -e >/dev/null 2>&1 || true
    for b in "${want[@]}"; do
      log "  go build $b"
      go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" -o "$BIN/$b" "k8s.io/kubernetes/cmd/$b"
      echo "$K8S_VERSION" > "$BIN/$b.version"
    done
  )
}

build_etcd() {
  have etcd "$ETCD_VERSION" && { log "etcd $ETCD_VERSION: cached"; return; }
  log "etcd $ETCD_VERSION: building"
  local dir=$ROOT/src/etcd-$ETCD_VERSION
  mkdir -p "$dir"
  (
    cd "$dir"
    cat > go.mod <<GO
module shep.local/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GO
    cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go mod tidy >/dev/null
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" .
    echo "$ETCD_VERSION" > "$BIN/etcd.version"
  )
}

build_go_install() { # name module version
  have "$1" "$3" && { log "$1 $3: cached"; return; }
  log "$1 $3: building"
  GOBIN=$BIN go install -trimpath -ldflags "-s -w" "$2@$3"
  echo "$3" > "$BIN/$1.version"
}

what=${1:-all}
case "$what" in
  kubernetes) build_kubernetes ;;
  etcd) build_etcd ;;
  kwok) build_go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
  helm) build_go_install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" ;;
  all)
    build_etcd
    build_kubernetes
    build_go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
    ;;
  *) echo "usage: $0 [all|kubernetes|etcd|kwok|helm]" >&2; exit 2 ;;
esac
log "binaries in $BIN"
