#!/usr/bin/env bash
# Builds and tests kiln against LibTorch 2.x on a Debian 12 machine, in Debian 13 chroots:
#   cpu   Debian 13's libtorch-dev 2.6 (CPU): scripts/setup.sh --tests, then the whole ctest suite
#   cuda  Debian 13's libtorch-cuda-dev 2.6 (CUDA 12.4, NCCL): builds all of kiln with CUDA on
#         (CUDA graphs, NCCL, fused Adam), the GPU tests and the GPU benchmark included, and runs
#         the whole ctest suite with it on this machine, which has no GPU: what a user with a
#         CUDA LibTorch and no GPU gets (device "auto" is the CPU; the gpu tests are skipped).
#         Debian's cuDNN package downloads cuDNN from NVIDIA when it is installed, so an empty
#         package of its name lets LibTorch install, and a stand-in libcudnn.so.9 (every entry
#         point LibTorch links to, each failing) lets kiln link; nothing calls cuDNN without a GPU.
# Needs root and Debian's package mirror (debootstrap fetches Debian 13). Disk, by `du -sh` after
# a run: 4.7 GB for cpu (build included), 14 GB for cuda (CUDA's toolkit and libraries, build included).
#   scripts/debian13_check.sh              # both
#   scripts/debian13_check.sh cpu          # or cuda
#   KILN_DEBIAN13_DIR=/srv/kiln-debian13   # where the chroots live (kept: a rerun reuses them)
# Exit status 0 when every check asked for passed. The source copied in is the working tree
# (tracked and untracked files that git does not ignore).
set -euo pipefail

cd "$(dirname "$0")/.."
root=${KILN_DEBIAN13_DIR:-/srv/kiln-debian13}
mirror=http://deb.debian.org/debian
checks=("$@")
((${#checks[@]})) || checks=(cpu cuda)
for check in "${checks[@]}"; do
  case "$check" in cpu | cuda) ;; *) echo "debian13_check: unknown check '$check' (cpu, cuda)" >&2; exit 2 ;; esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "debian13_check: run as root (debootstrap, chroot and mounts need it)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }

mounted=()
unmount_all() {
  local m
  for m in "${mounted[@]}"; do umount -R "$m" 2>/dev/null || umount -lR "$m" 2>/dev/null || true; done
}
trap unmount_all EXIT

# A Debian 13 chroot at $1 with /proc, /dev and /sys, and the working tree at $1/src/kiln.
make_chroot() {
  local dir=$1
  if [ ! -x "$dir/usr/bin/apt-get" ]; then
    echo "== debootstrap trixie into $dir"
    debootstrap --variant=minbase --components=main,contrib,non-free trixie "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
      { tail -20 "$dir.debootstrap.log" >&2; return 1; }
  fi
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mountpoint -q "$dir/proc" || { mount -t proc proc "$dir/proc" && mounted+=("$dir/proc"); }
  mountpoint -q "$dir/dev" || { mount --rbind /dev "$dir/dev" && mounted+=("$dir/dev"); }
  mountpoint -q "$dir/sys" || { mount --rbind /sys "$dir/sys" && mounted+=("$dir/sys"); }
  rm -rf "$dir/src/kiln" && mkdir -p "$dir/src/kiln"
  git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$dir/src/kiln"
}

in_chroot() {
  local dir=$1
  shift
  chroot "$dir" env DEBIAN_FRONTEND=noninteractive bash -c "$*"
}

declare -A result
# ctest -j2 in the chroot at $2 for check $1; its result is prefixed with $3. "$4": what the
# progress line adds after "ctest".
run_ctest() {
  local check=$1 dir=$2 prefix=$3 log=$2/src/kiln/ctest.log
  echo "== $check: ctest${4:-} (log: $log)"
  if in_chroot "$dir" "cd /src/kiln && ctest --test-dir build -j2 --output-on-failure >ctest.log 2>&1"; then
    result[$check]="$prefix$(grep -E "tests passed" "$log" | tail -1)"
  else
    grep -E "tests passed|\(Failed\)|\(Timeout\)|Exception" "$log" | tail -30
    result[$check]="${prefix}tests failed: $(grep -E 'tests passed' "$log" | tail -1)"
    return 1
  fi
}

check_cpu() {
  local dir=$root/cpu
  make_chroot "$dir"
  echo "== cpu: scripts/setup.sh --tests against Debian 13's LibTorch (log: $dir/src/kiln/setup.log)"
  if ! in_chroot "$dir" "cd /src/kiln && scripts/setup.sh --tests >setup.log 2>&1"; then
    tail -30 "$dir/src/kiln/setup.log"
    result[cpu]="build failed"
    return 1
  fi
  grep -m1 "kiln: LibTorch" "$dir/src/kiln/setup.log" || true
  run_ctest cpu "$dir" ""
}

check_cuda() {
  local dir=$root/cuda
  make_chroot "$dir"
  echo "== cuda: Debian 13's CUDA LibTorch and the build's packages (log: $dir.setup.log)"
  # nvidia-cudnn fetches cuDNN from NVIDIA at install time: an empty package of its name and
  # version lets libtorch-cuda-2.6 install (the library the link needs is the stand-in below).
  local packages="cmake ninja-build g++ pkg-config libboost-dev libtomlplusplus-dev libfmt-dev libspdlog-dev
    libcli11-dev libsqlite3-dev sqlite3 libssl-dev libstb-dev libcpp-httplib-dev libprotobuf-dev protobuf-compiler
    libgtest-dev libgmock-dev libbenchmark-dev chromium nvidia-cuda-toolkit libnccl-dev equivs"
  if ! in_chroot "$dir" "set -e
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $(echo $packages)
    if ! dpkg-query -W -f='\${Status}' nvidia-cudnn 2>/dev/null | grep -q 'install ok'; then
      cd /tmp
      version=\$(apt-cache show nvidia-cudnn | sed -n 's/^Version: //p' | head -1)
      printf 'Section: misc\nPriority: optional\nStandards-Version: 3.9.2\nPackage: nvidia-cudnn\nVersion: %s\nDescription: stand-in for the downloader of cuDNN\n' \"\$version\" >cudnn.ctl
      equivs-build cudnn.ctl && dpkg -i nvidia-cudnn_*.deb
    fi
    apt-get install -y -qq --no-install-recommends libtorch-cuda-dev libgloo-cuda-dev" >"$dir.setup.log" 2>&1; then
    tail -30 "$dir.setup.log"
    result[cuda]="packages failed"
    return 1
  fi
  echo "== cuda: a stand-in libcudnn.so.9 for the link (log: $dir.setup.log)"
  if ! in_chroot "$dir" "set -e
    lib=/usr/lib/x86_64-linux-gnu
    mkdir -p /tmp/cudnn && cd /tmp/cudnn
    nm -D --undefined-only \$lib/libtorch*.so.[0-9]*.[0-9]* 2>/dev/null | awk '\$2 ~ /^cudnn.*@libcudnn[.]so[.]9\$/ { sub(/@.*/, \"\", \$2); print \$2 }' |
      sort -u | while read -r name; do
        case \$name in
          cudnnGetVersion | cudnnGetCudartVersion) echo \"unsigned long \$name(void) { return 0; }\" ;;
          cudnnGetErrorString) echo \"const char* \$name(int s) { (void)s; return \\\"cuDNN stand-in\\\"; }\" ;;
          cudnnGetLastErrorString) echo \"void \$name(char* m, unsigned long n) { if (n) m[0] = 0; }\" ;;
          *) echo \"int \$name(void) { return 3000; }\" ;;  # CUDNN_STATUS_NOT_SUPPORTED
        esac
      done >stub.c
    echo 'libcudnn.so.9 { global: *; };' >stub.map
    gcc -shared -fPIC -o libcudnn.so.9 stub.c -Wl,--version-script=stub.map -Wl,-soname,libcudnn.so.9
    install -m644 libcudnn.so.9 /usr/local/lib/ && ldconfig
    ! ldd \$lib/libtorch_cuda.so | grep 'not found'" >>"$dir.setup.log" 2>&1; then
    tail -30 "$dir.setup.log"
    result[cuda]="cuDNN stand-in failed"
    return 1
  fi
  echo "== cuda: configure and compile (log: $dir/src/kiln/cuda-build.log)"
  if ! in_chroot "$dir" "cd /src/kiln && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >cuda-build.log 2>&1"; then
    tail -30 "$dir/src/kiln/cuda-build.log"
    result[cuda]="configure failed"
    return 1
  fi
  grep -E "kiln: LibTorch|data-parallel backends" "$dir/src/kiln/cuda-build.log" || true
  # Every library target of kiln (archives: no link), and the objects of the GPU tests and the
  # GPU benchmark.
  local targets
  targets=$(in_chroot "$dir" "cd /src/kiln && ninja -C build -t targets all" |
    grep -oE '^(tests/gpu/CMakeFiles/kiln_gpu_tests\.dir|bench/CMakeFiles/kiln_bench_gpu\.dir)/[a-z_]+\.cpp\.o' |
    sort -u | tr '\n' ' ')
  # Those first (a compile error in CUDA's code shows early), then everything.
  if ! in_chroot "$dir" "cd /src/kiln && ninja -C build -k 0 kiln_runner kiln_cli $targets >>cuda-build.log 2>&1 &&
                          ninja -C build -k 0 >>cuda-build.log 2>&1"; then
    grep -E -A15 "^FAILED" "$dir/src/kiln/cuda-build.log" | head -60
    result[cuda]="build failed"
    return 1
  fi
  run_ctest cuda "$dir" "built; " ", on the CPU"
}

mkdir -p "$root"
status=0
for check in "${checks[@]}"; do
  "check_$check" || status=1
done
echo "== debian13_check"
for check in "${checks[@]}"; do echo "$check: ${result[$check]:-not run}"; done
exit $status
