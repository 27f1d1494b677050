#!/usr/bin/python3
"""Times the striped_hyena encoder in hyenavk against the same model and weights in PyTorch (CPU, fp32, FFT
long convolutions), on the same machine and in the same run, one model per length with filter taps = L.

Usage: /usr/bin/python3 bench/compare_torch.py HYENAVK [--lengths 60,1024,4096] [--embed-dim 287]
       [--threads 2] [--seconds 3] [--json OUT.jsonl]
For each L: `hyenavk init` writes a default encoder with window_size = L; `hyenavk bench` times it (median
after a warm-up, in-process); PyTorch runs the same weights (median of forwards after a warm-up, at most
--seconds); the outputs for one random input are compared (`hyenavk run` against PyTorch, bound 1e-4
relative). ratio = PyTorch ms / hyenavk ms: above 1 hyenavk is faster. PyTorch uses whatever BLAS torch
finds: install libopenblas0-pthread for its best (Debian's default reference BLAS is several times slower).
"""

import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    config = json.loads(header.get("__metadata__", {}).get("config", "{}"))
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = numpy.frombuffer(data[8 + n + begin:8 + n + end], dtype="<f4").reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return config, tensors


def layer_norm(x, sd, name, eps=1e-5):
    """Axon's LayerNorm: the inverse deviation is clamped at 1/sqrt(eps) for rows of variance below eps."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    inv = torch.where(var >= eps, torch.rsqrt(var + eps), torch.full_like(var, eps ** -0.5))
    return (x - mean) * inv * sd[name + ".gamma"] + sd[name + ".beta"]


def dense(x, sd, name):
    return x @ sd[name + ".kernel"] + sd[name + ".bias"]


def causal_dwconv(x, sd, name, taps):
    """y[t] = bias + sum_j w[j] x[t + j - (taps - 1)], as a grouped conv1d over [B, C, L]."""
    w = sd[name + ".kernel"].reshape(taps, -1).T.unsqueeze(1)  # [C, 1, taps]
    y = torch.nn.functional.conv1d(x.transpose(1, 2), w, sd[name + ".bias"], padding=taps - 1, groups=x.shape[-1])
    return y[..., :x.shape[1]].transpose(1, 2)


def implicit_filter(sd, name, taps):
    pos = (torch.arange(taps, dtype=torch.float32) / max(taps - 1, 1)).unsqueeze(1)
    h = torch.sin(dense(pos, sd, name + "_dense1"))
    h = torch.sin(dense(h, sd, name + "_dense2"))
    return dense(h, sd, name + "_dense3")  # [taps, H]


def fft_conv(v, spectrum, n):
    L = v.shape[1]
    return torch.fft.irfft(torch.fft.rfft(v, n=n, dim=1) * spectrum, n=n, dim=1)[:, :L, :]


class Encoder:
    """The forward of SPEC.md's striped_hyena; filters and their spectra made once, as hyenavk does at load."""

    def __init__(self, config, sd, length):
        self.c, self.sd = config, sd
        taps = min(config["seq_len"] or config["window_size"], length)
        self.n = 1 << (2 * length - 1).bit_length()
        self.spectra = {}
        for i in range(1, config["num_layers"] + 1, 2):
            for k in range(config["order"]):
                h = implicit_filter(sd, f"hyena_block_{i}_filter{k}", config["seq_len"] or config["window_size"])
                self.spectra[(i, k)] = torch.fft.rfft(h[:taps], n=self.n, dim=0)

    def __call__(self, x):
        c, sd = self.c, self.sd
        H, N = c["hidden_size"], c["order"]
        h = dense(x, sd, "input_projection") if c["embed_dim"] != H else x
        for i in range(1, c["num_layers"] + 1):
            if i % 2 == 1:
                p = f"hyena_block_{i}"
                a = causal_dwconv(layer_norm(h, sd, p + "_norm"), sd, p + "_short_dw_conv", 3)
                proj = dense(a, sd, p + "_proj")
                y = proj[..., :H]
                for k in range(N):
                    y = fft_conv(y, self.spectra[(i, k)], self.n) * proj[..., (k + 1) * H:(k + 2) * H]
            else:
                p = f"gated_conv_block_{i}"
                proj = dense(layer_norm(h, sd, p + "_norm"), sd, p + "_proj")
                conv = causal_dwconv(proj[..., :H], sd, p + "_dw_conv_dw", c["conv_kernel_size"])
                conv = dense(torch.nn.functional.silu(layer_norm(conv, sd, p + "_dw_conv_norm")), sd, p + "_dw_conv_pw")
                y = conv * torch.sigmoid(proj[..., H:])
            h = h + dense(y, sd, p + "_out_proj")
            a = layer_norm(h, sd, p + "_ffn_norm")
            h = h + dense(torch.nn.functional.silu(dense(a, sd, p + "_ffn_gate")) * dense(a, sd, p + "_ffn_up"), sd,
                          p + "_ffn_down")
        return layer_norm(h[:, -1, :], sd, "final_norm")


def time_torch(encoder, x, seconds):
    with torch.no_grad():
        encoder(x)
        times = []
        start = time.perf_counter()
        while len(times) < 3 or (time.perf_counter() - start < seconds and len(times) < 1000):
            t0 = time.perf_counter()
            out = encoder(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hyenavk")
    parser.add_argument("--lengths", default="60,1024,4096")
    parser.add_argument("--embed-dim", type=int, default=287)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", help="append one JSON object per length to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lengths = [int(v) for v in args.lengths.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; hyenavk {args.hyenavk}")
    print(f"{'L':>8} {'hyenavk ms':>12} {'torch ms':>12} {'ratio':>8} {'max rel err':>12}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for L in lengths:
            model = os.path.join(tmp, f"encoder_{L}.safetensors")
            subprocess.run([args.hyenavk, "init", "--out", model, "--embed-dim", str(args.embed_dim),
                            "--window-size", str(L), "--seed", "1"], check=True, capture_output=True)
            bench = subprocess.run([args.hyenavk, "bench", "--model", model, "--lengths", str(L), "--json",
                                    "--seconds", str(args.seconds)], check=True, capture_output=True, text=True)
            result = json.loads(bench.stdout.strip().splitlines()[-1])
            x = numpy.random.default_rng(L).uniform(-1, 1, size=(1, L, args.embed_dim)).astype(numpy.float32)
            numpy.save(os.path.join(tmp, "x.npy"), x)
            subprocess.run([args.hyenavk, "run", "--model", model, "--input", os.path.join(tmp, "x.npy"), "--output",
                            os.path.join(tmp, "y.npy")], check=True, capture_output=True)
            ours = numpy.load(os.path.join(tmp, "y.npy"))
            config, sd = read_safetensors(model)
            with torch.no_grad():
                encoder = Encoder(config, sd, L)
            torch_ms, theirs = time_torch(encoder, torch.from_numpy(x), args.seconds)
            theirs = theirs.numpy()
            err = float(numpy.abs(ours - theirs).max() / max(numpy.abs(theirs).max(), 1e-30))
            ratio = torch_ms / result["ms_median"]
            ok = err <= 1e-4
            failed |= not ok
            print(f"{L:>8} {result['ms_median']:>12.2f} {torch_ms:>12.2f} {ratio:>8.2f} {err:>12.2e}{'' if ok else '  MISMATCH'}",
                  flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps({"L": L, "B": 1, "peer": "pytorch", "device": result["device"],
                                        "hyenavk_ms": result["ms_median"], "torch_ms": torch_ms, "ratio": ratio,
                                        "max_rel_err": err, "threads": args.threads}) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
