#!/usr/bin/python3
"""Cross-checks hyenavk's `hyena_operator` against an independent PyTorch implementation of SPEC.md section 2.

For each configuration: build a random safari HyenaOperator state dict in torch, save it with torch.save, export
it with tools/export_torch.py, run `hyenavk run` on a random input and compare with this file's own float64
forward (max|out - ref| / max|ref| <= 1e-4). A few checks of the exporter's refusals follow. Prints one line per
check and 'N passed, M failed'; exits non-zero when any failed, 0 with a note when PyTorch is not installed.

Usage: /usr/bin/python3 tests/torch_crosscheck.py PATH/TO/hyenavk
"""

import math
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass

try:
    import numpy
    import torch
except ImportError as missing:
    print(f"torch_crosscheck: skipped: {missing} (needs Debian's python3-torch)")
    sys.exit(0)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORTER = os.path.join(REPO, "tools", "export_torch.py")
TOLERANCE = 1e-4
F64 = torch.float64


@dataclass
class Case:
    d_model: int
    order: int
    l_max: int
    filter_order: int
    emb_dim: int
    num_inner_mlps: int
    modulate: bool = True
    normalized: bool = False
    layout: str = "blocked"
    shift: float = 0.0
    w: float = 1.0
    dtype: str = "f32"
    batch: int = 2           # 0: a single [L, D] sequence
    length: int = 0          # 0: drawn from 1..l_max
    wrap: str = "raw"        # how the checkpoint holds the state dict: raw, state_dict, model, module
    trained: bool = False    # perturb the tensors safari computes at init, as training would

    def describe(self, length):
        batch = f"B {self.batch}" if self.batch else "[L, D]"
        return (f"order {self.order} D {self.d_model} l_max {self.l_max} W {self.filter_order} "
                f"emb_dim {self.emb_dim} mlps {self.num_inner_mlps} modulate {self.modulate} "
                f"normalized {self.normalized} {self.layout} shift {self.shift} w {self.w} {self.dtype} "
                f"{self.wrap}{' trained' if self.trained else ''} {batch} L {length}")


CASES = [
    Case(16, 2, 64, 16, 3, 1),
    Case(12, 2, 40, 8, 5, 2, modulate=False, normalized=True, layout="interleaved", wrap="state_dict"),
    Case(8, 3, 48, 16, 3, 2, wrap="state_dict", trained=True),
    Case(10, 3, 32, 12, 5, 1, normalized=True, layout="interleaved", shift=0.1, length=32),
    Case(6, 4, 40, 8, 5, 2, modulate=False, layout="interleaved", wrap="model", trained=True),
    Case(8, 4, 24, 16, 3, 1, normalized=True, batch=0, wrap="module"),
    Case(16, 3, 64, 16, 5, 2, layout="interleaved", dtype="f16", trained=True),
    Case(8, 2, 16, 8, 3, 2, dtype="bf16", length=1),
    Case(12, 4, 56, 8, 5, 1, shift=-0.05, w=10.0, batch=3, trained=True),
    Case(9, 3, 20, 8, 3, 1, modulate=False, normalized=True, batch=0, length=1),
    Case(32, 2, 128, 64, 3, 2, batch=1, length=128),
    Case(7, 4, 36, 12, 5, 2, normalized=True, layout="interleaved", shift=0.3, wrap="state_dict", trained=True),
    Case(5, 3, 30, 6, 3, 1, layout="blocked", wrap="model", batch=1),
]
PREFIX = "backbone.layers.1.mixer."  # "state_dict" and "model" checkpoints hold a whole network


def mlp(j):
    return f"filter_fn.implicit_filter.{j}"


def random_state_dict(c, gen):
    """safari's HyenaOperator initialisation (float32, as PyTorch keeps it)."""
    D, N, L, W, E, M = c.d_model, c.order, c.l_max, c.filter_order, c.emb_dim, c.num_inner_mlps
    F = D * (N - 1)
    sd = {}

    def uniform(shape, bound):
        return (torch.rand(shape, generator=gen) * 2 - 1) * bound

    def linear(name, fan_in, out, bias=True):
        sd[f"{name}.weight"] = uniform((out, fan_in), 1 / math.sqrt(fan_in))
        if bias:
            sd[f"{name}.bias"] = uniform((out,), 1 / math.sqrt(fan_in))

    linear("in_proj", D, (N + 1) * D)
    linear("out_proj", D, D)
    sd["short_filter.weight"] = uniform(((N + 1) * D, 1, 3), 1 / math.sqrt(3))
    sd["short_filter.bias"] = uniform(((N + 1) * D,), 1 / math.sqrt(3))
    sd["filter_fn.bias"] = torch.randn(F, generator=gen)
    t = torch.linspace(0, 1, L)[None, :, None]
    bands = (E - 1) // 2
    w = 2 * math.pi * torch.linspace(0, L - 1, L)[None, :, None] / L
    f = torch.linspace(1e-4, bands - 1, bands)[None, None]
    z = torch.exp(-1j * f * w)
    sd["filter_fn.pos_emb.z"] = torch.cat([t, z.real, z.imag], dim=-1)
    sd["filter_fn.pos_emb.t"] = t
    freq = c.w * torch.ones(1, W)
    for j in range(M + 1):
        linear(mlp(2 * j), E if j == 0 else W, W)
    linear(mlp(2 * M + 2), W, F, bias=False)
    deltas = torch.linspace(math.log(0.01) / 1.5, math.log(0.01) / 0.3, F)[None, None]
    if c.trained:
        freq = freq * (1 + 0.3 * torch.rand(1, W, generator=gen))
        deltas = deltas * (0.5 + torch.rand(1, 1, F, generator=gen))
        sd["filter_fn.pos_emb.z"] = sd["filter_fn.pos_emb.z"] + 0.1 * torch.randn(1, L, E, generator=gen)
        sd["filter_fn.pos_emb.t"] = t * 1.5
    for j in range(M + 1):
        sd[f"{mlp(2 * j + 1)}.freq"] = freq.clone()  # one shared Sin module, one entry per use
    sd["filter_fn.modulation.deltas"] = deltas
    return sd


def as_module(sd):
    """The state dict as a whole module (plain nn.Modules, so that any process can unpickle it), as some
    training code saves models."""
    root = torch.nn.Module()
    for name, value in sd.items():
        *path, leaf = name.split(".")
        node = root
        for part in path:
            child = dict(node.named_children()).get(part)
            if child is None:
                child = torch.nn.Module()
                node.add_module(part, child)
            node = child
        node.register_buffer(leaf, value)
    return root


def checkpoint(c, sd, gen):
    if c.wrap == "raw":
        return sd, ""
    if c.wrap == "module":
        return as_module(sd), ""
    network = {PREFIX + k: v for k, v in sd.items()}
    # Other layers of the network, which the prefix leaves out.
    network["backbone.layers.0.mixer.in_proj.weight"] = torch.randn(3, 3, generator=gen)
    network["backbone.embedding.weight"] = torch.randn(5, c.d_model, generator=gen)
    return {c.wrap: network, "epoch": 3}, PREFIX


# ---- SPEC.md section 2, in float64 ----

def filter_channels(c, o):
    D, N1 = c.d_model, c.order - 1
    if c.layout == "blocked":
        return torch.arange(o * D, (o + 1) * D)
    return torch.arange(D) * N1 + o


def implicit_filter(c, sd, L):
    z = sd["filter_fn.pos_emb.z"][0, :L, :]
    t = sd["filter_fn.pos_emb.t"][0, :L, 0]
    h = z
    for j in range(c.num_inner_mlps + 1):
        h = torch.sin(sd[f"{mlp(2 * j + 1)}.freq"][0] * (h @ sd[f"{mlp(2 * j)}.weight"].T + sd[f"{mlp(2 * j)}.bias"]))
    h = h @ sd[f"{mlp(2 * c.num_inner_mlps + 2)}.weight"].T
    if c.modulate:
        h = h * (torch.exp(-t[:, None] * sd["filter_fn.modulation.deltas"][0, 0].abs()[None, :]) + c.shift)
    if c.normalized:
        h = h / h.abs().sum(dim=-1, keepdim=True)
    return h


def causal_conv(x, h):
    """y[b, t, c] = sum_{s <= t} h[s, c] x[b, t - s, c], directly."""
    L = x.shape[1]
    y = torch.zeros_like(x)
    for s in range(L):
        y[:, s:, :] += h[s] * x[:, :L - s, :]
    return y


def forward(c, sd, x):
    B, L, D = x.shape
    N = c.order
    C = (N + 1) * D
    u = x @ sd["in_proj.weight"].T + sd["in_proj.bias"]
    taps = sd["short_filter.weight"][:, 0, :]  # [C, 3], tap 2 = the current step
    padded = torch.cat([torch.zeros(B, 2, C, dtype=F64), u], dim=1)
    uc = sd["short_filter.bias"] + sum(taps[:, j] * padded[:, j:j + L, :] for j in range(3))
    chunks = [uc[..., i * D:(i + 1) * D] for i in range(N + 1)]
    v = chunks[N]
    k = implicit_filter(c, sd, L)
    for o in range(N - 1):
        sel = filter_channels(c, o)
        v = v * chunks[N - 1 - o]
        v = causal_conv(v, k[:, sel]) + sd["filter_fn.bias"][sel] * v
    return (v * chunks[0]) @ sd["out_proj.weight"].T + sd["out_proj.bias"]


# ---- running the tools ----

def run(cmd, timeout=600):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def tail(text, lines=6):
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def export_command(c, ckpt, model, prefix):
    cmd = [sys.executable, EXPORTER, ckpt, "--out", model, "--dtype", c.dtype,
           "--modulate", str(c.modulate).lower(), "--normalized", str(c.normalized).lower(), "--shift", repr(c.shift)]
    if prefix:
        cmd += ["--prefix", prefix]
    if c.order > 2 or c.layout != "blocked":
        cmd += ["--filter-layout", c.layout]
    return cmd


def check_case(index, c, L, hyenavk, tmp):
    gen = torch.Generator().manual_seed(1000 + index)
    sd = random_state_dict(c, gen)
    saved, prefix = checkpoint(c, sd, gen)
    ckpt, model = os.path.join(tmp, f"case{index}.pt"), os.path.join(tmp, f"case{index}.safetensors")
    x_path, y_path = os.path.join(tmp, f"x{index}.npy"), os.path.join(tmp, f"y{index}.npy")
    torch.save(saved, ckpt)

    exported = run(export_command(c, ckpt, model, prefix))
    if exported.returncode != 0:
        return False, f"export_torch.py exited {exported.returncode}:\n{tail(exported.stderr)}"
    x = torch.rand(max(c.batch, 1), L, c.d_model, generator=gen) * 2 - 1
    numpy.save(x_path, (x if c.batch else x[0]).numpy())
    ran = run([hyenavk, "run", "--model", model, "--input", x_path, "--output", y_path])
    if ran.returncode != 0:
        return False, f"hyenavk run exited {ran.returncode}:\n{tail(ran.stderr + ran.stdout)}"
    y = torch.from_numpy(numpy.load(y_path)).to(F64)
    expected_shape = tuple(x.shape) if c.batch else tuple(x.shape[1:])
    if tuple(y.shape) != expected_shape:
        return False, f"output shape {tuple(y.shape)}, expected {expected_shape}"

    # The reference sees exactly the stored values: the weights after rounding to the exported dtype.
    narrow = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[c.dtype]
    stored = {k: v.to(narrow).to(F64) for k, v in sd.items()}
    ref = forward(c, stored, x.to(F64))
    if not c.batch:
        ref = ref[0]
    err = ((y - ref).abs().max() / ref.abs().max()).item()
    ok = math.isfinite(err) and err <= TOLERANCE
    return ok, f"relative error {err:.3g}" + ("" if ok else f" > {TOLERANCE}")


def check_refusals(tmp):
    """The exporter's errors: each (name, command builder, expected status, text the message must hold)."""
    c = Case(4, 3, 8, 4, 3, 1)
    sd = random_state_dict(c, torch.Generator().manual_seed(7))
    out = os.path.join(tmp, "refused.safetensors")

    def saved(name, state):
        path = os.path.join(tmp, name)
        torch.save(state, path)
        return path

    extra = dict(sd, **{"filter_fn.extra_scale": torch.ones(3)})
    wrong = dict(sd, **{"out_proj.weight": torch.ones(4, 5)})
    missing = {k: v for k, v in sd.items() if k != "filter_fn.pos_emb.t"}
    good = saved("good.pt", sd)
    checks = [
        ("unknown key under the prefix", [saved("extra.pt", extra), "--filter-layout", "blocked"], 1,
         "filter_fn.extra_scale"),
        ("misshapen tensor", [saved("wrong.pt", wrong), "--filter-layout", "blocked"], 1, "out_proj.weight"),
        ("missing tensor", [saved("missing.pt", missing), "--filter-layout", "blocked"], 1, "filter_fn.pos_emb.t"),
        ("order 3 without --filter-layout", [good], 2, "--filter-layout"),
        ("bad boolean", [good, "--filter-layout", "blocked", "--modulate", "maybe"], 2, "true or false"),
        ("prefix matching nothing", [good, "--filter-layout", "blocked", "--prefix", "nope."], 1, "nope."),
    ]
    results = []
    for name, args, status, text in checks:
        done = run([sys.executable, EXPORTER, *args, "--out", out])
        ok = done.returncode == status and text in done.stderr and not os.path.exists(out)
        detail = f"exit {done.returncode} (expected {status})"
        if not ok:
            detail += ":\n" + tail(done.stderr)
        results.append((f"export_torch.py refuses: {name}", ok, detail))
    return results


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    hyenavk = os.path.abspath(argv[1])
    if not os.access(hyenavk, os.X_OK):
        print(f"torch_crosscheck: {hyenavk} is not an executable", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    torch.set_num_threads(1)
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="hyenavk-crosscheck-") as tmp:
        for index, case in enumerate(CASES):
            L = case.length or random.Random(index).randint(1, case.l_max)
            try:
                ok, detail = check_case(index, case, L, hyenavk, tmp)
            except subprocess.TimeoutExpired as e:
                ok, detail = False, f"timed out: {' '.join(e.cmd[:2])}"
            print(f"{'PASS' if ok else 'FAIL'} {case.describe(L)}: {detail}", flush=True)
            passed, failed = passed + ok, failed + (not ok)
        for name, ok, detail in check_refusals(tmp):
            print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
            passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
