// The same conformance cases on the Rust CLI, when MESSENGER_HARNESS names one: both hosts pass one suite.
// Skipped otherwise (CI runs the Rust side from cargo; see tests/conformance/README.md).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  RECEIVED_AT, RustCliDriver, expectedPath, expiryCases, inboundCases, outboundCases, repoPath, runStep, signatureFor,
  storageCases,
} from './conformance-lib.js';
import { startFakeGraph } from './helpers.js';

const binary = process.env.MESSENGER_HARNESS;

describe('the Rust CLI on the conformance cases', { skip: !binary && 'MESSENGER_HARNESS is not set' }, () => {
  let graph;
  let driver;
  before(async () => {
    graph = await startFakeGraph();
    driver = new RustCliDriver({ binary, wasm: process.env.MESSENGER_PLUGIN_WASM, graphUrl: graph.url });
  });
  after(() => graph?.stop());

  test('outbound and expiry', async () => {
    for (const [cases, run] of [[outboundCases(), (c) => driver.outbound(c.request)], [expiryCases(), (c) => driver.expiry(c.link)]]) {
      for (const c of cases) {
        await driver.fresh();
        const out = run(c);
        assert.equal(out.stdout, fs.readFileSync(expectedPath(c.file), 'utf8'), c.name);
        assert.equal(out.exit, c.exit, c.name);
      }
    }
  });

  test('inbound', async () => {
    const cases = inboundCases();
    for (const c of [...cases.events, ...cases['malformed-items']]) {
      await driver.fresh();
      const out = driver.inbound({ fixture: c.fixture, signature: signatureFor(c.fixture, c.signature), now: RECEIVED_AT });
      assert.equal(out.stdout, fs.readFileSync(repoPath(c.expected), 'utf8'), c.fixture);
    }
    for (const c of cases.errors) {
      await driver.fresh();
      const rows = driver.rows();
      const out = driver.inbound({ fixture: c.fixture, signature: signatureFor(c.fixture, c.signature), now: RECEIVED_AT });
      assert.equal(JSON.parse(out.stdout).error?.code, c.code, c.fixture);
      assert.equal(driver.rows(), rows, c.fixture);
    }
  });

  test('storage scenarios', async () => {
    for (const c of storageCases()) {
      await driver.fresh();
      c.steps.forEach((step, i) => {
        const rows = driver.rows();
        const out = runStep(driver, step);
        assert.equal(out.stdout, fs.readFileSync(expectedPath(c.file, i), 'utf8'), `${c.name} step ${i}`);
        assert.equal(out.exit, step.exit, `${c.name} step ${i}`);
        if (step.rows === 'unchanged') assert.equal(driver.rows(), rows, `${c.name} step ${i}: rows`);
      });
    }
  });
});
