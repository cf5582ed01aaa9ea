#!/usr/bin/env node
// The Node host's command line, a subset of `messenger-harness` with the same flags and JSON:
//   messenger-node [--db FILE] [--graph-url URL] [--channel NAME] [--build DIR] COMMAND ...
//   inbound --app-secret S [--signature HDR] [--now T] [--skip-story-mentions] [--skip-shares] BODY|-
//   outbound [--send] REQUEST|-      expiry LINK|-      filters --account ID [--skip-shares BOOL] [--skip-story-mentions BOOL]
//   accounts list                    handshake QUERY   (expected token from MESSENGER_VERIFY_TOKEN)
// MESSENGER_APP_SECRET and MESSENGER_ACCESS_TOKEN work as for the Rust CLI.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as commands from '../src/commands.js';
import { Host } from '../src/host.js';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  strict: true,
  options: {
    db: { type: 'string' }, 'graph-url': { type: 'string' }, channel: { type: 'string' }, build: { type: 'string' },
    'app-secret': { type: 'string' }, signature: { type: 'string' }, now: { type: 'string' },
    'skip-story-mentions': { type: 'string' }, 'skip-shares': { type: 'string' }, send: { type: 'boolean' },
    account: { type: 'string' },
  },
});

const usage = (why) => {
  process.stderr.write(`messenger-node: ${why}\n`);
  process.exit(2);
};
/** A file or `-` for stdin, whole. */
const input = (source) => (source === '-' ? fs.readFileSync(0) : fs.readFileSync(source));
/** `--flag BOOL` for filters; a bare `--skip-*` (no value) for inbound. */
const bool = (text) => (text === undefined ? undefined : text === 'true' ? true : text === 'false' ? false : usage(`not a boolean: ${text}`));

const [command, ...rest] = positionals;
if (!command) usage('a command is needed: inbound, outbound, expiry, filters, accounts list, handshake');
const host = await Host.load({ buildDir: flags.build, storeFile: flags.db, graphUrl: flags['graph-url'], channel: flags.channel });
if (process.env.MESSENGER_ACCESS_TOKEN) host.provision('channel/access-token', process.env.MESSENGER_ACCESS_TOKEN);

let out;
switch (command) {
  case 'inbound':
    out = commands.inbound(host, {
      body: input(rest[0] ?? usage('inbound needs a BODY')),
      appSecret: flags['app-secret'] ?? process.env.MESSENGER_APP_SECRET,
      signature: flags.signature,
      now: flags.now,
      skipStoryMentions: flags['skip-story-mentions'] !== undefined,
      skipShares: flags['skip-shares'] !== undefined,
    });
    break;
  case 'outbound':
    out = commands.outbound(host, input(rest[0] ?? usage('outbound needs a REQUEST')), { send: flags.send });
    break;
  case 'expiry':
    out = commands.expiry(host, input(rest[0] ?? usage('expiry needs a LINK')));
    break;
  case 'filters':
    out = commands.filters(host, {
      account: flags.account ?? usage('filters needs --account'),
      skipShares: bool(flags['skip-shares']),
      skipStoryMentions: bool(flags['skip-story-mentions']),
    });
    break;
  case 'accounts':
    if (rest[0] !== 'list') usage('only `accounts list` is implemented here');
    out = commands.accountsList(host);
    break;
  case 'handshake':
    out = commands.handshake(host, rest[0] ?? usage('handshake needs a QUERY'), process.env.MESSENGER_VERIFY_TOKEN);
    break;
  default:
    usage(`unknown command ${command}`);
}
process.stdout.write(out.stdout);
host.close();
process.exitCode = out.exit;
