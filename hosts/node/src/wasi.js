// The WASI imports of the component (wasi:cli, wasi:io, wasi:random/insecure-seed at 0.2.x), granting nothing,
// as the Rust host's empty `WasiCtxBuilder::new().build()`: no environment, arguments or cwd, an empty stdin,
// stdout and stderr that swallow what is written, no terminal, and an exit that ends the call (a trap), never
// the host process. preview2-shim's defaults would hand over process.env and argv, write to the real stdio and
// let `exit` call process.exit, so only its random source is used here.
// The component imports no filesystem, sockets or clocks (checked in test/wasi.test.js); if a build starts to,
// instantiation fails on the missing import instead of silently granting it.

import { insecureSeed } from '@bytecodealliance/preview2-shim/random';

/** Raised when the guest calls wasi:cli/exit: the call ends as a trap would. */
export class GuestExit extends Error {
  constructor(status) {
    super(`the plugin called exit (${status?.tag ?? status})`);
    this.name = 'GuestExit';
  }
}

/** wasi:io/error.error: nothing here ever fails with one, but the type must exist. */
class IoError {
  toDebugString() {
    return 'io error';
  }
}

/** A pollable that is always ready: nothing in this host ever waits. */
class Pollable {
  ready() {
    return true;
  }
  block() {}
}

/** stdin: at its end from the start. */
class InputStream {
  read() {
    throw { tag: 'closed' };
  }
  blockingRead() {
    throw { tag: 'closed' };
  }
  skip() {
    throw { tag: 'closed' };
  }
  blockingSkip() {
    throw { tag: 'closed' };
  }
  subscribe() {
    return new Pollable();
  }
}

/** stdout and stderr: accept everything and keep nothing (wasmtime's sink). Counts bytes, for the tests. */
class OutputStream {
  constructor() {
    this.swallowed = 0;
  }
  checkWrite() {
    return 1n << 20n;
  }
  write(contents) {
    this.swallowed += contents.byteLength ?? contents.length;
  }
  blockingWriteAndFlush(contents) {
    this.write(contents);
  }
  flush() {}
  blockingFlush() {}
  writeZeroes(n) {
    this.swallowed += Number(n);
  }
  blockingWriteZeroesAndFlush(n) {
    this.writeZeroes(n);
  }
  splice() {
    throw { tag: 'closed' };
  }
  blockingSplice() {
    throw { tag: 'closed' };
  }
  subscribe() {
    return new Pollable();
  }
}

class TerminalInput {}
class TerminalOutput {}

/**
 * The WASI part of the imports object, for one instance. Its stdout and stderr are returned too, so a host can
 * see that a guest wrote something (a Rust panic message goes to stderr).
 */
export function wasiImports() {
  const stdin = new InputStream();
  const stdout = new OutputStream();
  const stderr = new OutputStream();
  return {
    stdout,
    stderr,
    imports: {
      'wasi:cli/environment': {
        getEnvironment: () => [],
        getArguments: () => [],
        initialCwd: () => undefined,
      },
      'wasi:cli/exit': {
        exit(status) {
          throw new GuestExit(status);
        },
        exitWithCode(code) {
          throw new GuestExit(code);
        },
      },
      'wasi:cli/stdin': { getStdin: () => stdin },
      'wasi:cli/stdout': { getStdout: () => stdout },
      'wasi:cli/stderr': { getStderr: () => stderr },
      'wasi:cli/terminal-input': { TerminalInput },
      'wasi:cli/terminal-output': { TerminalOutput },
      'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
      'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
      'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
      'wasi:io/error': { Error: IoError },
      'wasi:io/poll': { Pollable, poll: (list) => new Uint32Array(list.map((_, i) => i)) },
      'wasi:io/streams': { InputStream, OutputStream },
      'wasi:random/insecure-seed': insecureSeed,
    },
  };
}
