"""Shared pieces of the bench/compare_*.py drivers: a safetensors reader, the striped_hyena encoder in PyTorch
with hyenavk's weights, a median timer, the `hyenavk init`/`bench`/`run` steps for one length and the JSON
record every peer comparison appends.
"""

import json
import os
import statistics
import struct
import subprocess
import sys
import time
from dataclasses import dataclass

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
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}; this script reads F32 models")
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
    device = sd[name + "_dense1.kernel"].device
    pos = (torch.arange(taps, dtype=torch.float32, device=device) / max(taps - 1, 1)).unsqueeze(1)
    h = torch.sin(dense(pos, sd, name + "_dense1"))
    h = torch.sin(dense(h, sd, name + "_dense2"))
    return dense(h, sd, name + "_dense3")  # [taps, H]


def fft_conv(v, spectrum, n):
    L = v.shape[1]
    return torch.fft.irfft(torch.fft.rfft(v, n=n, dim=1) * spectrum, n=n, dim=1)[:, :L, :]


def direct_conv(v, kernel):
    """y[t] = sum_{j<=t} h[j] v[t-j] for kernel = h reversed in time, [C, 1, taps]: a grouped conv1d that ONNX
    can express (torch 1.13 cannot export its FFT). Padded on the left only, so no outputs past L are made."""
    taps = kernel.shape[-1]
    y = torch.nn.functional.conv1d(torch.nn.functional.pad(v.transpose(1, 2), (taps - 1, 0)), kernel,
                                   groups=v.shape[-1])
    return y.transpose(1, 2)


class Encoder:
    """The forward of SPEC.md's striped_hyena; filters and their spectra made once, as hyenavk does at load.
    long_conv "fft" convolves by FFT, "direct" by a causal grouped conv1d (for ONNX export)."""

    def __init__(self, config, sd, length, long_conv="fft"):
        if long_conv not in ("fft", "direct"):
            raise ValueError(f"long_conv {long_conv!r}: fft or direct")
        self.c, self.sd, self.long_conv = config, sd, long_conv
        taps = min(config["seq_len"] or config["window_size"], length)
        self.n = 1 << (2 * length - 1).bit_length()
        self.spectra, self.kernels = {}, {}
        for i in range(1, config["num_layers"] + 1, 2):
            for k in range(config["order"]):
                h = implicit_filter(sd, f"hyena_block_{i}_filter{k}", config["seq_len"] or config["window_size"])
                if long_conv == "fft":
                    self.spectra[(i, k)] = torch.fft.rfft(h[:taps], n=self.n, dim=0)
                else:
                    self.kernels[(i, k)] = h[:taps].T.flip(-1).unsqueeze(1).contiguous()  # [H, 1, taps]

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
                    if self.long_conv == "fft":
                        y = fft_conv(y, self.spectra[(i, k)], self.n)
                    else:
                        y = direct_conv(y, self.kernels[(i, k)])
                    y = y * proj[..., (k + 1) * H:(k + 2) * H]
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


def time_forward(forward, x, seconds):
    """Median ms of forward(x) after one warm-up: at least 3 runs, then more while under `seconds` (1000 at most).
    Returns the median and the last output. On CUDA each forward is timed to its completion."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    with torch.no_grad():
        forward(x)
        sync()
        times = []
        start = time.perf_counter()
        while len(times) < 3 or (time.perf_counter() - start < seconds and len(times) < 1000):
            t0 = time.perf_counter()
            out = forward(x)
            sync()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), out


@dataclass
class HyenavkRun:
    model: str  # the .safetensors that `hyenavk init` wrote
    input: str  # x.npy, [1, L, embed_dim]
    x: numpy.ndarray
    output: numpy.ndarray  # `hyenavk run` on x
    ms: float  # `hyenavk bench` median
    device: str


def run_hyenavk(hyenavk, workdir, length, embed_dim, seconds):
    """The hyenavk side of a comparison at one length: a default encoder with window_size = length, its bench
    median, and its output for a random input seeded by the length (so every peer sees the same x)."""
    model = os.path.join(workdir, f"encoder_{length}.safetensors")
    subprocess.run([hyenavk, "init", "--out", model, "--embed-dim", str(embed_dim), "--window-size", str(length),
                    "--seed", "1"], check=True, capture_output=True)
    bench = subprocess.run([hyenavk, "bench", "--model", model, "--lengths", str(length), "--json", "--seconds",
                            str(seconds)], check=True, capture_output=True, text=True)
    result = json.loads(bench.stdout.strip().splitlines()[-1])
    x = numpy.random.default_rng(length).uniform(-1, 1, size=(1, length, embed_dim)).astype(numpy.float32)
    x_path = os.path.join(workdir, f"x_{length}.npy")
    y_path = os.path.join(workdir, f"y_{length}.npy")
    numpy.save(x_path, x)
    subprocess.run([hyenavk, "run", "--model", model, "--input", x_path, "--output", y_path], check=True,
                   capture_output=True)
    return HyenavkRun(model, x_path, x, numpy.load(y_path), result["ms_median"], result["device"])


def max_rel_err(a, reference):
    if a.shape != reference.shape:
        raise ValueError(f"output shapes differ: {a.shape} and {reference.shape}")
    return float(numpy.abs(a - reference).max() / max(numpy.abs(reference).max(), 1e-30))


def record(length, batch, peer, device, hyenavk_ms, peer_ms, err, threads, **extra):
    """The JSON record every peer comparison appends; ratio above 1: hyenavk is faster."""
    return {"L": length, "B": batch, "peer": peer, "device": device, "hyenavk_ms": hyenavk_ms, "peer_ms": peer_ms,
            "ratio": peer_ms / hyenavk_ms, "max_rel_err": err, "threads": threads, **extra}


def append_json(path, obj):
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")
