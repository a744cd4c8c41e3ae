#!/usr/bin/env python3
"""Builds an adapter-gradient parity fixture with the official Depth Anything V2 implementation.

The official model (``build(arch)`` of make_fixture.py) gets an existing fixture's weights, then
hand-written LoRA adapters on exactly the layers the toolkit's ``lora.LoraInjector`` adapts:

  * ``targets: [qkv]``: every ``nn.Linear`` whose name ends in ``.attn.qkv``;
  * ``targets: [linear]``: every ``nn.Linear`` under ``pretrained.`` (qkv, proj, fc1, fc2);
  * ``head_convs: true``: every ``nn.Conv2d`` under ``depth_head.`` (the two ConvTranspose2d of
    ``resize_layers`` are not Conv2d and stay unadapted, as in the toolkit).

Adapter maths as ``lora.LoraLinear`` / ``lora.LoraConv2d`` (PEFT's): the layer's output gains
``scaling * B(A(x))`` computed from the layer's own input, ``scaling = alpha / r``, dropout 0.
Linear: A (r, in), B (out, r). Conv: A a k x k convolution in -> r with the base convolution's
stride and padding, B a 1x1 convolution r -> out. A and B are both seeded 0.05 * randn (float32),
so that every adapter gradient is non-zero (except where the official forward never calls the
layer: ``depth_head.scratch.refinenet4.resConfUnit1``, whose gradient is exactly zero).

One backward pass of ``loss = mean((model(x) - t)^2)`` over all B*H*W output values, in float64
(the model converted with ``.double()``; the saved float32 input, target and factors are widened,
so the reference does not depend on float32 kernels; only the official positional-embedding
interpolation stays float32, as ``interpolate_pos_encoding`` casts to float). Cases (``CASES``):
``qkv-r8`` (targets [qkv], r 8, alpha 4) and ``headconv-r4`` (targets [qkv] + head_convs, r 4,
alpha 8: rank-4 conv A's, 4 output channels, and the stride-2 ``depth_head.resize_layers.3``). Usage:

  DA2_REPO=<checkout> /usr/bin/python3 make_grad_fixture.py --weights fixtures/da2-tiny2/weights.pth \
      --arch tiny2 --out fixtures/da2-tiny2-grad

Writes OUT/input.npy (B,3,H,W), OUT/target.npy (B,H,W), per case OUT/<case>-adapters.npz and
OUT/<case>-gradients.npz (keys ``<module>.lora_A.weight`` / ``.lora_B.weight`` in PEFT layout, the
toolkit's ``LoraModel.adapterTensors()`` names; float32) and OUT/manifest.json.
"""
import argparse, hashlib, json, os, sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.environ["DA2_REPO"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixture import build  # noqa: E402
from peer_train import LoRALinear  # noqa: E402

# name -> the toolkit's lora section (targets, r, alpha, head_convs)
CASES = {
    "qkv-r8": dict(targets=["qkv"], r=8, alpha=4.0, head_convs=False),
    "headconv-r4": dict(targets=["qkv"], r=4, alpha=8.0, head_convs=True),
}


class LoRAConv2d(nn.Module):
    """lora.LoraConv2d: base(x) + scale * conv1x1(conv_kxk(x, A, base stride/padding), B)."""
    def __init__(self, base: nn.Conv2d, r: int, alpha: float):
        super().__init__()
        assert base.groups == 1 and base.dilation == (1, 1)
        self.base = base
        k = base.kernel_size
        self.A = nn.Parameter(torch.zeros(r, base.in_channels, k[0], k[1]))
        self.B = nn.Parameter(torch.zeros(base.out_channels, r, 1, 1))
        self.scale = alpha / r

    def forward(self, x):
        h = F.conv2d(x, self.A, None, self.base.stride, self.base.padding)
        return self.base(x) + F.conv2d(h, self.B) * self.scale


def wanted(name, mod, case):
    """lora.LoraInjector.matcher for the target words used here (and head_convs)."""
    if type(mod) is nn.Linear:
        for t in case["targets"]:
            if t == "qkv" and name.endswith(".attn.qkv"):
                return True
            if t == "linear" and name.startswith("pretrained."):
                return True
            if t not in ("qkv", "linear"):
                raise ValueError("target not mirrored here: " + t)
    return case["head_convs"] and type(mod) is nn.Conv2d and name.startswith("depth_head.")


def inject(model, case):
    """Replaces every wanted layer by its adapted version; returns {module name: adapter}."""
    for p in model.parameters():
        p.requires_grad_(False)
    names = [n for n, m in model.named_modules() if wanted(n, m, case)]
    adapters = {}
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        base = getattr(parent, child)
        layer = (LoRALinear if isinstance(base, nn.Linear) else LoRAConv2d)(base, case["r"], case["alpha"])
        setattr(parent, child, layer)
        adapters[name] = layer
    return adapters


def relu_margins(model, x):
    """Smallest |input| of the head's ReLUs, all of them and the output's (output_conv2.3): how far the
    reference is from a kink where a float32 rounding could switch a unit on or off. The final F.relu
    of the official forward only sees output_conv2.3's output (>= 0) and is the identity here."""
    seen = {}
    hooks = [m.register_forward_pre_hook(
        lambda mod, inp, n=n: seen.__setitem__(n, min(seen.get(n, np.inf), inp[0].detach().abs().min().item())))
        for n, m in model.named_modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return min(seen.values()), seen["depth_head.scratch.output_conv2.3"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_case(weights, arch, case, x32, t32, seed, dtype):
    """One forward/backward; returns (loss, {key: factor}, {key: gradient}, modules, ReLU margins)."""
    model, _ = build(arch)
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    adapters = inject(model, case)
    g = torch.Generator().manual_seed(seed)
    values = {}
    for name in sorted(adapters):  # seeded in sorted name order, independent of the module order
        layer = adapters[name]
        for attr, suffix in (("A", ".lora_A.weight"), ("B", ".lora_B.weight")):
            v = 0.05 * torch.randn(getattr(layer, attr).shape, generator=g, dtype=torch.float32)
            getattr(layer, attr).data.copy_(v)
            values[name + suffix] = v.numpy().copy()
    model = model.to(dtype)
    model.eval()  # no dropout or batch norm in the model: train() would compute the same
    x, t = torch.from_numpy(x32).to(dtype), torch.from_numpy(t32).to(dtype)
    y = model(x)
    loss = ((y - t) ** 2).mean()
    loss.backward()
    grads = {}
    for name, layer in adapters.items():
        for attr, suffix in (("A", ".lora_A.weight"), ("B", ".lora_B.weight")):
            p = getattr(layer, attr)
            gr = torch.zeros_like(p) if p.grad is None else p.grad
            grads[name + suffix] = gr.detach().to(torch.float64).numpy()
    return loss.item(), values, grads, list(adapters), relu_margins(model, x)


def rel(a, b):
    d = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / d) if d > 0 else float(np.linalg.norm(a))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="official state_dict of an existing fixture")
    ap.add_argument("--arch", default="tiny2")
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--height", type=int, default=42)
    ap.add_argument("--width", type=int, default=98)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    g = torch.Generator().manual_seed(a.seed)
    x32 = torch.randn(a.batch, 3, a.height, a.width, generator=g, dtype=torch.float32).numpy()
    t32 = torch.rand(a.batch, a.height, a.width, generator=g, dtype=torch.float32).numpy()
    np.save(os.path.join(a.out, "input.npy"), x32)
    np.save(os.path.join(a.out, "target.npy"), t32)
    manifest = dict(
        weights=os.path.relpath(os.path.abspath(a.weights), os.path.abspath(a.out)),
        weights_sha256=sha256(a.weights), arch=a.arch, input="input.npy", target="target.npy",
        loss="mean((model(input) - target)^2) over all B*H*W output values",
        reference="float64 (official model .double(); float32 input, target and factors widened)",
        torch=torch.__version__, cases={})
    for i, (cname, case) in enumerate(CASES.items()):
        loss, values, grads, modules, margin = run_case(a.weights, a.arch, case, x32, t32, a.seed + 1 + i,
                                                        torch.float64)
        loss32, _, grads32, _, _ = run_case(a.weights, a.arch, case, x32, t32, a.seed + 1 + i, torch.float32)
        zero = sorted({k.rsplit(".lora_", 1)[0] for k, v in grads.items() if not np.any(v)})
        np.savez(os.path.join(a.out, cname + "-adapters.npz"), **values)
        np.savez(os.path.join(a.out, cname + "-gradients.npz"), **{k: v.astype(np.float32) for k, v in grads.items()})
        f32 = max(rel(grads32[k].astype(np.float64), grads[k]) for k in grads)
        manifest["cases"][cname] = dict(
            lora=dict(targets=case["targets"], r=case["r"], alpha=case["alpha"], head_convs=case["head_convs"]),
            scaling=case["alpha"] / case["r"], loss=loss, modules=sorted(modules),
            zero_gradient_modules=zero, adapters=cname + "-adapters.npz", gradients=cname + "-gradients.npz",
            relu_margin=margin[0], output_relu_margin=margin[1], torch_float32_max_rel_l2=f32, torch_float32_loss_rel=abs(loss32 - loss) / loss)
        print(cname, "modules", len(modules), "loss %.9f" % loss, "ReLU margins %.3g (output %.3g)" % margin,
              "torch float32 vs float64: grad max rel L2 %.3g, loss rel %.3g" % (f32, abs(loss32 - loss) / loss),
              "zero-gradient", zero)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
