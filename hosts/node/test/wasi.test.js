// WASI grants nothing: the component imports only what this host provides, sees no environment, and cannot
// end the process or write to its stdio.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_BUILD_DIR } from '../src/host.js';
import { GuestExit, wasiImports } from '../src/wasi.js';

test('the component imports only the WASI interfaces this host provides, and no filesystem, socket or clock', () => {
  const bindings = fs.readFileSync(`${DEFAULT_BUILD_DIR}/messenger.js`, 'utf8');
  const imported = [...new Set([...bindings.matchAll(/imports\['([^']+)'\]/g)].map((m) => m[1]))].sort();
  const provided = Object.keys(wasiImports().imports);
  for (const name of imported.filter((n) => n.startsWith('wasi:'))) {
    assert.ok(provided.includes(name), `${name} is imported but not provided`);
  }
  assert.deepEqual(imported.filter((n) => /^wasi:(filesystem|sockets|clocks|http)\//.test(n)), []);
  assert.deepEqual(imported.filter((n) => n.startsWith('helpdesk:')), [
    'helpdesk:messenger-connector/http',
    'helpdesk:messenger-connector/storage',
  ]);
});

test('no environment, arguments or cwd; exit ends the call, not the process; stdio swallowed', () => {
  const { imports, stdout, stderr } = wasiImports();
  assert.deepEqual(imports['wasi:cli/environment'].getEnvironment(), []);
  assert.deepEqual(imports['wasi:cli/environment'].getArguments(), []);
  assert.equal(imports['wasi:cli/environment'].initialCwd(), undefined);
  assert.throws(() => imports['wasi:cli/exit'].exit({ tag: 'err' }), GuestExit);
  imports['wasi:cli/stderr'].getStderr().blockingWriteAndFlush(new Uint8Array(5));
  imports['wasi:cli/stdout'].getStdout().write(new Uint8Array(3));
  assert.equal(stderr.swallowed + stdout.swallowed, 8);
  assert.throws(() => imports['wasi:cli/stdin'].getStdin().blockingRead(10n), (e) => e.tag === 'closed');
  const [a, b] = imports['wasi:random/insecure-seed'].insecureSeed();
  assert.equal(typeof a, 'bigint');
  assert.equal(typeof b, 'bigint');
});
