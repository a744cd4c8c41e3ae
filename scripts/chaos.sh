#!/usr/bin/env bash
# Chaos test for interrupted training (docs/reliability.md, "Interrupts").
# Trains the tiny smoke config once without interruption (the reference), then trains it again while
# killing the process at random moments (SIGTERM and SIGKILL alternating at random, at least
# CHAOS_KILLS kills), resuming after each kill (--resume once a checkpoint exists). Checks that
#   - every SIGTERM ended with exit 143 and the "interrupted ... continue with" line,
#   - the final best/ and last epoch adapters are bit-identical (SHA-256) to the reference's,
#   - nothing is left behind: no .lock, no *.tmp, no .lock.stale-* in the run folder.
# Usage: scripts/chaos.sh            (env: CHAOS_KILLS=30 CHAOS_EPOCHS=100 CHAOS_SEED=1 CHAOS_MAX_DELAY=4)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
kills_wanted="${CHAOS_KILLS:-30}"
epochs="${CHAOS_EPOCHS:-100}"
max_delay="${CHAOS_MAX_DELAY:-4}"
RANDOM="${CHAOS_SEED:-1}"
out="$(mktemp -d "${TMPDIR:-/tmp}/lora-chaos.XXXXXX")"
log="$out/chaos.log"
common=(--config configs/smoke.yaml --set "train.epochs=$epochs" --set "train.output_dir=$out" -q)
./lora --version >/dev/null || { echo "chaos: ./lora does not run" >&2; exit 2; }
# a private copy of the jar: a rebuild in target/ while this runs must not change the program under test
mkdir -p "$out/app" && cp target/lora.jar "$out/app/" && cp -r target/lib "$out/app/lib"
lora() { java -Xss4m -Dai.djl.offline=true -jar "$out/app/lora.jar" "$@"; }

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
    delay=$(awk -v r=$RANDOM -v m="$max_delay" 'BEGIN { printf "%.2f", 0.3 + (r / 32767.0) * m }')
    sleep "$delay"
    if kill -0 "$pid" 2>/dev/null; then
      if (( RANDOM % 2 )); then sig=TERM; terms=$((terms + 1)); else sig=KILL; sigkills=$((sigkills + 1)); fi
      kill -s "$sig" "$pid" 2>/dev/null
      kills=$((kills + 1))
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
