#!/usr/bin/env bash
# Import direction and cycles, by dependency-cruiser with the rules of
# .dependency-cruiser.cjs (facade → core → parts → options → ports →
# registry → codec, no cycle, type-only imports included). dependency-cruiser
# 18 runs on Node >= 22: on an older Node it runs under .tools/node22
# (installed from the npm registry, as the test matrix does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node_bin=node
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  dir=".tools/node22"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    echo "==> installing node@22 from the npm registry (for dependency-cruiser)"
    mkdir -p "$dir" && (cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "node@22" >/dev/null)
  fi
  node_bin="$dir/node_modules/node/bin/node"
fi
"$node_bin" node_modules/dependency-cruiser/bin/dependency-cruiser.mjs --config .dependency-cruiser.cjs \
  packages/codec/src packages/client/src packages/server/src packages/metrics/src
