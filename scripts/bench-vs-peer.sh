#!/usr/bin/env bash
# lora against the PyTorch peer, side by side in one run on this machine, same shapes and threads:
# vits, LoRA r=8; 84x140 batch 4, 11 images, qkv and qkv+linear; 518x518 batch 1, 2 images.
#   DA2_REPO=/path/to/Depth-Anything-V2 scripts/bench-vs-peer.sh [OUT_DIR]
# THREADS (default 2), PEER_BLAS_DIR (see peer-baseline.sh) pass through. Writes OUT_DIR/peer.jsonl
# and lora benchmark's results.* (with the x-peer columns) to OUT_DIR (default bench-vs-peer/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-bench-vs-peer}"
threads="${THREADS:-2}"
mkdir -p "$out"
rm -f "$out/peer.jsonl"
THREADS="$threads" "$root/scripts/peer-baseline.sh" "$out/peer.jsonl" >&2
"$root/lora" benchmark --synthetic --device cpu --threads "$threads" --baseline "$out/peer.jsonl" \
    --grid "targets=qkv|qkv,linear + size=518x518; batch=1; images=2" \
    --epochs 3 --measure-epochs 2 --output "$out"
