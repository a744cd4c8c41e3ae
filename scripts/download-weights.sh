#!/usr/bin/env bash
# Downloads the official Depth Anything V2 checkpoints (relative: depth_anything_v2_vit{s,b,l}.pth;
# metric: depth_anything_v2_metric_{hypersim,vkitti}_vit{s,b,l}.pth) from the official Hugging
# Face repositories, resumes interrupted downloads and verifies SHA-256.
# Run with --help for usage. Needs curl and sha256sum (or shasum).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/download-weights.sh [options] MODEL...

Downloads official Depth Anything V2 checkpoints into a folder, resuming partial downloads
(<file>.part) and verifying each file's SHA-256 before giving it its final name.

MODEL: vits | vitb | vitl | all | <metric preset> | all-metric   (several may be given)
  relative (inverse depth without unit):
  vits  depth-anything/Depth-Anything-V2-Small  depth_anything_v2_vits.pth  ~99 MB   (Apache-2.0)
  vitb  depth-anything/Depth-Anything-V2-Base   depth_anything_v2_vitb.pth  ~390 MB  (CC-BY-NC-4.0)
  vitl  depth-anything/Depth-Anything-V2-Large  depth_anything_v2_vitl.pth  ~1.3 GB  (CC-BY-NC-4.0)
  metric (depth in metres; licence: see each model card):
  vits-metric-indoor   depth-anything/Depth-Anything-V2-Metric-Hypersim-Small
                       depth_anything_v2_metric_hypersim_vits.pth  ~99 MB   max_depth 20 m
  vitb-metric-indoor   depth-anything/Depth-Anything-V2-Metric-Hypersim-Base
                       depth_anything_v2_metric_hypersim_vitb.pth  ~390 MB  max_depth 20 m
  vitl-metric-indoor   depth-anything/Depth-Anything-V2-Metric-Hypersim-Large
                       depth_anything_v2_metric_hypersim_vitl.pth  ~1.3 GB  max_depth 20 m
  vits-metric-outdoor  depth-anything/Depth-Anything-V2-Metric-VKITTI-Small
                       depth_anything_v2_metric_vkitti_vits.pth    ~99 MB   max_depth 80 m
  vitb-metric-outdoor  depth-anything/Depth-Anything-V2-Metric-VKITTI-Base
                       depth_anything_v2_metric_vkitti_vitb.pth    ~390 MB  max_depth 80 m
  vitl-metric-outdoor  depth-anything/Depth-Anything-V2-Metric-VKITTI-Large
                       depth_anything_v2_metric_vkitti_vitl.pth    ~1.3 GB  max_depth 80 m
  Keep the official metric file names: lora recognises them as metric (the weights alone
  cannot tell); renamed, give --model-config vits-metric-indoor (...) instead.
  The same metric weights in Hugging Face form (config.json + model.safetensors) are in
  depth-anything/Depth-Anything-V2-Metric-{Indoor,Outdoor}-{Small,Base,Large}-hf; see
  docs/weights.md.

Options:
  -d, --dir DIR          where to put the files (default: weights, where configs/*.yaml look)
  -c, --checksums FILE   expected sums, in `sha256sum` format ("<hex>  <file name>");
                         a listed file must match or the download is rejected
      --no-verify        skip checksum verification (the computed sum is still printed)
  -n, --dry-run          print what would be done, download nothing
  -h, --help             this help

Where the expected SHA-256 comes from, in order: --checksums FILE; otherwise the
X-Linked-Etag header Hugging Face sends for large (LFS) files, which is their SHA-256. If
neither is available, the computed sum is printed and the file is kept, marked unverified.
Set HF_ENDPOINT to use a mirror (default https://huggingface.co).

Examples:
  scripts/download-weights.sh vits
  scripts/download-weights.sh vits-metric-indoor vitl-metric-outdoor
  scripts/download-weights.sh --dir ~/weights --checksums sums.txt vits vitl
USAGE
}

die() { echo "download-weights: $*" >&2; exit 2; }

dir="weights"
checksums=""
verify=1
dry=0
models=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -d|--dir) [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a folder"; dir="$2"; shift 2 ;;
    --dir=*) dir="${1#*=}"; [[ -n "$dir" ]] || die "--dir needs a folder"; shift ;;
    -c|--checksums) [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a file"; checksums="$2"; shift 2 ;;
    --checksums=*) checksums="${1#*=}"; shift ;;
    --no-verify) verify=0; shift ;;
    -n|--dry-run) dry=1; shift ;;
    --) shift; models+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ ${#models[@]} -gt 0 ]] || { usage >&2; die "no MODEL given (vits, vitb, vitl, all, vits-metric-indoor, ... or all-metric)"; }

expanded=()
for m in "${models[@]}"; do
  case "$m" in
    all) expanded+=(vits vitb vitl) ;;
    all-metric) expanded+=(vits-metric-indoor vitb-metric-indoor vitl-metric-indoor
                           vits-metric-outdoor vitb-metric-outdoor vitl-metric-outdoor) ;;
    vits|vitb|vitl) expanded+=("$m") ;;
    vit[sbl]-metric-indoor|vit[sbl]-metric-outdoor) expanded+=("$m") ;;
    vitg|vitg-metric-*) die "$m: the official Giant checkpoint is not publicly released" ;;
    *) die "unknown model '$m' (expected vits, vitb, vitl, all, vit{s,b,l}-metric-{indoor,outdoor} or all-metric)" ;;
  esac
done
if [[ -n "$checksums" && ! -f "$checksums" ]]; then
  die "$checksums: checksums file not found"
fi

size_name() {
  case "$1" in vits) echo Small ;; vitb) echo Base ;; vitl) echo Large ;; esac
}

# official repository and file of a MODEL: "<repo> <file>"
source_of() {
  local m="$1" enc="${1%%-*}"
  case "$m" in
    *-metric-indoor) echo "Depth-Anything-V2-Metric-Hypersim-$(size_name "$enc") depth_anything_v2_metric_hypersim_${enc}.pth" ;;
    *-metric-outdoor) echo "Depth-Anything-V2-Metric-VKITTI-$(size_name "$enc") depth_anything_v2_metric_vkitti_${enc}.pth" ;;
    *) echo "Depth-Anything-V2-$(size_name "$enc") depth_anything_v2_${enc}.pth" ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# expected sum from the checksums file, by file name ("<hex>  <name>" or "<hex> *<name>")
listed_sum() {
  [[ -n "$checksums" ]] || return 0
  awk -v f="$1" '{ n = $2; sub(/^\*/, "", n); sub(/.*\//, "", n); if (n == f) { print tolower($1); exit } }' "$checksums"
}

# Hugging Face answers a HEAD on resolve/ for an LFS file with X-Linked-Etag (its SHA-256)
# and X-Linked-Size, before redirecting to the CDN.
remote_header() {
  local url="$1" name="$2"
  curl -sSI --max-time 30 "$url" 2>/dev/null | tr -d '\r' \
    | awk -v h="$name" 'BEGIN { h = tolower(h) } { k = tolower($1); sub(/:$/, "", k); if (k == h) { v = $2; gsub(/"/, "", v); print v; exit } }'
}

endpoint="${HF_ENDPOINT:-https://huggingface.co}"
endpoint="${endpoint%/}"
command -v curl >/dev/null 2>&1 || die "curl is required"
[[ $dry -eq 1 ]] || mkdir -p "$dir"

status=0
for m in "${expanded[@]}"; do
  read -r repo file <<<"$(source_of "$m")"
  url="$endpoint/depth-anything/$repo/resolve/main/$file"
  dest="$dir/$file"
  part="$dest.part"
  if [[ $dry -eq 1 ]]; then
    echo "would download $url -> $dest (resuming $part if present)"
    exp="$(listed_sum "$file")"
    if [[ $verify -eq 0 ]]; then echo "  checksum: not verified (--no-verify)"
    elif [[ -n "$exp" ]]; then echo "  expected sha256 (from $checksums): $exp"
    else echo "  expected sha256: from Hugging Face's X-Linked-Etag header, if sent"; fi
    continue
  fi

  expected="$(listed_sum "$file")"
  source_of_sum="$checksums"
  size=""
  if [[ -z "$expected" && $verify -eq 1 ]] || [[ ! -f "$dest" ]]; then
    etag="$(remote_header "$url" x-linked-etag || true)"
    size="$(remote_header "$url" x-linked-size || true)"
    if [[ -z "$expected" && "$etag" =~ ^[0-9a-fA-F]{64}$ ]]; then
      expected="$(echo "$etag" | tr 'A-F' 'a-f')"
      source_of_sum="Hugging Face X-Linked-Etag"
    fi
  fi

  if [[ -f "$dest" ]]; then
    echo "$dest exists; checking it"
    work="$dest"
  else
    have=0
    [[ -f "$part" ]] && have=$(stat -c %s "$part" 2>/dev/null || wc -c <"$part")
    if [[ -n "$size" && "$have" -eq "$size" ]]; then
      echo "$part is complete ($have bytes)"
    else
      [[ "$have" -gt 0 ]] && echo "resuming $part at $have bytes"
      echo "downloading $url"
      if ! curl -fL --retry 5 --retry-delay 3 -C - --progress-bar -o "$part" "$url"; then
        echo "download-weights: $file: download failed (run again to resume from $part)" >&2
        status=1
        continue
      fi
    fi
    work="$part"
  fi

  actual="$(sha256_of "$work")"
  echo "sha256 $actual  $file"
  if [[ $verify -eq 1 && -n "$expected" ]]; then
    if [[ "$actual" != "$expected" ]]; then
      echo "download-weights: $work: SHA-256 mismatch (expected $expected from $source_of_sum)" >&2
      if [[ "$work" == "$part" ]]; then
        mv -f "$part" "$part.bad"
        echo "download-weights: kept the bad download as $part.bad; run again to fetch it afresh" >&2
      fi
      status=1
      continue
    fi
    echo "verified against $source_of_sum"
  elif [[ $verify -eq 1 ]]; then
    echo "warning: no expected SHA-256 known for $file; record the sum above (e.g. in a file for --checksums)" >&2
  fi
  [[ "$work" == "$part" ]] && mv -f "$part" "$dest"
  echo "ok: $dest"
done
exit $status
