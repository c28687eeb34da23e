# Shared set-up for scripts/test.sh and scripts/start.sh: makes sure a Node.js
# >= 22.12 runs everything (fetching a pinned one from the npm registry when
# the machine's is older), that the pinned pnpm is available, then installs
# the workspace. Sourced, not run.
set -euo pipefail
HB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HB_ROOT"

# The Node.js hb needs (package.json "engines"), and the versions fetched when
# the machine's Node is older (22) and for the test matrix (24). Node 22 and 24
# are ordinary npm packages (`node@…`, the real binary in node_modules/node/bin).
HB_NODE_MIN="22.12.0"
HB_NODE_22="22.23.3"
HB_NODE_24="24.21.0"

# Prints the bin directory of a Node.js of that major version from .tools/,
# installing it from the npm registry (with the machine's npm) the first time.
hb_fetch_node() {
  local major="$1" version dir
  version="HB_NODE_$major"; version="${!version}"
  dir="$HB_ROOT/.tools/node$major"
  if [ "$("$dir/node_modules/node/bin/node" --version 2>/dev/null || true)" != "v$version" ]; then
    echo "==> installing node@$version from the npm registry into .tools/node$major" >&2
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "node@$version" >/dev/null)
  fi
  (cd "$dir/node_modules/node/bin" && pwd)
}

# Whether the `node` on PATH is at least $HB_NODE_MIN.
hb_node_ok() {
  node -e '
    const want = process.argv[1].split(".").map(Number);
    const have = process.versions.node.split(".").map(Number);
    for (let i = 0; i < 3; i++) if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1);
  ' "$HB_NODE_MIN"
}

if ! hb_node_ok; then
  echo "==> this machine's Node.js is $(node --version); hb needs >= $HB_NODE_MIN"
  PATH="$(hb_fetch_node 22):$PATH"
  export PATH
fi
echo "==> node $(node --version)"

PNPM_VERSION="$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$HB_ROOT/package.json")"
# pnpm: the pinned version from package.json. corepack's bundled keys are stale
# on some Node builds, so install it from the npm registry instead.
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "==> installing pnpm@$PNPM_VERSION"
  if ! npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
    pnpm() { npx -y "pnpm@$PNPM_VERSION" "$@"; }
  fi
fi

hb_install() {
  echo "==> pnpm install"
  pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 3
}
