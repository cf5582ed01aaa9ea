// The `storage` import on SQLite compiled to wasm (sql.js): the same `kv` table, statements and checks as
// host-harness/src/storage (mod.rs, sqlite.rs, schema.rs), so keys page in the same byte order and the
// atomic operations are decided by the database (a unique key, a conditional UPDATE), never read-then-write.
// Every export call runs in one transaction, committed only when the call answers `ok`.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Keys longer than this are refused: the component's keys are short and fixed-shape. */
export const MAX_KEY_BYTES = 512;
/** Values larger than this are refused: the component stores small records. */
export const MAX_VALUE_BYTES = 256 * 1024;

const SQL = {
  schema: `CREATE TABLE IF NOT EXISTS kv (
      namespace TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (namespace, key)
    ) WITHOUT ROWID`,
  get: 'SELECT value FROM kv WHERE namespace = ?1 AND key = ?2',
  upsert: `INSERT INTO kv (namespace, key, value) VALUES (?1, ?2, ?3)
    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value`,
  delete: 'DELETE FROM kv WHERE namespace = ?1 AND key = ?2',
  insertIfAbsent: 'INSERT INTO kv (namespace, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING',
  replaceIf: 'UPDATE kv SET value = ?3 WHERE namespace = ?1 AND key = ?2 AND value = ?4',
  list: `SELECT key FROM kv WHERE namespace = ?1 AND substr(key, 1, length(?2)) = ?2 AND key > ?3
    ORDER BY key LIMIT ?4`,
  count: 'SELECT count(*) FROM kv',
};

/** A storage refusal as the WIT `storage.error` variant; jco lowers the own `payload` as the `err` case. */
export class StorageFailure extends Error {
  /** @param {{tag: 'invalid-key' | 'too-large' | 'access-denied' | 'unavailable', val?: string}} payload */
  constructor(payload) {
    super(`${payload.tag}${payload.val === undefined ? '' : `: ${payload.val}`}`);
    this.payload = payload;
  }
}

/**
 * `<plugin>/<channel>`, each part 1 to 128 letters, digits, '-', '_' or '.' (`Namespace::new`).
 * @param {string} plugin @param {string} channel
 */
export function namespace(plugin, channel) {
  for (const [what, part] of [['plugin', plugin], ['channel', channel]]) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(part)) {
      throw new Error(`a ${what} name is 1 to 128 letters, digits, '-', '_' or '.': ${JSON.stringify(part)}`);
    }
  }
  return `${plugin}/${channel}`;
}

function checkKey(key) {
  if (key.length === 0 || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES || key.includes('\0')) {
    throw new StorageFailure({ tag: 'invalid-key', val: `a key is 1 to ${MAX_KEY_BYTES} bytes without NUL` });
  }
}

function checkValue(value) {
  if (value.length > MAX_VALUE_BYTES) {
    throw new StorageFailure({
      tag: 'too-large',
      val: `a value is at most ${MAX_VALUE_BYTES} bytes; this one has ${value.length}`,
    });
  }
}

/** A batch is refused whole when one entry is: checked before any is written (WIT `set-many`). */
function checkEntries(entries) {
  for (const { key, value } of entries) {
    checkKey(key);
    checkValue(value);
  }
}

let sqlJs;
/** Loads SQLite's wasm once per process. */
async function loadSqlJs() {
  if (!sqlJs) {
    const require = createRequire(import.meta.url);
    const initSqlJs = require('sql.js');
    sqlJs = await initSqlJs({ locateFile: (file) => require.resolve(`sql.js/dist/${file}`) });
  }
  return sqlJs;
}

export class Store {
  /**
   * Opens a store: in memory, or a SQLite file loaded now and written back (atomically) after every commit.
   * @param {{file?: string}} [options]
   */
  static async open(options = {}) {
    const SQLite = await loadSqlJs();
    const bytes = options.file && fs.existsSync(options.file) ? fs.readFileSync(options.file) : undefined;
    return new Store(new SQLite.Database(bytes), options.file);
  }

  /** @param {any} db a sql.js Database @param {string | undefined} file */
  constructor(db, file) {
    this.db = db;
    this.file = file;
    this.statements = new Map();
    /** @type {Session | undefined} */
    this.open = undefined;
    db.run(SQL.schema);
  }

  statement(sql) {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs a statement; the rows (arrays of values). */
  query(sql, params) {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params);
      const rows = [];
      while (stmt.step()) rows.push(stmt.get());
      return rows;
    } finally {
      stmt.reset();
    }
  }

  /** Runs a statement that writes; how many rows it changed. */
  change(sql, params) {
    this.query(sql, params);
    return this.db.getRowsModified();
  }

  /**
   * Starts the one transaction of a call. Calls are serial in this host (one thread), so one is open at most.
   * @param {string} ns a namespace from `namespace()`
   */
  begin(ns) {
    if (this.open) throw new Error('a storage transaction is already open: calls must not overlap');
    this.db.run('BEGIN IMMEDIATE');
    this.open = new Session(this, ns);
    return this.open;
  }

  /** Sets one value outside any component call (host-provisioned keys such as tokens). */
  provision(ns, key, value) {
    const session = this.begin(ns);
    try {
      session.set(key, typeof value === 'string' ? new TextEncoder().encode(value) : value);
    } catch (error) {
      session.rollback();
      throw error;
    }
    session.commit();
  }

  /** Every row of the kv table, every namespace (to prove what was, or was not, stored). */
  rowCount() {
    return Number(this.query(SQL.count, [])[0][0]);
  }

  /** The keys of a namespace, in byte order (tests). */
  keys(ns) {
    return this.query('SELECT key FROM kv WHERE namespace = ?1 ORDER BY key', [ns]).map((r) => r[0]);
  }

  persist() {
    if (!this.file) return;
    const temp = `${this.file}.tmp${process.pid}`;
    fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    fs.writeFileSync(temp, this.db.export());
    fs.renameSync(temp, this.file);
    // export() may finalize prepared statements: prepare again on next use.
    this.statements.clear();
  }

  close() {
    for (const stmt of this.statements.values()) stmt.free();
    this.statements.clear();
    this.db.close();
  }
}

/** One call's view of the store: one namespace, one transaction. */
export class Session {
  /** @param {Store} store @param {string} ns */
  constructor(store, ns) {
    this.store = store;
    this.ns = ns;
    this.done = false;
  }

  /** Runs SQL, mapping a database failure to `unavailable` (the component then fails the call). */
  #sql(op) {
    if (this.done) throw new StorageFailure({ tag: 'unavailable', val: 'the call is over' });
    try {
      return op();
    } catch (error) {
      if (error instanceof StorageFailure) throw error;
      throw new StorageFailure({ tag: 'unavailable', val: String(error?.message ?? error) });
    }
  }

  get(key) {
    checkKey(key);
    const rows = this.#sql(() => this.store.query(SQL.get, [this.ns, key]));
    return rows.length ? new Uint8Array(rows[0][0]) : undefined;
  }

  set(key, value) {
    checkKey(key);
    checkValue(value);
    this.#sql(() => this.store.change(SQL.upsert, [this.ns, key, value]));
  }

  delete(key) {
    checkKey(key);
    this.#sql(() => this.store.change(SQL.delete, [this.ns, key]));
  }

  exists(key) {
    return this.get(key) !== undefined;
  }

  /** Keys starting with `prefix`, in byte order, after `cursor`, at most `limit` (clamped to 1..1000). */
  listKeys(prefix, cursor, limit) {
    const max = Math.min(Math.max(Number(limit), 1), 1000);
    const keys = this.#sql(() => this.store.query(SQL.list, [this.ns, prefix, cursor ?? '', max + 1])).map((r) => r[0]);
    let next;
    if (keys.length > max) {
      keys.length = max;
      next = keys[max - 1];
    }
    return { keys, cursor: next };
  }

  /** Atomic: the primary key decides. */
  insertIfAbsent(key, value) {
    checkKey(key);
    checkValue(value);
    return this.#sql(() => this.store.change(SQL.insertIfAbsent, [this.ns, key, value])) === 1;
  }

  /** Atomic: one conditional UPDATE. No expected value means insert-if-absent. */
  compareAndSwap(key, expected, value) {
    if (expected === undefined || expected === null) return this.insertIfAbsent(key, value);
    checkKey(key);
    checkValue(value);
    return this.#sql(() => this.store.change(SQL.replaceIf, [this.ns, key, value, expected])) === 1;
  }

  /** The values of `keys`, in order (`undefined` where absent); every key is checked before any is read. */
  getMany(keys) {
    keys.forEach(checkKey);
    return keys.map((key) => this.get(key));
  }

  /** `set` for each `{key, value}`, in order; every entry is checked before any is written. */
  setMany(entries) {
    checkEntries(entries);
    for (const { key, value } of entries) this.set(key, value);
  }

  /** `insertIfAbsent` for each `{key, value}`, in order; every entry is checked before any is written. */
  insertIfAbsentMany(entries) {
    checkEntries(entries);
    return entries.map(({ key, value }) => this.insertIfAbsent(key, value));
  }

  #end(sql) {
    if (this.done) return;
    this.done = true;
    this.store.open = undefined;
    try {
      this.store.db.run(sql);
    } catch (error) {
      // A failed COMMIT leaves the transaction open: end it, so the next call can begin.
      try {
        this.store.db.exec('ROLLBACK');
      } catch {
        // No transaction was left open.
      }
      throw error;
    }
  }

  commit() {
    this.#end('COMMIT');
    this.store.persist();
  }

  rollback() {
    this.#end('ROLLBACK');
  }
}
