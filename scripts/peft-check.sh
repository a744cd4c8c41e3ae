#!/usr/bin/env bash
# Prepares and runs the check that real `peft` + `transformers` load this toolkit's PEFT exports
# and predict what the toolkit predicts (scripts/peft-check.py).
#
#   scripts/peft-check.sh prepare DIR   # here (Java): train 3 tiny runs, export them, predict
#   scripts/peft-check.sh check DIR     # where Python has torch, transformers, peft
#   scripts/peft-check.sh all DIR       # both on one machine
#   scripts/peft-check.sh prepare-da3 DIR                 # Depth Anything 3 (Java): da3-official-check.sh prepare
#   scripts/peft-check.sh check-da3 DIR DA3_CHECKOUT      # /usr/bin/python3 peft-check.py --da3: names, shapes and
#                                                         # W + s B A by hand everywhere; PeftModel where peft exists
#
# DIR receives: model.yaml, weights-hf.safetensors, image.png, input_tensor.npy (fixtures/da2-tiny),
# adapters/<run>/ (adapter_config.json + adapter_model.safetensors from `lora export --format peft`)
# and pred/<run>/image.npy (`lora predict --checkpoint`, input size 98) for the runs qkv (plain
# fused qkv LoRA), qv (q,v slices), dora_qv (DoRA on q,v slices) and dora_qkv (DoRA on qkv), plus
# pred/base/image.npy (no adapters). Runs from the repository root.
set -euo pipefail
usage="usage: peft-check.sh prepare|check|all DIR | prepare-da3 DIR | check-da3 DIR DA3_CHECKOUT"
mode=${1:?$usage}
out=${2:?$usage}
cd "$(dirname "$0")/.."
fx=fixtures/da2-tiny

prepare() {
  mkdir -p "$out/adapters" "$out/pred" "$out/runs"
  cp $fx/model.yaml $fx/weights-hf.safetensors $fx/image.png $fx/input_tensor.npy "$out/"
  common=(--config configs/smoke-pretrained.yaml --quiet --force
    --set model.weights=$fx/weights.pth --set model.config=$fx/model.yaml
    --set train.epochs=2 --set train.lr=1.0e-2 --set "train.output_dir=$out/runs")
  declare -A runs=(
    [qkv]="lora.targets=[qkv]"
    [qv]="lora.targets=['qkv:q,v']"
    [dora_qv]="lora.targets=['qkv:q,v']"
    [dora_qkv]="lora.targets=[qkv]")
  for run in qkv qv dora_qv dora_qkv; do
    dora=false
    [[ $run == dora_* ]] && dora=true
    ./lora train "${common[@]}" --set "train.run_name=$run" --set "${runs[$run]}" --set "lora.dora=$dora"
    ./lora export --checkpoint "$out/runs/$run/best" --format peft --output "$out/adapters/$run"
    ./lora predict --checkpoint "$out/runs/$run/best" --input $fx/image.png --input-size 98 \
      --output "$out/pred/$run" --threads 1
  done
  ./lora predict --weights $fx/weights.pth --model-config $fx/model.yaml --input $fx/image.png \
    --input-size 98 --output "$out/pred/base" --threads 1
}

case $mode in
  prepare) prepare ;;
  check) python3 scripts/peft-check.py "$out" ;;
  all) prepare; python3 scripts/peft-check.py "$out" ;;
  prepare-da3) scripts/da3-official-check.sh prepare "$out" ;;
  check-da3) /usr/bin/python3 scripts/peft-check.py --da3 "${3:?check-da3 needs DA3_CHECKOUT}" "$out" --process-res 154 ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
