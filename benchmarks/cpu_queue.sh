#!/usr/bin/env bash
# Long CPU runs across sessions: a queue of (model, seed) runs, PARALLEL at a time, each with one
# torch thread and paused (run --pause-after) so that it stops by UNTIL; the same command in a
# later session resumes the paused ones (their states stay in $STATE_DIR) and goes on:
#   LARES_BENCH_DATA=<datasets folder> UNTIL=12:20 JOBS="fmlprec:2 bsarec:0" \
#       bash benchmarks/cpu_queue.sh
# Settings (environment):
#   JOBS       "model:seed ..." in order (required)
#   UNTIL      wall-clock time (anything `date -d` reads) by which every run pauses (required);
#              a run pauses after the batch in which UNTIL passes (a LARES batch on CPU takes
#              4-25 s) and saves its state, so a few minutes of margin before the session ends do
#   MIN_LEFT   do not start a run with fewer seconds than this before UNTIL (default 600)
#   PARALLEL   runs at once (default 2, one per core of the 2-core machine)
#   WAIT_PIDS  processes started outside the queue that hold a slot until they exit
#   STATE_DIR  where paused runs keep their training states (default .paused-states). Unlike
#              results/.resume it is not git-ignored: a session's work tree can be laid anew from
#              the repository, which brings back untracked files but not ignored ones, and a
#              lost state means a run starts over. The states are untracked; never commit them.
#   SUITE (main), DATASET (beauty), EXTRA (extra options for every run)
# Finished runs are skipped by `lares-bench run` itself (same config hash), so a queue can be
# restarted with the same JOBS. Logs: $LOGS (default /tmp/lares-cpu-queue), one per job.
# `lares-bench paused --state-dir .paused-states` shows how far each paused run got.
set -uo pipefail
: "${JOBS:?JOBS=\"model:seed ...\" is required}"
: "${UNTIL:?UNTIL=<time> is required}"
until_s=$(date -d "$UNTIL" +%s) || { echo "cpu_queue: UNTIL=$UNTIL is not a time" >&2; exit 2; }
min_left="${MIN_LEFT:-600}"
parallel="${PARALLEL:-2}"
suite="${SUITE:-main}"
dataset="${DATASET:-beauty}"
logs="${LOGS:-/tmp/lares-cpu-queue}"
state_dir="${STATE_DIR:-.paused-states}"
read -r -a extra <<<"${EXTRA:-}"
read -r -a waits <<<"${WAIT_PIDS:-}"
mkdir -p "$logs"
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1

busy() {  # slots in use: the queue's own jobs plus the outside processes still alive
  local n
  n=$(jobs -rp | wc -l)
  for p in "${waits[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}

for job in $JOBS; do
  model="${job%%:*}" seed="${job##*:}"
  while [ "$(busy)" -ge "$parallel" ]; do sleep 20; done
  left=$(( until_s - $(date +%s) ))
  if [ "$left" -lt "$min_left" ]; then
    echo "$(date +%T) stop: ${left}s before UNTIL, under MIN_LEFT=${min_left}s; not started: $job and after"
    break
  fi
  echo "$(date +%T) start $model seed $seed (pause after ${left}s)"
  lares-bench run --suite "$suite" --datasets "$dataset" --models "$model" --seeds 1 \
    --first-seed "$seed" --device cpu --no-progress --pause-after "$left" --state-dir "$state_dir" \
    "${extra[@]}" \
    >"$logs/$model-$seed.log" 2>&1 &
done
wait
echo "$(date +%T) queue done (exit code 3 in a log = paused, resumable)"
