#!/usr/bin/env bash
# Starts the main job on its embedded default: a real hb server on
# 127.0.0.1:9501 with a small demo fleet, printing presence changes
# (examples/demo.ts). Installs what it needs first (pinned pnpm, packages).
#
#   npm start                      # until Ctrl-C
#   HB_PORT=9600 npm start         # another port
#   HB_DEMO_SECONDS=30 npm start   # stop by itself after 30 s
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hb_install
echo "==> build"
pnpm -r --filter "./packages/*" build >/dev/null
exec pnpm --silent --filter @hb/examples demo
