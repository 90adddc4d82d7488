#!/usr/bin/env bash
# The main runs of a lent GPU session, as many at once as the machine takes, each with a
# training-time budget so that it finishes (and writes its record) inside one call:
#   LARES_BENCH_DATA=<datasets folder> bash benchmarks/gpu_runs.sh [cuda|cpu]
# Settings (environment):
#   DEADLINE   seconds after which no job is started (default 420)
#   HARD       seconds after which every job still running is killed (default DEADLINE + 120),
#              so that the results are packed before the call's own time limit
#   PARALLEL   processes at once (default 4)
#   LARES_S    train.max_train_seconds of each LARES stage (SPT, then RPT), main runs (200)
#   PAUSE      instead of LARES_S: the LARES main runs train without a budget (the real
#              config) and pause PAUSE seconds after they start (run --pause-after); their
#              states come back as state.tgz.NN (15 MB pieces) and, carried next time in
#              gpu_state/ (git-ignored; carry: ["gpu_state"]), are resumed first. A LARES run's
#              state is 11.8-15.7 MB in SPT, 15.7-19.6 MB in RPT (978k parameters: model,
#              Adam moments, earlier best weights; SPT's end): the checkout travels only up to
#              64 MiB in all, so carry two at most. With PAUSE the baselines too run unbudgeted
#              and pause. Runs paused on this machine's CPU resume there as well: pack them as
#              mkdir -p gpu_state && tar czf - -C results .resume | split -b 15M -d - gpu_state/state.tgz.
#   BASE_S     train.max_train_seconds of each baseline run (200)
#   ABL_S      train.max_train_seconds of each LARES stage in the depth ablation (90)
#   ABL_PARTS  parallel parts of the ablation (8); ABL_DEPTH (1..8)
#   BASELINES  models of issue 3 (default: the neural baselines; "" none); SEEDS (0 1 2)
#   LARES_MODELS  the LARES models of issue 4 (default "lares lares-nospt"; "" none)
#   DATASET (beauty), EXTRA (extra options for every command, e.g. "--set model.d=8")
# Seen on 2026-11-27 (H200, results/benchmarks/gpu_2026-11-27_H200/): ten processes at once made
# a LARES SPT epoch 5x slower (44 s against 8.3 s alone) for about the same total throughput,
# and a LARES run needs 2 x LARES_S plus its epoch overshoot, the filter and 12 test passes
# (about 90 s under contention) before HARD, or it is killed with only its twin written.
# Keep PARALLEL small (default 4) and 2 x LARES_S + 120 below HARD.
# A budget stops training at the end of the epoch in which it is reached; the run still selects
# its best validation epoch and is recorded with stop_reason "time budget ...". Jobs are listed
# most important first (LARES main runs, the ablation parts, baselines seed by seed). Results: gpu_results/ (the
# relative tree under results/), copied to $OUT as runs.tgz with the logs as logs.tgz.
set -uo pipefail
dev="${1:-cuda}"
out="${OUT:-gpu_out}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
export LARES_BENCH_CACHE="${LARES_BENCH_CACHE:-/tmp/lares-cache}"
deadline=$(( $(date +%s) + ${DEADLINE:-420} ))
hard=$(( $(date +%s) + ${HARD:-$(( ${DEADLINE:-420} + 120 ))} ))
parallel="${PARALLEL:-4}"
dataset="${DATASET:-beauty}"
seeds=(${SEEDS:-0 1 2})
# the example-mode baselines first: the sequence-mode ones also fit a CPU
baselines=(${BASELINES-caser cl4srec duorec fmlprec bsarec rearec-erl rearec-prl sasrec gru4rec sasrec-bce bert4rec})
read -r -a extra <<<"${EXTRA:-}"
res=gpu_results
logs=/tmp/lares-logs
mkdir -p "$res" "$logs"
start=$(date +%s)
if compgen -G "gpu_state/state.tgz.*" >/dev/null; then  # paused runs carried from a last call
  cat gpu_state/state.tgz.* | tar xzf - -C "$res"
fi
log="$out/runs.log"

pause_left() {  # seconds until PAUSE, at least 1 (0 would mean "never pause")
  local left=$(( PAUSE - ($(date +%s) - start) ))
  echo $(( left > 1 ? left : 1 ))
}

stop_rule() {  # how a run ends in this call: paused (PAUSE), else a training budget of $1 s
  if [[ -n "${PAUSE:-}" ]]; then echo "--pause-after @PAUSE@"; else echo "--set train.max_train_seconds=$1"; fi
}

launch() {  # launch NAME CMD...: wait for a free slot, start unless past the deadline
  local name="$1"; shift
  while (( $(jobs -rp | wc -l) >= parallel )); do wait -n; done
  if (( $(date +%s) >= deadline )); then
    echo "$(date -u +%T) skipped (deadline): $name" >>"$log"; return
  fi
  local cmd=() arg
  for arg in "$@"; do  # PAUSE is a time in the call: count what is left when the run starts
    [[ "$arg" == @PAUSE@ ]] && arg=$(pause_left)
    cmd+=("$arg")
  done
  echo "$(date -u +%T) start $name" >>"$log"
  ( timeout "$(( hard - $(date +%s) ))" "${cmd[@]}" >"$logs/$name.log" 2>&1
    rc=$?; echo "$(date -u +%T) end $name rc=$rc" >>"$log" ) &
}

python -c "import sys, torch; print(sys.version.split()[0], torch.__version__, torch.cuda.is_available())" >>"$log" 2>&1
python -m lares_bench data stats "$dataset" >>"$log" 2>&1  # fills the parse cache once

run=(python -m lares_bench run --suite main --datasets "$dataset" --device "$dev"
     --results-dir "$res" --no-progress --seeds 1)
for s in "${seeds[@]}"; do  # issue 4: LARES (writes the w/o-RPT twin) and w/o SPT
  for m in ${LARES_MODELS-lares lares-nospt}; do
    launch "$m-s$s" "${run[@]}" --models "$m" --first-seed "$s" $(stop_rule "${LARES_S:-200}") \
      "${extra[@]}"
  done
done
parts="${ABL_PARTS:-8}"
for k in $(seq 1 "$parts"); do  # issue 5: depth x SPT x RPT, one seed, reduced budget
  launch "ablate-$k" python -m lares_bench ablate --datasets "$dataset" --depth "${ABL_DEPTH:-1..8}" \
    --spt --no-spt --rpt --no-rpt --variants none --seeds 1 --device "$dev" --results-dir "$res" \
    --no-progress --shard "$k/$parts" --set "train.max_train_seconds=${ABL_S:-90}" "${extra[@]}"
done
for s in "${seeds[@]}"; do  # issue 3: every baseline, 3 seeds
  for m in "${baselines[@]}"; do
    launch "$m-s$s" "${run[@]}" --models "$m" --first-seed "$s" $(stop_rule "${BASE_S:-200}") \
      "${extra[@]}"
  done
done
wait
echo "$(date -u +%T) all done" >>"$log"
n=$(find "$res" -name result.json | wc -l)
echo "finished runs: $n" >>"$log"
tar czf "$out/runs.tgz" --exclude='*.pt' --exclude=.resume "$res"
if [[ -d "$res/.resume" ]] && compgen -G "$res/.resume/*" >/dev/null; then
  tar czf - -C "$res" .resume | split -b 15M -d - "$out/state.tgz."
  echo "paused-run states: $(du -sh "$res/.resume" | cut -f1) in $(ls "$out"/state.tgz.* | wc -l) pieces" >>"$log"
fi
tar czf "$out/logs.tgz" -C "$logs" .
cat "$log"
