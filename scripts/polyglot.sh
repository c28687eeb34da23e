#!/usr/bin/env bash
# Builds and tests the Go and Python example nodes (examples/go-node,
# examples/python-node) from proto/ alone, on a machine that has never seen
# the project: everything comes from the package registries.
#
#   bash scripts/polyglot.sh build   # tools, generated code, go-node binary, Python venv
#   bash scripts/polyglot.sh test    # build, then go vet + go test, pytest (conformance vectors)
#   bash scripts/polyglot.sh gen     # regenerate the committed Go code (examples/go-node/gen)
#   bash scripts/polyglot.sh smoke   # build, then both nodes against the TypeScript HeartbeatServer
#                                    # (scripts/polyglot-smoke.mjs; builds packages/server first)
#
# What it installs, each only when missing or out of date (so a second run
# takes a few seconds):
#   - protoc-gen-go into .tools/bin, `go install`ed from the Go module proxy at
#     the google.golang.org/protobuf version pinned in examples/go-node/go.mod;
#   - the Go modules of go.mod/go.sum (`go mod download`);
#   - a Python venv in .tools/pyvenv with examples/python-node/requirements-dev.txt
#     (protobuf runtime, grpcio-tools for code generation, pytest);
#   - the workspace's npm packages (for the buf CLI) if node_modules is missing.
# Needs: Go >= 1.23 (PATH or /usr/local/go/bin), Python >= 3.10 (python3 or
# $PYTHON), Node + pnpm (only if node_modules is missing).
#
# Generated code: Go types are committed in examples/go-node/gen (Go modules
# ship their .pb.go files) and `build` fails if they differ from what
# proto/ generates; the Python modules are generated at build time into the
# git-ignored examples/python-node/gen (protoc marks Python gencode
# "NO CHECKED-IN PROTOBUF GENCODE").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO_DIR="$ROOT/examples/go-node"
PY_DIR="$ROOT/examples/python-node"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/pyvenv"
BUF="$ROOT/node_modules/.bin/buf"

say() { printf '==> %s\n' "$*"; }
die() { printf 'polyglot: %s\n' "$*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

find_go() {
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go
  else die "Go >= 1.23 is needed (not on PATH nor in /usr/local/go/bin)"; fi
  local v; v="$("$GO" env GOVERSION)"; v="${v#go}"
  local major="${v%%.*}" rest="${v#*.}"; local minor="${rest%%.*}"
  if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 23 ]; }; then die "Go >= 1.23 is needed, found $v"; fi
  export GOFLAGS="${GOFLAGS:-} -mod=readonly"
}

find_python() {
  PY="${PYTHON:-python3}"
  command -v "$PY" >/dev/null 2>&1 || die "Python >= 3.10 is needed ($PY not found)"
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python >= 3.10 is needed, found $("$PY" --version)"
}

ensure_buf() {
  if [ ! -x "$BUF" ]; then
    say "pnpm install (for the buf CLI)"
    (cd "$ROOT" && pnpm install --frozen-lockfile --reporter=append-only | tail -n 3)
  fi
  [ -x "$BUF" ] || die "buf CLI missing at $BUF"
}

# protoc-gen-go at the version go.mod pins for google.golang.org/protobuf.
ensure_protoc_gen_go() {
  (cd "$GO_DIR" && "$GO" mod download)
  local want; want="$(cd "$GO_DIR" && "$GO" list -m -f '{{.Version}}' google.golang.org/protobuf)"
  if [ "$("$TOOLS/bin/protoc-gen-go" --version 2>/dev/null || true)" != "protoc-gen-go $want" ]; then
    say "installing protoc-gen-go $want into .tools/bin"
    mkdir -p "$TOOLS/bin"
    (cd "$GO_DIR" && GOBIN="$TOOLS/bin" "$GO" install "google.golang.org/protobuf/cmd/protoc-gen-go@$want")
  fi
}

# Generates the Go code of the public schema (proto/hb/v1; proto/hb/internal
# is hb's own server's business) into $1 (a directory laid out like examples/go-node).
generate_go() {
  (cd "$GO_DIR" && PATH="$TOOLS/bin:$PATH" "$BUF" generate "$ROOT/proto" --path "$ROOT/proto/hb/v1" --template buf.gen.yaml --output "$1")
}

check_go_gen() {
  local tmp; tmp="$(mktemp -d)"
  generate_go "$tmp"
  if ! diff -r "$tmp/gen" "$GO_DIR/gen" >/dev/null 2>&1; then
    diff -r "$tmp/gen" "$GO_DIR/gen" | head -n 20 >&2 || true
    rm -rf "$tmp"
    die "examples/go-node/gen is stale: run \`bash scripts/polyglot.sh gen\` and commit the result"
  fi
  rm -rf "$tmp"
  echo "Go generated code is fresh ($(ls "$GO_DIR/gen/hb/v1" | wc -l) files in examples/go-node/gen)"
}

ensure_venv() {
  local stamp="$VENV/.hb-requirements" want
  want="$(hash_of "$PY_DIR/requirements.txt" "$PY_DIR/requirements-dev.txt")-$("$PY" -c 'import sys; print(sys.version)' | head -n 1)"
  if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    say "Python venv in .tools/pyvenv (pip install -r examples/python-node/requirements-dev.txt)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PY_DIR/requirements-dev.txt"
    echo "$want" >"$stamp"
  fi
}

generate_python() {
  local stamp="$PY_DIR/gen/.hb-stamp" want
  want="$(hash_of "$ROOT"/proto/hb/v1/*.proto "$PY_DIR/requirements-dev.txt")"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    say "generating Python code into examples/python-node/gen"
    rm -rf "$PY_DIR/gen"
    mkdir -p "$PY_DIR/gen"
    (cd "$ROOT/proto" && "$VENV/bin/python" -m grpc_tools.protoc -I . \
      --python_out="$PY_DIR/gen" --pyi_out="$PY_DIR/gen" hb/v1/*.proto)
    echo "$want" >"$stamp"
  fi
}

cmd_gen() {
  find_go; ensure_buf; ensure_protoc_gen_go
  generate_go "$GO_DIR"
  echo "regenerated examples/go-node/gen"
}

cmd_build() {
  local t0=$SECONDS
  find_go; find_python; ensure_buf
  say "Go: protoc-gen-go, modules, generated code"
  ensure_protoc_gen_go
  check_go_gen
  say "Go: build examples/go-node/bin/go-node"
  (cd "$GO_DIR" && "$GO" build -o bin/go-node ./cmd/go-node)
  say "Python: venv and generated code"
  ensure_venv
  generate_python
  "$VENV/bin/python" -c "import sys; sys.path.insert(0, '$PY_DIR'); import hbnode.node" \
    || die "the Python node does not import"
  echo "polyglot build done in $((SECONDS - t0)) s"
}

cmd_test() {
  cmd_build
  local failed=()
  say "Go: go vet + go test ./... (examples/go-node)"
  if ! (cd "$GO_DIR" && "$GO" vet ./... && "$GO" test -count=1 ./...); then failed+=(go); fi
  say "Python: pytest (examples/python-node)"
  if ! (cd "$PY_DIR" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests); then failed+=(python); fi
  if [ "${#failed[@]}" -gt 0 ]; then
    echo "polyglot: FAILED: ${failed[*]}"
    exit 1
  fi
  echo "polyglot: Go and Python nodes pass"
}

cmd_smoke() {
  cmd_build
  say "building @hb/server (and @hb/codec) into packages/*/dist"
  (cd "$ROOT" && pnpm --filter "@hb/server..." build >/dev/null)
  say "smoke: Go and Python nodes against the TypeScript HeartbeatServer"
  node "$ROOT/scripts/polyglot-smoke.mjs"
}

case "${1:-}" in
  build) cmd_build ;;
  test) cmd_test ;;
  gen) cmd_gen ;;
  smoke) cmd_smoke ;;
  *) echo "usage: bash scripts/polyglot.sh build|test|gen|smoke" >&2; exit 2 ;;
esac
