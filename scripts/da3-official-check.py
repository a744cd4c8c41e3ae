#!/usr/bin/env python3
"""Loads a Depth Anything 3 model.safetensors written by this toolkit (`lora export --format
merged` of a DA3 checkpoint, or any folder in the official Hugging Face layout) strictly into the
OFFICIAL DepthAnything3 model and compares the official prediction with the toolkit's.

Runs here (Debian's /usr/bin/python3 with python3-torch 1.13, python3-opencv, python3-pil; no
`safetensors`, `einops`, ... needed: scripts/reference/make_da3_fixture.py reads the file and
scripts/reference/da3shims stands in for the missing packages, as for the fixtures):

  /usr/bin/python3 scripts/da3-official-check.py --repo DA3_CHECKOUT --model DIR --image IMG \\
      --pred TOOLKIT.npy [--pred MORE.npy ...] [--process-res N] [--base BASE_DIR] [--tol 1e-4]

DA3_CHECKOUT: a checkout of github.com/ByteDance-Seed/Depth-Anything-3 (its src/depth_anything_3 is
imported from there; nothing of it is copied into this repository). DIR: model.safetensors +
config.json (+ model.yaml for a non-preset architecture such as the tiny fixtures; without it
config.json must name da3mono-large or da3metric-large). The official model is built from those
sizes with the official classes (make_da3_fixture.build_for), `load_state_dict(..., strict=True)`
(any missing or unexpected key, or a wrong shape, fails the check), then
`DepthAnything3.inference([IMG], process_res=N, process_res_method="upper_bound_resize")`.
Each --pred (`lora predict --process-res N` output, IMG's <stem>.npy, depth at the image's size)
is compared with it; the official depth stays at the processed size, so where that differs from
the image's it is resized as the toolkit documents (bilinear, align_corners=True). Relative L2 and
max |difference| are printed; exit status 1 if a relative L2 exceeds --tol or the load fails.
--base BASE_DIR also loads the base weights and prints how far the merge moved the tensors and
the official prediction (so a pass is not the base model passing). Monocular (DA3MONO) models
only: a DA3METRIC toolkit prediction is in metres or millimetres, this compares the raw output.
scripts/da3-official-check.sh prepares DIR, IMG and the predictions from a short training run.
"""
import argparse
import json
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, help="checkout of ByteDance-Seed/Depth-Anything-3")
    ap.add_argument("--model", required=True, help="folder: model.safetensors + config.json [+ model.yaml]")
    ap.add_argument("--image", required=True)
    ap.add_argument("--pred", action="append", required=True, help="toolkit depth .npy at the image's size")
    ap.add_argument("--process-res", type=int, default=504, help="as lora predict --process-res (default 504)")
    ap.add_argument("--base", help="base weights folder, to show what the merge changed")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative L2 (default 1e-4)")
    a = ap.parse_args()
    os.environ["DA3_REPO"] = a.repo
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
    import numpy as np
    import torch
    import torch.nn.functional as F
    import make_da3_fixture as mk  # installs the shims and puts the official sources on sys.path

    torch.set_num_threads(1)

    def official(d):
        api, cfg = mk.build_for(d)
        if cfg.get("metric"):
            sys.exit(f"{d}: a DA3METRIC model; this check compares monocular (DA3MONO) predictions only")
        sd = mk.read_safetensors(os.path.join(d, "model.safetensors"))
        try:
            res = api.load_state_dict(sd, strict=True)
        except RuntimeError as e:  # strict: missing / unexpected keys or wrong shapes
            print(f"strict load of {d}/model.safetensors into the official DepthAnything3: FAILED\n{e}")
            sys.exit(1)
        own = api.state_dict()
        print(f"strict load of {d}/model.safetensors into the official DepthAnything3: OK "
              f"({len(sd)} tensors = the official state dict's {len(own)}; missing {len(res.missing_keys)}, "
              f"unexpected {len(res.unexpected_keys)})")
        return api.eval(), sd

    def infer(api):
        with torch.no_grad():
            pred = api.inference([a.image], process_res=a.process_res, process_res_method="upper_bound_resize")
        return pred.depth[0]  # (h, w) at the processed size

    def rel_l2(got, want):
        return float(np.linalg.norm((got - want).ravel()) / np.linalg.norm(want.ravel()))

    api, sd = official(a.model)
    depth = infer(api)
    failed = False
    for p in a.pred:
        got = np.load(p).astype(np.float32)
        got = got.reshape(got.shape[-2:])
        want = depth
        if want.shape != got.shape:
            t = torch.from_numpy(np.ascontiguousarray(want))[None, None]
            want = F.interpolate(t, size=got.shape, mode="bilinear", align_corners=True)[0, 0].numpy()
        e = rel_l2(got, want)
        ok = e <= a.tol
        failed |= not ok
        print(f"{p}: toolkit vs official on {a.model}: relative L2 {e:.3g}, max |diff| "
              f"{float(np.abs(got - want).max()):.3g} (depth {want.min():.4g}..{want.max():.4g}, processed "
              f"{depth.shape[1]}x{depth.shape[0]}, compared at {got.shape[1]}x{got.shape[0]}) -> "
              f"{'OK' if ok else 'DIFFERENT'} (tol {a.tol:g})")
    if a.base:
        base_api, base_sd = official(a.base)
        changed = [k for k in sd if not torch.equal(sd[k], base_sd[k])]
        moved = rel_l2(depth, infer(base_api))
        w = json.dumps({k: round(float((sd[k] - base_sd[k]).norm() / base_sd[k].norm()), 6) for k in changed[:3]})
        print(f"merge: {len(changed)} of {len(sd)} tensors differ from {a.base} (first: {w}); the official "
              f"prediction moved by relative L2 {moved:.3g} from the base's")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
