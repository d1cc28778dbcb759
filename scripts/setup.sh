#!/usr/bin/env bash
# Installs whatever kvant needs and is missing (Debian 12, as root or with
# sudo, non-interactive, idempotent), then configures and builds it.
#
#   KVANT_BUILD_DIR  build directory (default: build/ in the checkout)
#   KVANT_BUILD_TYPE CMake build type (default: Release)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KVANT_BUILD_DIR:-$root/build}
llvm=/usr/lib/llvm-22

apt_packages=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
              lld-22 libomp-22-dev cmake ninja-build ccache python3 python3-venv
              python3-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "kvant setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
fi

# Python packages go into a virtual environment: Debian's python3 refuses
# system-wide pip installs (PEP 668).
venv=${KVANT_VENV:-$root/.venv}
if [[ ! -x $venv/bin/python ]]; then
  /usr/bin/python3 -m venv "$venv"
fi
stamp=$venv/.requirements.stamp
if [[ ! -f $stamp ]] || ! cmp -s "$root/requirements.txt" "$stamp"; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$root/requirements.txt"
  cp "$root/requirements.txt" "$stamp"
fi

# ccache lives in $HOME so that CI runs and rebuilds reuse it.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
mkdir -p "$CCACHE_DIR"
ccache --max-size=5G >/dev/null

# Configuring again is cheap and picks up changed options. The Python
# package (KVANT_ENABLE_PYTHON, nanobind from requirements.txt) is staged in
# $build/python: PYTHONPATH=$build/python imports it; pip install ./python
# installs it instead.
cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE="${KVANT_BUILD_TYPE:-Release}" \
    -DMLIR_DIR=$llvm/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=$llvm/bin/lit \
    -DCMAKE_C_COMPILER=$llvm/bin/clang \
    -DCMAKE_CXX_COMPILER=$llvm/bin/clang++ \
    -DLLVM_USE_LINKER=lld \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLLVM_ENABLE_ASSERTIONS=ON \
    -DKVANT_ENABLE_WERROR=ON \
    -DKVANT_ENABLE_PYTHON=ON \
    -DPython3_EXECUTABLE="$venv/bin/python" >/dev/null
cmake --build "$build"
