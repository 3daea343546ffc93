// Runs TensorFlow Playground's own maths (the peer harness in shared/peer-bench/tfp) on request, so that
// bench/playground.py can interleave it with ours round by round.
//
// The harness's bench.js is loaded as it is (only its final `main();` is left out), so a frame is exactly its
// `oneStep()`: one epoch, the train and test losses, every node over the 100 x 100 grid and every thumbnail.
// "epoch" is the epoch alone, as the harness's parts.js times it.
//
// usage: node tfp_rounds.js <peer folder>; then one request per line on stdin: "<frame|epoch> <case> <seconds>",
// answered by one JSON line {"times_ms": [...]} (a case's session persists between requests).
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");
const readline = require("readline");

const peer = path.resolve(process.argv[2]);
const file = path.join(peer, "bench.js");
const source = fs.readFileSync(file, "utf8").replace(/\nmain\(\);\s*$/, "\nmodule.exports = { makeSession, CASES };\n");
const harness = new Module(file, module);
harness.filename = file;
harness.paths = Module._nodeModulePaths(peer).concat(module.paths);
harness._compile(source, file);
const { makeSession, CASES } = harness.exports;
const nn = require(path.join(peer, "build", "nn.js"));

const sessions = {};
function session(name) {
  if (!CASES[name]) throw new Error(`unknown case ${name}`);
  if (!sessions[name]) {
    const s = makeSession(CASES[name], "0.12345");
    const ids = CASES[name].inputs;
    // The harness's INPUTS in its order (x, y, xSquared, ySquared, xTimesY, sinX, sinY), those enabled.
    const all = { x: (x, y) => x, y: (x, y) => y, xSquared: (x, y) => x * x, ySquared: (x, y) => y * y,
      xTimesY: (x, y) => x * y, sinX: (x) => Math.sin(x), sinY: (x, y) => Math.sin(y) };
    const input = (x, y) => { const a = []; for (const k in all) if (ids.includes(k)) a.push(all[k](x, y)); return a; };
    s.epoch = () => s.trainData.forEach((p, i) => {  // parts.js's epoch: playground.ts oneStep's training loop
      nn.forwardProp(s.network, input(p.x, p.y));
      nn.backProp(s.network, p.label, nn.Errors.SQUARE);
      if ((i + 1) % 10 === 0) nn.updateWeights(s.network, 0.03, 0);
    });
    sessions[name] = s;
  }
  return sessions[name];
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [what, name, seconds] = line.trim().split(/\s+/);
  try {
    const s = session(name);
    const fn = what === "epoch" ? s.epoch : s.oneStep;
    const times = [];
    const end = now() + 1000 * Number(seconds);
    do { const t = now(); fn(); times.push(now() - t); } while (now() < end);
    process.stdout.write(JSON.stringify({ times_ms: times }) + "\n");
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err) }) + "\n");
  }
});
