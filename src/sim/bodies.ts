// Request-body validation. The spec's request bodies are additionalProperties:false,
// so unknown fields are rejected; every problem is accumulated into `errors[]`.
import { SimError, type ErrorDetail } from './errors.js';
import type { Address } from './types.js';

type Field =
  | { t: 'string'; required?: boolean; nullable?: boolean; maxLength?: number; minLength?: number; enum?: readonly string[] }
  | { t: 'boolean'; required?: boolean }
  | { t: 'integer'; required?: boolean; min?: number; max?: number }
  | { t: 'ids'; required?: boolean; max: number }
  | { t: 'address'; required?: boolean }
  | { t: 'addresses'; required?: boolean; minItems?: number }
  | { t: 'boolMap'; required?: boolean; maxEntries?: number }
  | { t: 'stringMap'; required?: boolean }
  | { t: 'sendAttachments'; required?: boolean };

export type BodySpec = Record<string, Field>;

const EMAIL_RE = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

/** JSON bodies other than sends are small; beyond this they are a 413. */
export const JSON_BODY_MAX_BYTES = 1024 * 1024;

/** Parses a JSON body; bad JSON, a non-object, unknown or mistyped fields are 400s. */
export function parseJsonBody(raw: Buffer, spec: BodySpec, maxBytes = JSON_BODY_MAX_BYTES): Record<string, unknown> {
  if (raw.length > maxBytes) throw new SimError(413, 'payload_too_large', `The request body exceeds ${maxBytes} bytes.`, { param: 'body' });
  let value: unknown;
  const text = raw.toString('utf8');
  if (text.trim() === '') value = {};
  else {
    try {
      value = JSON.parse(text);
    } catch {
      throw new SimError(400, 'invalid_parameter', 'The request body is not valid JSON.', { param: 'body', errors: [{ field: 'body', code: 'invalid_json', message: 'The request body is not valid JSON.' }] });
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SimError(400, 'invalid_parameter', 'The request body must be a JSON object.', { param: 'body', errors: [{ field: 'body', code: 'invalid_type', message: 'The request body must be a JSON object.' }] });
  }
  const body = value as Record<string, unknown>;
  const errors: ErrorDetail[] = [];
  for (const key of Object.keys(body)) {
    if (!(key in spec)) errors.push({ field: key, code: 'unknown_field', message: `Unknown field: ${key}.` });
  }
  let tooMany: ErrorDetail | undefined;
  for (const [name, field] of Object.entries(spec)) {
    const v = body[name];
    if (v === undefined) {
      if (field.required) errors.push({ field: name, code: 'required', message: `${name} is required.` });
      continue;
    }
    const problem = checkField(name, field, v);
    if (problem === 'too_many') {
      tooMany = { field: name, code: 'too_many_items', message: `${name} accepts at most ${(field as { max: number }).max} items.` };
    } else if (problem) errors.push(...problem);
  }
  if (tooMany && errors.length === 0) {
    // session.limits.batch_ids_max: more ids than one call may carry.
    throw new SimError(413, 'payload_too_large', tooMany.message, { param: tooMany.field, errors: [tooMany] });
  }
  if (tooMany) errors.push(tooMany);
  if (errors.length > 0) {
    const onlyMissing = errors.every((e) => e.code === 'required');
    const first = errors[0] as ErrorDetail;
    throw new SimError(400, onlyMissing ? 'missing_parameter' : 'invalid_parameter', errors.length === 1 ? first.message : `${errors.length} problems in the request body.`, { param: first.field, errors });
  }
  return body;
}

function checkField(name: string, f: Field, v: unknown): ErrorDetail[] | 'too_many' | undefined {
  const bad = (message: string, code = 'invalid_type'): ErrorDetail[] => [{ field: name, code, message }];
  switch (f.t) {
    case 'string':
      if (v === null && f.nullable) return undefined;
      if (typeof v !== 'string') return bad(`${name} must be a string.`);
      if (f.maxLength !== undefined && v.length > f.maxLength) return bad(`${name} must be at most ${f.maxLength} characters.`, 'too_long');
      if (f.minLength !== undefined && v.length < f.minLength) return bad(`${name} must be at least ${f.minLength} characters.`, 'too_short');
      if (f.enum && !f.enum.includes(v)) return bad(`${name} must be one of: ${f.enum.join(', ')}.`, 'invalid_value');
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : bad(`${name} must be a boolean.`);
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return bad(`${name} must be an integer.`);
      if (f.min !== undefined && v < f.min) return bad(`${name} must be at least ${f.min}.`, 'out_of_range');
      if (f.max !== undefined && v > f.max) return bad(`${name} must be at most ${f.max}.`, 'out_of_range');
      return undefined;
    case 'ids':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) return bad(`${name} must be an array of ids.`);
      if (v.length === 0) return bad(`${name} must not be empty.`, 'too_short');
      if (v.length > f.max) return 'too_many';
      return undefined;
    case 'address':
      return checkAddress(name, v);
    case 'addresses': {
      if (!Array.isArray(v)) return bad(`${name} must be an array of addresses.`);
      if (f.minItems !== undefined && v.length < f.minItems) return bad(`${name} needs at least ${f.minItems} address.`, 'too_short');
      const errs = v.flatMap((a, i) => checkAddress(`${name}[${i}]`, a) ?? []);
      return errs.length ? errs : undefined;
    }
    case 'boolMap':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad(`${name} must be an object of booleans.`);
      if (Object.values(v).some((x) => typeof x !== 'boolean')) return bad(`${name} values must be booleans.`);
      if (f.maxEntries !== undefined && Object.keys(v).length > f.maxEntries) return bad(`${name} accepts at most ${f.maxEntries} entries.`, 'too_many_items');
      return undefined;
    case 'stringMap':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad(`${name} must be an object of strings.`);
      if (Object.values(v).some((x) => typeof x !== 'string')) return bad(`${name} values must be strings.`);
      return undefined;
    case 'sendAttachments': {
      if (!Array.isArray(v)) return bad(`${name} must be an array.`);
      const errs: ErrorDetail[] = [];
      v.forEach((a: unknown, i) => {
        const at = `${name}[${i}]`;
        if (a === null || typeof a !== 'object' || Array.isArray(a)) return errs.push({ field: at, code: 'invalid_type', message: `${at} must be an object.` });
        const o = a as Record<string, unknown>;
        for (const k of Object.keys(o)) if (!['filename', 'content_type', 'content', 'blob_id'].includes(k)) errs.push({ field: `${at}.${k}`, code: 'unknown_field', message: `Unknown field: ${k}.` });
        if (typeof o.filename !== 'string' || o.filename === '') errs.push({ field: `${at}.filename`, code: 'required', message: 'filename is required.' });
        if (typeof o.content_type !== 'string' || o.content_type === '') errs.push({ field: `${at}.content_type`, code: 'required', message: 'content_type is required.' });
        const hasContent = typeof o.content === 'string';
        const hasBlob = typeof o.blob_id === 'string';
        if (hasContent === hasBlob) errs.push({ field: at, code: 'invalid_value', message: 'Give exactly one of content (base64) or blob_id.' });
        return 0;
      });
      return errs.length ? errs : undefined;
    }
  }
}

function checkAddress(name: string, v: unknown): ErrorDetail[] | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [{ field: name, code: 'invalid_type', message: `${name} must be an address object.` }];
  const o = v as Record<string, unknown>;
  const errs: ErrorDetail[] = [];
  for (const k of Object.keys(o)) if (k !== 'email' && k !== 'name') errs.push({ field: `${name}.${k}`, code: 'unknown_field', message: `Unknown field: ${k}.` });
  if (typeof o.email !== 'string' || !EMAIL_RE.test(o.email)) errs.push({ field: `${name}.email`, code: 'invalid_email', message: `${name}.email must be an email address.` });
  if (o.name !== undefined && o.name !== null && typeof o.name !== 'string') errs.push({ field: `${name}.name`, code: 'invalid_type', message: `${name}.name must be a string or null.` });
  return errs.length ? errs : undefined;
}

/** Normalises a request address (name optional on input) to the API's shape. */
export function toAddress(v: unknown): Address {
  const o = v as { email: string; name?: string | null };
  return { email: o.email, name: o.name ?? null };
}

export const BODY = {
  batchGet: {
    ids: { t: 'ids', required: true, max: 100 },
    body_mode: { t: 'string', enum: ['none', 'raw', 'clean_json'] },
    part: { t: 'string', enum: ['auto', 'text', 'html', 'both'] },
    max_body_chars: { t: 'integer', min: 1, max: 1_000_000 },
    strip_signature: { t: 'boolean' },
    strip_quotes: { t: 'boolean' },
    include_links: { t: 'boolean' },
    include_html: { t: 'boolean' },
    include_headers: { t: 'string', enum: ['none', 'selected', 'full'] },
    include_attachments: { t: 'string', enum: ['none', 'metadata'] },
  },
  batchUpdate: {
    ids: { t: 'ids', required: true, max: 100 },
    seen: { t: 'boolean' },
    flagged: { t: 'boolean' },
    keywords: { t: 'boolMap', maxEntries: 50 },
    if_in_state: { t: 'string' },
  },
  batchDelete: {
    ids: { t: 'ids', required: true, max: 100 },
    permanent: { t: 'boolean' },
    if_in_state: { t: 'string' },
  },
  patchMessage: {
    seen: { t: 'boolean' },
    flagged: { t: 'boolean' },
    keywords: { t: 'boolMap', maxEntries: 50 },
  },
  createFolder: {
    name: { t: 'string', required: true },
    parent_id: { t: 'string', nullable: true },
    sort_order: { t: 'integer' },
  },
  patchFolder: {
    name: { t: 'string' },
    parent_id: { t: 'string', nullable: true },
    sort_order: { t: 'integer' },
  },
  updateIdentity: {
    name: { t: 'string', nullable: true, maxLength: 254 },
    text_signature: { t: 'string', nullable: true, maxLength: 2047 },
    html_signature: { t: 'string', nullable: true, maxLength: 2047 },
  },
  send: {
    to: { t: 'addresses', required: true, minItems: 1 },
    cc: { t: 'addresses' },
    bcc: { t: 'addresses' },
    reply_to: { t: 'addresses' },
    from: { t: 'address' },
    subject: { t: 'string', required: true },
    text_body: { t: 'string' },
    html_body: { t: 'string' },
    custom_headers: { t: 'stringMap' },
    attachments: { t: 'sendAttachments' },
  },
  uploadIntent: {
    filename: { t: 'string', required: true, minLength: 1 },
    content_type: { t: 'string', required: true, minLength: 1 },
    size_bytes: { t: 'integer', required: true, min: 1 },
  },
} satisfies Record<string, BodySpec>;
