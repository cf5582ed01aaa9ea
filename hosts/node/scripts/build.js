// `npm run build`: transpiles the component with `jco transpile` into build/. The component comes from
// MESSENGER_PLUGIN_WASM, or the one cargo builds. With --if-needed, nothing is done when build/ already holds
// the transpilation of these exact bytes (build/SOURCE.json keeps their SHA-256).

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const hostDir = fileURLToPath(new URL('..', import.meta.url));
const buildDir = path.join(hostDir, 'build');
const wasm = path.resolve(hostDir, process.env.MESSENGER_PLUGIN_WASM ?? '../../target/plugin-wasm/wasm32-wasip2/plugin/messenger_plugin.wasm');

if (!fs.existsSync(wasm)) {
  console.error(`build: no component at ${wasm}; build it (cargo test --workspace builds it) or set MESSENGER_PLUGIN_WASM`);
  process.exit(1);
}
const bytes = fs.readFileSync(wasm);
const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
const require = createRequire(import.meta.url);
// jco's package.json is not in its `exports`: find it from the resolved entry point.
let jcoPackage = require.resolve('@bytecodealliance/jco');
while (!fs.existsSync(path.join(path.dirname(jcoPackage), 'package.json'))) jcoPackage = path.dirname(jcoPackage);
jcoPackage = path.join(path.dirname(jcoPackage), 'package.json');
const jcoVersion = JSON.parse(fs.readFileSync(jcoPackage, 'utf8')).version;
const stamp = { wasm, sha256, bytes: bytes.length, jco: jcoVersion };
const stampFile = path.join(buildDir, 'SOURCE.json');

if (process.argv.includes('--if-needed') && fs.existsSync(stampFile)) {
  const old = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  if (old.sha256 === sha256 && old.jco === jcoVersion) process.exit(0);
}

fs.rmSync(buildDir, { recursive: true, force: true });
// Sync instantiation with an imports object: the host builds the imports itself (storage, http, a WASI that
// grants nothing), compiles the core modules once, and instantiates a fresh instance per call without awaiting.
execFileSync(process.execPath, [
  path.join(path.dirname(jcoPackage), 'dist/jco.js'), 'transpile', wasm,
  '--out-dir', buildDir, '--name', 'messenger', '--instantiation', 'sync', '--no-typescript', '--quiet',
], { stdio: 'inherit' });
fs.writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + '\n');
console.error(`build: transpiled ${wasm} (${bytes.length} bytes, sha256 ${sha256.slice(0, 12)}) with jco ${jcoVersion}`);
