#!/usr/bin/env bash
# Chaos tests (docs/reliability.md, "Chaos test").
#
# scripts/chaos.sh [train]: interrupted training. Trains the tiny smoke config once without interruption
# (the reference), then trains it again while killing the process at random moments (SIGTERM and SIGKILL
# alternating at random, at least CHAOS_KILLS kills), resuming after each kill (--resume once a checkpoint
# exists). Checks that
#   - every SIGTERM ended with exit 143 and the "interrupted ... continue with" line,
#   - the final best/ and last epoch adapters are bit-identical (SHA-256) to the reference's,
#   - nothing is left behind: no .lock, no *.tmp, no .lock.stale-* in the run folder.
# Env: CHAOS_KILLS=30 CHAOS_EPOCHS=100 CHAOS_SEED=1 CHAOS_MAX_DELAY=4
#
# scripts/chaos.sh sweep: interrupted sweeps. Runs a small sweep of the smoke config once without
# interruption (2x1 grid "lora.r=4,8; train.lr=1e-3", 2 folds: 4 cells), then runs it again while
# killing it at a random moment (SIGTERM or SIGKILL, 0.3 s up to the reference's wall time), rerunning the
# same command after each kill until a run ends by itself; then again in a fresh folder (a round) until
# CHAOS_KILLS kills. Checks, for every round, that
#   - every SIGTERM ended with exit 143 and the "interrupted ..." line (with "continue with: lora sweep"
#     once the sweep had started),
#   - no cell was ever recorded as failed, and no best.yaml stood beside unfinished cells after a kill,
#   - the round's final results.csv equals the reference's (the timing columns train_s, epoch_s, eval_s left out),
#     and each cell's last-epoch adapters are bit-identical to the reference's,
#   - nothing is left behind: no .lock, no *.tmp, no .lock.stale-* in the sweep folder.
# Env: CHAOS_KILLS=20 CHAOS_EPOCHS=6 CHAOS_SEED=1 CHAOS_MAX_DELAY=<reference seconds>
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-train}"
[[ "$mode" == train || "$mode" == sweep ]] || { echo "usage: scripts/chaos.sh [train|sweep]" >&2; exit 2; }
if [[ "$mode" == sweep ]]; then
  kills_wanted="${CHAOS_KILLS:-20}"
  epochs="${CHAOS_EPOCHS:-6}"
  max_delay=""  # default: the reference sweep's wall time (below)
else
  kills_wanted="${CHAOS_KILLS:-30}"
  epochs="${CHAOS_EPOCHS:-100}"
  max_delay="${CHAOS_MAX_DELAY:-4}"
fi
RANDOM="${CHAOS_SEED:-1}"
out="$(mktemp -d "${TMPDIR:-/tmp}/lora-chaos.XXXXXX")"
log="$out/chaos.log"
common=(--config configs/smoke.yaml --set "train.epochs=$epochs" --set "train.output_dir=$out" -q)
./lora --version >/dev/null || { echo "chaos: ./lora does not run" >&2; exit 2; }
# a private copy of the jar: a rebuild in target/ while this runs must not change the program under test
mkdir -p "$out/app" && cp target/lora.jar "$out/app/" && cp -r target/lib "$out/app/lib"
lora() { java -Xss4m -Dai.djl.offline=true -jar "$out/app/lora.jar" "$@"; }
# a random moment: JVM start, model load, a step, validation, an evaluation, a checkpoint or report write
# (r drawn by the caller, outside $(...): bash reseeds $RANDOM in a subshell, which would ignore CHAOS_SEED)
random_delay() { awk -v r="$1" -v m="$max_delay" 'BEGIN { printf "%.2f", 0.3 + (r / 32767.0) * m }'; }
# after a random delay, SIGTERM or SIGKILL (at random) to pid if it still runs: sets sig, counts kills/terms/sigkills
kill_at_random() {
  sig=""
  local r=$RANDOM
  sleep "$(random_delay "$r")"
  if kill -0 "$1" 2>/dev/null; then
    if (( RANDOM % 2 )); then sig=TERM; terms=$((terms + 1)); else sig=KILL; sigkills=$((sigkills + 1)); fi
    kill -s "$sig" "$1" 2>/dev/null
    kills=$((kills + 1))
  fi
}

if [[ "$mode" == sweep ]]; then
  cells_total=4
  # the java process itself (exec), so that $! of "sweep ... &" is the JVM the signals are sent to
  sweep() {
    exec java -Xss4m -Dai.djl.offline=true -jar "$out/app/lora.jar" sweep --config configs/smoke.yaml \
      --set "train.epochs=$epochs" --grid "lora.r=4,8; train.lr=1e-3" --folds 2 --output "$1" -q
  }
  # results.csv without its last three columns (train_s, epoch_s, eval_s: wall times)
  results() { sed -E 's/(,[^,]*){3}$//' "$1/results.csv"; }
  t0=$(date +%s)
  ( sweep "$out/reference" ) >>"$log" 2>&1 || { echo "chaos: reference sweep failed ($log)" >&2; exit 1; }
  ref_s=$(( $(date +%s) - t0 ))
  # kill moments spread over a whole sweep: JVM start, set-up, a cell's steps, its evaluation, a write
  max_delay="${CHAOS_MAX_DELAY:-$ref_s}"

  # rounds: a sweep killed and rerun until one run ends by itself, then checked against the reference;
  # a new round in a fresh folder until CHAOS_KILLS kills
  run="$out/chaos"
  kills=0; terms=0; sigkills=0; starts=0; bad_term=0; term_continue=0; partial_best=0; cut=0
  rounds=0; equal=0; identical=0; failed_cells=0; left=0
  status=0
  t0=$(date +%s)
  while (( kills < kills_wanted )); do
    rounds=$((rounds + 1))
    rm -rf "$run"
    done_=0
    while (( ! done_ )); do
      starts=$((starts + 1))
      touch "$out/started"
      sweep "$run" >>"$log" 2>"$out/last.err" &
      pid=$!
      sig=""
      if (( kills < kills_wanted )); then
        kill_at_random "$pid"
      fi
      wait "$pid"; rc=$?
      cat "$out/last.err" >>"$log"
      # a kill inside a cell: the cell's run folder was written by this run and the cell has no result
      if [[ -n "$sig" ]] && (( rc != 0 )); then
        for c in "$run"/runs/c*-f*; do
          [[ -d "$c" && ! -f "$run/cells/$(basename "$c").json" ]] || continue
          [[ -n "$(find "$c" -newer "$out/started" -print -quit)" ]] && cut=$((cut + 1))
        done
      fi
      if [[ "$sig" == TERM ]]; then
        # exit 143 with the one line, or 0 if it finished in the meantime
        if (( rc == 143 )); then
          grep -q "^interrupted" "$out/last.err" || { echo "chaos: SIGTERM without the line: $(tail -1 "$out/last.err")" \
            | tee -a "$log" >&2; bad_term=$((bad_term + 1)); }
          grep -q "continue with: lora sweep" "$out/last.err" && term_continue=$((term_continue + 1))
        elif (( rc != 0 )); then
          echo "chaos: SIGTERM gave exit $rc: $(tail -1 "$out/last.err")" | tee -a "$log" >&2; bad_term=$((bad_term + 1))
        fi
      elif [[ -z "$sig" ]] && (( rc != 0 )); then
        echo "chaos: sweep exited $rc: $(tail -1 "$out/last.err")" | tee -a "$log" >&2; exit 1
      fi
      # a partial sweep never leaves a best.yaml (one beside every cell's result is a finished sweep)
      if [[ -f "$run/best.yaml" ]] && (( $(find "$run/cells" -name 'c*.json' 2>/dev/null | wc -l) < cells_total )); then
        echo "chaos: best.yaml beside unfinished cells after exit $rc" | tee -a "$log" >&2; partial_best=$((partial_best + 1))
      fi
      (( rc == 0 )) && done_=1
    done
    # the round's sweep against the reference
    f=$(grep -l '"status" : "failed"' "$run"/cells/*.json 2>/dev/null | wc -l)
    failed_cells=$((failed_cells + f))
    if [[ -f "$run/results.csv" ]] && diff <(results "$out/reference") <(results "$run") >"$out/results-$rounds.diff"; then
      equal=$((equal + 1))
    else
      echo "chaos: round $rounds: results.csv differs from the uninterrupted sweep's ($out/results-$rounds.diff)" >&2
      cp -r "$run" "$out/chaos-$rounds"
    fi
    # stronger than the CSV's 6 digits: each cell's last-epoch adapters, bit for bit
    for c in $(cd "$out/reference/runs" && ls -d c*-f*); do
      a=$(cd "$out/reference" && ls -d "runs/$c"/checkpoints/epoch-* | sort -V | tail -1)/adapter.safetensors
      if [[ -f "$run/$a" ]] && cmp -s "$out/reference/$a" "$run/$a"; then identical=$((identical + 1)); fi
    done
    l=$(find "$run" \( -name .lock -o -name '*.tmp' -o -name '.lock.stale-*' \) | wc -l)
    (( l == 0 )) || { echo "chaos: round $rounds left behind:" >&2; find "$run" \( -name .lock -o -name '*.tmp' -o -name '.lock.stale-*' \) >&2; }
    left=$((left + l))
  done
  chaos_s=$(( $(date +%s) - t0 ))

  (( failed_cells == 0 )) || { echo "chaos: $failed_cells cell(s) recorded as failed" >&2; status=1; }
  (( equal == rounds && identical == rounds * cells_total && left == 0 && bad_term == 0 && partial_best == 0 )) || status=1
  echo "chaos sweep: $kills kills ($terms SIGTERM, $sigkills SIGKILL) in $rounds rounds, $starts starts" \
    "($((starts - rounds)) reruns after a kill), $cells_total cells a round, $cut kills inside a cell (trained" \
    "again from the start by the rerun); epochs $epochs, kill moments 0.3-$max_delay s;" \
    "SIGTERM without exit 143 + line: $bad_term ($term_continue with the continue line); best.yaml beside unfinished cells: $partial_best;" \
    "cells recorded as failed: $failed_cells; results.csv equal to the uninterrupted sweep's: $equal/$rounds;" \
    "cells' last adapters bit-identical: $identical/$((rounds * cells_total)); left behind: $left;" \
    "reference ${ref_s}s, chaos ${chaos_s}s; log $log"
  exit $status
fi

t0=$(date +%s)
lora train "${common[@]}" --set train.run_name=reference >>"$log" 2>&1 || { echo "chaos: reference run failed ($log)" >&2; exit 1; }
ref_s=$(( $(date +%s) - t0 ))

run="$out/chaos"
kills=0; terms=0; sigkills=0; resumes=0; starts=0; bad_term=0; done_=0
t0=$(date +%s)
while (( ! done_ )); do
  args=("${common[@]}" --set train.run_name=chaos)
  if compgen -G "$run/checkpoints/epoch-*" >/dev/null; then args+=(--resume); resumes=$((resumes + 1)); elif [[ -d "$run" ]]; then args+=(--force); fi
  starts=$((starts + 1))
  java -Xss4m -Dai.djl.offline=true -jar "$out/app/lora.jar" train "${args[@]}" >>"$log" 2>"$out/last.err" &
  pid=$!
  if (( kills < kills_wanted )); then
    # a random moment: JVM start, model load, a step, validation, a checkpoint write
    kill_at_random "$pid"
    if [[ -n "$sig" ]]; then
      wait "$pid"; rc=$?
      cat "$out/last.err" >>"$log"
      if [[ "$sig" == TERM ]]; then
        # exit 143 with the one line, or 0 if it finished in the meantime
        if (( rc == 143 )); then
          grep -q "continue with: lora train" "$out/last.err" || grep -q "^interrupted" "$out/last.err" || bad_term=$((bad_term + 1))
        elif (( rc != 0 )); then
          echo "chaos: SIGTERM gave exit $rc: $(tail -1 "$out/last.err")" | tee -a "$log" >&2; bad_term=$((bad_term + 1))
        fi
      fi
      (( rc == 0 )) && done_=1
      continue
    fi
  fi
  wait "$pid"; rc=$?
  cat "$out/last.err" >>"$log"
  if (( rc != 0 )); then echo "chaos: run exited $rc: $(tail -1 "$out/last.err")" | tee -a "$log" >&2; exit 1; fi
  done_=1
done
chaos_s=$(( $(date +%s) - t0 ))

status=0
sha() { sha256sum "$1" | cut -d' ' -f1; }
identical=0; compared=0
for f in best/adapter.safetensors $(cd "$out/reference" && ls -d checkpoints/epoch-*/adapter.safetensors | sort -V | tail -1); do
  compared=$((compared + 1))
  if [[ -f "$run/$f" && "$(sha "$out/reference/$f")" == "$(sha "$run/$f")" ]]; then identical=$((identical + 1)); else
    echo "chaos: $f differs from the uninterrupted run" >&2; status=1; fi
done
left=$(find "$run" \( -name .lock -o -name '*.tmp' -o -name '.lock.stale-*' \) | wc -l)
(( left == 0 )) || { echo "chaos: left behind:" >&2; find "$run" \( -name .lock -o -name '*.tmp' -o -name '.lock.stale-*' \) >&2; status=1; }
(( kills >= kills_wanted )) || { echo "chaos: only $kills kills (the run finished first; raise CHAOS_EPOCHS)" >&2; status=1; }
(( bad_term == 0 )) || status=1
echo "chaos: $kills kills ($terms SIGTERM, $sigkills SIGKILL), $starts starts, $resumes resumes, epochs $epochs;" \
  "SIGTERM without exit 143 + message: $bad_term; adapters bit-identical: $identical/$compared;" \
  "left behind: $left; reference ${ref_s}s, chaos run ${chaos_s}s; log $log"
exit $status
