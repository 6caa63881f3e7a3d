# shellcheck shell=bash
# Sourced by hack/real-cluster.sh: the per-node pieces (containerd, CNI, kubelet), kube-proxy,
# CoreDNS and the tenant Postgres. Expects W, RUN, NSP, BIN, RBIN, IMG and start/waitfor/k.

# node_ip N -> 10.250.0.1N; every node IP sits on one veth inside the cluster netns, because the
# kubelet refuses a loopback node IP and this kernel has no dummy netdev.
node_ip() { echo "10.250.0.1$1"; }
CP_IP=10.250.0.10   # apiserver advertise address, CoreDNS

start_containerd() { # N
  local n=$1 D="$W/n$1"
  mkdir -p "$D/run" "$D/cni/net.d" "$D/kubelet"
  cat > "$D/containerd.toml" <<EOF
version = 2
root = "$D/containerd"
state = "$D/run/containerd"
[grpc]
  address = "$D/run/containerd.sock"
[ttrpc]
  address = "$D/run/containerd.sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:e2e"
  disable_apparmor = true
  # No CAP_SYS_RESOURCE in this VM's bounding set: runc cannot lower oom_score_adj (the sandbox
  # asks for -998); clamp to containerd's own score instead.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$D/run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni/net.d"
    max_conf_num = 1
EOF
  # One bridge per node, all in the cluster netns: pod-to-pod across nodes is plain forwarding.
  cat > "$D/cni/net.d/10-rte.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "rte-n$n", "plugins": [
  {"type": "bridge", "bridge": "rte-n$n", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$D/cni/ipam",
            "ranges": [[{"subnet": "10.251.$n.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "loopback"}]}
EOF
  start "containerd-n$n" containerd --config "$D/containerd.toml"
  waitfor 30 "containerd-n$n socket" ctr -a "$D/run/containerd.sock" version
  local t
  for t in "$IMG"/pause.tar "$IMG"/realtime-node.tar "$IMG"/realtime-operator.tar \
           ${PREV_IMG:+"$PREV_IMG"/realtime-node.tar "$PREV_IMG"/realtime-operator.tar}; do
    ctr -a "$D/run/containerd.sock" -n k8s.io images import "$t" >/dev/null
  done
}

start_kubelet() { # N REGION ZONE
  local n=$1 region=$2 zone=$3 D="$W/n$1" ctl
  cat > "$D/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false                 # cgroup v1 host; 1.37 refuses it by default
cgroupDriver: cgroupfs
cgroupRoot: /$RUN-n$n
containerRuntimeEndpoint: unix://$D/run/containerd.sock
imageServiceEndpoint: unix://$D/run/containerd.sock
address: $(node_ip "$n")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $((10247 + n * 10))
enableServer: true
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}, x509: {}}
authorization: {mode: AlwaysAllow}
clusterDNS: [$CP_IP]
clusterDomain: cluster.local
resolvConf: $W/resolv.conf
podLogsDir: $D/podlogs
volumePluginDir: $D/volume-plugins
maxPods: 20
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%"}
failSwapOn: false
oomScoreAdj: 0                      # cannot go negative here (no CAP_SYS_RESOURCE)
protectKernelDefaults: false        # the sysctls it changes are restored by 'down'
registerNode: true
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
fileCheckFrequency: 60s
shutdownGracePeriod: 0s
EOF
  # The kubelet checks that cgroupRoot exists in every v1 hierarchy; v1 cpuset children start
  # empty, so copy cpus/mems down.
  for ctl in /sys/fs/cgroup/*/; do
    [[ -f "${ctl}cgroup.procs" ]] && mkdir -p "$ctl$RUN-n$n"
  done
  cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset/$RUN-n$n/cpuset.cpus"
  cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset/$RUN-n$n/cpuset.mems"
  start "kubelet-n$n" "$RBIN/kubelet" --config "$D/kubelet.yaml" --kubeconfig "$W/kubeconfig" \
    --root-dir "$D/kubelet" --cert-dir "$D/kubelet/pki" --hostname-override "$(node_name "$n")" \
    --node-ip "$(node_ip "$n")" -v 1 \
    --node-labels "topology.kubernetes.io/region=$region,topology.kubernetes.io/zone=$zone"
}

# One kube-proxy for all nodes: they share one network namespace, hence one set of iptables
# chains; a proxy per node would rewrite the same chains. masqueradeAll because a reply from a
# backend on the same bridge as the client would otherwise bypass the DNAT's conntrack entry (no
# br_netfilter). The conntrack sysctls are global (not per netns), so they are left alone.
start_kube_proxy() {
  cat > "$W/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $W/kubeconfig}
mode: iptables
hostnameOverride: $(node_name 1)
bindAddress: $(node_ip 1)
clusterCIDR: 10.251.0.0/16
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
oomScoreAdj: 0
iptables: {masqueradeAll: true, localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 0s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy "$RBIN/kube-proxy" --config "$W/kube-proxy.yaml" -v 1
}

# CoreDNS as a host process in the netns, on the address every kubelet hands pods as clusterDNS.
# No forward plugin: nothing outside the cluster can be resolved (or reached) anyway.
start_coredns() {
  cat > "$W/Corefile" <<EOF
.:53 {
    bind $CP_IP
    ready $CP_IP:8181
    health $CP_IP:8180
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $W/kubeconfig
        pods insecure
        ttl 5
        fallthrough in-addr.arpa ip6.arpa
    }
}
EOF
  start coredns "$RBIN/coredns" -conf "$W/Corefile"
  waitfor 30 "CoreDNS ready" inns bash -c "exec 3<>/dev/tcp/$CP_IP/8181 && printf 'GET /ready HTTP/1.0\r\n\r\n' >&3 && grep -q 200 <&3"
}

# The tenants' Postgres: one server (wal_level=logical) in the databases' leaf netns, listening on
# each region's database address (hack/real-cluster-latency.sh), one database per region.
# It runs as the postgres user (initdb refuses root; setpriv execs, so the recorded PID is the
# postmaster's); its data lives in the workdir.
PG_PASSWORD=postgres
start_postgres() {
  local pgbin
  pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -x $pgbin/initdb ]] || { echo "Postgres server missing: apt-get install postgresql" >&2; return 1; }
  install -d -o postgres -g postgres "$W/pg" "$W/pg/run"
  echo "$PG_PASSWORD" > "$W/pg/pwfile"; chown postgres "$W/pg/pwfile"
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$pgbin/initdb" -D "$W/pg/data" -U postgres --pwfile="$W/pg/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 >"$W/logs/initdb.log" 2>&1
  # TLS, so tenants keep the default sslMode require (a self-signed certificate: require does not
  # verify it, as libpq).
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=postgres" \
    -keyout "$W/pg/server.key" -out "$W/pg/server.crt" 2>/dev/null
  chown postgres "$W/pg/server.key" "$W/pg/server.crt"; chmod 600 "$W/pg/server.key"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$W/pg/data/pg_hba.conf"
  echo "host replication all 0.0.0.0/0 scram-sha-256" >> "$W/pg/data/pg_hba.conf"
  start postgres nsenter --net="/run/netns/$DBNS" -- \
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$pgbin/postgres" -D "$W/pg/data" -k "$W/pg/run" \
    -c listen_addresses="$(db_ip eu),$(db_ip us)" -c port=5432 -c wal_level=logical -c max_replication_slots=32 \
    -c max_wal_senders=32 -c max_connections=200 -c fsync=off -c synchronous_commit=off \
    -c wal_sender_timeout=10s \
    -c ssl=on -c ssl_cert_file="$W/pg/server.crt" -c ssl_key_file="$W/pg/server.key"
  waitfor 30 "Postgres" inns "$pgbin/pg_isready" -q -h "$(db_ip eu)" -p 5432
  local db
  for db in app_eu app_us app_rtt; do
    inns "$pgbin/psql" -X -q -h "$W/pg/run" -U postgres -c "create database $db" postgres
  done
  PGBIN=$pgbin
}

# psql_db DB args...: psql as the superuser over the Unix socket.
psql_db() { local db=$1; shift; inns "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W/pg/run" -U postgres "$@" "$db"; }
