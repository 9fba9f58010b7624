#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for kiln (as root): installs the Debian packages kiln
# needs when they are missing, then configures and builds into build/.
#   scripts/setup.sh              # install what is missing, build kiln and its plugins
#   scripts/setup.sh --tests      # ... and build everything: the tests and benchmarks too
#   KILN_BUILD_DIR=out scripts/setup.sh
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${KILN_BUILD_DIR:-build}
target=kiln_app
case "${1:-}" in
  "") ;;
  --tests) target=all ;;
  *) echo "setup: unknown argument '$1' (scripts/setup.sh [--tests])" >&2; exit 2 ;;
esac

packages=(
  cmake ninja-build g++ pkg-config
  libtorch-dev            # LibTorch (CPU)
  libopenblas0-pthread    # LibTorch's BLAS: OpenBLAS, not the slow reference BLAS
  libboost-dev            # Boost.DLL (header-only)
  libtomlplusplus-dev libfmt-dev libspdlog-dev libcli11-dev
  libsqlite3-dev sqlite3
  libssl-dev              # SHA-256 of plugins and checkpoints
  libstb-dev              # stb_image: PNG/JPEG for the image datasets and summaries
  libgtest-dev libbenchmark-dev
  chromium                # headless, for the kiln report test (tests/report): a ~110 MB download
  dpkg-dev                # dpkg-shlibdeps: the .deb's Depends (cpack -G DEB, tests/install)
)

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

blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *) echo "setup: warning: libblas.so.3 is $blas, not OpenBLAS; training will be slow" >&2 ;;
esac

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" --target "$target"
