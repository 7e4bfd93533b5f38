// The hand-maintained operation table must match the spec exactly: every spec
// operation has a method (and vice versa), with the same HTTP method, path template,
// path/query parameters and body kind. Header parameters map to CallOptions.
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/api/index.js';
import { loadSpec, specAvailable, type OpenApiOperation } from '../helpers/spec.js';

const HTTP = ['get', 'post', 'patch', 'delete', 'put'] as const;
// Header parameters the client sends from CallOptions / input (never as query).
const HEADER_SUPPORT: Record<string, string> = {
  'If-None-Match': 'CallOptions.ifNoneMatch / ETag cache',
  'If-Match': 'CallOptions.ifMatch',
  'Idempotency-Key': 'CallOptions.idempotencyKey',
  Range: 'input.range',
  'Last-Event-ID': 'events({ lastEventId })',
};

function specOperations(): Map<string, { method: string; path: string; op: OpenApiOperation }> {
  const spec = loadSpec();
  const out = new Map<string, { method: string; path: string; op: OpenApiOperation }>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of HTTP) {
      const op = item[method];
      if (op?.operationId) out.set(op.operationId, { method: method.toUpperCase(), path, op });
    }
  }
  return out;
}

const methodName = (operationId: string) => operationId.charAt(7).toLowerCase() + operationId.slice(8);

describe.skipIf(!specAvailable)('operation table vs the spec', () => {
  it('every spec operation has a method and every method an operation', () => {
    const fromSpec = [...specOperations().keys()].filter((id) => id !== 'mailboxStreamEvents').map(methodName).sort();
    expect(Object.keys(OPERATIONS).sort()).toEqual(fromSpec);
    expect(specOperations().has('mailboxStreamEvents')).toBe(true); // served by events()
  });

  it.each(Object.entries(OPERATIONS))('%s matches its spec operation', (name, row) => {
    const entry = specOperations().get(`mailbox${name.charAt(0).toUpperCase()}${name.slice(1)}`);
    expect(entry, `no spec operation for ${name}`).toBeDefined();
    if (!entry) return;
    const params = entry.op.parameters ?? [];
    expect(row.method).toBe(entry.method);
    expect(row.path).toBe(entry.path);
    expect([...row.pathParams].sort()).toEqual(params.filter((p) => p.in === 'path').map((p) => p.name).sort());
    expect([...row.query].sort()).toEqual(params.filter((p) => p.in === 'query').map((p) => p.name).sort());
    for (const h of params.filter((p) => p.in === 'header')) expect(HEADER_SUPPORT[h.name], `header ${h.name} of ${name}`).toBeDefined();
    expect(row.etag).toBe(params.some((p) => p.in === 'header' && p.name === 'If-None-Match'));
    const content = Object.keys(entry.op.requestBody?.content ?? {});
    expect(row.body).toBe(content.length === 0 ? null : content.includes('application/json') ? 'json' : 'binary');
    // Only POSTs that create something are unsafe to resend (docs/idempotency.md).
    const unsafe = ['sendMessage', 'uploadAttachment', 'createAttachmentUpload', 'createFolder'];
    expect(row.idempotent).toBe(!unsafe.includes(name));
  });

  it('paginated rows are exactly the operations whose success response has pagination', () => {
    const spec = loadSpec();
    const schemas = spec.components.schemas as Record<string, { allOf?: Array<{ $ref?: string; properties?: Record<string, unknown> }> }>;
    for (const [name, row] of Object.entries(OPERATIONS)) {
      const entry = specOperations().get(`mailbox${name.charAt(0).toUpperCase()}${name.slice(1)}`);
      const success = entry?.op.responses['200'] ?? entry?.op.responses['201'];
      const ref = (success?.content?.['application/json']?.schema as { $ref?: string } | undefined)?.$ref;
      const schema = ref ? schemas[ref.split('/').pop() ?? ''] : undefined;
      const hasPagination = (schema?.allOf ?? []).some((part) => part.properties !== undefined && 'pagination' in part.properties);
      expect(row.paginated, name).toBe(hasPagination);
    }
  });
});
