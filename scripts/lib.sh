# Shared set-up for scripts/test.sh and scripts/start.sh: makes sure the
# pinned pnpm is available, then installs the workspace. Sourced, not run.
set -euo pipefail
HB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION="$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$HB_ROOT/package.json")"
cd "$HB_ROOT"

# pnpm: the pinned version from package.json. corepack's bundled keys are stale
# on some Node 20 builds, so install it from the npm registry instead.
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
