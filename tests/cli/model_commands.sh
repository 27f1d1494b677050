#!/usr/bin/env bash
# The model commands as a user runs them: init, info, check, run, and failures that leave no output behind.
# Usage: model_commands.sh HYENAVK DATA_DIR
set -u
hyenavk=$1
data=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
passes=0
expect() {  # expect NAME STATUS PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if { [ "$want" = 0 ] && [ $status -ne 0 ]; } || { [ "$want" != 0 ] && [ $status -eq 0 ]; } || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL: $name (exit $status)"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: $name"
    passes=$((passes + 1))
  fi
}

expect "init" 0 "wrote" -- "$hyenavk" init --out "$dir/m.safetensors" --embed-dim 6 --hidden-size 8 --num-layers 3 \
  --window-size 5 --filter-size 4 --seed 3
expect "info" 0 "parameters" -- "$hyenavk" info --model "$dir/m.safetensors" --length 9
expect "check" 0 "max relative error .*: ok" -- "$hyenavk" check --model "$dir/m.safetensors" --batch 2 --length 7
expect "run on Edifice's golden input" 0 "" -- "$hyenavk" run --model "$data/edifice-golden/tiny/model.safetensors" \
  --input "$data/edifice-golden/tiny/x.npy" --output "$dir/y.npy"
[ -s "$dir/y.npy" ] || { echo "FAIL: run wrote no output"; failures=$((failures + 1)); }
expect "wrong feature count" 1 "input has 287 features per step, the model takes 6" -- "$hyenavk" run \
  --model "$dir/m.safetensors" --input "$data/edifice-golden/default/x.npy" --output "$dir/bad.npy"
[ ! -e "$dir/bad.npy" ] || { echo "FAIL: a failed run left an output file"; failures=$((failures + 1)); }
echo '{"embed_dim": 6, "colour": 1}' >"$dir/bad.json"
expect "unknown config key" 1 "unknown key 'colour'" -- "$hyenavk" info --model "$dir/m.safetensors" --config "$dir/bad.json"
expect "init without embed_dim" 1 "embed_dim is required" -- "$hyenavk" init --out "$dir/n.safetensors"
[ ! -e "$dir/n.safetensors" ] || { echo "FAIL: a failed init left a file"; failures=$((failures + 1)); }
expect "not a model" 1 "" -- "$hyenavk" run --model "$data/edifice-golden/tiny/x.npy" \
  --input "$data/edifice-golden/tiny/x.npy" --output "$dir/c.npy"
expect "bench" 0 '"L": 9, "ms_median": ' -- "$hyenavk" bench --model "$dir/m.safetensors" --lengths 5,9 --json \
  --seconds 0.05
expect "bench per kernel" 0 '"kernels": \[{"name": .*"long_conv_bandwidth_fraction": [0-9]' -- "$hyenavk" bench \
  --model "$dir/m.safetensors" --lengths 7 --json --seconds 0.05 --kernels
expect "bench, a fixed number of runs" 0 '"runs": 2, "submit_us_median": [0-9]' -- "$hyenavk" bench --model "$dir/m.safetensors" --lengths 6 \
  --json --runs 2
expect "bench with a bad length" 1 "not a length" -- "$hyenavk" bench --model "$dir/m.safetensors" --lengths 5,0
expect "check at fp16" 0 "max relative error .*: ok" -- "$hyenavk" check --model "$dir/m.safetensors" --batch 2 \
  --length 40 --precision fp16
expect "info predicts the memory of a long run" 0 "memory .* MiB at most for B = 1, L = 100000" -- "$hyenavk" info \
  --model "$dir/m.safetensors" --length 100000
expect "a budget too small" 1 "budget" -- "$hyenavk" run --model "$dir/m.safetensors" --memory-budget 16KiB \
  --input "$data/edifice-golden/tiny/x.npy" --output "$dir/d.npy"
[ ! -e "$dir/d.npy" ] || { echo "FAIL: a run beyond the budget left an output file"; failures=$((failures + 1)); }
# A NaN in the input and a truncated model file: named, and no output left behind.
# (Built from head and the shell's printf: the sanitizer pass preloads ASan into every program this script
# starts, and some tools, dd among them, then abort on their own leaks at exit.)
x_size=$(stat -c %s "$data/edifice-golden/tiny/x.npy")
{ head -c $((x_size - 4)) "$data/edifice-golden/tiny/x.npy"; printf '\x00\x00\xc0\x7f'; } >"$dir/nan.npy"
expect "NaN in the input" 1 "input holds NaN at" -- "$hyenavk" run --model "$data/edifice-golden/tiny/model.safetensors" \
  --input "$dir/nan.npy" --output "$dir/e.npy"
[ ! -e "$dir/e.npy" ] || { echo "FAIL: a run on a NaN input left an output file"; failures=$((failures + 1)); }
head -c 20000 "$data/edifice-golden/tiny/model.safetensors" >"$dir/truncated.safetensors"
expect "a truncated model" 1 "run past the end of the file" -- "$hyenavk" run --model "$dir/truncated.safetensors" \
  --input "$data/edifice-golden/tiny/x.npy" --output "$dir/f.npy"
[ ! -e "$dir/f.npy" ] || { echo "FAIL: a run on a truncated model left an output file"; failures=$((failures + 1)); }
echo "$passes passed, $failures failed"
[ $failures -eq 0 ]
