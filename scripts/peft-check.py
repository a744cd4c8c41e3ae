#!/usr/bin/env python3
"""Checks the toolkit's PEFT exports against PyTorch: with real peft (+ transformers for V2) where
they are installed, and, for Depth Anything 3, also by hand in plain torch where they are not.

V2 (Hugging Face transformers' DepthAnythingForDepthEstimation; needs torch, transformers, peft,
safetensors, pyyaml, i.e. a pip environment, not Debian's python3-torch alone):

  python3 scripts/peft-check.py DIR   (DIR made by `scripts/peft-check.sh prepare DIR`)

For each DIR/adapters/<run>: builds DepthAnythingForDepthEstimation for the tiny architecture of
DIR/model.yaml, loads DIR/weights-hf.safetensors (strict), wraps it with
PeftModel.from_pretrained(model, DIR/adapters/<run>), predicts DIR/input_tensor.npy, resizes the
output to the image's size as the official infer_image does (bilinear, align_corners=True) and
compares with the toolkit's DIR/pred/<run>/image.npy. Prints PEFT's trainable-parameter line, the
largest absolute and relative differences, and whether the adapter changed the prediction at all.
Exit status 1 if any run differs by more than --tol (relative to the prediction's range).

Depth Anything 3 (the official DepthAnything3 module, which PEFT wraps itself; issue 26):

  /usr/bin/python3 scripts/peft-check.py --da3 DA3_CHECKOUT DIR
      (DIR made by `scripts/peft-check.sh prepare-da3 DIR` = `scripts/da3-official-check.sh prepare
      DIR`; DA3_CHECKOUT a checkout of github.com/ByteDance-Seed/Depth-Anything-3, imported from
      there, never copied)

DIR holds base/ (the base weights' folder), image.png and, per run, DIR/<run>/peft/ (`lora export
--format peft`), DIR/<run>/merged/ (the merged export) and DIR/<run>/pred/<name>/image.npy
(`lora predict` at --process-res, default 154); DIR itself may be the one run.

What runs where:
- Everywhere (Debian's /usr/bin/python3 with python3-torch 1.13, python3-opencv, python3-pil; the
  official code's missing packages stood in for by scripts/reference/da3shims, the safetensors
  files read by scripts/reference/make_da3_fixture.py): the official DepthAnything3 object is
  built for DIR/base (strict load); every tensor of <run>/peft/adapter_model.safetensors, after
  stripping PEFT's `base_model.model.` and `.lora_A.weight` / `.lora_B.weight`, must name an
  nn.Linear or nn.Conv2d of the official module tree (`named_modules()`), every target_modules
  entry too, with PEFT's shapes (Linear: A r x in, B out x r; Conv2d: A r x in x kh x kw with the
  module's kernel, B out x r x 1 x 1); then W + scale * B A (scale = alpha / r or alpha / sqrt(r)
  with use_rslora, rank_pattern / alpha_pattern matched as PEFT matches them; DoRA's magnitude and
  modules_to_save applied as PEFT does) is written into the official weights by hand and
  DepthAnything3.inference() on DIR/image.png is compared with the toolkit's predictions
  (<run>/pred/merged: `lora predict --weights` on the toolkit's merged export of the same
  checkpoint; <run>/pred/checkpoint: `lora predict --checkpoint`, where that command runs DA3
  checkpoints), and the hand-merged weights with <run>/merged/model.safetensors.
- Only where `peft` is importable (not on the machine this was written on, which has no PyPI):
  PeftModel.from_pretrained(official DepthAnything3, <run>/peft), its inference() and that of
  merge_and_unload(), compared with the same predictions.
Exit status 1 if a name or shape does not match or a relative L2 exceeds --tol (default 1e-4).
"""
import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def tiny_model(model_yaml: Path):
    import yaml
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config
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


def v2_check(a) -> int:
    from safetensors.torch import load_file
    from peft import PeftModel
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

PREFIX = "base_model.model."
LORA = {".lora_A.weight": "A", ".lora_B.weight": "B"}
MAGNITUDE = (".lora_magnitude_vector", ".lora_magnitude_vector.weight", ".lora_magnitude_vector.default",
             ".lora_magnitude_vector.default.weight")


def peft_pattern(patterns: dict, module: str):
    """PEFT's get_pattern_key: a rank_pattern / alpha_pattern key matches a module name's end."""
    for key in patterns:
        if re.match(rf"(.*\.)?({key})$", module):
            return patterns[key]
    return None


def delta(mod, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """B A in the module's weight shape (PEFT's get_delta_weight, without the scale)."""
    if isinstance(mod, torch.nn.Conv2d):
        return torch.einsum("or,rikl->oikl", B[:, :, 0, 0], A)
    return B @ A


def da3_check(a) -> int:
    """Every DIR/<run>/ with a peft/ folder (or DIR itself); base/ and image.png in DIR."""
    os.environ["DA3_REPO"] = a.da3
    sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))
    import make_da3_fixture as mk  # installs the shims, puts the official sources on sys.path

    torch.set_num_threads(1)
    runs = sorted(p.parent for p in a.dir.glob("*/peft") if p.is_dir()) or [a.dir]
    rc = 0
    for run in runs:
        print(f"== {run}")
        rc |= da3_run(a, mk, a.dir, run)
    return rc


def da3_run(a, mk, top: Path, d: Path) -> int:
    """One run folder d: peft/, merged/ (optional), pred/<name>/image.npy."""
    base_sd = mk.read_safetensors(str(top / "base" / "model.safetensors"))

    def fresh():
        api, _ = mk.build_for(str(top / "base"))
        api.load_state_dict(base_sd, strict=True)
        return api.eval()

    def infer(api):
        with torch.no_grad():
            return api.inference([str(top / "image.png")], process_res=a.process_res,
                                 process_res_method="upper_bound_resize").depth[0]

    def rel_l2(got, want):
        return float(np.linalg.norm((got - want).ravel()) / np.linalg.norm(want.ravel()))

    preds = {n: np.load(d / "pred" / n / "image.npy") for n in ("merged", "checkpoint")
             if (d / "pred" / n / "image.npy").is_file()}
    failed = False

    def compare(label, depth):
        nonlocal failed
        for n, want in preds.items():
            e = rel_l2(depth, want)
            ok = e <= a.tol
            failed |= not ok
            print(f"{label} vs toolkit predict ({n}): relative L2 {e:.3g}, max |diff| "
                  f"{float(np.abs(depth - want).max()):.3g} -> {'OK' if ok else 'DIFFERENT'}")

    cfg = json.loads((d / "peft" / "adapter_config.json").read_text())
    ad = mk.read_safetensors(str(d / "peft" / "adapter_model.safetensors"))
    api = fresh()
    modules = dict(api.named_modules())
    params = dict(api.named_parameters())
    pairs, mags, full, problems = {}, {}, {}, []
    for k, t in ad.items():
        if not k.startswith(PREFIX):
            problems.append(f"{k}: no {PREFIX} prefix")
            continue
        name = k[len(PREFIX):]
        suf = next((s for s in LORA if name.endswith(s)), None)
        mag = next((s for s in MAGNITUDE if name.endswith(s)), None)
        if suf:
            pairs.setdefault(name[:-len(suf)], {})[LORA[suf]] = t
        elif mag:
            mags[name[:-len(mag)]] = t
        elif name in params:  # modules_to_save: the trained tensor under the official parameter name
            full[name] = t
        else:
            problems.append(f"{k}: neither a LoRA factor nor a parameter of the official model")
    kinds = {}
    for m, f in sorted(pairs.items()):
        mod = modules.get(m)
        if not isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)):
            problems.append(f"{m}: {type(mod).__name__ if mod is not None else 'no such module'} in the official "
                            "tree (PEFT LoRA needs nn.Linear or nn.Conv2d)")
            continue
        if set(f) != {"A", "B"}:
            problems.append(f"{m}: only lora_{''.join(f)}")
            continue
        A, B, r = f["A"], f["B"], f["A"].shape[0]
        if isinstance(mod, torch.nn.Linear):
            want_a, want_b = (r, mod.in_features), (mod.out_features, r)
        else:
            want_a, want_b = (r, mod.in_channels, *mod.kernel_size), (mod.out_channels, r, 1, 1)
        if tuple(A.shape) != want_a or tuple(B.shape) != want_b:
            problems.append(f"{m}: A {tuple(A.shape)} B {tuple(B.shape)}, the official {type(mod).__name__} "
                            f"{tuple(mod.weight.shape)} needs A {want_a} B {want_b}")
        kinds[type(mod).__name__] = kinds.get(type(mod).__name__, 0) + 1
    targets = cfg.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else targets
    for t in targets:
        if t not in modules:
            problems.append(f"target_modules entry {t}: no such module in the official tree")
        elif t not in pairs:
            problems.append(f"target_modules entry {t}: no lora_A / lora_B in adapter_model.safetensors")
    for m in mags:
        if m not in pairs:
            problems.append(f"{m}: a DoRA magnitude without lora_A / lora_B")
    for m, t in full.items():
        if tuple(t.shape) != tuple(params[m].shape):
            problems.append(f"{m}: modules_to_save tensor {tuple(t.shape)}, official {tuple(params[m].shape)}")
    print(f"names: {len(pairs)} adapted modules ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), "
          f"{len(mags)} DoRA magnitudes, {len(full)} modules_to_save tensors; target_modules {len(targets)}; "
          + ("all name modules of the official DepthAnything3 with PEFT's shapes" if not problems
             else f"{len(problems)} PROBLEMS:\n  " + "\n  ".join(problems)))
    if problems:
        return 1

    # W + scale * B A by hand (and DoRA's m / ||W + s B A|| per output feature, modules_to_save)
    r0, alpha0, rs = cfg["r"], cfg["lora_alpha"], cfg.get("use_rslora", False)
    sd = {k: v.clone() for k, v in base_sd.items()}
    for m, f in pairs.items():
        r = peft_pattern(cfg.get("rank_pattern") or {}, m) or r0
        alpha = peft_pattern(cfg.get("alpha_pattern") or {}, m) or alpha0
        scale = alpha / (math.sqrt(r) if rs else r)
        w = sd[m + ".weight"] + scale * delta(modules[m], f["A"], f["B"])
        if m in mags:
            norm = w.flatten(1).norm(dim=1).view(-1, *([1] * (w.dim() - 1)))
            w = mags[m].view_as(norm) / norm * w
        sd[m + ".weight"] = w
    sd.update(full)
    if (d / "merged" / "model.safetensors").is_file():
        exp = mk.read_safetensors(str(d / "merged" / "model.safetensors"))
        worst = max(float((exp[k] - sd[k]).abs().max()) for k in sd)
        rel = max(float((exp[k] - sd[k]).norm() / sd[k].norm().clamp_min(1e-30)) for k in sd)
        print(f"hand merge vs the toolkit's merged export: max |diff| {worst:.3g}, worst tensor relative L2 {rel:.3g}")
    api.load_state_dict(sd, strict=True)
    hand = infer(api)
    print(f"by hand: the adapter moved the official prediction by relative L2 {rel_l2(hand, infer(fresh())):.3g}")
    compare("official + adapters by hand", hand)

    try:
        from peft import PeftModel
    except ImportError:
        print("peft is not installed here: PeftModel.from_pretrained on the official module NOT run "
              "(run this where `import peft` works)")
        return 1 if failed else 0
    pm = PeftModel.from_pretrained(fresh(), str(d / "peft")).eval()
    pm.print_trainable_parameters()
    compare("PeftModel.from_pretrained(official DepthAnything3)", infer(pm.base_model.model))
    compare("PeftModel ... merge_and_unload()", infer(pm.merge_and_unload()))
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="V2: max |diff| / range of the prediction; DA3: max relative L2")
    ap.add_argument("--da3", metavar="DA3_CHECKOUT", help="Depth Anything 3 mode: the official checkout")
    ap.add_argument("--process-res", type=int, default=154, help="DA3: process_res the predictions were made at")
    a = ap.parse_args()
    return da3_check(a) if a.da3 else v2_check(a)


if __name__ == "__main__":
    sys.exit(main())
