#!/usr/bin/env bash
# One command for the whole benchmark: installs the peers (bench/setup.sh), builds the
# native benchmark programs in a Release tree, runs every suite one after another in
# this process tree, and writes bench/RESULTS.md (bench/report.py).
#
#   bench/run.sh [--build-dir DIR] [--cases a,b,...] [--min-seconds S] [--rounds N]
#                [--quick] [--keep-openblas-env] [--no-setup] [--output FILE] [--note TEXT]
#
#   --build-dir DIR   Release build tree to use or create (default: build, as tools/bootstrap.sh)
#   --cases LIST      only these cases (names: build/bin/loom-bench --list)
#   --min-seconds S   timed work per case and configuration (default 1)
#   --rounds N        run the whole sequence N times; the report keeps, per suite, case
#                     and configuration, the round with the lowest median (default 1)
#   --quick           a smoke run: --min-seconds 0.2 and fewer runs (numbers are rough)
#   --keep-openblas-env  keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE from the environment;
#                     by default the run unsets both so that OpenBLAS (used by loom, the
#                     OpenBLAS reference and PyTorch alike) picks its kernel for this CPU
#   --no-setup        do not run bench/setup.sh
#   --output FILE     where to write the report (default: bench/RESULTS.md)
#   --note TEXT       a remark printed at the top of the report
# The raw result lines and the run's description stay in DIR/bench-runs/<UTC time>/.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
COMMAND="bench/run.sh$(printf ' %q' "$@")"

BUILD_DIR="$ROOT/build"
CASES=""
MIN_SECONDS=1
MIN_RUNS=10
ROUNDS=1
KEEP_OPENBLAS_ENV=0
RUN_SETUP=1
OUTPUT="$BENCH_DIR/RESULTS.md"
NOTE=""

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$(realpath -m "$2")"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --min-seconds) MIN_SECONDS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --quick) MIN_SECONDS=0.2; MIN_RUNS=5; shift ;;
    --keep-openblas-env) KEEP_OPENBLAS_ENV=1; shift ;;
    --no-setup) RUN_SETUP=0; shift ;;
    --output) OUTPUT="$(realpath -m "$2")"; shift 2 ;;
    --note) NOTE="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "== bench: $*" >&2; }

# --- Peers and build ----------------------------------------------------------------

if [ "$RUN_SETUP" = 1 ]; then "$BENCH_DIR/setup.sh"; fi
TORCH_PYTHON=/usr/bin/python3
JAX_PYTHON="$BENCH_DIR/.venv/bin/python"

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  log "configuring a Release build in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
BUILD_TYPE="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")"
if [ "$BUILD_TYPE" != "Release" ]; then
  echo "bench/run.sh: $BUILD_DIR is a '$BUILD_TYPE' build; timings need a Release build" \
       "(pass --build-dir for another tree)" >&2
  exit 1
fi
if ! ninja -C "$BUILD_DIR" -t query loom-bench >/dev/null 2>&1; then
  echo "bench/run.sh: $BUILD_DIR has no loom-bench target: the root CMakeLists.txt needs" \
       "'add_subdirectory(bench)'" >&2
  exit 1
fi
log "building the benchmark programs"
cmake --build "$BUILD_DIR" --target loom-bench loom-bench-peak loom-bench-openblas -j "$(nproc)"
BIN="$BUILD_DIR/bin"

# --- The run ----------------------------------------------------------------------------

RUN_DIR="$BUILD_DIR/bench-runs/$(date -u '+%Y%m%d-%H%M%S')"
mkdir -p "$RUN_DIR"
RESULTS="$RUN_DIR/results.jsonl"
FAILURES="$RUN_DIR/failures.txt"
: >"$RESULTS"
: >"$FAILURES"

# Where the host has put the two vCPUs (one L3 slice or two; it moves them every few
# minutes), probed before and after each suite: report.py tags the suite's lines with it.
probe_placement() {
  "$BIN/loom-bench-peak" --round-trip "$1" >>"$RESULTS" 2>/dev/null || true
}

# Runs one suite, appending its result lines; a crashed suite is recorded, not fatal.
run_suite() {
  local label="$1"; shift
  log "$label"
  probe_placement "before: $label"
  if ! "$@" >>"$RESULTS"; then
    echo "$label exited with an error (command: $*)" >>"$FAILURES"
    log "$label FAILED (continuing)"
  fi
  probe_placement "after: $label"
}

CASE_ARGS=()
if [ -n "$CASES" ]; then CASE_ARGS=(--cases "$CASES"); fi
TIMING_ARGS=(--min-seconds "$MIN_SECONDS" --min-runs "$MIN_RUNS")

# Some machines force an OpenBLAS kernel family through the environment (older OpenBLAS
# builds misdetect some CPUs). Every suite here checks its results, so the benchmark
# lets OpenBLAS choose, unless told otherwise; the report names the kernel it chose.
OPENBLAS_ENV_GIVEN="OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-(unset)}"
if [ "$KEEP_OPENBLAS_ENV" = 0 ]; then unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; fi

START_SECONDS=$SECONDS
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# One pass over every suite; each suite runs alone, one after another. The machine's
# limits are measured at both ends of a round: the report takes their best run, and two
# measurements are more likely than one to find both cores free.
run_round() {
  run_suite "machine limits (FMA peak, STREAM triad)" "$BIN/loom-bench-peak" --min-seconds "$MIN_SECONDS"
  if [ -z "$CASES" ] || [[ ",$CASES," == *",sgemm_"* ]]; then
    for threads in 1 2; do
      run_suite "OpenBLAS sgemm, $threads thread(s)" \
        env OPENBLAS_NUM_THREADS="$threads" "$BIN/loom-bench-openblas" --min-seconds "$MIN_SECONDS"
    done
  fi
  for threads in 1 2; do
    run_suite "loom, $threads thread(s)" \
      "$BIN/loom-bench" --threads "$threads" "${CASE_ARGS[@]}" "${TIMING_ARGS[@]}"
  done
  for config in default threads=1 threads=2 threads=2,passive; do
    run_suite "PyTorch, $config" "$TORCH_PYTHON" "$BENCH_DIR/peers/torch_peer.py" \
      --config "$config" "${CASE_ARGS[@]}" "${TIMING_ARGS[@]}"
  done
  for config in default threads=1; do
    run_suite "JAX/XLA, $config" "$JAX_PYTHON" "$BENCH_DIR/peers/jax_peer.py" \
      --config "$config" "${CASE_ARGS[@]}" "${TIMING_ARGS[@]}"
  done
  run_suite "machine limits again" "$BIN/loom-bench-peak" --min-seconds "$MIN_SECONDS"
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "round $round of $ROUNDS"
  run_round
done

# --- The report --------------------------------------------------------------------------

OPENBLAS_ENV_NOTE="$OPENBLAS_ENV_GIVEN ($([ "$KEEP_OPENBLAS_ENV" = 1 ] && echo kept || echo 'unset for this run'))"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then COMMIT="$COMMIT + uncommitted changes"; fi
CPU_DETAIL="$(lscpu | awk -F: '
  /^CPU family/ {gsub(/ /, "", $2); family = $2} /^Model:/ {gsub(/ /, "", $2); model = $2}
  /^L2 cache/ {sub(/^ +/, "", $2); l2 = $2} /^L3 cache/ {sub(/^ +/, "", $2); l3 = $2}
  END {printf "family %s model %s, L2 %s, L3 %s", family, model, l2, l3}')"
if grep -q avx512f /proc/cpuinfo; then CPU_DETAIL="$CPU_DETAIL, AVX-512"; fi

# The run's description as key=value arguments; report.py reads the JSON.
/usr/bin/python3 - "$RUN_DIR/meta.json" "$FAILURES" \
  "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  "command=$COMMAND" \
  "duration_s=$((SECONDS - START_SECONDS))" \
  "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
  "cpu_detail=$CPU_DETAIL" \
  "nproc=$(nproc)" \
  "memory=$(free -h | awk '/^Mem:/ {print $2}')" \
  "kernel=$(uname -sr)" \
  "load_before=$LOAD_BEFORE" \
  "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" \
  "loom_commit=$COMMIT" \
  "build_type=$BUILD_TYPE" \
  "openblas=$(dpkg-query -W -f='${Package} ${Version}' libopenblas0-pthread 2>/dev/null || true)" \
  "openblas_env=$OPENBLAS_ENV_NOTE" \
  "rounds=$ROUNDS" \
  "torch_version=$("$TORCH_PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo missing)" \
  "jax_version=$("$JAX_PYTHON" -c 'import jax, jaxlib; print(jax.__version__, "/", jaxlib.__version__)' 2>/dev/null || echo missing)" \
  "note=$NOTE" <<'PYTHON'
import json, sys
out, failures_file, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
meta = dict(pair.split("=", 1) for pair in pairs)
for key in ("duration_s", "rounds"):
    meta[key] = int(meta[key])
with open(failures_file) as f:
    meta["suite_failures"] = [line.strip() for line in f if line.strip()]
with open(out, "w") as f:
    json.dump(meta, f, indent=2)
PYTHON

/usr/bin/python3 "$BENCH_DIR/report.py" "$RESULTS" "$RUN_DIR/meta.json" "$OUTPUT"
log "wrote $OUTPUT (raw lines: $RESULTS)"
