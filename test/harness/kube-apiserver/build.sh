#!/usr/bin/env bash
# Part of test/harness/kube-apiserver: see main.go. Prints the path of the cached binary.
# Build (or reuse) kube-apiserver-local. Cached outside the work tree so a fresh CI clone on
# the same machine reuses it; key = hash of the inputs + Go version + ldflags.
set -euo pipefail
cd "$(dirname "$0")"
K8S=v1.37.2
LDF="-s -w -X k8s.io/component-base/version.gitVersion=$K8S -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.gitCommit=module-$K8S"
KEY=$( { cat go.mod go.sum main.go; go version; echo "$LDF"; } | sha256sum | cut -c1-16)
CACHE=${KUBE_LOCAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-apiserver-local}
BIN=$CACHE/kube-apiserver-local-$KEY
if [ ! -x "$BIN" ]; then
  mkdir -p "$CACHE"
  echo "building kube-apiserver-local ($KEY); cold: ~15 min on 2 cores" >&2
  GOFLAGS=-mod=readonly go build -ldflags "$LDF" -o "$BIN.tmp.$$" . && mv "$BIN.tmp.$$" "$BIN"
fi
echo "$BIN"
