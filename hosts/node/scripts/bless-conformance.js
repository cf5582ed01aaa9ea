// Writes the expected texts of tests/conformance from the reference Rust CLI (never from this host):
//   MESSENGER_HARNESS=/path/to/messenger-harness [MESSENGER_PLUGIN_WASM=/path/to/plugin.wasm] \
//     node scripts/bless-conformance.js
// It also checks, without writing them, that the CLI still agrees with the inbound goldens in tests/expected
// (those belong to the Rust test suite and are blessed there) and with the error codes of the malformed cases.

import fs from 'node:fs';
import {
  RECEIVED_AT, RustCliDriver, expectedPath, expiryCases, inboundCases, outboundCases, repoPath, runStep, signatureFor,
  storageCases,
} from '../test/conformance-lib.js';
import { startFakeGraph } from '../test/helpers.js';

const binary = process.env.MESSENGER_HARNESS;
if (!binary) {
  console.error('bless: set MESSENGER_HARNESS to the messenger-harness binary to take the expected outputs from');
  process.exit(2);
}
const graph = await startFakeGraph();
const driver = new RustCliDriver({ binary, wasm: process.env.MESSENGER_PLUGIN_WASM, graphUrl: graph.url });
const problems = [];
const save = (file, value) => fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
const strip = ({ name, file, ...data }) => data;

for (const [cases, run] of [[outboundCases(), (c) => driver.outbound(c.request)], [expiryCases(), (c) => driver.expiry(c.link)]]) {
  for (const c of cases) {
    await driver.fresh();
    const out = run(c);
    fs.writeFileSync(expectedPath(c.file), out.stdout);
    save(c.file, { ...strip(c), exit: out.exit });
    console.error(`bless: ${c.file.split('/tests/')[1]}: exit ${out.exit}`);
  }
}

const inbound = inboundCases();
for (const c of inbound.events) {
  await driver.fresh();
  const out = driver.inbound({ fixture: c.fixture, signature: signatureFor(c.fixture, c.signature), now: RECEIVED_AT });
  if (out.exit !== 0 || out.stdout !== fs.readFileSync(repoPath(c.expected), 'utf8')) problems.push(`${c.fixture}: the CLI disagrees with ${c.expected}`);
}
for (const c of inbound['malformed-items']) {
  await driver.fresh();
  const out = driver.inbound({ fixture: c.fixture, signature: signatureFor(c.fixture, c.signature), now: RECEIVED_AT });
  if (out.exit !== 0) problems.push(`${c.fixture}: exit ${out.exit}`);
  fs.writeFileSync(repoPath(c.expected), out.stdout);
}
for (const c of inbound.errors) {
  await driver.fresh();
  const out = driver.inbound({ fixture: c.fixture, signature: signatureFor(c.fixture, c.signature), now: RECEIVED_AT });
  const code = out.exit === 0 ? undefined : JSON.parse(out.stdout).error?.code;
  if (code !== c.code) problems.push(`${c.fixture}: code ${code}, expected ${c.code}`);
}

for (const c of storageCases()) {
  await driver.fresh();
  const steps = c.steps.map((step, i) => {
    const before = driver.rows();
    const out = runStep(driver, step);
    const after = driver.rows();
    if (step.rows === 'unchanged' && after !== before) problems.push(`${c.name} step ${i}: rows ${before} -> ${after}`);
    fs.writeFileSync(expectedPath(c.file, i), out.stdout);
    return { ...step, exit: out.exit };
  });
  save(c.file, { ...strip(c), steps });
  console.error(`bless: storage/${c.name}: ${steps.map((s) => s.exit).join(' ')}`);
}

graph.stop();
if (problems.length) {
  console.error(`bless: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.error('bless: done');
