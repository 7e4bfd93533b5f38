// Optional self-check: validates every JSON response the simulator emits against the
// spec (ajv, JSON Schema 2020-12). Loaded lazily, so the simulator runs without the
// spec when validation is off.
//
// The spec composes several records as `allOf: [A, B]` where both A and B declare
// `additionalProperties: false` (MailboxMessage, MailboxThread, MailboxMe,
// MailboxRealtimeMessage), which no instance can satisfy, and marks some as nullable
// via `allOf: [Ref, {type: [object, null]}]`, which cannot be null because Ref is an
// object. `repairSpec` applies the evident intent: the closed-world check moves to
// `unevaluatedProperties: false` on the composition, and a nullable branch makes the
// whole composition nullable. Everything else stays strict.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;

/** Where the contract lives: SENDMUX_OPENAPI, else ../shared next to the project. */
export function defaultSpecPath(): string {
  if (process.env.SENDMUX_OPENAPI) return resolve(process.env.SENDMUX_OPENAPI);
  const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  return resolve(projectRoot, '../shared/sendmux/mailbox-openapi.json');
}

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Returns a repaired deep copy of the spec (see the file comment). */
export function repairSpec(spec: Json): Json {
  const copy = structuredClone(spec);
  const schemas = ((copy.components as Json | undefined)?.schemas ?? {}) as Json;
  const original = ((spec.components as Json | undefined)?.schemas ?? {}) as Json;
  const resolveRef = (ref: string): Json | undefined => {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
    const found = m ? original[m[1] ?? ''] : undefined;
    return isObj(found) ? found : undefined;
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObj(node)) return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    if (!Array.isArray(out.allOf)) return out;
    let closed = false;
    let nullable = false;
    const branches = (out.allOf as unknown[]).map((b) => {
      let branch = b;
      if (isObj(b) && typeof b.$ref === 'string') {
        const target = resolveRef(b.$ref);
        if (target && target.additionalProperties === false) branch = walk(structuredClone(target));
      }
      if (!isObj(branch)) return branch;
      const open: Json = { ...branch };
      if (open.additionalProperties === false) {
        closed = true;
        delete open.additionalProperties;
      }
      if (Array.isArray(open.type) && open.type.includes('null')) {
        nullable = true;
        const types = open.type.filter((t) => t !== 'null');
        open.type = types.length === 1 ? types[0] : types;
      }
      return open;
    });
    const { allOf: _allOf, ...rest } = out;
    const composed: Json = { ...rest, allOf: branches };
    if (closed) composed.unevaluatedProperties = false;
    return nullable ? { anyOf: [{ type: 'null' }, composed] } : composed;
  };
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = walk(schema);
  return copy;
}

const SPEC_ID = 'sendmux-mailbox-repaired';
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Validates responses against the (repaired) spec. */
export class ResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly spec: Json;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(specPath = defaultSpecPath()) {
    if (!existsSync(specPath)) throw new Error(`validateResponses needs the OpenAPI spec; not found at ${specPath} (set SENDMUX_OPENAPI).`);
    this.spec = repairSpec(JSON.parse(readFileSync(specPath, 'utf8')) as Json);
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(this.ajv);
    this.ajv.addKeyword('example');
    this.ajv.addSchema({ ...this.spec, $id: SPEC_ID });
  }

  /** Problems with `body` as the response of `method template` with `status` (empty: valid). */
  response(method: string, template: string, status: number, body: unknown): string[] {
    const paths = this.spec.paths as Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>>;
    const op = paths[template]?.[method.toLowerCase()];
    if (!op) return [`no operation ${method} ${template} in the spec`];
    const documented = op.responses?.[String(status)];
    let ref: string;
    if (documented?.content?.['application/json']) {
      ref = `${SPEC_ID}#/${pointer('paths', template, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema')}`;
    } else if (status >= 400) {
      ref = `${SPEC_ID}#/components/schemas/ApiError`;
    } else {
      return [`status ${status} is not documented with a JSON body for ${method} ${template}`];
    }
    return this.check(ref, body);
  }

  /** Problems with `value` as an instance of the named component schema. */
  schema(name: string, value: unknown): string[] {
    return this.check(`${SPEC_ID}#/components/schemas/${name}`, value);
  }

  private check(ref: string, value: unknown): string[] {
    let validate = this.cache.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.cache.set(ref, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
}
