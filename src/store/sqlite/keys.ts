// IndexedDB keys as bytes whose byte order is IndexedDB's key order, so SQLite can
// keep them in ordinary BLOB columns (compared with memcmp, shorter prefix first) and
// answer every range and compound-prefix query of the schema with its own B-trees.
//
// Order (https://w3c.github.io/IndexedDB/#compare-two-keys): number < date < string <
// binary < array; numbers and dates by value, strings by UTF-16 code unit, binaries by
// byte, arrays element by element with a shorter prefix first. Each key starts with
// its type's tag byte; variable-length parts end with 0x00, which is below every
// encoded byte, so "a" < "ab" and [1] < [1, 2].
const TAG_NUMBER = 0x10;
const TAG_DATE = 0x20;
const TAG_STRING = 0x30;
const TAG_BINARY = 0x40;
const TAG_ARRAY = 0x50;
const END = 0x00;

/** A valid IndexedDB key (what `encodeKey` accepts and `decodeKey` returns). */
export type Key = number | string | Date | Uint8Array | Key[];

/** Whether `value` is a valid IndexedDB key (records with invalid index keys are not indexed). */
export function isValidKey(value: unknown, seen: Set<unknown> = new Set()): value is Key {
  if (typeof value === 'number') return !Number.isNaN(value);
  if (typeof value === 'string') return true;
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (Array.isArray(value)) {
    if (seen.has(value)) return false;
    seen.add(value);
    return value.every((item) => isValidKey(item, seen));
  }
  return false;
}

class Writer {
  private buffer = Buffer.allocUnsafe(64);
  private length = 0;

  byte(b: number): void {
    if (this.length === this.buffer.length) this.grow(1);
    this.buffer[this.length++] = b;
  }

  double(n: number): void {
    this.grow(8);
    // -0 and 0 are one key.
    this.buffer.writeDoubleBE(n === 0 ? 0 : n, this.length);
    // Positive numbers: flip the sign bit; negative ones: flip every bit.
    if ((this.buffer[this.length]! & 0x80) !== 0) {
      for (let i = 0; i < 8; i += 1) this.buffer[this.length + i] = ~this.buffer[this.length + i]! & 0xff;
    } else {
      this.buffer[this.length] = this.buffer[this.length]! | 0x80;
    }
    this.length += 8;
  }

  /**
   * A string's code units: 0x0000-0x007e take one byte (0x01-0x7f), up to 0x407c two
   * bytes (0x80-0xbf lead), the rest three (0xc0 lead): increasing, and never 0x00.
   */
  string(text: string): void {
    this.grow(text.length * 3);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i += 1) {
      const unit = text.charCodeAt(i);
      if (unit < 0x7f) buffer[at++] = unit + 1;
      else if (unit < 0x7f + 0x4000) {
        const v = unit - 0x7f;
        buffer[at++] = 0x80 | (v >> 8);
        buffer[at++] = v & 0xff;
      } else {
        buffer[at++] = 0xc0;
        buffer[at++] = unit >> 8;
        buffer[at++] = unit & 0xff;
      }
    }
    this.length = at;
  }

  /** Starts a new key in the same buffer. */
  reset(): void {
    this.length = 0;
    // A rare large key does not keep its buffer for good.
    if (this.buffer.length > 65_536) this.buffer = Buffer.allocUnsafe(64);
  }

  /** A copy of the bytes written since the last reset. */
  done(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buffer.copy(out, 0, 0, this.length);
    return out;
  }

  private grow(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}

function write(w: Writer, key: unknown): void {
  if (typeof key === 'number') {
    if (Number.isNaN(key)) throw new TypeError('NaN is not a valid key');
    w.byte(TAG_NUMBER);
    w.double(key);
  } else if (typeof key === 'string') {
    w.byte(TAG_STRING);
    w.string(key);
    w.byte(END);
  } else if (key instanceof Date) {
    w.byte(TAG_DATE);
    w.double(key.getTime());
  } else if (ArrayBuffer.isView(key) || key instanceof ArrayBuffer) {
    const bytes = key instanceof ArrayBuffer ? new Uint8Array(key) : new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
    w.byte(TAG_BINARY);
    // 0x00-0xfd as 0x01-0xfe; 0xfe and 0xff as 0xff 0x00 and 0xff 0x01.
    for (const b of bytes) {
      if (b < 0xfe) w.byte(b + 1);
      else {
        w.byte(0xff);
        w.byte(b - 0xfe);
      }
    }
    w.byte(END);
  } else if (Array.isArray(key)) {
    w.byte(TAG_ARRAY);
    for (const item of key) write(w, item);
    w.byte(END);
  } else {
    throw new TypeError(`not a valid key: ${String(key)}`);
  }
}

/** The bytes of an IndexedDB key; throws a TypeError for a value that is not a key. */
export function encodeKey(key: unknown): Buffer {
  // One buffer for every key: `write` calls nothing that could encode another key meanwhile.
  scratch.reset();
  write(scratch, key);
  return scratch.done();
}

const scratch = new Writer();

function readDouble(bytes: Uint8Array, at: number): number {
  const copy = Buffer.from(bytes.subarray(at, at + 8));
  if ((copy[0]! & 0x80) !== 0) copy[0] = copy[0]! & 0x7f;
  else for (let i = 0; i < 8; i += 1) copy[i] = ~copy[i]! & 0xff;
  return copy.readDoubleBE(0);
}

function read(bytes: Uint8Array, at: number): [Key, number] {
  const tag = bytes[at];
  switch (tag) {
    case TAG_NUMBER:
      return [readDouble(bytes, at + 1), at + 9];
    case TAG_DATE:
      return [new Date(readDouble(bytes, at + 1)), at + 9];
    case TAG_STRING: {
      let i = at + 1;
      const units: number[] = [];
      let text = '';
      while (bytes[i] !== END) {
        const b = bytes[i]!;
        if (b < 0x80) {
          units.push(b - 1);
          i += 1;
        } else if (b < 0xc0) {
          units.push((((b & 0x3f) << 8) | bytes[i + 1]!) + 0x7f);
          i += 2;
        } else {
          units.push((bytes[i + 1]! << 8) | bytes[i + 2]!);
          i += 3;
        }
        if (units.length >= 4096) {
          text += String.fromCharCode(...units);
          units.length = 0;
        }
      }
      return [text + String.fromCharCode(...units), i + 1];
    }
    case TAG_BINARY: {
      let i = at + 1;
      const out: number[] = [];
      while (bytes[i] !== END) {
        const b = bytes[i]!;
        if (b < 0xff) {
          out.push(b - 1);
          i += 1;
        } else {
          out.push(0xfe + bytes[i + 1]!);
          i += 2;
        }
      }
      return [Uint8Array.from(out), i + 1];
    }
    case TAG_ARRAY: {
      let i = at + 1;
      const items: Key[] = [];
      while (bytes[i] !== END) {
        const [item, next] = read(bytes, i);
        items.push(item);
        i = next;
      }
      return [items, i + 1];
    }
    default:
      throw new TypeError(`corrupt key: tag ${String(tag)} at ${at}`);
  }
}

/** The key `encodeKey` turned into `bytes`. */
export function decodeKey(bytes: Uint8Array): Key {
  return read(bytes, 0)[0];
}
