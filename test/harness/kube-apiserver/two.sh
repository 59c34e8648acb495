#!/usr/bin/env bash
# Two instances ("us-east-1", "eu-west-1") at once; time to ready, RSS, /version, stop.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${BIN:-$(bash build.sh)}
declare -A PID ST
t0=$(date +%s.%N)
for r in us-east-1 eu-west-1; do
  ST[$r]=$(mktemp -d /tmp/kal-$r-XXXX)
  "$BIN" --state-dir "${ST[$r]}" >"${ST[$r]}/stdout" 2>"${ST[$r]}/stderr" & PID[$r]=$!
done
for r in us-east-1 eu-west-1; do
  until [ -s "${ST[$r]}/env" ]; do sleep 0.1; done
  source "${ST[$r]}/env"
  until [ "$(curl -sk -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" -o /dev/null -w '%{http_code}' "$KUBE_URL/readyz")" = 200 ]; do sleep 0.2; done
  echo "$r ready at +$(echo "$(date +%s.%N) - $t0" | bc)s url=$KUBE_URL $(grep VmRSS /proc/${PID[$r]}/status)"
  curl -sk --cacert "$KUBE_CA_FILE" -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" "$KUBE_URL/version" | grep gitVersion
  curl -s --cacert "$KUBE_CA_FILE" -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" -o /dev/null -w "  verified TLS with KUBE_CA_FILE: %{http_code}\n" "$KUBE_URL/api/v1/namespaces"
done
sleep 20
for r in us-east-1 eu-west-1; do echo "$r idle +20s: $(grep VmRSS /proc/${PID[$r]}/status)"; done
top -b -n1 -p ${PID[us-east-1]},${PID[eu-west-1]} | tail -3
for r in us-east-1 eu-west-1; do kill -TERM ${PID[$r]}; done
for r in us-east-1 eu-west-1; do wait ${PID[$r]}; echo "$r exit $?"; rm -rf "${ST[$r]}"; done
