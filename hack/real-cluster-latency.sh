# shellcheck shell=bash
# Sourced by hack/real-cluster.sh: latency between the regions (this kernel has no sch_netem, so
# `tc netem` is not available; hack/delayline is a userspace TUN delay line, internal/delayline).
#
#   node pod -> tenant database: the databases live in a leaf namespace ($DBNS) whose only
#     interface is a TUN held by the delay line; the cluster netns reaches 10.252.0.0/16 through
#     the delay line's other TUN (rtd0). Each database has its region's address (eu-west
#     10.252.1.1, us-east 10.252.2.1; one Postgres listens on both) and the delay is chosen by
#     the source address: node N's pods are 10.251.N.0/24, so a packet's node, hence its region,
#     is its source network. The database Services are headless (DNS names the database address
#     directly), because kube-proxy's masqueradeAll would rewrite a ClusterIP connection's source
#     to rtd0's address and hide the pod's region.
#   node pod -> node pod in another region: a packet a node's bridge (rte-nN) receives for another
#     region's pod network is marked (iptables mangle, on its pre-NAT addresses) and policy-routed
#     into rtd0; the delay line writes it back into rtd0 after the delay and the kernel forwards
#     it again (unmarked now: it came in on rtd0). Pod -> ClusterIP traffic (DNAT, masquerade)
#     is never marked: it keeps the direct path. Pods of one region on different nodes talk
#     directly (no delay).
#   Processes in the cluster netns itself (control plane, kube-proxy, CoreDNS, the tests) have no
#     region: no delay to or from them.
#
# Delays (round trip; half each way): eu-west <-> us-east 40 ms with +-1 ms jitter per packet each
# way, pod <-> database in its own region 1 ms. `PUT /extra?net=10.251.N.0/24&delay=D` on
# $W/delayline.sock adds D each way to node N's paths (E2E_DELAYLINE_SOCK in .e2e-real/env).
# The delay line is started by `start` (its PID is in $W/pids, stopped by teardown with the rest);
# teardown deletes $DBNS.

DB_NET=10.252.0.0/16
DB_GW=10.252.0.1                     # rtd0's address in the cluster netns
db_ip() { case $1 in eu) echo 10.252.1.1 ;; us) echo 10.252.2.1 ;; esac; }
RTT_CROSS=${RTT_CROSS:-40ms} RTT_LOCAL=${RTT_LOCAL:-1ms} RTT_JITTER=${RTT_JITTER:-1ms}
DELAYLINE="${DELAYLINE:-$ROOT/bin/delayline}"

start_latency() {
  ip netns add "$DBNS"
  ip -n "$DBNS" link set lo up
  local args=() n m
  for n in $(seq "$NODES"); do args+=(-region "10.251.$n.0/24=${REGIONS[n - 1]}"); done
  args+=(-region "$(db_ip eu)/32=eu-west" -region "$(db_ip us)/32=us-east")
  args+=(-rtt "eu-west/us-east=$RTT_CROSS" -rtt "eu-west/eu-west=$RTT_LOCAL" -rtt "us-east/us-east=$RTT_LOCAL")
  start delayline "$DELAYLINE" -dev rtd0 -leaf "/run/netns/$DBNS" -leaf-net "$DB_NET" \
    -ctl "$W/delayline.sock" -jitter "$RTT_JITTER" "${args[@]}"
  waitfor 10 "delay line" test -S "$W/delayline.sock"
  ip -n "$NS" addr add "$DB_GW/16" dev rtd0
  ip -n "$NS" link set rtd0 up
  ip -n "$DBNS" addr add "$(db_ip eu)/16" dev rtd0
  ip -n "$DBNS" addr add "$(db_ip us)/16" dev rtd0
  ip -n "$DBNS" link set rtd0 up
  ip -n "$DBNS" route add default dev rtd0
  # A reinjected pod packet arrives on rtd0 from a source routed via a bridge: no reverse-path
  # filter (per netns; the effective value is the max of all and the device).
  inns sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.rtd0.rp_filter=0
  # Pod -> pod across regions: marked on the pre-NAT addresses (mangle PREROUTING runs before
  # kube-proxy's DNAT), so only plain pod-to-pod packets take table 17; a bit kube-proxy does not
  # use (it uses 0x4000 and 0x8000).
  ip -n "$NS" route add default dev rtd0 table 17
  ip -n "$NS" rule add pref 100 fwmark 0x100000/0x100000 lookup 17
  for n in $(seq "$NODES"); do
    for m in $(seq "$NODES"); do
      [[ ${REGIONS[n - 1]} == "${REGIONS[m - 1]}" ]] && continue
      inns iptables -w -t mangle -A PREROUTING -i "rte-n$n" -d "10.251.$m.0/24" -j MARK --or-mark 0x100000
    done
  done
}
