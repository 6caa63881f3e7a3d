#!/usr/bin/env bash
# real-cluster.sh up|down|status|mem — a real multi-region Kubernetes cluster on this machine, with the
# product installed from the README's Kubernetes quick start.
#
#   up:     control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler),
#           kube-proxy (iptables), CoreDNS, 2 regions x 2 real kubelets (each on its own
#           containerd, CNI bridge), a Postgres with one tenant database per region, real
#           latency between the regions (hack/real-cluster-latency.sh: a userspace TUN delay line,
#           eu-west <-> us-east 40 ms round trip, 1 ms inside a region); then the
#           quick start (helm install + kubectl apply of docs/quickstart/), waits for Ready and
#           writes .e2e-real/env (see README, "A real cluster for tests").
#   down:   stops everything by the PIDs recorded by up and removes mounts, cgroups, the netns and
#           the workdir; restores the host sysctls the kubelet changed.
#   status: kubectl get nodes,pods and the env file.
#   mem:    MiB the cluster uses now (processes, shims, pod cgroups).
#
# Everything runs in one private network namespace (no packet leaves the machine, no host route,
# bridge or iptables rule is touched). Needs root. Binaries: hack/k8s-test-bins.sh (control plane),
# hack/real-cluster-bins.sh (kubelet, kube-proxy, CoreDNS, helm), `make images` (bin/images);
# `make e2e-real-deps` builds them all. The recipe and its walls: ../shared/real-cluster/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
BIN="${BIN:-$HOME/.cache/k8s-test-bins/$K8S_VERSION}"
RBIN="${RBIN:-$HOME/.cache/real-cluster-bins/$K8S_VERSION}"
IMG="${IMG:-$ROOT/bin/images}"
OUT="${E2E_REAL_DIR:-$ROOT/.e2e-real}"
STATE_ROOT=/var/lib/realtime-e2e
REGIONS=(eu-west eu-west us-east us-east)   # region of node 1..4
NODES=${#REGIONS[@]}
SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"
ORIG=$STATE_ROOT/sysctl.orig
T0=$SECONDS
log() { printf '[real-cluster %4ds] %s\n' "$((SECONDS - T0))" "$*" >&2; }
node_name() { echo "node-${REGIONS[$1 - 1]}-$(( ($1 - 1) % 2 + 1 ))"; }
inns() { nsenter --net="$NSP" -- "$@"; }
k() { inns "$BIN/kubectl" --kubeconfig "$W/kubeconfig" "$@"; }
helm() { inns env HELM_CACHE_HOME="$W/helm/cache" HELM_CONFIG_HOME="$W/helm/config" \
  HELM_DATA_HOME="$W/helm/data" KUBECONFIG="$W/kubeconfig" "$RBIN/helm" "$@"; }
# shellcheck source=hack/real-cluster-node.sh
source "$ROOT/hack/real-cluster-node.sh"
# shellcheck source=hack/real-cluster-teardown.sh
source "$ROOT/hack/real-cluster-teardown.sh"
# shellcheck source=hack/real-cluster-latency.sh
source "$ROOT/hack/real-cluster-latency.sh"

MODE="${1:-}"
case $MODE in
  down)
    [[ -f $OUT/state ]] || { log "no cluster recorded in $OUT/state"; exit 0; }
    # shellcheck disable=SC1091
    source "$OUT/state"; teardown; rm -rf "$W" "$OUT"; log "down"; exit 0 ;;
  mem)  # MiB in use by the cluster: RSS of our processes and shims, plus the pods' cgroups
    # shellcheck disable=SC1091
    source "$OUT/state"; kib=0
    while read -r _ pid; do kib=$((kib + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0))); done < "$W/pids"
    for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $W/"); do kib=$((kib + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0))); done
    for n in 1 2 3 4; do kib=$((kib + $(cat "/sys/fs/cgroup/memory/$RUN-n$n/kubepods/memory.usage_in_bytes" 2>/dev/null || echo 0) / 1024)); done
    echo $((kib / 1024)); exit 0 ;;
  status)
    # shellcheck disable=SC1091
    source "$OUT/state"; k get nodes -L topology.kubernetes.io/region -o wide; k get pods -A -o wide
    cat "$OUT/env"; exit 0 ;;
  up) ;;
  *) echo "usage: $0 up|down|status|mem" >&2; exit 2 ;;
esac

[[ $EUID == 0 ]] || { echo "needs root (netns, cgroups, mounts)" >&2; exit 1; }
for f in "$BIN"/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubectl} \
         "$RBIN"/{kubelet,kube-proxy,coredns,helm} "$IMG"/{pause,realtime-node,realtime-operator}.tar "$IMG/images.env"; do
  [[ -e $f ]] || { echo "missing $f (run: make e2e-real-deps)" >&2; exit 1; }
done
[[ -x $DELAYLINE ]] || { echo "missing $DELAYLINE (run: make e2e-real-deps)" >&2; exit 1; }
for c in containerd ctr runc nsenter ip iptables openssl setpriv; do
  command -v $c >/dev/null || { echo "missing $c (run: make e2e-real-deps)" >&2; exit 1; }
done
if [[ -f $OUT/state ]]; then
  echo "a cluster is recorded in $OUT/state: run '$0 down' first" >&2; exit 1
fi
# shellcheck disable=SC1091
source "$IMG/images.env"
# The upgrade drill's previous images (make images-prev), imported beside the current ones.
PREV_IMG="${PREV_IMG:-}" PREV_VERSION=""
if [[ -n $PREV_IMG ]]; then
  PREV_VERSION=$(sed -n 's/^IMAGE_VERSION=//p' "$PREV_IMG/images.env")
  [[ -n $PREV_VERSION ]] || { echo "PREV_IMG=$PREV_IMG has no images.env (run: make images-prev)" >&2; exit 1; }
fi

RUN="rte$$"                          # unique per run: netns, cgroup roots
mkdir -p "$STATE_ROOT" "$OUT"; chmod 755 "$STATE_ROOT"
W="$(mktemp -d "$STATE_ROOT/run.XXXXXX")"; chmod 755 "$W"
mkdir -p "$W/logs"
NS="$RUN"; NSP="/run/netns/$NS"; DBNS="$RUN-db"   # DBNS: the databases' leaf (latency)
printf 'RUN=%s\nNS=%s\nNSP=%s\nDBNS=%s\nW=%s\n' "$RUN" "$NS" "$NSP" "$DBNS" "$W" > "$OUT/state"
OK=0
on_exit() {
  local rc=$?
  ((rc == 0 && OK == 1)) && exit 0
  for n in "${NAMES[@]}"; do echo "----- last lines of $n.log -----" >&2; tail -n 15 "$W/logs/$n.log" >&2; done
  if [[ -f $W/kubeconfig ]]; then
    k get pods -A -o wide >&2 || true
    k get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 30 >&2 || true
    for p in $(k -n realtime get pods -o name 2>/dev/null); do   # why a node pod crashed
      echo "----- $p (previous container) -----" >&2; k -n realtime logs "$p" --previous --tail=15 >&2 2>/dev/null || true
    done
  fi
  if [[ ${KEEP_ON_FAILURE:-0} == 1 ]]; then log "failed; left running for inspection: $0 down"; exit "$rc"; fi
  teardown; rm -rf "$W" "$OUT"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

PIDS=(); NAMES=()
start() { # name cmd...: runs inside the cluster netns (net only: same mounts as the kubelets)
  local name=$1; shift
  nsenter --net="$NSP" -- "$@" >"$W/logs/$name.log" 2>&1 &
  PIDS+=($!); NAMES+=("$name"); echo "$name $!" >> "$W/pids"
}
alive() { local i; for i in "${!PIDS[@]}"; do kill -0 "${PIDS[i]}" 2>/dev/null || { log "${NAMES[i]} exited"; exit 1; }; done; }
waitfor() { # secs what cmd...
  local t=$1 what=$2 j; shift 2
  for ((j = 0; j < t * 2; j++)); do alive; "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "timeout after ${t}s waiting for $what"; return 1
}

# The kubelet sets host-global sysctls (wall 4 of the recipe); save them once, restore at down.
( flock 8; [[ -f $ORIG ]] || for s in $SYSCTLS; do echo "$s $(sysctl -n "$s")"; done > "$ORIG" ) 8>"$STATE_ROOT/.lock"
touch "$W/live"

# ------------------------------------------------------------ network namespace
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add rte0 type veth peer name rte0p          # no "dummy" driver in this kernel
ip -n "$NS" addr add "$CP_IP/32" dev rte0
for n in $(seq "$NODES"); do ip -n "$NS" addr add "$(node_ip "$n")/32" dev rte0; done
ip -n "$NS" link set rte0 up; ip -n "$NS" link set rte0p up
inns sysctl -qw net.ipv4.ip_forward=1                       # per netns: pod <-> pod across bridges
# A route for the Service range, so processes in the netns (tests, the env file's users) can dial
# ClusterIPs: the kernel needs a route before kube-proxy's OUTPUT DNAT rewrites the destination.
ip -n "$NS" route add 10.96.0.0/16 dev rte0 src "$CP_IP"
printf 'nameserver %s\n' "$CP_IP" > "$W/resolv.conf"
start_latency
log "delay line up: eu-west <-> us-east $RTT_CROSS round trip (+-$RTT_JITTER each way), $RTT_LOCAL in a region"

# ------------------------------------------------------------ control plane
openssl genrsa -out "$W/sa.key" 2048 2>/dev/null
openssl rsa -in "$W/sa.key" -pubout -out "$W/sa.pub" 2>/dev/null
TOKEN="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
echo "$TOKEN,e2e-admin,e2e-admin,\"system:masters\"" > "$W/tokens.csv"
cat > "$W/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e-real
  cluster: {server: "https://$CP_IP:6443", insecure-skip-tls-verify: true}
users:
- name: e2e-admin
  user: {token: $TOKEN}
contexts:
- name: e2e-real
  context: {cluster: e2e-real, user: e2e-admin, namespace: default}
current-context: e2e-real
EOF
chmod 600 "$W/kubeconfig" "$W/tokens.csv"
start etcd "$BIN/etcd" --name e2e --data-dir "$W/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster e2e=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn
# Advertised on CP_IP so the `kubernetes` Service (10.96.0.1, via kube-proxy) reaches it from pods.
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
  --bind-address 0.0.0.0 --advertise-address "$CP_IP" --secure-port 6443 \
  --cert-dir "$W/apiserver" --token-auth-file "$W/tokens.csv" \
  --authorization-mode RBAC --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$W/sa.pub" --service-account-signing-key-file "$W/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --allow-privileged=true \
  --kubelet-preferred-address-types InternalIP
waitfor 120 "apiserver /readyz" bash -c "[[ \$(nsenter --net=$NSP -- $BIN/kubectl --kubeconfig $W/kubeconfig get --raw /readyz) == ok ]]"
log "apiserver ready"
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig "$W/kubeconfig" --authentication-kubeconfig "$W/kubeconfig" --authorization-kubeconfig "$W/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --cert-dir "$W/kcm" --leader-elect=false \
  --service-account-private-key-file "$W/sa.key" --use-service-account-credentials=false \
  --root-ca-file "$W/apiserver/apiserver.crt"
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig "$W/kubeconfig" --authentication-kubeconfig "$W/kubeconfig" --authorization-kubeconfig "$W/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10259 --cert-dir "$W/sched" --leader-elect=false
start_coredns
start_postgres
log "CoreDNS and Postgres up"

# ------------------------------------------------------------ nodes
for n in $(seq "$NODES"); do start_containerd "$n"; done
log "containerds up, images imported"
for n in $(seq "$NODES"); do
  r=${REGIONS[n - 1]}; start_kubelet "$n" "$r" "$r-$(( (n - 1) % 2 ))"
done
start_kube_proxy
readynodes() { k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True; }
for ((j = 0; ; j++)); do alive; [[ "$(readynodes 2>/dev/null)" == "$NODES" ]] && break; ((j > 240)) && { log "nodes not Ready"; exit 1; }; sleep 0.5; done
waitfor 60 "default ServiceAccount" k get serviceaccount default
log "$NODES nodes Ready"
k get nodes -L topology.kubernetes.io/region,topology.kubernetes.io/zone >&2

# ------------------------------------------------------------ tenant databases (fixture)
# Each tenant database gets a stable in-cluster name, as a user would give an external database:
# a headless Service without selector plus an EndpointSlice to the database's address in its
# region (DNS answers that address; see hack/real-cluster-latency.sh for why not a ClusterIP).
k create namespace databases >/dev/null
for r in eu us; do
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: postgres-$r, namespace: databases}
spec: {clusterIP: None, ports: [{name: postgres, port: 5432, targetPort: 5432}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: postgres-$r, namespace: databases, labels: {kubernetes.io/service-name: postgres-$r}}
addressType: IPv4
ports: [{name: postgres, port: 5432, protocol: TCP}]
endpoints: [{addresses: ["$(db_ip $r)"], conditions: {ready: true}}]
EOF
done
# The quick start's database preparation, run as the superuser on each tenant database.
# app_rtt: the RTT drill's unlabelled tenant (test/e2e-real/rtt_test.go), a database in us-east.
for db in app_eu app_us app_rtt; do psql_db "$db" -f "$ROOT/docs/quickstart/tenant-database.sql" >/dev/null; done

# ------------------------------------------------------------ the README's quick start
# shellcheck source=hack/real-cluster-install.sh
source "$ROOT/hack/real-cluster-install.sh"
install_quickstart
OK=1
log "up in $((SECONDS - T0))s; env: $OUT/env; stop: $0 down"
