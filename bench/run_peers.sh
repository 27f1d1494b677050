#!/usr/bin/env bash
# Times hyenavk against its peers on this machine and keeps the results:
#   bench/run_peers.sh [HYENAVK] [--lengths 60,256,1024,4096,16384,65536] [--ort-lengths 60,1024] [--seconds S]
#                      [--threads N] [--out FILE.jsonl]
# Installs what is missing (Debian 12, as root), builds hyenavk as tools/run-demo does unless HYENAVK is given,
# installs onnxruntime-node for the ONNX Runtime peer, then appends to bench/results/<date>-<host>-<device>.jsonl
# one line describing the machine followed by the records of bench/compare_torch.py and bench/compare_ort.py,
# and draws them with bench/plot_results.py (a PNG beside the results and a Markdown table on stdout).
# --threads (default: every core) is what the peers may use; lavapipe picks its own (LP_NUM_THREADS).
set -euo pipefail

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit "${1:-2}"; }

hyenavk="" lengths="60,256,1024,4096,16384,65536" ort_lengths="60,1024" seconds="" threads="$(nproc)" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lengths) lengths="$2"; shift 2 ;;
    --ort-lengths) ort_lengths="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [ -z "$hyenavk" ] || usage; hyenavk="$(realpath "$1")"; shift ;;
  esac
done

cd "$(dirname "$0")/.."
python=/usr/bin/python3  # the python3 first on PATH may be a virtual environment without torch
source tools/deps.sh
bench_packages=(python3-torch python3-numpy python3-matplotlib libopenblas0-pthread)
if [ -z "$hyenavk" ]; then
  hyenavk_install_deps "${bench_packages[@]}"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build -j "$(nproc)" --target hyenavk_cli
  hyenavk="$PWD/build/samples/hyenavk"
else
  HYENAVK_PACKAGES=()  # a prebuilt binary needs none of the build tools
  hyenavk_install_deps "${bench_packages[@]}"
fi

# The ONNX Runtime peer is optional: anything missing for it skips it, with the reason.
ort=""
ort_dir=bench/compare_ort
ort_skip() { echo "Skipping the ONNX Runtime peer: $*" >&2; ort=""; }
if [ ! -f bench/compare_ort.py ]; then
  ort_skip "bench/compare_ort.py is absent"
else
  ort=1
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    # By command, not by package: NodeSource's nodejs ships npm and conflicts with Debian's npm package.
    node_packages=(nodejs)
    command -v node >/dev/null && node_packages=()
    command -v npm >/dev/null || node_packages+=(npm)
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends "${node_packages[@]}" >/dev/null || ort_skip "could not install ${node_packages[*]}"
  fi
  if [ -n "$ort" ] && [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
    # npm ci keeps the version the lock file pins; --ignore-scripts: the install script only fetches GPU parts.
    if [ -f "$ort_dir/package-lock.json" ]; then npm_install=(npm ci --ignore-scripts)
    else npm_install=(npm install --ignore-scripts onnxruntime-node); fi
    echo "In $ort_dir: ${npm_install[*]}"
    (cd "$ort_dir" && "${npm_install[@]}") || ort_skip "${npm_install[*]} failed in $ort_dir"
  fi
fi

# The machine line: everything below is cheap to find; the Vulkan device is the one the drivers will use.
machine="$(HYENAVK="$hyenavk" THREADS="$threads" ORT_PACKAGE="$ort_dir/node_modules/onnxruntime-node/package.json" \
  "$python" - <<'EOF'
import datetime, json, os, re, socket, subprocess

import torch

# hyenavk's default device, as the CLI picks it: the first of the most preferred type.
preference = {"discrete GPU": 0, "integrated GPU": 1, "virtual GPU": 2, "CPU": 3}
devices = json.loads(subprocess.run([os.environ["HYENAVK"], "devices", "--json"], check=True,
                                    capture_output=True, text=True).stdout)
device = min(devices, key=lambda d: (preference.get(d["type"], 4), d["index"]))["name"] if devices else ""

cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
mem_kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
os_name = next((line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release")
                if line.startswith("PRETTY_NAME=")), "")

# The BLAS torch really loads (Debian picks it through alternatives): the vendor library where there is one.
torch.ones(8, 8) @ torch.ones(8, 8)
mapped = {line.split()[-1] for line in open("/proc/self/maps") if len(line.split()) >= 6}
vendor = sorted(p for p in mapped if re.match(r"lib(openblas|mkl|blis)", os.path.basename(p)))
generic = sorted(p for p in mapped if os.path.basename(p).startswith("libblas.so"))
blas = vendor or generic
blas = os.path.join(os.path.basename(os.path.dirname(blas[0])), os.path.basename(blas[0])) if blas else None

ort = None
if os.path.isfile(os.environ["ORT_PACKAGE"]):
    with open(os.environ["ORT_PACKAGE"]) as f:
        ort = json.load(f)["version"]

slug = lambda s: re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
tag = slug(socket.gethostname().split(".")[0])[:24] + "-" + slug(device.split(" (")[0])[:32]
print(tag)
print(json.dumps({"machine": {
    "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1), "os": os_name,
    "vulkan_device": device, "torch": torch.__version__, "blas": blas, "onnxruntime": ort,
    "peer_threads": int(os.environ["THREADS"]),
    "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
}}))
EOF
)"
tag="${machine%%$'\n'*}"
machine="${machine#*$'\n'}"

if [ -z "$out" ]; then
  mkdir -p bench/results
  out="bench/results/$(date +%F)-$tag.jsonl"
  # A second run the same day gets its own file rather than mixing with the first.
  n=2
  while [ -e "$out" ]; do out="bench/results/$(date +%F)-$tag-$n.jsonl"; n=$((n + 1)); done
fi
mkdir -p "$(dirname "$out")"
echo "$machine" >> "$out"
echo "Results: $out"

common=(--threads "$threads" --json "$out")
[ -z "$seconds" ] || common+=(--seconds "$seconds")
failed=0
"$python" bench/compare_torch.py "$hyenavk" --lengths "$lengths" "${common[@]}" || failed=1
if [ -n "$ort" ] && [ -n "$ort_lengths" ]; then
  "$python" bench/compare_ort.py "$hyenavk" --lengths "$ort_lengths" "${common[@]}" || failed=1
fi

"$python" bench/plot_results.py "$out" --png "${out%.jsonl}.png" --markdown || failed=1
if [ "$failed" -ne 0 ]; then
  echo "A peer driver failed or found outputs that differ (see above); its records so far are in $out" >&2
  exit 1
fi
