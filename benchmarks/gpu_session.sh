#!/usr/bin/env bash
# One lent-GPU call (about TOTAL=540 s): LARES speed timings, each alone on the device, then
# LARES beauty runs (SPT, its no-RPT twin, RPT), seeds 0-2 at once, with training budgets
# sized to finish inside the call:
#   LARES_BENCH_DATA=<datasets folder> bash benchmarks/gpu_session.sh [cuda|cpu]
# The runs replay SPT from CUDA graphs (train.cuda_graphs) only if the CUDA graph test passed
# and the graphed epoch was faster than the eager fused one in the timings.
# Writes $OUT/check/ (timings: check.log, logs.tgz) and $OUT/ (runs.log, runs.tgz, logs.tgz).
# Env: TIMINGS (see gpu_check.sh), TOTAL, PARALLEL (3), SEEDS, EXTRA, BENCH_DATASET, DATASET.
set -uo pipefail
dev="${1:-cuda}"
start=$(date +%s)
out="${OUT:-gpu_out}"
mkdir -p "$out/check"
TIMINGS="${TIMINGS-lares_fused lares_separate lares_graphs graph_test lares_rpt lares_rpt_separate}" \
  MODELS="" OUT="$out/check" bash benchmarks/gpu_check.sh "$dev"

extra="${EXTRA:-}"
if python - "$out/check/check.log" <<'PY'
import json, sys
lines = {l.split()[0]: l for l in open(sys.argv[1]) if " rc=" in l}
def epoch_s(name):  # the second (warm) epoch of a timing that finished
    line = lines.get(name, "")
    if " rc=0 " not in line:
        return None
    return json.loads(line.split(" ", 2)[2])["seconds_per_epoch"][-1]
graphs, fused = epoch_s("lares_graphs"), epoch_s("lares_fused")
ok = " rc=0 " in lines.get("graph_test", "") and graphs is not None and fused is not None
print(f"cuda graphs: test passed and timed: {ok}; s/epoch graphs {graphs}, eager fused {fused}")
sys.exit(0 if ok and graphs < fused else 1)
PY
then extra="$extra --set train.cuda_graphs=true"; fi

left=$(( ${TOTAL:-540} - ($(date +%s) - start) ))
hard=$(( left - 25 ))        # pack the results before the call's limit
stage=$(( hard > 160 ? (hard - 100) / 2 : 30 ))  # SPT, then RPT at most as long, plus filter, tests, start-up
echo "runs: $left s left, hard limit $hard s, $stage s per LARES stage, extra: $extra"
EXTRA="$extra" DEADLINE=60 HARD="$hard" LARES_S="$stage" LARES_MODELS="${LARES_MODELS-lares}" \
  BASELINES="" ABL_PARTS=0 PARALLEL="${PARALLEL:-3}" OUT="$out" bash benchmarks/gpu_runs.sh "$dev"
echo "session seconds: $(( $(date +%s) - start ))"
