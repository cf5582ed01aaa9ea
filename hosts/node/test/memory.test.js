// The component declares its own linear memory maximum (16 MiB, plugin/build.rs), so this host, which cannot
// cap a wasm memory from outside, has the same bound as the wasmtime host's limiter (wit/world.wit).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_BUILD_DIR } from '../src/host.js';

const MAX_BYTES = 16 << 20;

/** Instantiates a core module alone, with inert stand-ins for its imports, to read what it declares. */
function instantiateAlone(file) {
  const module = new WebAssembly.Module(fs.readFileSync(`${DEFAULT_BUILD_DIR}/${file}`));
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    imports[from][name] = {
      function: () => () => 0,
      memory: () => new WebAssembly.Memory({ initial: 1 }),
      table: () => new WebAssembly.Table({ initial: 1, element: 'anyfunc' }),
      global: () => new WebAssembly.Global({ value: 'i32', mutable: true }, 0),
    }[kind]();
  }
  return new WebAssembly.Instance(module, imports);
}

test('the component memory grows to 16 MiB and not a page further', () => {
  const memory = Object.values(instantiateAlone('messenger.core.wasm').exports).find(
    (e) => e instanceof WebAssembly.Memory,
  );
  assert.ok(memory, 'the main module defines its memory');
  memory.grow(MAX_BYTES / 65536 - memory.buffer.byteLength / 65536);
  assert.equal(memory.buffer.byteLength, MAX_BYTES);
  assert.throws(() => memory.grow(1), RangeError);
});
