// Times an ONNX model with ONNX Runtime's CPU provider, for bench/compare_ort.py.
//
// Usage: node run_ort.mjs --model M.onnx --input X.npy --output Y.npy [--seconds 3] [--threads 2]
// The input and output are little-endian float32 .npy files (C order). Prints one JSON line:
// {"ms_median", "runs", "threads", "ort_version"}.

import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import ort from "onnxruntime-node";

function parseArgs(argv) {
  const args = { seconds: 3, threads: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!["model", "input", "output", "seconds", "threads"].includes(key) || i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete option ${argv[i]}`);
    }
    args[key] = ["seconds", "threads"].includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const key of ["model", "input", "output"]) {
    if (!args[key]) throw new Error(`--${key} is required`);
  }
  return args;
}

function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: expected little-endian float32 in C order, header ${header.trim()}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(",").map((s) => s.trim()).filter((s) => s)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  // Copy: the data offset need not be 4-byte aligned within the file's buffer.
  const data = new Float32Array(count);
  Buffer.from(data.buffer).set(buf.subarray(start + headerLen, start + headerLen + count * 4));
  return { data, shape };
}

function writeNpy(path, data, shape) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // Version 1.0: magic, version, uint16 length, then the header padded with spaces to a multiple of 64 bytes.
  header += " ".repeat(64 - ((10 + header.length + 1) % 64 || 64)) + "\n";
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(header, "latin1"),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const args = parseArgs(process.argv.slice(2));
const session = await ort.InferenceSession.create(args.model, {
  executionProviders: ["cpu"],
  intraOpNumThreads: args.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
});
const x = readNpy(args.input);
const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x.data, x.shape) };
const outputName = session.outputNames[0];

// Same schedule as the PyTorch timer: one warm-up, at least 3 runs, then more while under --seconds.
let out = (await session.run(feeds))[outputName];
const times = [];
const start = performance.now();
while (times.length < 3 || (performance.now() - start < args.seconds * 1e3 && times.length < 1000)) {
  const t0 = performance.now();
  out = (await session.run(feeds))[outputName];
  times.push(performance.now() - t0);
}
writeNpy(args.output, out.data, out.dims);
console.log(JSON.stringify({
  ms_median: median(times),
  runs: times.length,
  threads: args.threads,
  ort_version: ort.env.versions?.node ?? null,
}));
