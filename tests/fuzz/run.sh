#!/usr/bin/env bash
# Runs the coverage-guided fuzzers: `tests/fuzz/run.sh SECONDS [TARGET…]` (every target when
# none is named). Builds once (cargo-fuzz, nightly), then runs each target for SECONDS under
# `nice -n 19`, two at a time, with `-rss_limit_mb=2048` and a `-max_len` suited to its input.
# Corpora grow in tests/fuzz/corpus/<target>/ (seeded from tests/fuzz/seeds/<target>/ and the
# recorded fixtures), crashing inputs land in tests/fuzz/artifacts/<target>/, logs in
# tests/fuzz/logs/. Prints a table (target | seconds | execs | execs/s | corpus | crashes) and
# saves it to tests/fuzz/last-run.md. Exits 1 if any target crashed, naming the artifact.
#
# Build flags: FUZZ_BUILD_FLAGS (default `-O -s none`: release, no sanitizer — the crate
# forbids `unsafe`, so AddressSanitizer would only slow the search down).
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: tests/fuzz/run.sh SECONDS [TARGET…]" >&2
  exit 2
fi
secs=$1
shift

fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$fuzz/../.." && pwd)
fixtures=$root/tests/fixtures

# target → max input length in bytes (the largest seed fits).
declare -A max_len=(
  [hf_json]=100000 [arxiv_feed]=32768 [feed]=262144 [arxiv_api]=32768 [paperpost_json]=16384
  [topics]=4096 [csv_import]=8192 [config]=16384 [web_form]=8192 [bounce]=16384
  [latex]=2048 [library]=65536 [compose]=16384
)
all=(hf_json arxiv_feed feed arxiv_api paperpost_json topics csv_import config web_form bounce latex library compose)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ -n ${max_len[$t]:-} ]] || { echo "unknown target $t (known: ${all[*]})" >&2; exit 2; }
done

# Recorded fixtures that seed each target, besides tests/fuzz/seeds/<target>/.
fixture_seeds() {
  case $1 in
    hf_json) ls "$fixtures"/hf_daily_papers_*.json ;;
    arxiv_feed) ls "$fixtures"/arxiv_rss_*.xml ;;
    feed) ls "$fixtures"/feed_*.xml "$fixtures"/feed_*.json "$fixtures"/biorxiv_*.json ;;
    arxiv_api) ls "$fixtures"/arxiv_api_*.xml ;;
    paperpost_json) ls "$fixtures"/paperpost_list_*.json "$fixtures"/hf_daily_papers_item_*.json ;;
    library) ls "$fixtures"/library/* ;;
  esac
}

flags=${FUZZ_BUILD_FLAGS:--O -s none}
cd "$root"
echo "building the fuzz targets (cargo +nightly fuzz build $flags)…"
# shellcheck disable=SC2086
cargo +nightly fuzz build --fuzz-dir tests/fuzz $flags
bin_dir=$fuzz/target/x86_64-unknown-linux-gnu/release

mkdir -p "$fuzz/logs"
run_one() {
  local t=$1 corpus=$fuzz/corpus/$1 artifacts=$fuzz/artifacts/$1
  mkdir -p "$corpus" "$artifacts"
  cp -n "$fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  for f in $(fixture_seeds "$t"); do cp -n "$f" "$corpus"/; done
  local start=$(date +%s) status=0
  nice -n 19 "$bin_dir/$t" "$corpus" \
    -max_total_time="$secs" -rss_limit_mb=2048 -max_len="${max_len[$t]}" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    >"$fuzz/logs/$t.log" 2>&1 || status=$?
  echo "$status $(( $(date +%s) - start ))" >"$fuzz/logs/$t.status"
  echo "$(date -u +%H:%M:%S) $t done (exit $status)"
}

echo "running ${#targets[@]} target(s) for ${secs}s each, two at a time…"
running=0
for t in "${targets[@]}"; do
  if (( running >= 2 )); then
    wait -n || true
    running=$((running - 1))
  fi
  echo "$(date -u +%H:%M:%S) $t started"
  run_one "$t" &
  running=$((running + 1))
done
wait

crashed=0
table="| target | seconds | execs | execs/s | corpus | crashes |
|---|---:|---:|---:|---:|---:|"
for t in "${targets[@]}"; do
  log=$fuzz/logs/$t.log
  read -r status took <"$fuzz/logs/$t.status"
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)
  [[ -z $execs ]] && execs=$(grep -oE '^Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  execs=${execs:-0}
  corpus=$(find "$fuzz/corpus/$t" -type f | wc -l)
  crashes=$(grep -cE 'Test unit written to' "$log" || true)
  table+=$'\n'"| $t | $took | $execs | $(( execs / (took > 0 ? took : 1) )) | $corpus | $crashes |"
  if (( status != 0 || crashes > 0 )); then
    crashed=1
    echo "CRASH in $t (exit $status):" >&2
    grep -E 'Test unit written to|panicked at|ERROR: libFuzzer' "$log" >&2 || tail -20 "$log" >&2
  fi
done

{
  echo "Fuzz run of $(date -u '+%Y-%m-%d %H:%M UTC'), ${secs}s per target, \`$flags\` build, $(nproc) cores shared:"
  echo
  echo "$table"
} >"$fuzz/last-run.md"
echo
echo "$table"
echo "(saved to tests/fuzz/last-run.md)"
exit $crashed
