#!/usr/bin/env bash
# Smoke test without Node: one etcd + two apiservers (distinct etcd prefixes,
# generated CAs), wait for /readyz with the generated CA, list namespaces
# with the admin token and the admin client certificate, then stop.
#   usage: scripts/smoke.sh [path/to/kube-testbed]
set -euo pipefail
BIN=${1:-${KUBE_TESTBED_BIN:-}}
HERE=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$BIN" ]; then
  BIN=$(mktemp -d)/kube-testbed
  (cd "$HERE/go" && go build -trimpath -o "$BIN" .)
fi
WORK=$(mktemp -d /tmp/kube-testbed-smoke.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

EPORT=$(freeport)
"$BIN" etcd --data-dir "$WORK/etcd" --listen-client-url "http://127.0.0.1:$EPORT" --parent-pid $$ \
  >"$WORK/etcd.out" 2>"$WORK/etcd.log" &
PIDS+=($!)
for i in $(seq 1 100); do grep -q '"ready":"etcd"' "$WORK/etcd.out" && break; sleep 0.1; done
grep -q '"ready":"etcd"' "$WORK/etcd.out" || { echo "etcd not ready"; cat "$WORK/etcd.log"; exit 1; }
echo "etcd ready on $EPORT"

T0=$(date +%s.%N)
for name in alpha beta; do
  d="$WORK/$name"; port=$(freeport)
  "$BIN" certs --dir "$d" --name "$name" --server "https://127.0.0.1:$port" >/dev/null
  "$BIN" apiserver --parent-pid $$ --testbed-kubeconfig "$d/admin.kubeconfig" \
    --etcd-servers "http://127.0.0.1:$EPORT" --etcd-prefix "/$name" \
    --bind-address 127.0.0.1 --secure-port "$port" --cert-dir "$d" \
    --tls-cert-file "$d/apiserver.crt" --tls-private-key-file "$d/apiserver.key" \
    --client-ca-file "$d/ca.crt" --token-auth-file "$d/tokens.csv" \
    --service-account-issuer "https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file "$d/sa.pub" --service-account-signing-key-file "$d/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --authorization-mode Node,RBAC \
    --enable-priority-and-fairness=false --storage-backend etcd3 \
    >"$d.out" 2>"$d.log" &
  PIDS+=($!)
  echo "$name: pid $! port $port"
  echo "$port" > "$d.port"
done
for name in alpha beta; do
  d="$WORK/$name"; port=$(cat "$d.port")
  for i in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca.crt" "https://127.0.0.1:$port/readyz" || true)
    [ "$code" = 200 ] && break; sleep 0.1
  done
  [ "$code" = 200 ] || { echo "$name not ready"; tail -30 "$d.log"; exit 1; }
  echo "$name ready after $(echo "$(date +%s.%N) - $T0" | bc) s"
done
for name in alpha beta; do
  d="$WORK/$name"; port=$(cat "$d.port"); tok=$(cat "$d/admin.token")
  curl -sf --cacert "$d/ca.crt" -H "Authorization: Bearer $tok" "https://127.0.0.1:$port/api/v1/namespaces" | grep -o '"name": "[a-z-]*"' | tr '\n' ' '; echo
  curl -sf --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" "https://127.0.0.1:$port/apis/admissionregistration.k8s.io/v1" | grep -o '"name": "validatingadmissionpolicies"' | head -1
  "$BIN" kubectl --kubeconfig "$d/admin.kubeconfig" create namespace "only-in-$name" >/dev/null
done
"$BIN" kubectl --kubeconfig "$WORK/alpha/admin.kubeconfig" get ns -o name | tr '\n' ' '; echo
"$BIN" kubectl --kubeconfig "$WORK/beta/admin.kubeconfig" get ns -o name | tr '\n' ' '; echo
for name in alpha beta; do
  pid=$(grep -o '"pid":[0-9]*' "$WORK/$name.out" | head -1 | cut -d: -f2)
  echo "$name RSS: $(grep VmRSS /proc/$pid/status)"
done
echo "smoke OK"
