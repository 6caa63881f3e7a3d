#!/usr/bin/env bash
# real-cluster-bins.sh [CACHE_DIR]
#
# Builds the node-side binaries of the real test cluster (hack/real-cluster.sh) from Go modules
# only (the Go module proxy through the normal `go` command, nothing else is reachable):
#
#   kubelet, kube-proxy  <- k8s.io/kubernetes/cmd/...            ($K8S_VERSION)
#   helm                 <- helm.sh/helm/v3/cmd/helm             ($HELM_VERSION)
#   coredns              <- github.com/coredns/coredns           ($COREDNS_VERSION), a main
#                           with only the plugins the cluster uses (CoreDNS's documented
#                           compile-time plugin selection: dnsserver.SetDirectives), so the cold
#                           build skips the cloud SDKs of the default plugin set.
#
# into CACHE_DIR (default: $HOME/.cache/real-cluster-bins/$K8S_VERSION). Same contract as
# hack/k8s-test-bins.sh: wrapper modules in CACHE_DIR/.src, a stamp per binary (a rerun is a
# no-op), a flock so parallel runs wait for each other. BINS selects a subset.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.15.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
BINS="${BINS:-kubelet kube-proxy coredns helm}"
OUT="${1:-$HOME/.cache/real-cluster-bins/$K8S_VERSION}"

command -v go >/dev/null || { echo "real-cluster-bins.sh: go not found" >&2; exit 1; }
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
SRC="$OUT/.src"; mkdir -p "$SRC"
if command -v flock >/dev/null; then exec 9>"$OUT/.lock"; flock 9; fi
export CGO_ENABLED=0 GOWORK=off GOFLAGS= GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
GOLINE="$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/').0"
log() { printf '[real-cluster-bins %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
want() {
  case " $BINS " in *" $1 "*) ;; *) return 1 ;; esac
  [[ -x "$OUT/$1" && "$(cat "$OUT/.stamp-$1" 2>/dev/null)" == "$2" ]] && return 1
  return 0
}
stamp() { echo "$2" > "$OUT/.stamp-$1"; }

# ------------------------------------------------------------ kubelet, kube-proxy
k8s_todo=()
for b in kubelet kube-proxy; do want "$b" "$K8S_VERSION" && k8s_todo+=("$b"); done
if ((${#k8s_todo[@]})); then
  t0=$SECONDS
  kdir="$SRC/kubernetes-$K8S_VERSION"; mkdir -p "$kdir"
  minorpatch="${K8S_VERSION#v1.}"; staging_ver="v0.${minorpatch}"
  if [[ ! -f "$kdir/.resolved" ]]; then
    # k8s.io/kubernetes requires its staging repos at v0.0.0 (replaced by ./staging/src/...); a
    # consumer replaces them with the published v0.<minor>.<patch> tags (as k8s-test-bins.sh).
    log "resolving k8s.io/kubernetes@$K8S_VERSION (staging $staging_ver)"
    printf 'module real-cluster-bins/kubernetes\n\ngo %s\n' "$GOLINE" > "$kdir/go.mod"
    gomod="$(cd "$kdir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
             sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
    [[ -f "$gomod" ]] || { echo "real-cluster-bins.sh: cannot download k8s.io/kubernetes@$K8S_VERSION" >&2; exit 1; }
    {
      printf 'module real-cluster-bins/kubernetes\n\ngo %s\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$GOLINE" "$K8S_VERSION"
      grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/src/' "$gomod" |
        awk -v v="$staging_ver" '{ printf "\t%s => %s %s\n", $1, $1, v }'
      echo ")"
    } > "$kdir/go.mod"
    (cd "$kdir" && go get "k8s.io/kubernetes/cmd/kubelet@$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-proxy@$K8S_VERSION")
    touch "$kdir/.resolved"
  fi
  major=1; minor="${minorpatch%%.*}"; ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  pkgs=(); for b in "${k8s_todo[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  log "building ${k8s_todo[*]} @ $K8S_VERSION"
  (cd "$kdir" && go build -buildvcs=false -trimpath -ldflags "$ld" -o "$OUT/" "${pkgs[@]}")
  for b in "${k8s_todo[@]}"; do stamp "$b" "$K8S_VERSION"; done
  log "${k8s_todo[*]} done in $((SECONDS - t0))s"
fi

# ------------------------------------------------------------ coredns
if want coredns "$COREDNS_VERSION"; then
  t0=$SECONDS
  cdir="$SRC/coredns-$COREDNS_VERSION"; mkdir -p "$cdir"
  # Plugins of the cluster's Corefile (hack/real-cluster.sh), in CoreDNS's own plugin order.
  cat > "$cdir/main.go" <<'EOF'
// Command coredns is CoreDNS with the plugins the real test cluster uses.
package main

import (
	"fmt"
	"os"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	if err := dnsserver.SetDirectives([]string{"bind", "ready", "health", "errors", "log", "cache", "kubernetes"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	coremain.Run()
}
EOF
  if [[ ! -f "$cdir/.resolved" ]]; then
    log "resolving github.com/coredns/coredns@$COREDNS_VERSION"
    printf 'module real-cluster-bins/coredns\n\ngo %s\n' "$GOLINE" > "$cdir/go.mod"
    (cd "$cdir" && go get "github.com/coredns/coredns@$COREDNS_VERSION" && go mod tidy)
    touch "$cdir/.resolved"
  fi
  log "building coredns @ $COREDNS_VERSION"
  (cd "$cdir" && go build -buildvcs=false -trimpath \
      -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o "$OUT/coredns" .)
  stamp coredns "$COREDNS_VERSION"
  log "coredns done in $((SECONDS - t0))s"
fi

# ------------------------------------------------------------ helm
if want helm "$HELM_VERSION"; then
  t0=$SECONDS
  log "building helm @ $HELM_VERSION"
  # helm's go.mod has no replace directives, so `go install @version` works. The version is stamped
  # as upstream's Makefile does (otherwise `helm version` says v3.x-dev).
  GOBIN="$OUT" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  stamp helm "$HELM_VERSION"
  log "helm done in $((SECONDS - t0))s"
fi

for b in $BINS; do [[ -x "$OUT/$b" ]] || { echo "real-cluster-bins.sh: missing $OUT/$b" >&2; exit 1; }; done
log "binaries ready in $OUT"
echo "$OUT"
