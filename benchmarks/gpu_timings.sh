#!/usr/bin/env bash
# One short, prepared script for a lent GPU machine (about 15 minutes of device time a session):
# seconds per epoch of SASRec-CE and LARES (SPT, RPT) on beauty, with and without bf16.
#   LARES_BENCH_DATA=<datasets folder> bash benchmarks/gpu_timings.sh [cuda|cpu] [out_dir]
# Prints JSON lines; copies them to out_dir (default $OUT, else ./gpu_timings) for the notes.
set -euo pipefail
device="${1:-cuda}"
out="${2:-${OUT:-gpu_timings}}"
mkdir -p "$out"
python - <<'PY' | tee "$out/device.txt"
import torch
print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))
PY
for bf16 in false true; do
  python benchmarks/epoch_time.py --dataset beauty --model sasrec --epochs 3 --device "$device" \
    --set train.bf16=$bf16 | tail -1 | tee -a "$out/sasrec_epoch.jsonl"
  python benchmarks/lares_epoch.py --dataset beauty --device "$device" --batches 30 \
    --rpt-batches 10 --filter-batches 10 --set train.bf16=$bf16 | tail -1 | tee -a "$out/lares_epoch.jsonl"
done
