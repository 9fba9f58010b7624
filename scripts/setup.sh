#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for kiln (as root): installs the Debian packages kiln
# needs when they are missing, then configures and builds into build/.
#   scripts/setup.sh              # install what is missing, build kiln and its plugins
#   scripts/setup.sh --tests      # ... and build everything: the tests and benchmarks too
#   KILN_BUILD_DIR=out scripts/setup.sh
#   KILN_LIBTORCH=<prefix> scripts/setup.sh   # against that LibTorch instead of Debian's (CPU)
#                                 # libtorch-dev: a LibTorch zip's folder, a pip torch's
#                                 # torch.utils.cmake_prefix_path, or "python" to ask python3's torch
# A build directory keeps the LibTorch it was configured with: build against another one in
# another directory (KILN_BUILD_DIR=build-gpu).
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/libtorch.sh
build_dir=${KILN_BUILD_DIR:-build}
target=kiln_app
case "${1:-}" in
  "") ;;
  --tests) target=all ;;
  *) echo "setup: unknown argument '$1' (scripts/setup.sh [--tests])" >&2; exit 2 ;;
esac

# The user's LibTorch, checked before anything is installed.
libtorch_prefix=
if [ -n "${KILN_LIBTORCH:-}" ]; then
  libtorch_prefix=$(kiln_libtorch_prefix "$KILN_LIBTORCH") || exit 2
  torch_dir=$(kiln_torch_dir "$libtorch_prefix") || exit 2
fi

packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev            # Boost.DLL (header-only)
  libtomlplusplus-dev libfmt-dev libspdlog-dev libcli11-dev
  libsqlite3-dev sqlite3
  libssl-dev              # SHA-256 of plugins and checkpoints
  libstb-dev              # stb_image: PNG/JPEG for the image datasets and summaries
  libcpp-httplib-dev      # kiln serve's HTTP server
  libprotobuf-dev protobuf-compiler  # TensorBoard event files (Event/Summary messages)
  libgtest-dev libgmock-dev libbenchmark-dev  # gmock: Debian 13 no longer brings it with gtest
  chromium                # headless, for the kiln report test (tests/report): a ~110 MB download
  dpkg-dev                # dpkg-shlibdeps: the .deb's Depends (cpack -G DEB, tests/install)
  file                    # cpack -G DEB's shlibdeps runs it (not in a minimal Debian)
)
if [ -z "$libtorch_prefix" ]; then
  packages+=(
    libtorch-dev            # LibTorch (CPU)
    libopenblas0-pthread    # LibTorch's BLAS: OpenBLAS, not the slow reference BLAS
    libgloo-dev             # c10d's Gloo process group (data-parallel runs): its headers
  )
fi
if [ "$target" = all ]; then
  # /usr/bin/python3's torch, with which tests/export check that Python's torch.load reads the
  # .pt of kiln export weights (skipped without it): ~27 MB to download beside libtorch1.13
  packages+=(python3-torch)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (or install these packages first): ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -z "$libtorch_prefix" ]; then
  torch_dir=$(dirname "$(dpkg -L libtorch-dev | grep '/TorchConfig\.cmake$')")
  blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
  case "$blas" in
    *openblas*) ;;
    *) echo "setup: warning: libblas.so.3 is $blas, not OpenBLAS; training will be slow" >&2 ;;
  esac
fi

# Torch_DIR always: CMake refuses a build directory configured with another LibTorch.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DTorch_DIR=$torch_dir" \
  ${libtorch_prefix:+"-DCMAKE_PREFIX_PATH=$libtorch_prefix"}
cmake --build "$build_dir" --target "$target"
