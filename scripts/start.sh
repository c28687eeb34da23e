#!/usr/bin/env bash
# Runs the product on its embedded defaults: hb-server (packages/cli) on one
# machine, no Redis, nodes on 127.0.0.1:9501, the admin endpoint with the live
# dashboard and /metrics on http://127.0.0.1:9502/, and a small demo fleet so
# there is something to watch (short timings: 1 s interval, 4 s timeout).
# Installs what it needs first (a Node >= 22.12 if the machine's is older,
# the pinned pnpm, the packages) and builds.
#
#   npm start                          # until Ctrl-C (drains, then exits)
#   HB_PORT=9600 HB_ADMIN_PORT=9700 npm start
#   HB_DEMO=false npm start            # no demo fleet
#   HB_DEMO_SECONDS=30 npm start       # stop by itself after 30 s
# Any hb-server setting works as HB_* here (see `hb-server --help`).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hb_install
echo "==> build"
pnpm -r --filter "./packages/*" build >/dev/null

export HB_HOST="${HB_HOST:-127.0.0.1}"
export HB_DEMO="${HB_DEMO:-true}"
export HB_HEARTBEAT_INTERVAL="${HB_HEARTBEAT_INTERVAL:-1s}"
export HB_HEARTBEAT_TIMEOUT="${HB_HEARTBEAT_TIMEOUT:-4s}"
export HB_HEARTBEAT_CHECK_INTERVAL="${HB_HEARTBEAT_CHECK_INTERVAL:-200ms}"
echo "==> hb-server: nodes on ${HB_HOST}:${HB_PORT:-9501}, dashboard on http://127.0.0.1:${HB_ADMIN_PORT:-9502}/ (Ctrl-C to stop)"
server=(node packages/cli/dist/hb-server.js "$@")
if [ -z "${HB_DEMO_SECONDS:-}" ] || [ "${HB_DEMO_SECONDS}" = 0 ]; then
  exec "${server[@]}"
fi
"${server[@]}" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
sleep "$HB_DEMO_SECONDS" & wait $! || true
kill -TERM "$pid" 2>/dev/null || true
wait "$pid"
