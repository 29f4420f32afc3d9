#!/usr/bin/env bash
# Configures (once) and builds Pépinière in Release with Ninja, two jobs, ccache when present.
#   build.sh BUILD_DIR [TARGET...]   (no target: everything, tests included)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BUILD_DIR="${1:-$ROOT/build}"
shift || true
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j2 "${targets[@]}" >&2
