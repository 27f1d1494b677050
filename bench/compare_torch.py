#!/usr/bin/python3
"""Times the striped_hyena encoder in hyenavk against the same model and weights in PyTorch (CPU, fp32, FFT
long convolutions), on the same machine and in the same run, one model per length with filter taps = L.

Usage: /usr/bin/python3 bench/compare_torch.py HYENAVK [--lengths 60,1024,4096] [--embed-dim 287]
       [--threads 2] [--seconds 3] [--torch-device auto|cpu|cuda] [--json OUT.jsonl]
For each L: `hyenavk init` writes a default encoder with window_size = L; `hyenavk bench` times it (median
after a warm-up, in-process); PyTorch runs the same weights (median of forwards after a warm-up, at most
--seconds); the outputs for one random input are compared (`hyenavk run` against PyTorch, bound 1e-4
relative). ratio = PyTorch ms / hyenavk ms: above 1 hyenavk is faster. PyTorch uses whatever BLAS torch
finds: install libopenblas0-pthread for its best (Debian's default reference BLAS is several times slower).
--json appends one record per length, the same for every peer (torch_encoder.record): {"L", "B", "peer":
"pytorch" (or "pytorch-cuda"), "device", "hyenavk_ms", "peer_ms", "ratio", "max_rel_err", "threads"}, plus
"torch_ms" (= peer_ms) and "torch_device". --torch-device auto (the default) runs PyTorch on CUDA where torch
sees a GPU, timing each forward to its completion (torch.cuda.synchronize), else on the CPU.
bench/compare_ort.py does the same against ONNX Runtime.
"""

import argparse
import sys
import tempfile

import torch

from torch_encoder import Encoder, append_json, max_rel_err, read_safetensors, record, run_hyenavk, time_forward


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hyenavk")
    parser.add_argument("--lengths", default="60,1024,4096")
    parser.add_argument("--embed-dim", type=int, default=287)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--torch-device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--json", help="append one JSON object per length to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.torch_device == "auto":
        args.torch_device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.torch_device)
    peer = "pytorch-cuda" if device.type == "cuda" else "pytorch"
    lengths = [int(v) for v in args.lengths.split(",")]
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}; hyenavk {args.hyenavk}")
    print(f"{'L':>8} {'hyenavk ms':>12} {'torch ms':>12} {'ratio':>8} {'max rel err':>12}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for L in lengths:
            hv = run_hyenavk(args.hyenavk, tmp, L, args.embed_dim, args.seconds)
            config, sd = read_safetensors(hv.model)
            sd = {name: t.to(device) for name, t in sd.items()}
            with torch.no_grad():
                encoder = Encoder(config, sd, L)
            torch_ms, theirs = time_forward(encoder, torch.from_numpy(hv.x).to(device), args.seconds)
            theirs = theirs.cpu().numpy()
            err = max_rel_err(hv.output, theirs)
            ratio = torch_ms / hv.ms
            ok = err <= 1e-4
            failed |= not ok
            print(f"{L:>8} {hv.ms:>12.2f} {torch_ms:>12.2f} {ratio:>8.2f} {err:>12.2e}{'' if ok else '  MISMATCH'}",
                  flush=True)
            if args.json:
                append_json(args.json, record(L, 1, peer, hv.device, hv.ms, torch_ms, err, args.threads,
                                              torch_ms=torch_ms, torch_device=device.type))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
