#!/usr/bin/python3
"""Exports a PyTorch checkpoint to a hyenavk model file: safetensors with the model config in its metadata.

Runs with Debian's python3 and python3-torch; writes safetensors itself (Debian has no safetensors package).
"""

import argparse
import json
import os
import re
import struct
import sys
import textwrap

ARCHS = {
    "hyena_operator": "HazyResearch safari's HyenaOperator (standalone_hyena.py or src/models/sequence/hyena.py "
                      "with one head, inner factor 1, no outer mixing, no post-order FFN); the config is inferred "
                      "from the tensor shapes plus the options below",
    "striped_hyena": "a state dict whose keys already are hyenavk's striped_hyena names, passed through with the "
                     "config given by --config",
}

DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16"}

# State-dict entries a supported checkpoint may hold that hyenavk does not need. safari's HyenaOperator keeps
# nothing beyond what hyenavk reads, so this is empty: any other key under the prefix is an error.
KNOWN_HARMLESS = frozenset()

USAGE_ERROR = 2  # the command line is wrong (argparse uses 2 as well)
DATA_ERROR = 1   # the checkpoint cannot be exported


class ExportError(Exception):
    def __init__(self, message, status=DATA_ERROR):
        super().__init__(message)
        self.status = status


def boolean(text):
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


def parse_args(argv):
    archs = "\n".join(textwrap.fill(f"{name}: {what}", 100, initial_indent="  ", subsequent_indent="    ")
                      for name, what in ARCHS.items())
    parser = argparse.ArgumentParser(
        prog="export_torch.py",
        description="Export a PyTorch checkpoint to a hyenavk model file (safetensors, config in __metadata__).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"architectures:\n{archs}\n\n"
               + textwrap.fill("The checkpoint is a .pt/.bin file holding a state dict, a dict with a 'state_dict' "
                               "or 'model' entry, or a whole module. It is unpickled: export only files you trust.",
                               100)
               + "\n\nExit status: 0 on success, 2 for a bad command line, 1 for a checkpoint that cannot be exported.")
    parser.add_argument("checkpoint", help="PyTorch checkpoint (.pt, .bin, .ckpt)")
    parser.add_argument("--out", required=True, help="model file to write (.safetensors)")
    parser.add_argument("--arch", choices=sorted(ARCHS), default="hyena_operator",
                        help="architecture (default hyena_operator)")
    parser.add_argument("--prefix", default="",
                        help="take only the keys that start with this and strip it, e.g. 'layers.3.mixer.' to pick "
                             "one operator out of a whole network; other keys are ignored")
    parser.add_argument("--filter-layout", choices=("blocked", "interleaved"),
                        help="how the D*(order-1) filter channels split into orders: blocked (safari's "
                             "standalone_hyena.py) or interleaved (safari's src/models/sequence/hyena.py); "
                             "required when order > 2, blocked when order = 2 (the two agree)")
    parser.add_argument("--modulate", type=boolean, metavar="true|false",
                        help="the filter's exponential decay window (default true)")
    parser.add_argument("--normalized", type=boolean, metavar="true|false",
                        help="L1-normalise the filter over channels at each step (default false)")
    parser.add_argument("--shift", type=float, help="added to the decay window (default 0.0)")
    parser.add_argument("--config", metavar="FILE.json",
                        help="a JSON object merged key by key over the config written (required for striped_hyena)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="f32", help="storage type (default f32)")
    args = parser.parse_args(argv)

    # The operator's options default to None here so that giving one with another arch can be refused.
    operator_options = {"--filter-layout": "filter_layout", "--modulate": "modulate", "--normalized": "normalized",
                        "--shift": "shift"}
    given = [flag for flag, dest in operator_options.items() if getattr(args, dest) is not None]
    if args.arch != "hyena_operator" and given:
        parser.error(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only to --arch hyena_operator")
    for dest, default in (("modulate", True), ("normalized", False), ("shift", 0.0)):
        if getattr(args, dest) is None:
            setattr(args, dest, default)
    if args.arch == "striped_hyena" and args.config is None:
        parser.error("--arch striped_hyena needs --config FILE.json with the model's options")
    if not os.path.isfile(args.checkpoint):
        parser.error(f"checkpoint '{args.checkpoint}' does not exist or is not a file")
    if args.config is not None and not os.path.isfile(args.config):
        parser.error(f"config '{args.config}' does not exist or is not a file")
    return parser, args


def load_state_dict(path, torch):
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds for a file that is not a checkpoint
        raise ExportError(f"{path}: cannot be read as a PyTorch checkpoint: {e}")
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for entry in ("state_dict", "model"):
            inner = obj.get(entry)
            if isinstance(inner, torch.nn.Module):
                return inner.state_dict()
            if isinstance(inner, dict):
                return inner
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
        raise ExportError(f"{path}: a dict without a 'state_dict' or 'model' entry whose values are not all "
                          f"tensors (keys: {', '.join(sorted(map(str, obj))[:8])})")
    raise ExportError(f"{path}: holds a {type(obj).__name__}, not a state dict")


def select_prefix(state, prefix, path, torch):
    picked = {k[len(prefix):]: v for k, v in state.items() if isinstance(k, str) and k.startswith(prefix)}
    if not picked:
        sample = ", ".join(sorted(map(str, state))[:6])
        raise ExportError(f"{path}: no key starts with '{prefix}' (keys include: {sample})")
    for name, value in picked.items():
        if not isinstance(value, torch.Tensor):
            raise ExportError(f"'{prefix}{name}' is a {type(value).__name__}, not a tensor")
        if not value.is_floating_point():
            raise ExportError(f"'{prefix}{name}' holds {value.dtype}, not floating-point values")
    return picked


def mlp_index(name):
    m = re.fullmatch(r"filter_fn\.implicit_filter\.(\d+)\.weight", name)
    return int(m.group(1)) if m else None


def hyena_operator_expected(D, N, L, E, W, M):
    """SPEC section 2's state-dict keys and PyTorch shapes."""
    F = D * (N - 1)
    shapes = {
        "in_proj.weight": [(N + 1) * D, D], "in_proj.bias": [(N + 1) * D],
        "out_proj.weight": [D, D], "out_proj.bias": [D],
        "short_filter.weight": [(N + 1) * D, 1, 3], "short_filter.bias": [(N + 1) * D],
        "filter_fn.bias": [F],
        "filter_fn.pos_emb.z": [1, L, E], "filter_fn.pos_emb.t": [1, L, 1],
        "filter_fn.modulation.deltas": [1, 1, F],
        f"filter_fn.implicit_filter.{2 * M + 2}.weight": [F, W],
    }
    for j in range(M + 1):
        shapes[f"filter_fn.implicit_filter.{2 * j}.weight"] = [W, E if j == 0 else W]
        shapes[f"filter_fn.implicit_filter.{2 * j}.bias"] = [W]
        shapes[f"filter_fn.implicit_filter.{2 * j + 1}.freq"] = [1, W]
    return shapes


def check_tensors(tensors, expected, prefix):
    missing = [k for k in expected if k not in tensors]
    if missing:
        raise ExportError("missing tensors: " + ", ".join(
            f"'{prefix}{k}' (expected shape {expected[k]})" for k in sorted(missing)))
    unknown = sorted(k for k in tensors if k not in expected and k not in KNOWN_HARMLESS)
    if unknown:
        raise ExportError("unexpected tensors for hyena_operator (not part of safari's HyenaOperator with one "
                          "head, inner factor 1, no outer mixing and no post-order FFN): " +
                          ", ".join(f"'{prefix}{k}'" for k in unknown))
    for k, shape in expected.items():
        if list(tensors[k].shape) != shape:
            raise ExportError(f"tensor '{prefix}{k}' has shape {list(tensors[k].shape)}, expected {shape}")
    return {k: tensors[k] for k in expected}


def need(tensors, name, rank, prefix):
    if name not in tensors:
        raise ExportError(f"missing tensor '{prefix}{name}': cannot infer the model's sizes without it "
                          "(is --arch or --prefix wrong?)")
    t = tensors[name]
    if t.dim() != rank:
        raise ExportError(f"tensor '{prefix}{name}' has shape {list(t.shape)}, expected {rank} dimensions")
    return list(t.shape)


def export_hyena_operator(tensors, args, parser):
    p = args.prefix
    rows, D = need(tensors, "in_proj.weight", 2, p)
    _, L, E = need(tensors, "filter_fn.pos_emb.z", 3, p)
    F = need(tensors, "filter_fn.bias", 1, p)[0]
    W = need(tensors, "filter_fn.implicit_filter.0.weight", 2, p)[0]
    if D == 0 or F == 0 or F % D:
        raise ExportError(f"'{p}filter_fn.bias' has {F} channels, not a positive multiple of d_model {D} "
                          "(several heads or an inner factor above 1 are not supported)")
    N = F // D + 1
    if rows != (N + 1) * D:
        raise ExportError(f"'{p}in_proj.weight' has {rows} rows; order {N} (from the filter's {F} channels) needs "
                          f"(order+1)*d_model = {(N + 1) * D} (an inner factor above 1 is not supported)")
    last = max(i for i in map(mlp_index, tensors) if i is not None)
    if last < 2 or last % 2:
        raise ExportError(f"'{p}filter_fn.implicit_filter.{last}.weight' cannot be the filter MLP's last layer "
                          "(expected an even index >= 2)")
    M = (last - 2) // 2
    if N > 2 and args.filter_layout is None:
        parser.error(f"order is {N}: say how the filter channels split with --filter-layout blocked (safari's "
                     "standalone_hyena.py) or interleaved (safari's src/models/sequence/hyena.py)")
    checked = check_tensors(tensors, hyena_operator_expected(D, N, L, E, W, M), p)
    config = {"arch": "hyena_operator", "d_model": D, "l_max": L, "order": N, "filter_order": W, "emb_dim": E,
              "num_inner_mlps": M, "modulate": args.modulate, "shift": args.shift, "normalized": args.normalized,
              "filter_layout": args.filter_layout or "blocked"}
    return checked, config


def tensor_bytes(name, tensor, dtype, torch):
    t = tensor.detach().to("cpu", torch.float32).contiguous()
    if dtype == "f32":
        return t.numpy().astype("<f4").tobytes()
    narrow = t.to(torch.float16 if dtype == "f16" else torch.bfloat16)
    if bool(torch.isinf(narrow).logical_and(torch.isfinite(t)).any()):
        raise ExportError(f"tensor '{name}' has values beyond the range of {dtype}: export with --dtype f32")
    if dtype == "f16":
        return narrow.numpy().astype("<f2").tobytes()
    return narrow.view(torch.int16).numpy().astype("<i2").tobytes()


def write_safetensors(path, tensors, config, dtype, torch):
    """8-byte little-endian header length, the JSON header padded with spaces to 8 bytes, then the data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        blob = tensor_bytes(name, tensors[name], dtype, torch)
        header[name] = {"dtype": DTYPES[dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"config": json.dumps(config)}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    # Written beside the target and renamed, so a reader never sees half a file.
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise ExportError(f"cannot write '{path}': {e}")


def read_config_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            extra = json.load(f)
    except (OSError, ValueError) as e:
        raise ExportError(f"{path}: {e}", USAGE_ERROR)
    if not isinstance(extra, dict):
        raise ExportError(f"{path}: must hold one JSON object", USAGE_ERROR)
    return extra


def main(argv):
    parser, args = parse_args(argv)
    try:
        import torch
    except ImportError:
        print("export_torch.py: error: PyTorch is not installed (Debian: apt-get install python3-torch)",
              file=sys.stderr)
        return DATA_ERROR
    try:
        extra = read_config_file(args.config) if args.config else {}
        tensors = select_prefix(load_state_dict(args.checkpoint, torch), args.prefix, args.checkpoint, torch)
        if args.arch == "hyena_operator":
            tensors, config = export_hyena_operator(tensors, args, parser)
            # Sizes come from the tensors: a --config that says otherwise describes another model.
            for key in ("d_model", "l_max", "order", "filter_order", "emb_dim", "num_inner_mlps"):
                if key in extra and extra[key] != config[key]:
                    raise ExportError(f"--config says {key} {extra[key]} but the tensors have {config[key]}",
                                      USAGE_ERROR)
        else:
            config = {"arch": "striped_hyena"}
        config.update(extra)
        if config.get("arch") != args.arch:
            raise ExportError(f"--config says arch '{config.get('arch')}' but --arch is '{args.arch}'", USAGE_ERROR)
        write_safetensors(args.out, tensors, config, args.dtype, torch)
    except ExportError as e:
        print(f"export_torch.py: error: {e}", file=sys.stderr)
        return e.status
    print(f"wrote {args.out}: {len(tensors)} tensors ({args.dtype}), config {json.dumps(config)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
