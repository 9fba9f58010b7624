#!/usr/bin/env bash
# The GPU check: on a machine with a GPU and a pip-installed CUDA torch, builds kiln against
# that torch's LibTorch into build-gpu/ on every core, runs the tests labelled gpu, reads
# kiln's exported files with that machine's torch and tensorboard, runs the GPU benchmark
# (kiln_bench_gpu), and prints one summary. The machine needs no network: the Debian
# packages kiln may find missing there (toml++, stb, SQLite's, OpenSSL's and protobuf's headers, protoc) travel
# with the source as .deb files, and only those it lacks are unpacked (dpkg -x) and used.
#   scripts/gpu_check.sh --fetch-debs   # on Debian 12, beforehand: apt-get download into gpu-debs/
#   scripts/gpu_check.sh                # on the GPU machine, with gpu-debs/ copied beside it
# Settings: KILN_LIBTORCH (python: python3's torch, the default; or a prefix, as for setup.sh),
# KILN_BUILD_DIR (build-gpu), KILN_GPU_TARGETS (all; "kiln_gpu_tests kiln_bench_gpu" builds just
# what the check runs), KILN_GPU_BENCH_ARGS (none),
# KILN_GPU_DEBS=all (unpack every .deb, even for what the machine has: to try it elsewhere).
# Logs: <build dir>/gpu-check/. Exit 0 when the build, every gpu test and the benchmark passed.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/libtorch.sh
debs=gpu-debs
# What the GPU machine may lack: the header that shows it, then the Debian 12 packages that
# bring it. libstb0 is left out: kiln compiles stb itself (image/pixels.cpp). The runtime
# libraries come along because the -dev packages' .so links point at them.
wanted=(
  "toml++/toml.h libtomlplusplus-dev"
  "stb/stb_image.h libstb-dev"
  "sqlite3.h libsqlite3-dev libsqlite3-0"
  "openssl/evp.h libssl-dev libssl3"
  "google/protobuf/message.h libprotobuf-dev libprotobuf32 libprotobuf-lite32 protobuf-compiler libprotoc32"
)

if [ "${1:-}" = --fetch-debs ]; then
  packages=()
  for entry in "${wanted[@]}"; do
    read -r -a parts <<<"$entry"
    packages+=("${parts[@]:1}")
  done
  mkdir -p "$debs"
  rm -f "$debs"/*.deb
  (cd "$debs" && apt-get download "${packages[@]}")
  ls -l "$debs"
  exit 0
fi
[ $# -eq 0 ] || { echo "gpu_check: unknown argument '$1' (scripts/gpu_check.sh [--fetch-debs])" >&2; exit 2; }

build_dir=${KILN_BUILD_DIR:-build-gpu}
torch_prefix=$(kiln_libtorch_prefix "${KILN_LIBTORCH:-python}") || exit 2
torch_dir=$(kiln_torch_dir "$torch_prefix") || exit 2
mkdir -p "$build_dir/gpu-check"
logs=$(cd "$build_dir" && pwd)/gpu-check
root=$(cd "$build_dir" && pwd)/debs
rm -rf "$root" "${logs:?}"/*
arch=$(${CXX:-c++} -dumpmachine)

# Unpack what this machine lacks.
has_header() { printf '#include <%s>\n' "$1" | ${CXX:-c++} -x c++ -std=c++17 -E - -o /dev/null 2>/dev/null; }
from_debs=()
for entry in "${wanted[@]}"; do
  read -r -a parts <<<"$entry"
  header=${parts[0]}
  if [ "${KILN_GPU_DEBS:-}" != all ] && has_header "$header"; then continue; fi
  for package in "${parts[@]:1}"; do
    found=("$debs/${package}"_*.deb)
    deb=${found[0]}
    if [ ! -f "$deb" ]; then
      echo "gpu_check: this machine lacks <$header> and $debs/ has no ${package}_*.deb; run" \
           "scripts/gpu_check.sh --fetch-debs on Debian 12 and bring $debs/ along" >&2
      exit 1
    fi
    dpkg -x "$deb" "$root"
  done
  from_debs+=("$header")
done
prefix_path=$torch_prefix
if ((${#from_debs[@]})); then
  # CMake finds the packages (and their libraries, by full path: the build's RPATH reaches
  # them) through CMAKE_PREFIX_PATH; the compiler needs CPATH for OpenSSL's multiarch headers.
  prefix_path="$root/usr;$prefix_path"
  export CPATH="$root/usr/include:$root/usr/include/$arch${CPATH:+:$CPATH}"
  export PKG_CONFIG_PATH="$root/usr/lib/$arch/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  sed -i "s|^prefix=/usr\$|prefix=$root/usr|" "$root/usr/lib/$arch"/pkgconfig/*.pc 2>/dev/null || true
  # protoc from the debs runs during the build and needs its libprotoc beside it.
  export LD_LIBRARY_PATH="$root/usr/lib/$arch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# Build. CMake 4 refuses a package whose CMake files ask for a version below 3.5: raise them.
export CMAKE_POLICY_VERSION_MINIMUM=${CMAKE_POLICY_VERSION_MINIMUM:-3.5}
read -r -a targets <<<"${KILN_GPU_TARGETS:-all}"
read -r -a bench_args <<<"${KILN_GPU_BENCH_ARGS:-}"
SECONDS=0
build=failed
if cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DTorch_DIR=$torch_dir" \
     "-DCMAKE_PREFIX_PATH=$prefix_path" >"$logs/configure.log" 2>&1; then
  if cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}" >"$logs/build.log" 2>&1; then
    build=ok
  fi
else
  cp "$logs/configure.log" "$logs/build.log"
fi
build_seconds=$SECONDS

# The tests labelled gpu: each passes, fails, or skips itself (no GPU) with a message.
tests="not run: the build failed"
ctest_status=1
if [ $build = ok ]; then
  ctest_status=0
  ctest --test-dir "$build_dir" -L gpu --no-tests=ignore --timeout 600 --output-on-failure \
    --output-junit "$logs/gpu-tests.xml" >"$logs/ctest.log" 2>&1 || ctest_status=$?
  # The counts are attributes of <testsuite ...>, one per line.
  count() {
    [ -f "$logs/gpu-tests.xml" ] || { echo 0; return; }
    tr -s '\n\t' '  ' <"$logs/gpu-tests.xml" | grep -o "<testsuite [^>]*" | grep -o " $1=\"[0-9]*\"" |
      grep -o "[0-9]*" || echo 0
  }
  total=$(count tests) failed=$(count failures) skipped=$(count skipped)
  tests="$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
  [ "$total" -gt 0 ] || tests="none: no test is labelled gpu yet"
  [ $ctest_status -eq 0 ] || tests+=" (ctest exit $ctest_status)"
fi

# Files for other tools, read by this machine's own Python packages (PyTorch 2.x's torch.load
# with weights_only, TensorBoard's EventAccumulator): a tiny pix2pix on the GPU with the
# tensorboard hook, its weights exported as a .pt, and the run exported as event files.
python_lines="not run: the build failed"
python_status=skipped
if [ $build = ok ]; then
  work=$logs/python-check
  kiln=$(cd "$build_dir" && pwd)/kiln
  mkdir -p "$work"
  { cat experiments/pix2pix.toml; printf '\n[[hooks]]\nplugin = "tensorboard"\n'; } >"$work/exp.toml"
  sets=()
  for s in experiment.max_steps=6 experiment.device=cuda data.image_size=32 data.load_size=36 data.size=8 \
           eval_data.image_size=32 eval_data.size=4 model.image_size=32 model.ngf=8 model.ndf=8 \
           saver.every_steps=3 hooks.evaluate.every_steps=3 hooks.evaluate.count=4 \
           hooks.image_summaries.every_steps=3 hooks.image_summaries.count=2 supervisor.summary_every_steps=1; do
    sets+=(--set "$s")
  done
  repo=$(pwd)
  python_status=ok
  python_lines=""
  check() {  # check NAME COMMAND...: runs it in $work, logging to $logs/python-NAME.log
    if (cd "$work" && "${@:2}") >"$logs/python-$1.log" 2>&1; then
      python_lines+="$1: ok"$'\n'
    else
      python_status=failed
      python_lines+="$1: FAILED: $(tail -n 5 "$logs/python-$1.log" | tr '\n' ' ')"$'\n'
    fi
  }
  check train "$kiln" run exp.toml "${sets[@]}"
  # The same with the step captured as a CUDA graph, every hook of the experiment around it
  # (evaluation and image grids through the EMA's weights, the saver, the tensorboard hook).
  check train-graphs "$kiln" run exp.toml "${sets[@]}" --set experiment.max_steps=9 \
    --set 'experiment.name="pix2pix-graphs"' --set experiment.cuda_graphs=true
  check export-pt "$kiln" export weights pix2pix --ema --format pt --out pix2pix.pt
  check torch-load python3 "$repo/tests/export/load_weights.py" pix2pix.pt pt
  if python3 -c 'import tensorboard' 2>/dev/null; then
    check tensorboard-hook python3 "$repo/tests/tensorboard/load_with_tensorboard.py" runs/pix2pix/tensorboard \
      --db runs/kiln.db --run pix2pix --files 1
    check export-tensorboard "$kiln" export tensorboard pix2pix --out tb
    check tensorboard-export python3 "$repo/tests/tensorboard/load_with_tensorboard.py" tb/pix2pix \
      --db runs/kiln.db --run pix2pix --files 1
  else
    python_lines+="tensorboard: skipped (python3 has no tensorboard package)"$'\n'
  fi
  python_lines+=$(head -n 1 "$logs/python-torch-load.log" 2>/dev/null)
fi

# The GPU benchmark.
bench_status=skipped
bench_lines="not run: the build failed"
if [ $build = ok ]; then
  bench=$(find "$build_dir" -name kiln_bench_gpu -type f -perm -u+x | head -n 1)
  if [ -z "$bench" ]; then
    bench_lines="skipped: $build_dir has no kiln_bench_gpu (no such target yet, or KILN_GPU_TARGETS left it out)"
  elif "$bench" "${bench_args[@]}" >"$logs/bench.log" 2>&1; then
    bench_status=ok
    bench_lines=$(grep -v '^[[:space:]]*$' "$logs/bench.log" | tail -n 40)
    # The same with both sides' steps captured as CUDA graphs ([experiment] cuda_graphs).
    if "$bench" "${bench_args[@]}" --cuda-graphs >"$logs/bench-graphs.log" 2>&1; then
      bench_lines+=$'\n'"--- with --cuda-graphs:"$'\n'$(grep -v '^[[:space:]]*$' "$logs/bench-graphs.log" | tail -n 12)
    else
      bench_status=failed
      bench_lines+=$'\n'"--- with --cuda-graphs: failed (exit $?): $(tail -n 20 "$logs/bench-graphs.log")"
    fi
  else
    bench_status=failed
    bench_lines="failed (exit $?): $(tail -n 20 "$logs/bench.log")"
  fi
fi

echo
echo "==== kiln GPU check ===="
echo "libtorch:  $(grep -o 'kiln: LibTorch.*' "$logs/configure.log" | head -n 1 || echo "not found: see $logs/configure.log")"
echo "from debs: ${from_debs[*]:-none (this machine has every header)}"
if ((${#from_debs[@]})); then
  grep -E '^(tomlplusplus_DIR|KILN_STB_INCLUDE_DIR|SQLite3_INCLUDE_DIR|SQLite3_LIBRARY|OPENSSL_INCLUDE_DIR|OPENSSL_CRYPTO_LIBRARY|Protobuf_INCLUDE_DIR|Protobuf_LIBRARY|Protobuf_PROTOC_EXECUTABLE):' \
    "$build_dir/CMakeCache.txt" 2>/dev/null | sed 's/^/           /' || true
fi
if [ $build = ok ]; then
  echo "build:     ok in ${build_seconds} s (${targets[*]}, $(nproc) jobs)"
else
  echo "build:     FAILED after ${build_seconds} s; the end of $logs/build.log:"
  tail -n 25 "$logs/build.log" | sed 's/^/           /'
fi
echo "gpu tests: $tests"
# ctest's closing lists: "  12 - name (Failed)", "  13 - name (Skipped)".
[ ! -s "$logs/ctest.log" ] || grep -E '^[[:space:]]+[0-9]+ - ' "$logs/ctest.log" | sed 's/^[[:space:]]*/           /' || true
echo "python:    $python_status"
printf '%s\n' "$python_lines" | sed 's/^/           /'
echo "bench:     kiln_bench_gpu $bench_status"
printf '%s\n' "$bench_lines" | sed 's/^/           /'
[ $build = ok ] && [ $ctest_status -eq 0 ] && [ $bench_status != failed ] && [ $python_status != failed ]
