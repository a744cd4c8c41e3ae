#!/usr/bin/env bash
# Samples a process's resident memory (VmRSS, VmHWM from /proc/PID/status) every INTERVAL
# seconds into a CSV, to check that native memory stays flat during a long run (leaks in
# libtorch memory do not show in JVM heap figures).
#   scripts/rss-watch.sh [-i SECONDS] [-o FILE.csv] -- COMMAND ARGS...   # start COMMAND and watch it
#   scripts/rss-watch.sh [-i SECONDS] [-o FILE.csv] -p PID              # watch a running process
# At the end it prints the RSS at 10% and at the end of the run and the growth between them
# (skipping start-up), e.g. for `lora train --config configs/smoke.yaml` with many epochs.
set -euo pipefail
interval=1; out=""; pid=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -i) interval="$2"; shift 2 ;;
    -o) out="$2"; shift 2 ;;
    -p) pid="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ -z "$pid" ]]; then
  [[ $# -gt 0 ]] || { echo "rss-watch: give -p PID or a command after --" >&2; exit 2; }
  "$@" &
  pid=$!
fi
[[ -r /proc/$pid/status ]] || { echo "rss-watch: /proc/$pid/status: no such process" >&2; exit 2; }
out="${out:-rss-$pid.csv}"
echo "seconds,rss_mb,hwm_mb" > "$out.tmp"
start=$(date +%s.%N)
# the watched process may be a launcher script: follow its newest java child when there is one
target="$pid"
while kill -0 "$pid" 2>/dev/null; do
  child="$(pgrep -n -P "$pid" java 2>/dev/null || true)"
  [[ -n "$child" ]] && target="$child"
  if read -r rss hwm < <(awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{if (r) print r/1024, h/1024}' "/proc/$target/status" 2>/dev/null); then
    printf '%.1f,%.1f,%.1f\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$rss" "$hwm" >> "$out.tmp"
  fi
  sleep "$interval"
done
wait "$pid" 2>/dev/null && rc=0 || rc=$?
mv "$out.tmp" "$out"
awk -F, 'NR>1{t[NR]=$1; r[NR]=$2; n=NR} END{
  if (n < 3) {print "rss-watch: too few samples"; exit}
  a=int(2+(n-2)*0.1); printf "rss-watch: %d samples in %s; RSS %.0f MiB at %.0f s (10%%), %.0f MiB at the end (%.0f s): %+.1f%%\n",
  n-1, FILENAME, r[a], t[a], r[n], t[n], 100*(r[n]-r[a])/r[a]}' "$out"
exit "$rc"
