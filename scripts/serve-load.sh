#!/usr/bin/env bash
# Load and fault test of `lora serve` (issue 28): exports the shipped fixture model to ONNX, starts
# `lora serve` on a free port of 127.0.0.1, and runs the test client com.loratool.bench.ServeLoad
# (src/test/java, on the test class path) against it:
#   1. in-process baseline: `lora predict --onnx` on the same images (images/s, start-up subtracted)
#   2. load: N concurrent clients (16), 1,000 requests, 10 % garbage of 8 kinds; throughput, latency
#      p50/p95/p99, peak RSS of the server, errors by kind
#   3. overload: twice the measured throughput, open loop: 503s with Retry-After, RSS bounded, no
#      request past the server's time limit, the server alive afterwards
#   4. hostile: 200 raw-socket requests (truncated bodies, wrong Content-Length, huge headers, slow
#      senders, invalid binary sizes): each a 4xx or a closed connection, the server alive afterwards
#   5. SIGTERM: the server exits 0
# The server's RSS is also logged by scripts/rss-watch.sh (rss.csv). Everything goes to --out.
#
#   scripts/serve-load.sh [--clients 16] [--requests 1000] [--garbage 0.10] [--input png|png_json|binary|json]
#       [--onnx FILE | --weights FILE --model-config YAML] [--input-size 518] [--images DIR]
#       [--max-batch 8] [--max-delay-ms 5] [--queue 64] [--timeout-ms 10000] [--overload-seconds 20]
#       [--hostile 200] [--skip-overload] [--skip-hostile] [--out DIR] [--dry-run]
# --dry-run checks the arguments (the script's and the client's) and prints the plan; nothing runs.
# Exit: 0 when every criterion holds, 1 when one does not, 2 for bad arguments or a failed set-up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

clients=16; requests=1000; garbage=0.10; input=png; onnx=""; weights="$root/fixtures/da2-tiny/weights.pth"
model_config="$root/fixtures/da2-tiny/model.yaml"; input_size=518; images="$root/data-samples/images"
max_batch=8; max_delay_ms=5; queue=64; timeout_ms=10000; overload_seconds=20; hostile=200
skip_overload=0; skip_hostile=0; out=""; dry=0

die() { echo "serve-load: $*" >&2; exit 2; }
int() { [[ "$2" =~ ^[0-9]+$ ]] && (( 10#$2 >= $3 )) || die "$1 $2: expected a whole number >= $3"; }
need() { [[ $# -ge 2 && -n "$2" ]] || die "$1: needs a value"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) need "$@"; int "$1" "$2" 1; clients="$2"; shift 2 ;;
    --requests) need "$@"; int "$1" "$2" 1; requests="$2"; shift 2 ;;
    --garbage) need "$@"; [[ "$2" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || die "--garbage $2: a fraction 0..1"; garbage="$2"; shift 2 ;;
    --input) need "$@"; [[ "$2" =~ ^(png|png_json|binary|json)$ ]] || die "--input $2: png, png_json, binary or json"; input="$2"; shift 2 ;;
    --onnx) need "$@"; onnx="$2"; shift 2 ;;
    --weights) need "$@"; weights="$2"; shift 2 ;;
    --model-config) need "$@"; model_config="$2"; shift 2 ;;
    --input-size) need "$@"; int "$1" "$2" 14; input_size="$2"; shift 2 ;;
    --images) need "$@"; images="$2"; shift 2 ;;
    --max-batch) need "$@"; int "$1" "$2" 1; max_batch="$2"; shift 2 ;;
    --max-delay-ms) need "$@"; int "$1" "$2" 0; max_delay_ms="$2"; shift 2 ;;
    --queue) need "$@"; int "$1" "$2" 1; queue="$2"; shift 2 ;;
    --timeout-ms) need "$@"; int "$1" "$2" 1; timeout_ms="$2"; shift 2 ;;
    --overload-seconds) need "$@"; int "$1" "$2" 1; overload_seconds="$2"; shift 2 ;;
    --hostile) need "$@"; int "$1" "$2" 1; hostile="$2"; shift 2 ;;
    --skip-overload) skip_overload=1; shift ;;
    --skip-hostile) skip_hostile=1; shift ;;
    --out) need "$@"; out="$2"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ -d "$images" ]] || die "--images $images: not a folder"
mapfile -t pics < <(find "$images" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) | sort)
(( ${#pics[@]} > 0 )) || die "--images $images: no PNG or JPEG images"
if [[ -n "$onnx" ]]; then
  [[ -f "$onnx" ]] || die "--onnx $onnx: file not found"
else
  [[ -f "$weights" ]] || die "--weights $weights: file not found"
  [[ -f "$model_config" ]] || die "--model-config $model_config: file not found"
fi
out="${out:-$root/target/serve-load/$(date -u +%Y%m%d-%H%M%S)}"

# the jar and the test classes (the client), built when missing or older than the sources
client_class="$root/target/test-classes/com/loratool/bench/ServeLoad.class"
if [[ ! -f "$root/target/lora.jar" || ! -f "$client_class" ]] \
   || [[ -n "$(find "$root/src" "$root/pom.xml" -newer "$client_class" -print -quit 2>/dev/null)" ]]; then
  echo "serve-load: building (mvn -q -B -o -DskipTests package) ..." >&2
  (cd "$root" && mvn -q -B -o -DskipTests package) >&2 || die "the build failed"
fi
cp="$root/target/test-classes:$root/target/classes:$root/target/lib/*"
client() { java -Xss4m -cp "$cp" com.loratool.bench.ServeLoad "$@"; }

url_of() { echo "http://127.0.0.1:$1"; }
common=(--model depth --images "$images" --input "$input" --timeout-ms "$timeout_ms")

if (( dry )); then
  echo "serve-load dry run: ${#pics[@]} images from $images; results would go to $out"
  [[ -z "$onnx" ]] && echo "  ./lora export --format onnx --weights $weights --model-config $model_config --input-size $input_size --output $out/m.onnx"
  echo "  ./lora predict --onnx ${onnx:-$out/m.onnx} on 1 and on $(( ${#pics[@]} * 5 )) images (the in-process baseline)"
  echo "  ./lora serve --onnx ${onnx:-$out/m.onnx} --port P --name depth --max-batch $max_batch --max-delay-ms $max_delay_ms --queue $queue --timeout-ms $timeout_ms"
  client load --url "$(url_of 8000)" "${common[@]}" --clients "$clients" --requests "$requests" --garbage "$garbage" --dry-run
  (( skip_overload )) || client overload --url "$(url_of 8000)" "${common[@]}" --rate 1 --seconds "$overload_seconds" --dry-run
  (( skip_hostile )) || client hostile --url "$(url_of 8000)" --model depth --timeout-ms "$timeout_ms" --hostile "$hostile" --dry-run
  exit 0
fi

mkdir -p "$out"
echo "serve-load: results in $out" >&2
if [[ -z "$onnx" ]]; then
  onnx="$out/m.onnx"
  "$root/lora" export --format onnx --weights "$weights" --model-config "$model_config" --input-size "$input_size" \
    --output "$onnx" > "$out/export.txt" || die "the ONNX export failed ($out/export.txt)"
fi

# 1. in-process baseline: predict on 1 image and on 5 copies of every image; the difference is the work
mkdir -p "$out/predict-in"
for k in 1 2 3 4 5; do for p in "${pics[@]}"; do ln -sf "$p" "$out/predict-in/$k-$(basename "$p")"; done; done
n_many=$(( ${#pics[@]} * 5 ))
now() { date +%s.%N; }
t0=$(now); "$root/lora" predict --onnx "$onnx" --input "${pics[0]}" --output "$out/predict-one" > /dev/null 2>&1 \
  || die "lora predict --onnx failed"
t1=$(now); "$root/lora" predict --onnx "$onnx" --input "$out/predict-in" --output "$out/predict-many" > /dev/null 2>&1 \
  || die "lora predict --onnx on $n_many images failed"
t2=$(now)
predict_ips=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$n_many" 'BEGIN { d = (c - b) - (b - a); if (d <= 0) d = c - b; printf "%.3f", (n - 1) / d }')
echo "in-process: lora predict --onnx, $n_many images: $predict_ips images/s (start-up subtracted)" | tee "$out/predict.txt"

# 2. the server, on a free port, its RSS watched
port="$(client free-port)"
url="$(url_of "$port")"
"$root/lora" serve --onnx "$onnx" --port "$port" --name depth --max-batch "$max_batch" --max-delay-ms "$max_delay_ms" \
  --queue "$queue" --timeout-ms "$timeout_ms" > "$out/serve.log" 2>&1 &
server=$!
"$root/scripts/rss-watch.sh" -i 0.5 -o "$out/rss.csv" -p "$server" > "$out/rss-watch.txt" 2>&1 &
watcher=$!
stop_all() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  wait "$watcher" 2>/dev/null || true
}
trap stop_all EXIT
for _ in $(seq 1 360); do
  kill -0 "$server" 2>/dev/null || { tail -5 "$out/serve.log" >&2; die "lora serve exited before it was ready"; }
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/health/ready" || true)" == "200" ]] && break
  sleep 0.5
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/health/ready" || true)" == "200" ]] \
  || die "lora serve not ready after 180 s ($out/serve.log)"
echo "serve-load: lora serve ready at $url (pid $server)" >&2

rc=0
result() { grep '^RESULT' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
client load --url "$url" "${common[@]}" --clients "$clients" --requests "$requests" --garbage "$garbage" \
  --pid "$server" --report "$out/load.json" | tee "$out/load.txt" || rc=1
throughput="$(result "$out/load.txt" throughput)"
load_rss="$(result "$out/load.txt" peak_rss_mb)"
ratio=$(awk -v s="${throughput:-0}" -v p="$predict_ips" 'BEGIN { printf "%.2f", (p > 0 ? s / p : 0) }')
echo "server vs in-process: ${throughput:-?} vs $predict_ips images/s = ${ratio}x (the issue asks >= 0.80x)" | tee -a "$out/load.txt"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.80) }' || rc=1

if (( ! skip_overload )) && [[ -n "$throughput" ]]; then
  rate=$(awk -v t="$throughput" 'BEGIN { printf "%.2f", 2 * t }')
  client overload --url "$url" "${common[@]}" --rate "$rate" --seconds "$overload_seconds" --pid "$server" \
    --rss-baseline-mb "${load_rss:-0}" --report "$out/overload.json" | tee "$out/overload.txt" || rc=1
fi
if (( ! skip_hostile )); then
  client hostile --url "$url" --model depth --timeout-ms "$timeout_ms" --hostile "$hostile" | tee "$out/hostile.txt" || rc=1
fi

# 5. SIGTERM: the server finishes and exits 0
trap - EXIT
kill -TERM "$server"
t_stop=$(now)
if wait "$server"; then server_rc=0; else server_rc=$?; fi
wait "$watcher" 2>/dev/null || true
stop_s=$(awk -v a="$t_stop" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
echo "SIGTERM: lora serve exited $server_rc after $stop_s s" | tee "$out/stop.txt"
(( server_rc == 0 )) || rc=1
hwm=$(awk -F, 'NR > 1 && $3 > m { m = $3 } END { print m + 0 }' "$out/rss.csv" 2>/dev/null || echo 0)
{
  echo "== serve-load summary ($(date -u +%FT%TZ), $(nproc) CPUs, $clients clients, input $input, model $onnx)"
  echo "in-process predict --onnx: $predict_ips images/s"
  grep -h -E '^(load|  throughput|  latency|  server peak|server vs)' "$out/load.txt" || true
  if [[ -f "$out/overload.txt" ]]; then
    grep -h -E '^(overload|  [0-9]|  latency|  server peak|  overload)' "$out/overload.txt" || true
  fi
  if [[ -f "$out/hostile.txt" ]]; then
    grep -h -E '^(hostile|  server alive)' "$out/hostile.txt" || true
  fi
  echo "server peak RSS over the whole run (rss-watch VmHWM): $hwm MB"
  cat "$out/stop.txt"
  echo "verdict: $([[ $rc == 0 ]] && echo "every criterion holds" || echo "a criterion does NOT hold (see above)")"
} | tee "$out/summary.txt"
exit "$rc"
