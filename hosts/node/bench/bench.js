// `npm run bench`: what a translation costs under Node. Every figure is a median over rounds after a warm-up
// (as host-harness's bench does), in microseconds per operation, printed as one JSON object.
//   node_translate_text_us    one text message: a fresh instance and a storage transaction per call (what
//                             Host#translate does; the Rust bench's `delivery_us`)
//   node_translate_batch_us   a delivery of 10 messages, the same way
//   node_translate_{text,batch}_reused_instance_us   one instance kept across calls (the Rust bench's
//                             translate_*_wasm_us)
//   node_instantiate_us       a fresh instance alone; node_compile_ms: compiling the core modules
// Options: --quick (fewer rounds), --rounds N, --iters N.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_BUILD_DIR, Host } from '../src/host.js';
import { Store } from '../src/storage.js';

const SECRET = 'bench-app-secret';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const rounds = arg('--rounds', quick ? 5 : 9);
const iters = arg('--iters', quick ? 50 : 200);

/** A signed delivery whose message ids are unique to `n`, so every call does the same fresh work. */
function payload(kind, n) {
  const item = (i, text) => ({
    sender: { id: '1098765432100001' }, recipient: { id: '17841400000000001' }, timestamp: 1_794_474_843_512 + i,
    message: { mid: `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE-bench-${n}-${i}-ZDZD`, text },
  });
  const items = kind === 'batch'
    ? Array.from({ length: 10 }, (_, i) => item(i, 'Do you ship to Busan? 부산도 배송되나요? 🙏'))
    : [item(0, 'Hi! Is the oversized wool coat still available in beige, size M?')];
  const body = Buffer.from(JSON.stringify({ object: 'instagram', entry: [{ time: 1_794_474_843_903, id: '17841400000000001', messaging: items }] }));
  const signature = `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
  return { headers: [['x-hub-signature-256', signature]], body, receivedAt: 1_794_477_600_000 };
}

/** Median, min and max over `rounds` of the per-operation time of `op`, after half a round of warm-up. */
function measure(op, perRound = iters, unit = 1e3) {
  let next = 0;
  for (let i = 0; i < Math.ceil(perRound / 2); i++) op(next++);
  const perOp = [];
  for (let r = 0; r < rounds; r++) {
    let spent = 0;
    for (let i = 0; i < perRound; i++) spent += op(next++);
    perOp.push((spent * unit) / perRound);
  }
  perOp.sort((a, b) => a - b);
  const round3 = (x) => Math.round(x * 1000) / 1000;
  return { median: round3(perOp[Math.floor(perOp.length / 2)]), spread: [round3(perOp[0]), round3(perOp[perOp.length - 1])] };
}

const timed = (work) => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

const host = await Host.load();
const out = {};
const put = (key, stat) => {
  out[key] = stat.median;
  out[`${key}_spread`] = stat.spread;
};
const wasm = JSON.parse(fs.readFileSync(path.join(DEFAULT_BUILD_DIR, 'SOURCE.json'), 'utf8'));
out.component_bytes = wasm.bytes;
const cores = fs.readdirSync(DEFAULT_BUILD_DIR).filter((f) => f.endsWith('.wasm')).map((f) => fs.readFileSync(path.join(DEFAULT_BUILD_DIR, f)));
const compiles = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  await Promise.all(cores.map((bytes) => WebAssembly.compile(bytes)));
  compiles.push(performance.now() - started);
}
out.node_compile_ms = Math.round(compiles.sort((a, b) => a - b)[1] * 1000) / 1000;

const bench = host.withStore(await Store.open(), 'bench');
for (const kind of ['text', 'batch']) {
  const total = (rounds + 1) * iters;
  const payloads = Array.from({ length: total }, (_, n) => payload(kind, n));
  const options = { appSecret: SECRET };
  put(`node_translate_${kind}_us`, measure((i) => timed(() => bench.translate(payloads[i], options))));
}
put('node_instantiate_us', measure(() => {
  const session = bench.store.begin(bench.namespace);
  try {
    return timed(() => bench.instantiateForBench(session));
  } finally {
    session.rollback();
  }
}));
for (const kind of ['text', 'batch']) {
  const payloads = Array.from({ length: (rounds + 1) * iters }, (_, n) => payload(kind, n + 1_000_000));
  const session = bench.store.begin(bench.namespace);
  const instance = bench.instantiateForBench(session);
  put(`node_translate_${kind}_reused_instance_us`, measure((i) => timed(() => instance.inbound.translate(
    { ...payloads[i], receivedAt: BigInt(payloads[i].receivedAt) }, { appSecret: SECRET }))));
  session.rollback();
}
out.node_version = process.version;
out.rounds = rounds;
out.iters = iters;
console.log(JSON.stringify(out, null, 2));
host.close();
