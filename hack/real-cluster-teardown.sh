# shellcheck shell=bash
# Sourced by hack/real-cluster.sh: teardown by recorded PIDs. Uses W, RUN, NS, NSP, DBNS (from the state
# file) and $W/pids; safe to run twice and after a half-finished `up`.

stop_pid() { # pid
  kill -TERM "$1" 2>/dev/null || return 0
  local i
  for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}

teardown() {
  set +e
  local names=() pids=() nm pid i n c sock
  [[ -f $W/pids ]] && while read -r nm pid; do names+=("$nm"); pids+=("$pid"); done < "$W/pids"
  # 1. Pods are not deleted through the API first (that took 20-30 s): the cluster is thrown away,
  #    so the containers are killed through their containerd below.
  # 2. Our processes. The containers first, through their containerd (kubelets would restart
  #    them otherwise only if they still ran); then TERM to everything at once (INT for Postgres:
  #    fast shutdown), KILL after 10 s. One by one this took 40 s, mostly waiting on kubelets.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    [[ ${names[i]} == kubelet-* || ${names[i]} == kube-proxy ]] && kill -TERM "${pids[i]}" 2>/dev/null
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    if [[ ${names[i]} == containerd-* ]] && kill -0 "${pids[i]}" 2>/dev/null; then
      sock="$W/${names[i]#containerd-}/run/containerd.sock"
      for c in $(ctr -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
        ctr -a "$sock" -n k8s.io tasks kill -s KILL "$c" >/dev/null 2>&1
        ctr -a "$sock" -n k8s.io tasks delete "$c" >/dev/null 2>&1
        ctr -a "$sock" -n k8s.io containers delete "$c" >/dev/null 2>&1
      done
    fi
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do
    if [[ ${names[i]} == postgres ]]; then kill -INT "${pids[i]}" 2>/dev/null; else kill -TERM "${pids[i]}" 2>/dev/null; fi
  done
  for ((i = 0; i < ${#pids[@]}; i++)); do stop_pid "${pids[i]}"; done
  ((${#pids[@]})) && log "stopped ${names[*]}"
  # 3. Shims re-parented to init: matched on our own unique socket path only, stopped by PID.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $W/" 2>/dev/null); do stop_pid "$pid"; done
  # 4. Mounts under the workdir (overlay rootfs, shm, tmpfs volumes, pod netns, kubelet binds).
  awk -v w="$W/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null; done
  # 5. Our cgroup roots in every hierarchy.
  for c in /sys/fs/cgroup/*/; do
    for n in 1 2 3 4; do
      [[ -d "$c$RUN-n$n" ]] && find "$c$RUN-n$n" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  # 6. The netns (its veths, bridges, iptables rules and routes go with it) and the shim dirs
  #    containerd 1.6 hard-codes (only if empty).
  [[ -e $NSP ]] && ip netns del "$NS"
  [[ -n ${DBNS:-} && -e /run/netns/$DBNS ]] && ip netns del "$DBNS"
  rmdir /run/containerd/s /run/containerd/fifo /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd 2>/dev/null
  # 7. Host sysctls the kubelet changed, restored when no other run is live.
  rm -f "$W/live"
  (
    flock 8
    if [[ -f $ORIG ]] && ! ls "$STATE_ROOT"/run.*/live >/dev/null 2>&1; then
      while read -r s v; do sysctl -qw "$s=$v"; done < "$ORIG"; rm -f "$ORIG"
    fi
  ) 8>"$STATE_ROOT/.lock"
  # 8. Check: report anything left, so a leak fails loudly instead of breaking the next run.
  local left=""
  for ((i = 0; i < ${#pids[@]}; i++)); do kill -0 "${pids[i]}" 2>/dev/null && left+=" pid:${pids[i]}(${names[i]})"; done
  awk -v w="$W/" 'index($5, w) == 1' /proc/self/mountinfo | grep -q . && left+=" mounts"
  [[ -e $NSP ]] && left+=" netns"
  [[ -n ${DBNS:-} && -e /run/netns/$DBNS ]] && left+=" netns:$DBNS"
  ls -d /sys/fs/cgroup/*/"$RUN"-n* >/dev/null 2>&1 && left+=" cgroups"
  set -e
  if [[ -n $left ]]; then log "teardown left:$left"; return 1; fi
  return 0
}
