// Shared pieces of the tests: paths, the fake Graph process, and fixtures.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Host } from '../src/host.js';

export const HOST_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO = path.resolve(HOST_DIR, '../..');
/** `shared/fixtures` beside the repository, as the Rust tests find it (override: MESSENGER_FIXTURES). */
export const FIXTURES = process.env.MESSENGER_FIXTURES ?? path.resolve(REPO, '../shared/fixtures');
export const CONFORMANCE = path.join(REPO, 'tests/conformance');
export const APP_SECRET = 'fixture-app-secret';
/** The token the tests provision for the channel (tests/src/lib.rs ACCESS_TOKEN). */
export const ACCESS_TOKEN = 'test-access-token-5f1c';

/** Starts test/fake-graph.js; resolves to `{ url, seen(), stop() }`. */
export async function startFakeGraph() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fake-graph.js', import.meta.url)), FIXTURES], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the fake Graph exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).once('line', resolve);
  });
  const { url } = JSON.parse(line);
  return {
    url,
    /** The requests it received (asked over HTTP, so call it between component calls). */
    seen: async () => (await fetch(`${url}/__seen`)).json(),
    stop: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

/**
 * Registers hooks that start the fake Graph and load a `Host` on it before the tests of the current scope, and stop
 * both after them. The returned object holds `graph` and `host` once they are started.
 */
export function hostOnFakeGraph() {
  const started = {};
  before(async () => {
    started.graph = await startFakeGraph();
    started.host = await Host.load({ graphUrl: started.graph.url });
  });
  after(() => {
    started.host.close();
    started.graph.stop();
  });
  return started;
}

export const webhook = (name) => fs.readFileSync(path.join(FIXTURES, 'webhooks', name));
export const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
export const signatures = () => readJson(path.join(FIXTURES, 'webhooks/signatures.json'));
export const malformedSignatures = () => readJson(path.join(FIXTURES, 'webhooks/malformed/signatures.json'));
