#!/usr/bin/env bash
# Smoke test: start, wait /readyz, SSA namespace + ConfigMap, read back, 403 for limited user, stop.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${BIN:-$(bash build.sh)}
STATE=$(mktemp -d /tmp/kal-smoke-XXXX)
t0=$(date +%s.%N)
$BIN --state-dir "$STATE" --admin-token admin-secret >"$STATE/stdout" 2>"$STATE/stderr" &
PID=$!
for i in $(seq 1 200); do [ -s "$STATE/env" ] && break; sleep 0.1; done
source "$STATE/env"
A=(-sS -k -H "Authorization: Bearer $KUBE_ADMIN_TOKEN")
L=(-sS -k -H "Authorization: Bearer $KUBE_LIMITED_TOKEN")
until [ "$(curl "${A[@]}" -o /dev/null -w '%{http_code}' "$KUBE_URL/readyz" 2>/dev/null)" = 200 ]; do
  kill -0 $PID || { echo "died"; tail -50 "$STATE/stderr"; exit 1; }
  sleep 0.2
done
t1=$(date +%s.%N)
echo "READY after $(echo "$t1 - $t0" | bc) s"
echo "RSS at ready: $(grep VmRSS /proc/$PID/status)"
curl "${A[@]}" "$KUBE_URL/version"; echo
echo "--- SSA namespace"
curl "${A[@]}" -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
  "$KUBE_URL/api/v1/namespaces/demo?fieldManager=x" --data-binary $'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n' -o /dev/null -w 'HTTP %{http_code}\n'
echo "--- SSA configmap"
curl "${A[@]}" -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
  "$KUBE_URL/api/v1/namespaces/demo/configmaps/cm1?fieldManager=x" \
  --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\ndata:\n  region: eu-west-1\n' -o /dev/null -w 'HTTP %{http_code}\n'
echo "--- read back"
curl "${A[@]}" "$KUBE_URL/api/v1/namespaces/demo/configmaps/cm1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["metadata"]["name"], d["data"], [m["manager"] for m in d["metadata"]["managedFields"]])'
echo "--- limited user: grant it configmaps in ns 'mine' only (Role+RoleBinding via SSA)"
curl "${A[@]}" -X PATCH -H 'Content-Type: application/apply-patch+yaml' "$KUBE_URL/api/v1/namespaces/mine?fieldManager=x" \
  --data-binary $'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: mine\n' -o /dev/null -w 'ns HTTP %{http_code}\n'
curl "${A[@]}" -X PATCH -H 'Content-Type: application/apply-patch+yaml' "$KUBE_URL/apis/rbac.authorization.k8s.io/v1/namespaces/mine/roles/cm?fieldManager=x" \
  --data-binary $'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: cm\n  namespace: mine\nrules:\n- apiGroups: [""]\n  resources: [configmaps]\n  verbs: ["*"]\n' -o /dev/null -w 'role HTTP %{http_code}\n'
curl "${A[@]}" -X PATCH -H 'Content-Type: application/apply-patch+yaml' "$KUBE_URL/apis/rbac.authorization.k8s.io/v1/namespaces/mine/rolebindings/cm?fieldManager=x" \
  --data-binary $'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: cm\n  namespace: mine\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: cm\nsubjects:\n- kind: User\n  name: limited\n  apiGroup: rbac.authorization.k8s.io\n' -o /dev/null -w 'rolebinding HTTP %{http_code}\n'
echo -n "limited list configmaps in mine: "; curl "${L[@]}" -o /dev/null -w '%{http_code}\n' "$KUBE_URL/api/v1/namespaces/mine/configmaps"
echo -n "limited get cm1 in demo:         "; curl "${L[@]}" -w '\n' "$KUBE_URL/api/v1/namespaces/demo/configmaps/cm1"
echo -n "bad token:                       "; curl -sS -k -H 'Authorization: Bearer nope' -o /dev/null -w '%{http_code}\n' "$KUBE_URL/api/v1/namespaces"
echo "RSS after requests: $(grep VmRSS /proc/$PID/status)"
ps -o pid,rss,vsz,nlwp,pcpu,etime,cmd -p $PID
t2=$(date +%s.%N); kill -TERM $PID; wait $PID; rc=$?; t3=$(date +%s.%N)
echo "stopped rc=$rc in $(echo "$t3 - $t2" | bc) s"
echo "stderr lines: $(wc -l < "$STATE/stderr")"; grep -E '^E' "$STATE/stderr" | head -5 || true
tail -3 "$STATE/stderr"
rm -rf "$STATE"
