#!/usr/bin/env bash
# kiln's start-up: `kiln --version`, `kiln runs` and `kiln query "SELECT 1"` start to exit,
# against `sqlite3 DB "SELECT 1"` in the same rounds (the machine is noisy: compare ratios).
#   bench/startup.sh [--kiln build/kiln] [--rounds 50] [--db runs/kiln.db]
# Without --db it makes a small database first: one 1000-step mlp run in a temporary folder.
set -euo pipefail

kiln=build/kiln
rounds=50
db=
while (($#)); do
  case "$1" in
    --kiln) kiln=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    *) echo "startup.sh: unknown argument '$1' (--kiln PATH, --rounds N, --db FILE)" >&2; exit 2 ;;
  esac
done
kiln=$(readlink -f "$kiln")
source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z "$db" ]]; then
  (cd "$work" && "$kiln" run "$source_dir/experiments/mlp.toml" > /dev/null 2>&1)
  db=$work/runs/kiln.db
fi

names=("kiln --version" "kiln runs" "kiln query 'SELECT 1'" "sqlite3 DB 'SELECT 1'")
run_case() {
  case "$1" in
    0) "$kiln" --version ;;
    1) "$kiln" runs --db "$db" ;;
    2) "$kiln" query --db "$db" "SELECT 1" ;;
    3) sqlite3 "$db" "SELECT 1" ;;
  esac > /dev/null
}

# One round runs every case once, so each sees the same load; a case's figure is its median.
declare -a times
for ((round = 0; round < rounds; ++round)); do
  for c in 0 1 2 3; do
    start=$EPOCHREALTIME
    run_case "$c"
    end=$EPOCHREALTIME
    times[$c]+="$(( (${end/./} - ${start/./}) )) "
  done
done

median_us() { tr ' ' '\n' <<< "$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
sqlite_us=$(median_us "${times[3]}")
printf '%-26s %10s %14s\n' "command ($rounds rounds)" "median ms" "x sqlite3"
for c in 0 1 2 3; do
  us=$(median_us "${times[$c]}")
  awk -v n="${names[$c]}" -v us="$us" -v base="$sqlite_us" 'BEGIN { printf "%-26s %10.1f %14.1f\n", n, us / 1000, us / base }'
done
