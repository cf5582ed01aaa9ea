// The conformance cases of tests/conformance (see its README) and two drivers that run them: this Node host,
// and the Rust CLI (for blessing expected texts, and to show that both hosts pass the same cases).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as commands from '../src/commands.js';
import { Store } from '../src/storage.js';
import { toPrettyJson } from '../src/json.js';
import { ACCESS_TOKEN, APP_SECRET, CONFORMANCE, FIXTURES, REPO, malformedSignatures, readJson, signatures } from './helpers.js';

/** When every delivery of the suite is received (inbound_fixtures.rs RECEIVED_AT). */
export const RECEIVED_AT = '2026-11-12T10:00:00Z';

const caseFiles = (dir) => fs.readdirSync(path.join(CONFORMANCE, dir))
  .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), file: path.join(CONFORMANCE, dir, f) }));

/** `<case>.expected.json` (or `<case>.<step>.expected.json`) beside a case file. */
export const expectedPath = (file, step) => file.replace(/\.json$/, step === undefined ? '.expected.json' : `.${step}.expected.json`);

export const outboundCases = () => caseFiles('outbound').map((c) => ({ ...c, ...readJson(c.file) }));
export const expiryCases = () => caseFiles('expiry').map((c) => ({ ...c, ...readJson(c.file) }));
export const storageCases = () => caseFiles('storage').map((c) => ({ ...c, ...readJson(c.file) }));
export const inboundCases = () => readJson(path.join(CONFORMANCE, 'inbound/cases.json'));

/** The X-Hub-Signature-256 of a step: `published` (the fixtures' own table), `none`, or a literal value. */
export function signatureFor(fixture, signature) {
  if (signature === 'none') return undefined;
  if (signature !== 'published') return signature;
  const name = path.basename(fixture);
  const table = fixture.startsWith('webhooks/malformed/') ? malformedSignatures() : signatures();
  if (!table[name]) throw new Error(`no published signature for ${fixture}`);
  return table[name];
}

export const fixturePath = (fixture) => path.join(FIXTURES, fixture);
export const repoPath = (file) => path.join(REPO, file);

/** Runs one step of a storage scenario (or an inbound case) on a driver. */
export function runStep(driver, step) {
  if (step.command === 'inbound') {
    return driver.inbound({
      fixture: step.fixture,
      signature: signatureFor(step.fixture, step.signature),
      now: RECEIVED_AT,
      skipShares: step['skip-shares'],
      skipStoryMentions: step['skip-story-mentions'],
    });
  }
  if (step.command === 'filters') {
    return driver.filters({ account: step.account, skipShares: step['skip-shares'], skipStoryMentions: step['skip-story-mentions'] });
  }
  throw new Error(`unknown step command ${step.command}`);
}

/** The Node host as a driver: the CLI's commands over a Host, a fresh in-memory store on `fresh()`. */
export class NodeDriver {
  /** @param {import('../src/host.js').Host} host a host whose HTTP goes to the fake Graph */
  constructor(host) {
    this.base = host;
    this.host = host;
  }

  async fresh() {
    this.host = this.base.withStore(await Store.open());
    this.host.provision('channel/access-token', ACCESS_TOKEN);
  }

  inbound({ fixture, signature, now, skipShares, skipStoryMentions }) {
    const body = fs.readFileSync(fixturePath(fixture));
    return commands.inbound(this.host, { body, appSecret: APP_SECRET, signature, now, skipShares, skipStoryMentions });
  }

  outbound(request) {
    return commands.outbound(this.host, JSON.stringify(request));
  }

  expiry(link) {
    return commands.expiry(this.host, JSON.stringify(link));
  }

  filters(args) {
    return commands.filters(this.host, args);
  }

  rows() {
    return this.host.store.rowCount();
  }
}

/**
 * The Rust CLI as a driver: one process per step, on a SQLite file per scenario. Its `inbound` prints events in
 * struct field order, so that output is re-printed with sorted keys, as the goldens are (see README).
 */
export class RustCliDriver {
  /** @param {{binary: string, wasm?: string, graphUrl: string}} options */
  constructor({ binary, wasm, graphUrl }) {
    this.binary = binary;
    this.common = [...(wasm ? ['--component', wasm] : []), '--graph-url', graphUrl];
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-'));
    this.db = undefined;
    this.count = 0;
  }

  /** A new SQLite file, with the token provisioned (every CLI run provisions it; a read-only command does it now). */
  async fresh() {
    this.db = path.join(this.dir, `store-${this.count++}.db`);
    const out = this.#run(['accounts', 'list']);
    if (out.exit !== 0) throw new Error(`preparing ${this.db}: ${out.stdout}`);
  }

  #run(args) {
    const db = this.db ? ['--db', this.db] : [];
    const result = spawnSync(this.binary, [...this.common, ...db, ...args], {
      env: { ...process.env, MESSENGER_ACCESS_TOKEN: ACCESS_TOKEN, MESSENGER_APP_SECRET: '' },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (result.error) throw result.error;
    return { stdout: result.stdout, exit: result.status };
  }

  #file(name, value) {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, JSON.stringify(value));
    return file;
  }

  inbound({ fixture, signature, now, skipShares, skipStoryMentions }) {
    const args = ['inbound', '--app-secret', APP_SECRET, '--now', now];
    if (signature !== undefined) args.push('--signature', signature);
    if (skipShares) args.push('--skip-shares');
    if (skipStoryMentions) args.push('--skip-story-mentions');
    const out = this.#run([...args, fixturePath(fixture)]);
    return out.exit === 0 ? { ...out, stdout: toPrettyJson(JSON.parse(out.stdout)) + '\n' } : out;
  }

  outbound(request) {
    return this.#run(['outbound', this.#file('request.json', request)]);
  }

  expiry(link) {
    return this.#run(['expiry', this.#file('link.json', link)]);
  }

  filters({ account, skipShares, skipStoryMentions }) {
    const args = ['filters', '--account', account];
    if (skipShares !== undefined) args.push('--skip-shares', String(skipShares));
    if (skipStoryMentions !== undefined) args.push('--skip-story-mentions', String(skipStoryMentions));
    return this.#run(args);
  }

  /** The kv rows of the scenario's SQLite file (read with python3's sqlite3, which understands WAL). */
  rows() {
    if (!fs.existsSync(this.db)) return 0;
    const py = 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from kv").fetchone()[0])';
    const result = spawnSync('python3', ['-c', py, this.db], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`counting rows: ${result.stderr}`);
    return Number(result.stdout.trim());
  }
}
