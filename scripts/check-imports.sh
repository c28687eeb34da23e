#!/usr/bin/env bash
# Import direction and cycles, by dependency-cruiser with the rules of
# .dependency-cruiser.cjs (admin → facade → core → parts → options → ports →
# registry, telemetry → codec, no cycle, type-only imports included). Needs the Node
# hb needs (>= 22.12; scripts/test.sh makes sure of it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pnpm exec depcruise --config .dependency-cruiser.cjs packages/codec/src packages/client/src packages/server/src packages/metrics/src packages/cli/src
