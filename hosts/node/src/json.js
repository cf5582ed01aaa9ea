// JSON text exactly as the Rust CLI prints it: serde_json's `to_string_pretty` of a `serde_json::Value`
// (object keys in byte order, because Value's map is a BTreeMap; 2-space indent; `": "` between key and value).

/**
 * Compares two keys as Rust's `String` Ord does: by UTF-8 bytes (JS's default sort compares UTF-16 units,
 * which differs above U+FFFF).
 * @param {string} a @param {string} b
 */
export function byteOrder(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * A string literal as serde_json writes it. JSON.stringify agrees for every well-formed string: both escape
 * `"`, `\`, \b \f \n \r \t and other controls as lowercase \u00xx, and neither escapes `/`, DEL or non-ASCII.
 * A lone surrogate (impossible in a Rust String) is refused instead of being escaped.
 * @param {string} s
 */
function quote(s) {
  if (!s.isWellFormed()) throw new TypeError('a string with a lone surrogate cannot come from the component');
  return JSON.stringify(s);
}

/**
 * @param {unknown} value JSON-like: null, boolean, number (integers only), bigint, string, array, plain object.
 * @param {string} indent
 * @returns {string}
 */
function write(value, indent) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      // The contract has integers only; a float would print differently (serde_json uses ryu).
      if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer the contract can print: ${value}`);
      return String(value);
    case 'string':
      return quote(value);
    case 'object': {
      const inner = indent + '  ';
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        return '[\n' + value.map((v) => inner + write(v, inner)).join(',\n') + '\n' + indent + ']';
      }
      // `undefined` members are absent, as serde's skip_serializing_if leaves them out.
      const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort(byteOrder);
      if (keys.length === 0) return '{}';
      return '{\n' + keys.map((k) => inner + quote(k) + ': ' + write(value[k], inner)).join(',\n') + '\n' + indent + '}';
    }
    default:
      throw new TypeError(`cannot print a ${typeof value} as JSON`);
  }
}

/**
 * serde_json::to_string_pretty of the value, keys sorted. `undefined` fields are omitted, `null` is printed.
 * @param {unknown} value
 */
export function toPrettyJson(value) {
  return write(value, '');
}
