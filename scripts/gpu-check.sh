#!/usr/bin/env bash
# One prepared check of the CUDA route on a machine with an NVIDIA GPU (under 8 minutes on one GPU):
#   1. what is there: nvidia-smi, Java 17, Maven, a PyTorch install (says what is missing, exits 3)
#   2. build the CUDA flavour   (LORA_PROFILE; default: natives-local when PyTorch 2.7.1 with CUDA is
#      installed, its torch/lib as PYTORCH_LIBRARY_PATH, nothing to download; else cuda = Maven profile
#      -Pcuda, which needs Maven Central or a filled ~/.m2 for its 2.4 GB native jar)
#   3. lora doctor --device gpu (natives, GPUs, forward/backward on the GPU against the CPU)
#   4. lora benchmark --synthetic on the GPU: the study's grid at 84x140 and 518x518 (images/s, GPU memory)
#   5. a smoke training (configs/smoke.yaml) and lora eval of its best checkpoint on the GPU
#   6. the figures
# Usage: scripts/gpu-check.sh [--cpu] [OUT_DIR]   (default OUT_DIR: gpu-check/)
#   --cpu  dry mode for a machine without a GPU: the same steps on the CPU, default build, tiny settings.
# Each step runs under `timeout` (150+60+180+60+30 s = 8 min at most); a step that fails or times out is reported and the next one still runs.
# Exit code: 0 all steps passed, 1 a step failed, 3 something needed is missing.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cpu=0
if [[ "${1:-}" == "--cpu" ]]; then cpu=1; shift; fi
out="$(mkdir -p "${1:-gpu-check}" && cd "${1:-gpu-check}" && pwd)"
start=$SECONDS
failed=()
say() { printf '\n== %s (%ds)\n' "$*" $((SECONDS - start)); }

# step NAME SECONDS CMD... : runs CMD with a time budget, output to OUT/NAME.log and the terminal
step() {
  local name="$1" budget="$2"; shift 2
  say "$name (budget ${budget}s): $*"
  local t0=$SECONDS
  timeout --kill-after=10 "$budget" "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "!! $name: timed out after ${budget}s"; failed+=("$name (timeout)")
  elif [[ $rc -ne 0 ]]; then
    echo "!! $name: exit code $rc (log: $out/$name.log)"; failed+=("$name (exit $rc)")
  else
    echo "-- $name: ok in $((SECONDS - t0))s"
  fi
  return 0
}

say "1. machine"
missing=()
if [[ $cpu -eq 0 ]]; then
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader
  else
    missing+=("nvidia-smi (NVIDIA driver): this script checks a GPU; use --cpu for the dry mode")
  fi
fi
if command -v java > /dev/null; then
  java -version 2>&1 | head -1
  jv="$(java -version 2>&1 | head -1 | sed -E 's/.*version "([0-9]+).*/\1/')"
  [[ "$jv" =~ ^[0-9]+$ && "$jv" -ge 17 ]] || missing+=("Java 17 or newer (found $jv): e.g. apt-get install openjdk-17-jdk-headless")
else
  missing+=("java: Java 17 JDK, e.g. apt-get install openjdk-17-jdk-headless")
fi
if command -v mvn > /dev/null; then
  mvn -v 2>/dev/null | head -1
else
  missing+=("mvn: Maven 3.8+, e.g. apt-get install maven (the build also needs Maven Central or a copied ~/.m2)")
fi
torch_lib="" torch_version="" torch_cuda=""
py="$(command -v python3 || command -v python || true)"
if [[ -n "$py" ]]; then
  read -r torch_version torch_cuda torch_lib < <("$py" - <<'EOF' 2>/dev/null || true
import os
try:
    import torch
    print(torch.__version__, torch.version.cuda or "none", os.path.join(os.path.dirname(torch.__file__), "lib"))
except Exception:
    print("none none none")
EOF
)
  echo "python PyTorch: ${torch_version:-none} (CUDA ${torch_cuda:-none}) ${torch_lib:-}"
  # JNA (DJL's GPU detection) must find libcudart: pip's nvidia-cuda-runtime package has one
  rt="$("$py" -c 'import nvidia.cuda_runtime, os; print(os.path.join(list(nvidia.cuda_runtime.__path__)[0], "lib"))' 2>/dev/null || true)"
  if [[ $cpu -eq 0 && -n "$rt" && -d "$rt" ]]; then
    export LD_LIBRARY_PATH="$rt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "LD_LIBRARY_PATH += $rt (libcudart for DJL's GPU detection)"
  fi
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo; echo "gpu-check: cannot run, missing:"; printf '  - %s\n' "${missing[@]}"
  exit 3
fi

if [[ $cpu -eq 1 ]]; then
  export LORA_PROFILE=cpu
  device=cpu
  grid="size=84x140; batch=1; images=2 + size=126x126; batch=1; images=1"
  bench_args=(--epochs 25 --measure-epochs 1 --threads 2)
  train_args=(--set train.epochs=1)
else
  device=gpu
  if [[ -z "${LORA_PROFILE:-}" ]]; then
    if [[ "$torch_version" == 2.7.1* && "$torch_cuda" != none && -f "$torch_lib/libtorch.so" ]]; then
      export LORA_PROFILE=natives-local PYTORCH_LIBRARY_PATH="$torch_lib" PYTORCH_VERSION=2.7.1
      export PYTORCH_FLAVOR="${PYTORCH_FLAVOR:-cu128}"
    else
      export LORA_PROFILE=cuda
    fi
  fi
  # the study's five configurations at 84x140, then qkv and qkv+linear at 518x518
  grid="batch=4 + batch=8 + scale=12 + images=29 + targets=qkv,linear + size=518x518; batch=1,4; images=11; targets=qkv|qkv,linear"
  bench_args=(--epochs 25 --measure-epochs 2)
  train_args=()
fi
echo "route: LORA_PROFILE=$LORA_PROFILE device=$device ${PYTORCH_LIBRARY_PATH:+PYTORCH_LIBRARY_PATH=$PYTORCH_LIBRARY_PATH}"

mvn_args=(-q -B -DskipTests)
[[ "$LORA_PROFILE" != cpu ]] && mvn_args+=("-P$LORA_PROFILE")
[[ "${MVN_OFFLINE:-0}" == 1 ]] && mvn_args+=(-o)
step 2-build 150 bash -c "cd '$root' && mvn ${mvn_args[*]} package && echo '$LORA_PROFILE' > target/.lora-profile"
step 3-doctor 60 "$root/lora" doctor --device "$device"
step 4-benchmark 180 "$root/lora" benchmark --synthetic --device "$device" --grid "$grid" "${bench_args[@]}" \
    --output "$out/bench"
rm -rf "$out/runs"
step 5-train 60 bash -c "cd '$root' && ./lora train --config configs/smoke.yaml --device $device \
    --set train.output_dir='$out/runs' --set train.run_name=smoke ${train_args[*]}"
step 5-eval 30 "$root/lora" eval --checkpoint "$out/runs/smoke/best" --data "$root/data-samples" --device "$device" \
    --no-pictures --output "$out/eval"

say "6. figures"
grep -E "^(bundled|libtorch|natives|compiled|CUDA|GPU|nvidia-smi|threads|  (PASS|FAIL))|^PROBLEM|^doctor:" "$out/3-doctor.log" || true
[[ -f "$out/bench/results.md" ]] && cat "$out/bench/results.md"
grep -iE "epoch|best|loss" "$out/5-train.log" | tail -4 || true
tail -8 "$out/5-eval.log" || true
echo
echo "gpu-check: $((SECONDS - start)) s in all, logs and results in $out"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "gpu-check: FAILED steps:"; printf '  - %s\n' "${failed[@]}"
  exit 1
fi
echo "gpu-check: all steps passed"
