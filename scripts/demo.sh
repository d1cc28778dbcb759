#!/usr/bin/env bash
# The main job on the bundled default: set up and build kvant, then compile
# the bundled example model graph (examples/models/tiny-llama.mlir, written in
# the llm/qt/kv dialects) through kvant's pipeline and print the result.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KVANT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
model=$root/examples/models/tiny-llama.mlir
echo "== kvant: compiling $model with --kvant-optimize-pipeline"
"$build/bin/kvant-opt" "$model" --kvant-optimize-pipeline
