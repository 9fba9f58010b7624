#!/usr/bin/env bash
# Crash soak: starts `kiln run`, kills it with SIGKILL at a random moment, checks what the kill
# left (database integrity, every kept checkpoint against its row, no summary twice, the next
# run resuming from the newest checkpoint), N times over; then lets one run finish. The long
# form of tests/resume/crash_loop_test.cpp. Stops at the first failure, keeping its directory.
#   scripts/crash_loop.sh 500
#   KILN_CRASH_SEED=1234 KILN_BUILD_DIR=out scripts/crash_loop.sh 50
set -euo pipefail

iterations=${1:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
kiln="$root/${KILN_BUILD_DIR:-build}/kiln"
seed=${KILN_CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$seed
[ -x "$kiln" ] || { echo "crash_loop: no kiln binary at $kiln (build it first)" >&2; exit 2; }
command -v sqlite3 > /dev/null || { echo "crash_loop: needs the sqlite3 shell (scripts/setup.sh installs it)" >&2; exit 2; }
unset KILN_DB KILN_PLUGIN_PATH

dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-crash-loop.XXXXXX")
db="$dir/runs/kiln.db"
child=
fail() {
  echo "crash_loop: FAIL at iteration $i: $*" >&2
  echo "crash_loop: seed $seed (replay: KILN_CRASH_SEED=$seed $0 $iterations); files kept in $dir" >&2
  [ -n "$child" ] && kill -9 "$child" 2>/dev/null
  exit 1
}
# SQLite's own shell, not kiln, reads what kiln wrote (and starts faster than kiln does).
query() { sqlite3 -readonly -csv "$db" "$1"; }

# A checkpoint of ~3 MB every 3 steps: kills land in writes, renames, row commits and deletions.
cat > "$dir/exp.toml" <<'TOML'
[experiment]
name = "soak"
seed = 1
max_steps = 1000000000
threads = 1
[data]
plugin = "synthetic_regression"
size = 256
inputs = 4
batch_size = 16
[model]
plugin = "mlp"
inputs = 4
hidden = [512, 512]
[[losses]]
plugin = "mse"
[[optimizers]]
name = "adam"
type = "adam"
lr = 1e-2
losses = ["mse"]
[saver]
every_steps = 3
[supervisor]
log_every_steps = 1
TOML

echo "crash_loop: $iterations kills, seed $seed, in $dir"
cd "$dir"
newest=0
for ((i = 1; i <= iterations; i++)); do
  delay_ms=$((RANDOM % 601))
  # A fifth of the kills count from the start (start-up, store, restore); the rest from the
  # first step (training and saves).
  from="first step"
  ((RANDOM % 5 == 0)) && from="start"
  : > out.log
  "$kiln" run exp.toml > out.log 2>&1 &
  child=$!
  first=
  if [ "$from" = "first step" ]; then
    for ((t = 0; t < 6000; t++)); do
      first=$(grep -m1 -o '] step [0-9]*' out.log | grep -o '[0-9]*$' || true)
      [ -n "$first" ] && break
      kill -0 "$child" 2>/dev/null || fail "kiln ended before its first step: $(cat out.log)"
      sleep 0.01
    done
    [ -n "$first" ] || fail "no progress line within 60 s"
    [ "$first" -eq $((newest + 1)) ] || fail "the run went on from step $((first - 1)), its newest checkpoint is $newest"
  fi
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$child" 2>/dev/null || true
  status=0
  wait "$child" 2> /dev/null || status=$?
  child=
  [ "$status" -eq 137 ] || fail "kiln was not killed but exited with $status: $(cat out.log)"

  if [ -f "$db" ] && [ "$(query "SELECT COUNT(*) FROM sqlite_master WHERE name = 'checkpoints'")" = 1 ]; then
    integrity=$(query "PRAGMA integrity_check")
    [ "$integrity" = ok ] || fail "PRAGMA integrity_check: $integrity"
    while IFS=, read -r step path sha; do
      [ -f "$path" ] || fail "checkpoint row at step $step names $path, which is not a file"
      actual=$(sha256sum "$path" | cut -d' ' -f1)
      [ "$actual" = "$sha" ] || fail "$path has sha256 $actual, its row says $sha"
    done < <(query "SELECT step, path, sha256 FROM checkpoints WHERE deleted IS NULL")
    twice=$(query "SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT run_id, tag, step FROM summaries)) FROM summaries")
    [ "$twice" = 0 ] || fail "$twice summaries repeat a (run, tag, step)"
    now=$(query "SELECT COALESCE(MAX(step), 0) FROM checkpoints WHERE deleted IS NULL")
    [ "$now" -ge "$newest" ] || fail "the newest checkpoint went back from step $newest to $now"
    newest=$now
  fi
  echo "iteration $i/$iterations: killed ${delay_ms} ms after the $from${first:+ (step $first)}; newest checkpoint $newest; ok"
done

end=$((newest + 10))
"$kiln" run exp.toml --set "experiment.max_steps=$end" > out.log 2>&1 || fail "the final run failed: $(cat out.log)"
grep -q "run soak completed: step $end of $end (10 steps in" out.log || fail "the final run did not resume from $newest: $(cat out.log)"
echo "crash_loop: $iterations kills survived; the final run resumed from step $newest and completed step $end"
cd /
rm -rf "$dir"
