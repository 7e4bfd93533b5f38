// The bytes a stored value is kept as. IndexedDB stores a structured clone; so does
// this backend, in one of two forms:
// - JSON text (UTF-8), for a value JSON carries exactly: strings, booleans, null,
//   finite numbers other than -0, dense arrays and plain objects of those, each
//   object met once. Mail records are such trees, and JSON writes them about 1.7×
//   and reads them about 1.7× as fast as V8's serializer (a 100k bootstrap spent
//   1.3 s serializing).
// - V8's serialization (`node:v8`, the structured clone algorithm) for anything else:
//   undefined, NaN, ±Infinity, -0, Dates, typed arrays, Maps, sparse arrays, class
//   instances, shared or cyclic references.
// V8's format always starts with its version tag 0xff, a byte UTF-8 never holds, so
// a reader tells the two apart by the first byte, and files written before JSON was
// used read as they did.
import { deserialize, serialize } from 'node:v8';

/** V8's serialization version tag: the first byte of everything `serialize` writes. */
const V8_TAG = 0xff;

/** Objects deeper than this go through V8 (which also keeps the JSON walk off a deep stack). */
const MAX_DEPTH = 100;

/** Whether JSON.parse(JSON.stringify(value)) is a structured clone of `value`. */
function jsonExact(value: unknown, seen: Set<object>, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      // A second path to one object: a structured clone keeps it shared, JSON would copy it.
      if (depth > MAX_DEPTH || seen.has(value)) return false;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) {
          if (!(i in value) || !jsonExact(value[i], seen, depth + 1)) return false;
        }
        return Object.keys(value).length === value.length;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      const record = value as Record<string, unknown>;
      for (const field in record) {
        if (!Object.hasOwn(record, field)) return false;
        if (!jsonExact(record[field], seen, depth + 1)) return false;
      }
      return true;
    }
    default:
      // undefined, functions, symbols, bigints.
      return false;
  }
}

/** The stored bytes of a value (throws a DataCloneError for what cannot be cloned, as IndexedDB does). */
export function encodeValue(value: unknown): Buffer {
  return jsonExact(value, new Set(), 0) ? Buffer.from(JSON.stringify(value), 'utf8') : serialize(value);
}

/** The value `encodeValue` turned into `bytes`. */
export function decodeValue(bytes: Uint8Array): unknown {
  if (bytes[0] === V8_TAG) return deserialize(bytes);
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}
