// Query-string parsing with the spec's types and bounds; any violation is a 400
// `invalid_parameter` naming the parameter (docs/errors.md).
import { invalidParam, missingParam } from './errors.js';

export class Params {
  constructor(private readonly search: URLSearchParams) {}

  has(name: string): boolean {
    return this.search.has(name);
  }

  str(name: string, opts: { required?: boolean; maxLength?: number } = {}): string | undefined {
    const v = this.search.get(name);
    if (v === null) {
      if (opts.required) throw missingParam(name);
      return undefined;
    }
    if (opts.maxLength !== undefined && v.length > opts.maxLength) throw invalidParam(name, `${name} must be at most ${opts.maxLength} characters.`);
    return v;
  }

  /** A non-empty string filter; an empty value is rejected rather than matching everything. */
  text(name: string): string | undefined {
    const v = this.str(name);
    if (v !== undefined && v.trim() === '') throw invalidParam(name, `${name} must not be empty.`);
    return v;
  }

  int(name: string, opts: { min?: number; max?: number; default?: number } = {}): number | undefined {
    const v = this.search.get(name);
    if (v === null) return opts.default;
    if (!/^-?\d+$/.test(v)) throw invalidParam(name, `${name} must be an integer.`);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw invalidParam(name, `${name} is out of range.`);
    if (opts.min !== undefined && n < opts.min) throw invalidParam(name, `${name} must be at least ${opts.min}.`);
    if (opts.max !== undefined && n > opts.max) throw invalidParam(name, `${name} must be at most ${opts.max}.`);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.search.get(name);
    if (v === null) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw invalidParam(name, `${name} must be true or false.`);
  }

  enum<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.search.get(name);
    if (v === null) return undefined;
    if (!(values as readonly string[]).includes(v)) throw invalidParam(name, `${name} must be one of: ${values.join(', ')}.`);
    return v as T;
  }

  /** An RFC 3339 / ISO 8601 timestamp, as milliseconds. */
  date(name: string): number | undefined {
    const v = this.search.get(name);
    if (v === null) return undefined;
    const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) throw invalidParam(name, `${name} must be an ISO 8601 timestamp.`);
    return ms;
  }

  /** A comma-separated list (e.g. `types`, `message_ids`). */
  list(name: string, opts: { max?: number } = {}): string[] | undefined {
    const v = this.search.get(name);
    if (v === null) return undefined;
    const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (items.length === 0) throw invalidParam(name, `${name} must list at least one value.`);
    if (opts.max !== undefined && items.length > opts.max) throw invalidParam(name, `${name} accepts at most ${opts.max} values.`);
    return items;
  }
}
