#!/usr/bin/env bash
# The main job on the bundled default model: set up and build kvant, compile
# models/tiny-llama/tiny-llama-f16.gguf through kvant's CPU pipeline into a
# shared library, and generate text with it.
#
#   KVANT_PROMPT   the prompt (default: "In the beginning")
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KVANT_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"

model=$root/models/tiny-llama/tiny-llama-f16.gguf
artifact=$build/tiny-llama.so
echo "== kvant-compile $model --target=cpu -o $artifact"
"$build/bin/kvant-compile" "$model" --target=cpu --context 256 -o "$artifact"
echo "== kvant-run (sampling at temperature 0.8, top-k 40)"
"$build/bin/kvant-run" "$artifact" --weights "$model" \
  -p "${KVANT_PROMPT:-In the beginning}" -n 64 --temp 0.8 --top-k 40 --seed 1
