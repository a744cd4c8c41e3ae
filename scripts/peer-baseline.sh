#!/usr/bin/env bash
# Runs the PyTorch peer (scripts/reference/peer_train.py, official Depth Anything V2 + plain
# PyTorch LoRA) on the shapes `lora benchmark` is compared on, and appends one JSON line per run
# to OUT (default bench/baselines/peer-<date>.jsonl), each tagged with the machine it ran on.
#   scripts/peer-baseline.sh [OUT]
# Needs /usr/bin/python3 with torch, and DA2_REPO pointing at a Depth-Anything-V2 checkout.
# PEER_BLAS_DIR=DIR runs the peer with DIR first on LD_LIBRARY_PATH (e.g. an unpacked
# libopenblas0-pthread: Debian's torch otherwise calls the reference BLAS, ~20x slower on linear
# layers), and its lines say "+blas:<DIR's last component>" in "peer".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peer="${PEER_TRAIN:-$root/scripts/reference/peer_train.py}"
out="${1:-$root/bench/baselines/peer-$(date +%Y-%m-%d).jsonl}"
threads="${THREADS:-2}"
: "${DA2_REPO:?set DA2_REPO to a Depth-Anything-V2 checkout}"
mkdir -p "$(dirname "$out")"
machine="$(uname -m) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
blas="$(/usr/bin/python3 -c 'import torch,re; m=re.search(r"BLAS_INFO=(\w+)", torch.__config__.show()); print(m.group(1) if m else "?")')"
ldpath="${LD_LIBRARY_PATH:-}"
if [[ -n "${PEER_BLAS_DIR:-}" ]]; then
  ldpath="$PEER_BLAS_DIR${ldpath:+:$ldpath}"; blas="$(basename "$PEER_BLAS_DIR")"
else
  blas="$blas:$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo '?')"
fi
run() {
  local line
  line="$(LD_LIBRARY_PATH="$ldpath" OPENBLAS_NUM_THREADS="$threads" DA2_REPO="$DA2_REPO" \
      /usr/bin/python3 "$peer" --arch vits --rank 8 --alpha 8 --threads "$threads" "$@")"
  # tag the line with the machine and the load average before the run (the CPU may be shared)
  /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(blas=sys.argv[5], machine=sys.argv[2], loadavg_before=sys.argv[3], date=sys.argv[4]); d["peer"] += ("+blas:" + sys.argv[5]) if sys.argv[6] else ""; print(json.dumps(d))' \
      "$line" "$machine" "$load" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$blas" "${PEER_BLAS_DIR:-}" | tee -a "$out"
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
}
run --targets qkv          --batch 4 --height 84  --width 140 --images 11 --epochs 3
run --targets qkv,proj,mlp --batch 4 --height 84  --width 140 --images 11 --epochs 3
run --targets qkv          --batch 1 --height 518 --width 518 --images 2  --epochs "${EPOCHS_518:-4}"
