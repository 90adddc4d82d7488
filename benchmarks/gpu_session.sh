#!/usr/bin/env bash
# One lent-GPU call (about TOTAL=540 s): LARES speed timings, each alone on the device, then
# LARES beauty runs (SPT, its no-RPT twin, RPT) of seeds SEEDS (0 1) at once, in their real
# config, paused before the call ends (run --pause-after) and resumed by the next call from the
# states it carries in gpu_state/ (see gpu_runs.sh, PAUSE; BUDGETED=1: time-budgeted runs
# that finish inside the call instead):
#   LARES_BENCH_DATA=<datasets folder> bash benchmarks/gpu_session.sh [cuda|cpu]
# The runs use the fastest SPT layout of the timings: one fused pass (the CUDA default),
# separate passes in length groups (model.row_groups=on), or the fused pass replayed from CUDA
# graphs (train.cuda_graphs; only if the CUDA graph test passed).
# Writes $OUT/: check.log (timings), runs.log, runs.tgz (records of finished runs), logs.tgz,
# state.tgz.NN (paused runs: copy them to gpu_state/ and carry it next time).
# Env: TIMINGS (see gpu_check.sh), TOTAL, PARALLEL (2), SEEDS, EXTRA, BENCH_DATASET, DATASET.
set -uo pipefail
dev="${1:-cuda}"
start=$(date +%s)
out="${OUT:-gpu_out}"
mkdir -p "$out/check"
TIMINGS="${TIMINGS-lares_fused lares_grouped lares_separate lares_graphs graph_test lares_rpt lares_rpt_grouped lares_rpt_separate}" \
  MODELS="" OUT="$out/check" bash benchmarks/gpu_check.sh "$dev"

extra="${EXTRA:-}"
fastest=$(python - "$out/check/check.log" <<'PY'
import json, sys
lines = {l.split()[0]: l for l in open(sys.argv[1]) if " rc=" in l}
def epoch_s(name):  # the second (warm) epoch of a timing that finished
    line = lines.get(name, "")
    if " rc=0 " not in line:
        return None
    return json.loads(line.split(" ", 2)[2])["seconds_per_epoch"][-1]
layouts = {"lares_fused": "", "lares_grouped": "--set model.pass_fusion=off --set model.row_groups=on"}
if " rc=0 " in lines.get("graph_test", ""):
    layouts["lares_graphs"] = "--set train.cuda_graphs=true"
timed = {name: epoch_s(name) for name in layouts}
timed = {name: s for name, s in timed.items() if s is not None}
print(f"SPT s/epoch {timed}", file=sys.stderr)
print(layouts[min(timed, key=timed.get)] if timed else "")
PY
)
echo "fastest SPT layout: ${fastest:-fused (default)}"
extra="$extra $fastest"

left=$(( ${TOTAL:-540} - ($(date +%s) - start) ))
hard=$(( left - 30 ))  # pack the results before the call's limit
if [[ -n "${BUDGETED:-}" ]]; then  # budgeted runs that finish inside the call (the old way)
  stage=$(( hard > 160 ? (hard - 100) / 2 : 30 ))  # SPT, then RPT at most as long, + tests
  timing=(LARES_S="$stage")
else  # the real config, paused before the hard limit (a run pauses after its current batch
  # and saves its state: seconds; the rest of the margin is for a validation pass under way)
  timing=(PAUSE="$(( hard > 240 ? hard - 60 : hard / 2 ))")
fi
echo "runs: $left s left, hard limit $hard s, ${timing[*]}, extra: $extra"
env "${timing[@]}" EXTRA="$extra" DEADLINE=60 HARD="$hard" LARES_MODELS="${LARES_MODELS-lares}" \
  BASELINES="" ABL_PARTS=0 PARALLEL="${PARALLEL:-2}" SEEDS="${SEEDS:-0 1}" OUT="$out" \
  bash benchmarks/gpu_runs.sh "$dev"
# at most 8 files come back: check.log, runs.log, runs.tgz, logs.tgz and up to 4 state pieces
mv "$out/check/check.log" "$out/check.log"
tar czf "$out/logs.tgz" -C /tmp lares-check-logs lares-logs 2>/dev/null
rm -rf "$out/check"
echo "session seconds: $(( $(date +%s) - start ))"
