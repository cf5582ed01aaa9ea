// The conformance suite of tests/conformance on this host: every case's output compared byte for byte with
// the expected text that the reference Rust CLI printed (or, for inbound events, the reviewed goldens).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Host } from '../src/host.js';
import {
  NodeDriver, RECEIVED_AT, expectedPath, expiryCases, inboundCases, outboundCases, repoPath, runStep, signatureFor,
  storageCases,
} from './conformance-lib.js';
import { startFakeGraph } from './helpers.js';

let graph;
let driver;
before(async () => {
  graph = await startFakeGraph();
  driver = new NodeDriver(await Host.load({ graphUrl: graph.url }));
});
after(() => {
  driver.base.close();
  graph.stop();
});

/** Asserts an outcome: the exact text, then the exit code (the text says more when both are wrong). */
function assertOutcome(out, expectedText, exit) {
  assert.equal(out.stdout, expectedText);
  assert.equal(out.exit, exit);
}

describe('outbound', () => {
  for (const c of outboundCases()) {
    test(c.name, async () => {
      await driver.fresh();
      assertOutcome(driver.outbound(c.request), fs.readFileSync(expectedPath(c.file), 'utf8'), c.exit);
    });
  }
});

describe('expiry', () => {
  for (const c of expiryCases()) {
    test(c.name, async () => {
      await driver.fresh();
      assertOutcome(driver.expiry(c.link), fs.readFileSync(expectedPath(c.file), 'utf8'), c.exit);
    });
  }
});

describe('inbound', () => {
  const cases = inboundCases();
  const deliver = (c) => driver.inbound({ fixture: c.fixture, signature: signatureFor(c.fixture, c.signature), now: RECEIVED_AT });
  for (const c of [...cases.events, ...cases['malformed-items']]) {
    test(c.fixture, async () => {
      await driver.fresh();
      assertOutcome(deliver(c), fs.readFileSync(repoPath(c.expected), 'utf8'), 0);
    });
  }
  for (const c of cases.errors) {
    test(`${c.fixture} is refused with ${c.code} and stores nothing`, async () => {
      await driver.fresh();
      const rows = driver.rows();
      const out = deliver(c);
      assert.equal(JSON.parse(out.stdout).error?.code, c.code, out.stdout);
      assert.equal(out.exit, 1);
      assert.equal(driver.rows(), rows);
    });
  }
});

describe('storage scenarios', () => {
  for (const c of storageCases()) {
    test(c.name, async () => {
      await driver.fresh();
      c.steps.forEach((step, i) => {
        const rows = driver.rows();
        const out = runStep(driver, step);
        assert.equal(out.stdout, fs.readFileSync(expectedPath(c.file, i), 'utf8'), `step ${i}`);
        assert.equal(out.exit, step.exit, `step ${i}`);
        if (step.rows === 'unchanged') assert.equal(driver.rows(), rows, `step ${i}: rows`);
      });
    });
  }
});
