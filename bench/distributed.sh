#!/usr/bin/env bash
# Data-parallel training against one process at the same run batch: for each model, A is one
# process with N intra-op threads, B is `kiln run --nproc N` with one thread per process and
# batch/N per rank. Rounds alternate A and B; steps/s come from rank 0's time/step_ms summaries.
#   bench/distributed.sh [--kiln build/kiln] [--models mlp,pix2pix] [--steps N] [--rounds 5]
#                        [--nproc 2] [--warmup 10] [--set KEY=VALUE]...
# bench/README.md, "Data-parallel", says what is measured and how to read it.
set -euo pipefail

usage="--kiln PATH, --models mlp,pix2pix, --steps N, --rounds N, --nproc N, --warmup N, --set KEY=VALUE"
kiln=build/kiln
models=mlp,pix2pix
steps=
rounds=5
nproc=2
warmup=10
sets=()
while (($#)); do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --nproc) nproc=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    *) echo "distributed.sh: unknown argument '$1' ($usage)" >&2; exit 2 ;;
  esac
done
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "distributed.sh: $1 must be a positive integer, got '$2'" >&2; exit 2; }; }
positive --rounds "$rounds"
positive --warmup "$warmup"
positive --nproc "$nproc"
((nproc >= 2)) || { echo "distributed.sh: --nproc must be 2 or more, got $nproc" >&2; exit 2; }
[[ -z "$steps" ]] || positive --steps "$steps"
for s in "${sets[@]}"; do
  case "$s" in
    data.batch_size=* | experiment.threads=* | experiment.max_steps=*)
      echo "distributed.sh: --set $s: the benchmark sets that key itself (--steps sets max_steps)" >&2; exit 2 ;;
  esac
done
kiln=$(readlink -f "$kiln")
[[ -x "$kiln" ]] || { echo "distributed.sh: no kiln at '$kiln' (build it: ninja -C build kiln, or pass --kiln PATH)" >&2; exit 2; }
source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

# Steps per run when --steps is not given: about a minute for the mlp and four for pix2pix
# (5 rounds) on an idle 2-core machine.
default_steps() {
  case "$1" in
    mlp) echo 2000 ;;
    pix2pix) echo 200 ;;
    *) echo 500 ;;
  esac
}

# What a model's runs set besides steps, threads, batch, saver and summaries: pix2pix's
# evaluation and image hooks run at the start and the end only, outside the timed steps.
model_sets() {
  case "$1" in
    pix2pix) echo --set hooks.evaluate.every_steps=0 --set hooks.image_summaries.every_steps=0 ;;
  esac
}

# The [data] table's batch_size: the run batch, which B splits over its ranks.
data_batch() { awk '/^\[/ { table = $1 } table == "[data]" && $1 == "batch_size" { print $3; exit }' "$1"; }

# "busy all": the whole machine's CPU time in jiffies (/proc/stat), then the CPU seconds of this
# shell's reaped children (the kiln processes, workers included), from `times` run in this shell
# itself: a subshell starts with none.
cpu_now() {
  times > "$work/times"
  awk '$1 == "cpu" { printf "%d %d ", $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat
  awk 'NR == 2 { s = 0; for (i = 1; i <= 2; ++i) { split($i, t, "m"); s += t[1] * 60 + t[2] } print s }' "$work/times"
}

# One run in a folder of its own (its own runs/kiln.db). Sets run_rate, steps/s over the steps
# after --warmup from rank 0's time/step_ms (each the mean over the steps since the previous
# summary); run_share, the 'distributed' event's collectives share ("-" for one process); and
# run_other, the share of the machine's cores that other processes used meanwhile. Called in
# this shell, not a subshell, so that `times` sees the run.
run_one() {
  local experiment=$1 processes=$2 threads=$3 batch=$4 run_steps=$5
  local dir extra
  read -r -a extra <<< "$(model_sets "$(basename "$experiment" .toml)")"
  dir=$(mktemp -d "$work/run.XXXX")
  local before after
  cpu_now > "$work/cpu"
  read -r -a before < "$work/cpu"
  local status=0
  (cd "$dir" && "$kiln" run "$experiment" --nproc "$processes" \
    --set experiment.max_steps="$run_steps" --set experiment.threads="$threads" --set data.batch_size="$batch" \
    --set saver.enabled=false --set supervisor.summary_every_steps=10 "${extra[@]}" "${sets[@]}" > log 2>&1) || status=$?
  cpu_now > "$work/cpu"
  read -r -a after < "$work/cpu"
  if ((status != 0)); then
    echo "distributed.sh: $(basename "$experiment") with $processes process(es) x $threads thread(s) failed (exit $status):" >&2
    tail -n 20 "$dir/log" >&2
    exit 1
  fi
  local db=$dir/runs/kiln.db
  run_rate=$("$kiln" query --csv --db "$db" "
    SELECT (MAX(step) - MIN(prev)) / (SUM(value * (step - prev)) / 1000.0)
    FROM (SELECT step, value, LAG(step) OVER (ORDER BY step) AS prev FROM summaries WHERE tag = 'time/step_ms')
    WHERE prev >= $warmup" | tail -n 1)
  run_share=$("$kiln" query --csv --db "$db" "SELECT message FROM events WHERE kind = 'distributed'" |
    sed -n 's/.*(\([0-9]*\)%) in the collectives.*/\1/p')
  run_share=${run_share:--}
  run_other=$(awk -v busy=$((after[0] - before[0])) -v all=$((after[1] - before[1])) -v own="${after[2]} - ${before[2]}" 'BEGIN {
    split(own, c, " - "); hz = 100; o = all > 0 ? 100 * (busy / hz - (c[1] - c[2])) / (all / hz) : 0
    printf "%.0f", o < 0 ? 0 : o }')
  [[ -n "$run_rate" ]] || { echo "distributed.sh: no time/step_ms after step $warmup in $db" >&2; exit 1; }
}

median() { tr ' ' '\n' <<< "$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Every model's experiment, steps and batch checked before the first run.
IFS=, read -r -a model_list <<< "$models"
for model in "${model_list[@]}"; do
  experiment=$source_dir/experiments/$model.toml
  [[ -f "$experiment" ]] || { echo "distributed.sh: no experiment '$experiment' (--models names files in experiments/)" >&2; exit 2; }
  run_steps=${steps:-$(default_steps "$model")}
  ((run_steps >= warmup + 20)) || { echo "distributed.sh: --steps $run_steps: at least --warmup + 20 ($((warmup + 20))) so that steps are timed" >&2; exit 2; }
  batch=$(data_batch "$experiment")
  [[ "$batch" =~ ^[0-9]+$ ]] || { echo "distributed.sh: no [data] batch_size in $experiment" >&2; exit 2; }
  ((batch % nproc == 0)) || { echo "distributed.sh: $model's batch_size $batch does not split over $nproc processes" >&2; exit 2; }
done

echo "kiln distributed: A = 1 process x $nproc threads, B = $nproc processes x 1 thread (kiln run --nproc $nproc), same run batch; $cores cores"
echo "steps/s: rank 0's time/step_ms summaries after step $warmup; collectives: B's 'distributed' event; other: other processes' share of the cores during the run"
((nproc == cores)) || echo "note: --nproc $nproc on $cores cores: A does not use exactly all the cores"
summary=()
for model in "${model_list[@]}"; do
  experiment=$source_dir/experiments/$model.toml
  run_steps=${steps:-$(default_steps "$model")}
  batch=$(data_batch "$experiment")
  echo
  echo "$model: run batch $batch (B: $((batch / nproc)) per rank), $run_steps steps per run, $rounds round(s), A first in odd rounds"
  printf '%6s %11s %11s %7s %12s %8s %8s\n' round "A steps/s" "B steps/s" "B/A" "B collect." "other A" "other B"
  a_rates='' b_rates='' b_shares='' a_others='' b_others=''
  for ((round = 1; round <= rounds; ++round)); do
    order="A B"
    ((round % 2)) || order="B A"
    for side in $order; do
      if [[ $side == A ]]; then
        run_one "$experiment" 1 "$nproc" "$batch" "$run_steps"
        a_rate=$run_rate a_other=$run_other
      else
        run_one "$experiment" "$nproc" 1 $((batch / nproc)) "$run_steps"
        b_rate=$run_rate b_share=$run_share b_other=$run_other
      fi
    done
    ratio=$(awk -v a="$a_rate" -v b="$b_rate" 'BEGIN { printf "%.3f", b / a }')
    printf '%6d %11.1f %11.1f %7s %11s%% %7s%% %7s%%\n' "$round" "$a_rate" "$b_rate" "$ratio" "$b_share" "$a_other" "$b_other"
    a_rates+="$a_rate " b_rates+="$b_rate " b_shares+="$b_share " a_others+="$a_other " b_others+="$b_other "
  done
  a_median=$(median "$a_rates") b_median=$(median "$b_rates")
  ratio=$(awk -v a="$a_median" -v b="$b_median" 'BEGIN { printf "%.3f", b / a }')
  printf '%6s %11.1f %11.1f %7s %11s%% %7s%% %7s%%\n' median "$a_median" "$b_median" "$ratio" \
    "$(median "$b_shares")" "$(median "$a_others")" "$(median "$b_others")"
  summary+=("$(printf '%-8s B/A = %s (%.1f against %.1f steps/s), B %s%% in the collectives' \
    "$model:" "$ratio" "$b_median" "$a_median" "$(median "$b_shares")")")
  busy=$(median "$a_others $b_others")
  awk -v busy="$busy" 'BEGIN { exit !(busy > 5) }' &&
    echo "warning: other processes used ${busy}% of the cores (median): these figures are not an idle machine's"
done
echo
printf '%s\n' "${summary[@]}"
