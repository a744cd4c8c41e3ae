#!/usr/bin/env python3
"""Loads the toolkit's PEFT exports with real peft + transformers and compares predictions.

Usage: python3 scripts/peft-check.py DIR   (DIR made by `scripts/peft-check.sh prepare DIR`)

For each DIR/adapters/<run>: builds DepthAnythingForDepthEstimation for the tiny architecture of
DIR/model.yaml, loads DIR/weights-hf.safetensors (strict), wraps it with
PeftModel.from_pretrained(model, DIR/adapters/<run>), predicts DIR/input_tensor.npy, resizes the
output to the image's size as the official infer_image does (bilinear, align_corners=True) and
compares with the toolkit's DIR/pred/<run>/image.npy. Prints PEFT's trainable-parameter line, the
largest absolute and relative differences, and whether the adapter changed the prediction at all.
Exit status 1 if any run differs by more than --tol (relative to the prediction's range).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from safetensors.torch import load_file
from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config
from peft import PeftModel


def tiny_model(model_yaml: Path) -> DepthAnythingForDepthEstimation:
    m = yaml.safe_load(model_yaml.read_text())["model"]
    d, depth = m["embed_dim"], m["depth"]
    backbone = Dinov2Config(
        hidden_size=d, num_hidden_layers=depth, num_attention_heads=m["num_heads"], mlp_ratio=m["mlp_ratio"],
        patch_size=m["patch_size"], image_size=m["pos_grid"] * m["patch_size"],
        out_indices=[i + 1 for i in m["layer_indices"]], reshape_hidden_states=False, apply_layernorm=True)
    cfg = DepthAnythingConfig(
        backbone_config=backbone, patch_size=m["patch_size"], reassemble_hidden_size=d,
        neck_hidden_sizes=list(m["out_channels"]), fusion_hidden_size=m["features"],
        head_hidden_size=32, depth_estimation_type="relative")
    return DepthAnythingForDepthEstimation(cfg)


def predict(model, x: torch.Tensor, size) -> np.ndarray:
    with torch.no_grad():
        depth = model(pixel_values=x).predicted_depth  # (1, h, w)
        depth = F.interpolate(depth[:, None], size, mode="bilinear", align_corners=True)[0, 0]
    return depth.numpy()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--tol", type=float, default=1e-4, help="max |diff| / range of the prediction")
    a = ap.parse_args()
    x = torch.from_numpy(np.load(a.dir / "input_tensor.npy"))
    hf = load_file(str(a.dir / "weights-hf.safetensors"))
    base_pred = np.load(a.dir / "pred" / "base" / "image.npy")
    size = base_pred.shape

    def fresh():
        m = tiny_model(a.dir / "model.yaml")
        m.load_state_dict(hf, strict=True)
        return m.eval()

    ours = predict(fresh(), x, size)
    rng = float(base_pred.max() - base_pred.min())
    print(f"base: max |HF - toolkit| {np.abs(ours - base_pred).max():.3e} (range {rng:.3e})")
    failed = False
    for ad in sorted(p for p in (a.dir / "adapters").iterdir() if p.is_dir()):
        run = ad.name
        cfg = json.loads((ad / "adapter_config.json").read_text())
        peft_model = PeftModel.from_pretrained(fresh(), str(ad)).eval()
        peft_model.print_trainable_parameters()  # 0 trainable in inference mode; counts below
        n = sum(p.numel() for k, p in peft_model.named_parameters() if "lora_" in k)
        got = predict(peft_model, x, size)
        want = np.load(a.dir / "pred" / run / "image.npy")
        diff = float(np.abs(got - want).max())
        moved = float(np.abs(want - base_pred).max())
        merged = predict(peft_model.merge_and_unload(), x, size)
        mdiff = float(np.abs(merged - want).max())
        ok = diff <= a.tol * rng and mdiff <= a.tol * rng
        failed |= not ok
        print(f"{run}: use_dora={cfg.get('use_dora')} targets={len(cfg['target_modules'])} lora params={n:,} "
              f"max |peft - toolkit| {diff:.3e}, merged {mdiff:.3e}, adapter moved the output by {moved:.3e} "
              f"-> {'OK' if ok else 'DIFFERENT'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
