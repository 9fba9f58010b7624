# shellcheck shell=bash
# Sourced by setup.sh and gpu_check.sh: which LibTorch KILN_LIBTORCH means.
#
# kiln_libtorch_prefix VALUE   prints the prefix VALUE names: VALUE itself (a LibTorch zip's
#                              folder, a pip torch's torch.utils.cmake_prefix_path, /usr), or for
#                              "python" what python3's torch says its cmake_prefix_path is
# kiln_torch_dir PREFIX        prints the folder under PREFIX that holds TorchConfig.cmake
# Each prints one error naming what it looked at and fails when there is none.

kiln_script_name() { local name=${0##*/}; echo "${name%.sh}"; }

kiln_libtorch_prefix() {
  if [ "$1" != python ]; then
    if [ -d "$1" ]; then (cd "$1" && pwd -P); else printf '%s\n' "$1"; fi
    return
  fi
  local out
  if ! out=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>&1); then
    echo "$(kiln_script_name): KILN_LIBTORCH=python, but python3 ($(command -v python3 || echo 'not on PATH')) cannot import torch: ${out##*$'\n'}" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

kiln_torch_dir() {
  local prefix=$1 dir
  for dir in "$prefix" "$prefix/Torch" "$prefix/share/cmake/Torch" "$prefix/lib/cmake/Torch" "$prefix"/lib/*/cmake/Torch; do
    if [ -f "$dir/TorchConfig.cmake" ]; then
      (cd "$dir" && pwd -P)
      return
    fi
  done
  echo "$(kiln_script_name): no TorchConfig.cmake in $prefix (looked in it, Torch/, share/cmake/Torch/, lib/cmake/Torch/ and lib/*/cmake/Torch/ under it)" >&2
  return 1
}
