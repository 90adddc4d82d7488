#!/usr/bin/env bash
# First call on a lent GPU machine (about 3 minutes): speed, and does every model run on CUDA?
#   LARES_BENCH_DATA=<datasets folder> bash benchmarks/gpu_check.sh [cuda|cpu]
# 1. seconds per epoch, each alone on the device: SASRec-CE; LARES SPT in float32 with its
#    runs in one fused pass (the CUDA default) and in separate passes (model.pass_fusion=off),
#    with TF32 matrix products and with bf16 autocast; LARES RPT, filter and validation
#    (benchmarks/lares_epoch.py), fused and separate; SPT replayed from CUDA graphs
#    (train.cuda_graphs, experimental) and its CUDA test (tests/test_lares_graphs.py); separate
#    passes with their rows in length groups (model.row_groups=on: 3.3x faster SPT on CPU, never
#    timed on a GPU). (2026-11-27, H200, before pass fusion:
#    SPT 8.3 s/epoch with the TLA windows in one pass, 29.8 s in length groups, RPT 44.8 s per
#    epoch of all examples; see results/benchmarks/.)
# 2. real runs on ml-100k of the example-mode models (the sequence-mode ones run on CPU), all at
#    once with a training-time budget (BUDGET, default 40 s per stage): records in gpu_results/.
# TIMINGS="lares_fused graph_test" runs only the named timings of part 1 (TIMINGS="" none).
# MODELS="" skips part 2 (its ml-100k runs are in results/ since 2026-11-27).
# Writes to $OUT (else ./gpu_out): check.log, runs.tgz, logs.tgz. Needs no install: the package
# runs from the checkout (PYTHONPATH). Env DATASET / EXTRA / BENCH_DATASET make a CPU dry run.
set -uo pipefail
dev="${1:-cuda}"
out="${OUT:-gpu_out}"
dataset="${DATASET:-ml-100k}"
bench="${BENCH_DATASET:-beauty}"
read -r -a extra <<<"${EXTRA:-}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
export LARES_BENCH_CACHE="${LARES_BENCH_CACHE:-/tmp/lares-cache}"
log="$out/check.log"
res=gpu_results
logs=/tmp/lares-check-logs
mkdir -p "$res" "$logs"
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
  python -c "import sys, torch; print(sys.version.split()[0], torch.__version__, torch.cuda.is_available())"
} >>"$log" 2>&1

t() {  # t NAME SECONDS CMD...: one timing, its last line (the summary) into the log
  local name="$1" limit="$2"; shift 2
  # TIMINGS (names, space-separated) picks some; unset = all, empty = none
  [[ -n "${TIMINGS+x}" && " $TIMINGS " != *" $name "* ]] && return
  timeout "$limit" "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  echo "$name rc=$rc $(tail -n 1 "$logs/$name.log")" >>"$log"
}
echo "== timings, alone on the device" >>"$log"
t sasrec 45 python benchmarks/epoch_time.py --dataset "$bench" --model sasrec --epochs 2 --device "$dev" "${extra[@]}"
t lares_fused 45 python benchmarks/epoch_time.py --dataset "$bench" --model lares --epochs 2 --device "$dev" "${extra[@]}"
t lares_separate 45 python benchmarks/epoch_time.py --dataset "$bench" --model lares --epochs 2 --device "$dev" \
  --set model.pass_fusion=off "${extra[@]}"
t lares_grouped 45 python benchmarks/epoch_time.py --dataset "$bench" --model lares --epochs 2 --device "$dev" \
  --set model.pass_fusion=off --set model.row_groups=on "${extra[@]}"
t lares_graphs 60 python benchmarks/epoch_time.py --dataset "$bench" --model lares --epochs 2 --device "$dev" \
  --set train.cuda_graphs=true "${extra[@]}"
t graph_test 90 python -m pytest -q -p no:cacheprovider tests/test_lares_graphs.py
t lares_tf32 45 python benchmarks/epoch_time.py --dataset "$bench" --model lares --epochs 2 --device "$dev" \
  --set train.tf32=true "${extra[@]}"
t lares_bf16 45 python benchmarks/epoch_time.py --dataset "$bench" --model lares --epochs 2 --device "$dev" \
  --set train.bf16=true "${extra[@]}"
t lares_rpt 45 python benchmarks/lares_epoch.py --dataset "$bench" --device "$dev" --batches 10 \
  --rpt-batches 20 --filter-batches 10 "${extra[@]}"
t lares_rpt_separate 45 python benchmarks/lares_epoch.py --dataset "$bench" --device "$dev" --batches 10 \
  --rpt-batches 20 --filter-batches 10 --set model.pass_fusion=off "${extra[@]}"
t lares_rpt_grouped 45 python benchmarks/lares_epoch.py --dataset "$bench" --device "$dev" --batches 10 \
  --rpt-batches 20 --filter-batches 10 --set model.pass_fusion=off --set model.row_groups=on "${extra[@]}"

echo "== $dataset runs, all at once" >>"$log"
start=$(date +%s)
run=(python -m lares_bench run --suite main --datasets "$dataset" --seeds 1 --device "$dev"
     --results-dir "$res" --no-progress --set "train.max_train_seconds=${BUDGET:-40}" "${extra[@]}")
models=(${MODELS-caser cl4srec duorec fmlprec bsarec rearec-erl rearec-prl lares lares-nospt})
for m in "${models[@]}"; do
  timeout "${LIMIT:-130}" "${run[@]}" --models "$m" >"$logs/$m.log" 2>&1 &
done
wait
echo "wall seconds: $(( $(date +%s) - start ))" >>"$log"
python - "$res" >>"$log" 2>&1 <<'PY'
import glob, json, sys
for p in sorted(glob.glob(f"{sys.argv[1]}/runs/main/*/*/*/result.json")):
    r = json.load(open(p))
    rpt = r.get("rpt") or {}
    print(f"{r['config']['model']:12s} s/epoch {r['seconds_per_epoch']:7.2f} epochs {r['epochs_run']:3d} "
          f"sel {r['selected_epoch']:3d} test NDCG@10 {r['test']['NDCG@10']:.4f} | {r['stop_reason']} "
          f"| rpt s/epoch {rpt.get('seconds_per_epoch')} kept {rpt.get('kept')}")
PY
grep -l -i "traceback" "$logs"/*.log >>"$log" 2>&1 || echo "no tracebacks" >>"$log"
tar czf "$out/runs.tgz" "$res"
tar czf "$out/logs.tgz" -C "$logs" .
cat "$log"
