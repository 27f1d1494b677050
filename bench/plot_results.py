#!/usr/bin/python3
"""Draws and tabulates the peer comparisons that bench/run_peers.sh (or the bench/compare_*.py drivers with
--json) wrote.

Usage: /usr/bin/python3 bench/plot_results.py RESULTS.jsonl [--png OUT.png] [--markdown]
RESULTS.jsonl: an optional {"machine": {...}} line, then one record per peer and length. The PNG has forward
time against L (one line per tool) over the ratio peer ms / hyenavk ms per peer (above 1: hyenavk is faster),
with dashed lines at the 0.5 target and at parity. --markdown prints a table of the same numbers. With neither
option the PNG goes beside RESULTS, with the suffix .png.
"""

import argparse
import json
import os
import sys

PEERS = [("pytorch", "PyTorch"), ("pytorch-cuda", "PyTorch CUDA"), ("onnxruntime", "ONNX Runtime")]
TARGET = 0.5


def read_results(path):
    machine, by_peer = {}, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: {e}")
            if "machine" in obj:
                machine = obj["machine"]
            elif {"L", "peer", "hyenavk_ms", "peer_ms"} <= obj.keys():
                # A length run twice (a driver rerun into the same file) counts its last record.
                by_peer.setdefault(obj["peer"], {})[obj["L"]] = obj
    return machine, by_peer


def hyenavk_times(by_peer):
    """hyenavk's ms per L, from the first peer in PEERS that ran it: the PyTorch run where both ran, so the
    hyenavk line is one series of measurements. Each ratio stays the one its own run measured."""
    times = {}
    for peer, _ in reversed(PEERS):
        for L, r in by_peer.get(peer, {}).items():
            times[L] = r["hyenavk_ms"]
    for peer, records in by_peer.items():  # peers this script does not know yet
        for L, r in records.items():
            times.setdefault(L, r["hyenavk_ms"])
    return dict(sorted(times.items()))


def peer_names(by_peer):
    known = [(p, name) for p, name in PEERS if p in by_peer]
    return known + [(p, p) for p in sorted(by_peer) if p not in dict(PEERS)]


def title(machine, by_peer):
    device = machine.get("vulkan_device") or next(
        (r.get("device") for records in by_peer.values() for r in records.values() if r.get("device")), "")
    parts = [device]
    if machine.get("cpu"):
        parts.append(f"{machine['cpu']}, {machine.get('cores', '?')} cores")
    if machine.get("os"):
        parts.append(machine["os"])
    if machine.get("date"):
        parts.append(machine["date"][:10])
    peers = ", ".join(name for _, name in peer_names(by_peer))
    batches = ", ".join(str(b) for b in sorted({r.get("B", 1) for rs in by_peer.values() for r in rs.values()}))
    return f"hyenavk against {peers}, same weights, B = {batches}\n" + " | ".join(p for p in parts if p)


def fmt_ms(v):
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def markdown(by_peer):
    peers = peer_names(by_peer)
    hv = hyenavk_times(by_peer)
    head = ["L", "hyenavk ms"]
    for _, name in peers:
        head += [f"{name} ms", "ratio"]
    head.append("max rel err")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---:"] * len(head)) + "|"]
    for L, hv_ms in hv.items():
        row = [str(L), fmt_ms(hv_ms)]
        errs = []
        for peer, _ in peers:
            r = by_peer[peer].get(L)
            row += [fmt_ms(r["peer_ms"]), f"{r['peer_ms'] / r['hyenavk_ms']:.2f}"] if r else ["", ""]
            if r and r.get("max_rel_err") is not None:
                errs.append(r["max_rel_err"])
        row.append(f"{max(errs):.1e}" if errs else "")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    note = "ratio = peer ms / hyenavk ms, both timed in the same run (above 1: hyenavk is faster)"
    if len(peers) > 1:
        note += f"; where several peers ran an L, hyenavk ms is from the {peers[0][1]} run"
    lines.append(note + ".")
    return "\n".join(lines)


def plot(machine, by_peer, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

    hv = hyenavk_times(by_peer)
    lengths = list(hv)
    fig, (ax_t, ax_r) = plt.subplots(2, 1, figsize=(9, 8), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    ax_t.plot(lengths, list(hv.values()), "o-", label="hyenavk", color="C0", linewidth=2)
    for i, (peer, name) in enumerate(peer_names(by_peer), 1):
        records = dict(sorted(by_peer[peer].items()))
        Ls = list(records)
        ax_t.plot(Ls, [r["peer_ms"] for r in records.values()], "s-", label=name, color=f"C{i}")
        ax_r.plot(Ls, [r["peer_ms"] / r["hyenavk_ms"] for r in records.values()], "s-", label=name, color=f"C{i}")
    ax_t.set_yscale("log")
    ax_t.set_ylabel("forward time, ms")
    ax_t.legend()
    ax_t.grid(True, which="both", alpha=0.3)
    ax_r.axhline(1.0, color="gray", linestyle="--", linewidth=1, label="parity")
    ax_r.axhline(TARGET, color="C3", linestyle="--", linewidth=1, label=f"target ({TARGET})")
    ax_r.set_yscale("log")
    # Ratios span a decade or two at most: label 1-2-5 steps as plain numbers.
    ax_r.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
    ax_r.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax_r.yaxis.set_minor_locator(NullLocator())
    ax_r.set_ylabel("peer ms / hyenavk ms\n(above 1: hyenavk faster)")
    ax_r.legend()
    ax_r.grid(True, which="both", alpha=0.3)
    ax_r.set_xscale("log", base=2)
    ax_r.set_xlabel("sequence length L (filter taps = L)")
    # Ticks at the lengths measured, written out: 2^k labels hide 60 and friends.
    ax_r.xaxis.set_major_locator(FixedLocator(lengths))
    ax_r.xaxis.set_minor_locator(NullLocator())
    ax_r.set_xticklabels([str(L) for L in lengths])
    fig.suptitle(title(machine, by_peer), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--png", help="write the plot here")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    machine, by_peer = read_results(args.results)
    if not by_peer:
        sys.exit(f"{args.results}: no peer records")
    png = args.png or (None if args.markdown else os.path.splitext(args.results)[0] + ".png")
    if png:
        plot(machine, by_peer, png)
        print(f"wrote {png}", file=sys.stderr)
    if args.markdown:
        print(markdown(by_peer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
