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
# prepare: a LoRA run on fixtures/da3-tiny-mono-pretrained (targets linear + head_convs, r 8,
# 2 epochs, configs/smoke-da3mono-pretrained.yaml on data-samples/), then into DIR: base/ (the
# base folder), merged/ (`lora export --checkpoint --format merged`; while that command refuses
# DA3 checkpoints, the same library call api.Export.mergedDa3 through scripts/Da3MergedExport.java),
# peft/ (`lora export --format peft`), image.png (fixtures/da3-tiny-mono's 154x98 image) and
# pred/<name>/image.npy from `lora predict`: base (base weights), merged (--weights merged/) at
# --process-res 154 (the image's size: no resize anywhere) and merged-504 at the default 504
# (upscaled by the preprocessing, the output resized back), checkpoint (--checkpoint, where
# predict runs DA3 checkpoints). Runs from the repository root.
set -euo pipefail
mode=${1:?usage: da3-official-check.sh prepare|check|all DIR [DA3_CHECKOUT]}
out=${2:?usage: da3-official-check.sh prepare|check|all DIR [DA3_CHECKOUT]}
cd "$(dirname "$0")/.."
fx=fixtures/da3-tiny-mono-pretrained
img=fixtures/da3-tiny-mono/image.png

prepare() {
  mkdir -p "$out/base" "$out/pred"
  cp $fx/model.safetensors $fx/config.json $fx/model.yaml "$out/base/"
  cp $img "$out/image.png"
  ./lora train --config configs/smoke-da3mono-pretrained.yaml --quiet --force \
    --set train.epochs=2 --set train.lr=1.0e-2 --set "lora.targets=[linear]" --set lora.head_convs=true \
    --set "train.output_dir=$out/runs" --set train.run_name=linear_headconvs
  ck=$out/runs/linear_headconvs/best
  rm -rf "$out/merged" "$out/peft"
  if ! ./lora export --checkpoint "$ck" --format merged --output "$out/merged" 2>"$out/export.err"; then
    if grep -q "not supported by lora export yet" "$out/export.err"; then
      echo "lora export refuses DA3 checkpoints on this branch: api.Export.mergedDa3 through scripts/Da3MergedExport.java"
      [[ -d target/classes && -d target/lib ]] || mvn -B -q -o -DskipTests package
      java -cp "target/classes:target/lib/*" scripts/Da3MergedExport.java "$ck" "$out/merged"
    else
      cat "$out/export.err" >&2
      exit 1
    fi
  fi
  ./lora export --checkpoint "$ck" --format peft --output "$out/peft"
  p=(--input "$out/image.png" --threads 1 --device cpu)
  ./lora predict --weights "$out/base" --process-res 154 --output "$out/pred/base" "${p[@]}"
  ./lora predict --weights "$out/merged" --process-res 154 --output "$out/pred/merged" "${p[@]}"
  ./lora predict --weights "$out/merged" --output "$out/pred/merged-504" "${p[@]}"
  rm -rf "$out/pred/checkpoint"
  ./lora predict --checkpoint "$ck" --process-res 154 --output "$out/pred/checkpoint" "${p[@]}" \
    || echo "lora predict --checkpoint refuses DA3 checkpoints on this branch: compared through merged/ only"
}

check() {
  repo=${1:?check needs DA3_CHECKOUT (a checkout of ByteDance-Seed/Depth-Anything-3)}
  py=/usr/bin/python3
  preds=(--pred "$out/pred/merged/image.npy")
  [[ -f $out/pred/checkpoint/image.npy ]] && preds+=(--pred "$out/pred/checkpoint/image.npy")
  rc=0
  $py scripts/da3-official-check.py --repo "$repo" --model "$out/merged" --image "$out/image.png" \
    "${preds[@]}" --process-res 154 --base "$out/base" || rc=1
  $py scripts/da3-official-check.py --repo "$repo" --model "$out/merged" --image "$out/image.png" \
    --pred "$out/pred/merged-504/image.npy" --process-res 504 || rc=1
  $py scripts/da3-official-check.py --repo "$repo" --model "$out/base" --image "$out/image.png" \
    --pred "$out/pred/base/image.npy" --process-res 154 || rc=1
  $py scripts/peft-check.py --da3 "$repo" "$out" --process-res 154 || rc=1
  return $rc
}

case $mode in
  prepare) prepare ;;
  check) check "${3:-}" ;;
  all) prepare; check "${3:-}" ;;
  *) echo "usage: da3-official-check.sh prepare|check|all DIR [DA3_CHECKOUT]" >&2; exit 2 ;;
esac
