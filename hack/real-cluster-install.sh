# shellcheck shell=bash
# Sourced by hack/real-cluster.sh: the README's Kubernetes quick start (the same commands and the
# same docs/quickstart files), with the locally built images, then .e2e-real/env.

QS="$ROOT/docs/quickstart"
CLUSTER_NS=realtime

install_quickstart() {
  local t=$SECONDS
  # README step 1: the operator. The --set flags point the chart at `make images`' tags, already
  # imported into every node's containerd (pullPolicy Never: there is no registry to fall back to).
  helm install realtime-operator "$ROOT/charts/realtime-operator" --namespace realtime-system --create-namespace \
    --set image.repository="${OPERATOR_IMAGE%:*}" --set image.tag="$IMAGE_VERSION" --set image.pullPolicy=Never \
    --set nodeImage.repository="${NODE_IMAGE%:*}" --set nodeImage.tag="$IMAGE_VERSION" \
    --wait --timeout 5m >"$W/logs/helm-install.log"
  log "operator installed ($((SECONDS - t))s)"
  # README steps 2-3: the cluster and the tenants.
  k create namespace "$CLUSTER_NS" >/dev/null
  # The quick start's RealtimeCluster with short RTT probe settings for the RTT drill (1 s rounds,
  # 5 s hold instead of 30 s and 2 min), set before its pods exist so nothing rolls.
  k patch --local -f "$QS/realtimecluster.yaml" --type merge -o yaml -p "$(rtt_env_patch)" | k apply -f - >/dev/null
  k apply -f "$QS/tenants.yaml" >/dev/null
  k -n "$CLUSTER_NS" wait --for=condition=Ready realtimecluster/realtime --timeout=5m >/dev/null
  k -n "$CLUSTER_NS" wait --for=condition=Ready tenant --all --timeout=5m >/dev/null
  log "RealtimeCluster and Tenants Ready ($((SECONDS - t))s after helm install)"
  k -n "$CLUSTER_NS" get realtimeclusters,tenants >&2
  write_env
}

E2E_RTT_INTERVAL=${E2E_RTT_INTERVAL:-1s} E2E_RTT_HOLD=${E2E_RTT_HOLD:-5s}
rtt_env_patch() {
  printf '{"spec":{"podTemplate":{"env":[{"name":"RTT_INTERVAL","value":"%s"},{"name":"RTT_HOLD","value":"%s"}]}}}' \
    "$E2E_RTT_INTERVAL" "$E2E_RTT_HOLD"
}

jwt_secret() { k -n "$CLUSTER_NS" get secret "$1-jwt" -o jsonpath='{.data.secret}' | base64 -d; }

write_env() {
  local svc port p1 p2
  svc="$(k -n "$CLUSTER_NS" get service realtime -o jsonpath='{.spec.clusterIP}')"
  port="$(k -n "$CLUSTER_NS" get service realtime -o jsonpath='{.spec.ports[0].port}')"
  podip() { k -n "$CLUSTER_NS" get pods -l "realtime.realtimeops.io/region=$1" \
    -o jsonpath='{.items[0].status.podIP}'; }
  p1="$(podip eu-west)"; p2="$(podip us-east)"
  cp "$W/kubeconfig" "$OUT/kubeconfig"
  cat > "$OUT/env" <<EOF
# Written by hack/real-cluster.sh up; everything below is reachable inside the netns only:
#   nsenter --net=\$E2E_NETNS <command>
export KUBECONFIG=$OUT/kubeconfig
export E2E_NETNS=$NSP
export E2E_WORKDIR=$W
export E2E_KUBECTL=$BIN/kubectl
export REALTIME_URL=ws://$svc:$port/socket
export REALTIME_URL_POD1=ws://$p1:4000/socket
export REALTIME_URL_POD2=ws://$p2:4000/socket
export REALTIME_TENANT_HOST=eu-app.realtime.example.com
export REALTIME_JWT_SECRET=$(jwt_secret eu-app)
export REALTIME_DB_URL=postgres://postgres:$PG_PASSWORD@$(db_ip eu):5432/app_eu?sslmode=require
export REALTIME_TENANT2_HOST=us-app.realtime.example.com
export REALTIME_JWT_SECRET2=$(jwt_secret us-app)
export REALTIME_DB_URL2=postgres://postgres:$PG_PASSWORD@$(db_ip us):5432/app_us?sslmode=require
export REALTIME_DB_URL_RTT=postgres://postgres:$PG_PASSWORD@$(db_ip us):5432/app_rtt?sslmode=require
export E2E_DELAYLINE_SOCK=$W/delayline.sock
export E2E_RTT_HOLD=$E2E_RTT_HOLD
export E2E_HELM=$RBIN/helm
export E2E_CHART=$ROOT/charts/realtime-operator
export E2E_IMAGE_VERSION=$IMAGE_VERSION
export E2E_PREV_IMAGE_VERSION=$PREV_VERSION
EOF
}
