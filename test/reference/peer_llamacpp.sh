#!/bin/bash
# Peer check without llama-cpp-python: build llama.cpp's libllama (CPU) + dump_logits.cpp from a
# llama.cpp source tree, dump logits for each GGUF, compare with the NumPy reference.
#   test/reference/peer_llamacpp.sh /path/to/llama.cpp a.gguf [b.gguf ...]
# Env: TOKENS (default 1,5,9,...), BUILD (default /tmp/kvant-peer-build), JOBS (default 2).
set -euo pipefail
SRC=$(realpath "$1"); shift
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-/tmp/kvant-peer-build}
TOKENS=${TOKENS:-1,5,9,13,2,77,100,3,42,7,250,11}
mkdir -p "$BUILD/proj"
cp "$HERE/dump_logits.cpp" "$BUILD/proj/"
cat > "$BUILD/proj/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.14)
project(peer CXX C)
foreach(o COMMON TESTS TOOLS EXAMPLES SERVER APP)
  set(LLAMA_BUILD_\${o} OFF CACHE BOOL "" FORCE)
endforeach()
set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
add_subdirectory($SRC llama.cpp)
add_executable(dump_logits dump_logits.cpp)
target_link_libraries(dump_logits PRIVATE llama)
CM
cmake -S "$BUILD/proj" -B "$BUILD/b" -DCMAKE_BUILD_TYPE=Release -DLLAMA_OPENSSL=OFF >/dev/null
cmake --build "$BUILD/b" -j "${JOBS:-2}" --target dump_logits >/dev/null
for g in "$@"; do
  "$BUILD/b/dump_logits" "$g" "$TOKENS" "$BUILD/logits.f32" 1 >/dev/null 2>&1
  python3 "$HERE/compare_llamacpp.py" "$g" --tokens "$TOKENS" --logits "$BUILD/logits.f32" || true
done
