#!/usr/bin/python3
"""Times the striped_hyena encoder in hyenavk against the same model and weights in ONNX Runtime (CPU
provider, fp32, from Node), on the same machine and in the same run, one model per length with filter taps = L.

Usage: /usr/bin/python3 bench/compare_ort.py HYENAVK [--lengths 60,1024] [--embed-dim 287] [--threads 2]
       [--seconds 3] [--json OUT.jsonl] [--keep DIR]
Needs onnxruntime-node once: cd bench/compare_ort && npm ci --ignore-scripts (the Linux CPU library ships in
the package; its install script only fetches optional GPU parts).
For each L: `hyenavk init` writes a default encoder with window_size = L and `hyenavk bench` times it (as
compare_torch.py does); PyTorch exports the same weights to ONNX, with the long convolutions as causal grouped
conv1d (torch 1.13 cannot export its FFT; checked against the FFT form before export); bench/compare_ort/
run_ort.mjs times it in ONNX Runtime (median after a warm-up, at most --seconds, intraOpNumThreads = --threads)
and its output is checked against `hyenavk run` (bound 1e-4 relative). ratio = ONNX Runtime ms / hyenavk ms:
above 1 hyenavk is faster. --json appends the record compare_torch.py does, with "peer": "onnxruntime" and
"ort_version".
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy
import torch

from torch_encoder import Encoder, append_json, max_rel_err, read_safetensors, record, run_hyenavk

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.join(HERE, "compare_ort")
INSTALL = f"cd {RUNNER_DIR} && npm ci --ignore-scripts"


class _Traceable(torch.nn.Module):
    """torch.onnx.export traces modules; the encoder's weights become the graph's initializers."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x)


def export_onnx(config, sd, length, x, path):
    """The encoder at one length as ONNX, after checking its direct convolutions against the FFT ones."""
    with torch.no_grad():
        direct = Encoder(config, sd, length, long_conv="direct")
        err = max_rel_err(direct(x).numpy(), Encoder(config, sd, length)(x).numpy())
        if err > 1e-4:
            sys.exit(f"L {length}: direct convolution differs from the FFT one by {err:.2e} relative")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shapes taken as constants: every length is its own model
            torch.onnx.export(_Traceable(direct), (x,), path, input_names=["x"], output_names=["y"],
                              opset_version=17)
    return err


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hyenavk")
    parser.add_argument("--lengths", default="60,1024")
    parser.add_argument("--embed-dim", type=int, default=287)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", help="append one JSON object per length to this file")
    parser.add_argument("--keep", help="write the models, inputs and outputs here instead of a temporary folder")
    args = parser.parse_args()
    package = os.path.join(RUNNER_DIR, "node_modules", "onnxruntime-node", "package.json")
    if not os.path.isfile(package):
        sys.exit(f"onnxruntime-node is not installed; run: {INSTALL}")
    with open(package) as f:
        ort_version = json.load(f)["version"]
    torch.set_num_threads(args.threads)
    lengths = [int(v) for v in args.lengths.split(",")]
    print(f"onnxruntime-node {ort_version} CPU, {args.threads} threads; torch {torch.__version__} (export); "
          f"hyenavk {args.hyenavk}")
    print(f"{'L':>8} {'hyenavk ms':>12} {'ort ms':>12} {'ratio':>8} {'max rel err':>12}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        for L in lengths:
            hv = run_hyenavk(args.hyenavk, work, L, args.embed_dim, args.seconds)
            config, sd = read_safetensors(hv.model)
            onnx_path = os.path.join(work, f"encoder_{L}.onnx")
            export_onnx(config, sd, L, torch.from_numpy(hv.x), onnx_path)
            ort_out = os.path.join(work, f"y_ort_{L}.npy")
            run = subprocess.run(["node", os.path.join(RUNNER_DIR, "run_ort.mjs"), "--model", onnx_path, "--input",
                                  hv.input, "--output", ort_out, "--seconds", str(args.seconds), "--threads",
                                  str(args.threads)], capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"run_ort.mjs failed:\n{run.stderr}")
            result = json.loads(run.stdout.strip().splitlines()[-1])
            err = max_rel_err(numpy.load(ort_out), hv.output)
            ort_ms = result["ms_median"]
            ok = err <= 1e-4
            failed |= not ok
            print(f"{L:>8} {hv.ms:>12.2f} {ort_ms:>12.2f} {ort_ms / hv.ms:>8.2f} {err:>12.2e}"
                  f"{'' if ok else '  MISMATCH'}", flush=True)
            if args.json:
                append_json(args.json, record(L, 1, "onnxruntime", hv.device, hv.ms, ort_ms, err, args.threads,
                                              ort_version=result["ort_version"] or ort_version))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
