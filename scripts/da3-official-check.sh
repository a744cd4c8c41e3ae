#!/usr/bin/env bash
# Prepares and runs the checks of this toolkit's Depth Anything 3 exports against the OFFICIAL code
# (github.com/ByteDance-Seed/Depth-Anything-3; a checkout is given, nothing of it is copied here):
#   scripts/da3-official-check.py  merged model.safetensors loads strictly into the official
#                                  DepthAnything3 and predicts what `lora predict` predicts
#   scripts/peft-check.py --da3    the PEFT adapter's names/shapes on the official module tree,
#                                  W + s B A by hand (and PeftModel.from_pretrained where peft exists)
#
#   scripts/da3-official-check.sh prepare DIR                # Java: train, export, predict
#   scripts/da3-official-check.sh check DIR DA3_CHECKOUT     # Debian's /usr/bin/python3 (torch 1.13)
#   scripts/da3-official-check.sh all DIR DA3_CHECKOUT
#
# prepare: two LoRA runs on fixtures/da3-tiny-mono-pretrained (configs/smoke-da3mono-pretrained.yaml
# on data-samples/, r 8, 2 epochs, lr 1e-2): linear_headconvs (targets linear + head_convs: nn.Linear
# and nn.Conv2d adapters) and dora_qkv (DoRA on qkv). Into DIR: base/ (the base folder), image.png
# (fixtures/da3-tiny-mono's 154x98 image), pred/base (lora predict --weights base/ --process-res 154)
# and per run DIR/<run>/: merged/ (`lora export --checkpoint --format merged`), peft/ (`lora export --format peft`), pred/merged (--weights
# merged/ at --process-res 154, the image's size: no resize anywhere), pred/merged-504 (the
# default 504: upscaled by the preprocessing, the output resized back), pred/checkpoint
# (`lora predict --checkpoint`). Runs from the repository root.
set -euo pipefail
usage="usage: da3-official-check.sh prepare|check|all DIR [DA3_CHECKOUT]"
mode=${1:?$usage}
out=${2:?$usage}
cd "$(dirname "$0")/.."
fx=fixtures/da3-tiny-mono-pretrained
img=fixtures/da3-tiny-mono/image.png
declare -A runs=(
  [linear_headconvs]="lora.targets=[linear] lora.head_convs=true"
  [dora_qkv]="lora.targets=[qkv] lora.dora=true")

prepare() {
  mkdir -p "$out/base" "$out/pred"
  cp $fx/model.safetensors $fx/config.json $fx/model.yaml "$out/base/"
  cp $img "$out/image.png"
  p=(--input "$out/image.png" --threads 1 --device cpu)
  ./lora predict --weights "$out/base" --process-res 154 --output "$out/pred/base" "${p[@]}"
  for run in linear_headconvs dora_qkv; do
    sets=()
    for kv in ${runs[$run]}; do sets+=(--set "$kv"); done
    ./lora train --config configs/smoke-da3mono-pretrained.yaml --quiet --force \
      --set train.epochs=2 --set train.lr=1.0e-2 "${sets[@]}" \
      --set "train.output_dir=$out/runs" --set "train.run_name=$run"
    ck=$out/runs/$run/best
    r=$out/$run
    rm -rf "$r"
    mkdir -p "$r/pred"
    ./lora export --checkpoint "$ck" --format merged --output "$r/merged"
    ./lora export --checkpoint "$ck" --format peft --output "$r/peft"
    ./lora predict --weights "$r/merged" --process-res 154 --output "$r/pred/merged" "${p[@]}"
    ./lora predict --weights "$r/merged" --output "$r/pred/merged-504" "${p[@]}"
    ./lora predict --checkpoint "$ck" --process-res 154 --output "$r/pred/checkpoint" "${p[@]}"
  done
}

check() {
  repo=${1:?check needs DA3_CHECKOUT (a checkout of ByteDance-Seed/Depth-Anything-3)}
  py=/usr/bin/python3
  rc=0
  $py scripts/da3-official-check.py --repo "$repo" --model "$out/base" --image "$out/image.png" \
    --pred "$out/pred/base/image.npy" --process-res 154 || rc=1
  for run in linear_headconvs dora_qkv; do
    r=$out/$run
    $py scripts/da3-official-check.py --repo "$repo" --model "$r/merged" --image "$out/image.png" \
      --pred "$r/pred/merged/image.npy" --pred "$r/pred/checkpoint/image.npy" --process-res 154 --base "$out/base" || rc=1
    $py scripts/da3-official-check.py --repo "$repo" --model "$r/merged" --image "$out/image.png" \
      --pred "$r/pred/merged-504/image.npy" --process-res 504 || rc=1
  done
  $py scripts/peft-check.py --da3 "$repo" "$out" --process-res 154 || rc=1
  return $rc
}

case $mode in
  prepare) prepare ;;
  check) check "${3:-}" ;;
  all) prepare; check "${3:-}" ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
