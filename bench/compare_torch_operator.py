#!/usr/bin/python3
"""Times a hyena_operator model in hyenavk against the same model in PyTorch (CPU, fp32, FFT convolution as
safari does it), on the same machine and in the same run.

Usage: /usr/bin/python3 bench/compare_torch_operator.py HYENAVK MODEL.safetensors [--length L] [--batch B]
       [--threads T] [--repeats R]
hyenavk's time is `hyenavk check`'s device forward (after a warm-up, upload and download included); PyTorch's
is the median of R forwards after a warm-up. Both outputs are checked: hyenavk's against its double-precision
reference (inside `check`), PyTorch's against hyenavk's `run` output.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy
import torch

from torch_encoder import read_safetensors


def fft_conv(v, k):
    """Causal convolution of v [B, L, D] with k [L, D] by FFT, as safari's fftconv."""
    L = v.shape[1]
    n = 2 * L
    y = torch.fft.irfft(torch.fft.rfft(v, n=n, dim=1) * torch.fft.rfft(k, n=n, dim=0), n=n, dim=1)
    return y[:, :L, :]


def forward(c, sd, x):
    B, L, D = x.shape
    N = c["order"]
    inner = c["num_inner_mlps"]
    mlp = "filter_fn.implicit_filter"
    u = x @ sd["in_proj.weight"].T + sd["in_proj.bias"]
    uc = torch.nn.functional.conv1d(u.transpose(1, 2), sd["short_filter.weight"], sd["short_filter.bias"],
                                    padding=2, groups=u.shape[-1])[..., :L].transpose(1, 2)
    chunks = [uc[..., i * D:(i + 1) * D] for i in range(N + 1)]
    h = sd["filter_fn.pos_emb.z"][0, :L]
    for j in range(inner + 1):
        h = torch.sin(sd[f"{mlp}.{2 * j + 1}.freq"][0] * (h @ sd[f"{mlp}.{2 * j}.weight"].T + sd[f"{mlp}.{2 * j}.bias"]))
    k = h @ sd[f"{mlp}.{2 * inner + 2}.weight"].T
    if c["modulate"]:
        t = sd["filter_fn.pos_emb.t"][0, :L]
        k = k * (torch.exp(-t * sd["filter_fn.modulation.deltas"][0, 0].abs()) + c["shift"])
    if c["normalized"]:
        k = k / k.abs().sum(dim=-1, keepdim=True)
    v = chunks[N]
    for o in range(N - 1):
        sel = torch.arange(o * D, (o + 1) * D) if c["filter_layout"] == "blocked" else torch.arange(D) * (N - 1) + o
        v = v * chunks[N - 1 - o]
        v = fft_conv(v, k[:, sel]) + sd["filter_fn.bias"][sel] * v
    return (v * chunks[0]) @ sd["out_proj.weight"].T + sd["out_proj.bias"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hyenavk")
    parser.add_argument("model")
    parser.add_argument("--length", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config, sd = read_safetensors(args.model)
    if config.get("arch") != "hyena_operator":
        sys.exit("the model is not a hyena_operator")
    L = args.length or config["l_max"]
    x = torch.rand(args.batch, L, config["d_model"], generator=torch.Generator().manual_seed(0)) * 2 - 1

    with torch.no_grad():
        forward(config, sd, x)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            y = forward(config, sd, x)
            times.append((time.perf_counter() - start) * 1000)
    torch_ms = statistics.median(times)

    with tempfile.TemporaryDirectory() as tmp:
        numpy.save(os.path.join(tmp, "x.npy"), x.numpy())
        subprocess.run([args.hyenavk, "run", "--model", args.model, "--input", os.path.join(tmp, "x.npy"),
                        "--output", os.path.join(tmp, "y.npy")], check=True)
        ours = torch.from_numpy(numpy.load(os.path.join(tmp, "y.npy")))
    agreement = float((ours - y).abs().max() / y.abs().max())
    check = subprocess.run([args.hyenavk, "check", "--model", args.model, "--batch", str(args.batch), "--length",
                            str(L)], capture_output=True, text=True, check=True).stdout
    hyenavk_ms = float(re.search(r"forward ([0-9.]+) ms on the device", check).group(1))
    print(f"hyena_operator D {config['d_model']} order {config['order']} B {args.batch} L {L}")
    print(f"  PyTorch {torch.__version__} CPU fp32, {args.threads} threads: {torch_ms:.1f} ms (median of {args.repeats})")
    print(f"  hyenavk: {hyenavk_ms:.1f} ms ({check.splitlines()[0]})")
    print(f"  ratio PyTorch / hyenavk: {torch_ms / hyenavk_ms:.2f} (above 1: hyenavk is faster)")
    print(f"  outputs agree to {agreement:.2e} relative; {check.splitlines()[1]}")


if __name__ == "__main__":
    main()
