// Validates response bodies against the spec with ajv (JSON Schema 2020-12), keeping
// the spec's additionalProperties/unevaluatedProperties strict.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction, ErrorObject } from 'ajv';
import { loadSpec, type OpenApiDocument } from './spec.js';

const SPEC_ID = 'sendmux-mailbox';
let ajv: Ajv2020 | undefined;
let spec: OpenApiDocument | undefined;
const cache = new Map<string, ValidateFunction>();

function init(): { ajv: Ajv2020; spec: OpenApiDocument } {
  if (!ajv || !spec) {
    spec = loadSpec();
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(ajv);
    ajv.addKeyword('example');
    ajv.addSchema({ $id: SPEC_ID, ...spec } as object);
  }
  return { ajv, spec };
}

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The spec's path template matching a concrete request path ('/mailbox/messages/m1' → '/mailbox/messages/{message_id}'). */
export function matchPathTemplate(path: string): string | undefined {
  const { spec } = init();
  const templates = Object.keys(spec.paths);
  if (templates.includes(path)) return path;
  return templates.find((t) => {
    const re = new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+').replace(/\{[^}]+\}/g, '[^/]+') + '$');
    return re.test(path);
  });
}

/**
 * Validates `body` as the documented response of `method path` with `status`.
 * Statuses the operation does not document must be the standard error envelope.
 * Returns a list of problems (empty when valid).
 */
export function validateResponse(method: string, pathTemplate: string, status: number, body: unknown): string[] {
  const { ajv, spec } = init();
  const op = spec.paths[pathTemplate]?.[method.toLowerCase()];
  if (!op) return [`no operation ${method} ${pathTemplate} in the spec`];
  const documented = op.responses[String(status)];
  let ref: string;
  if (documented?.content?.['application/json']) {
    ref = `${SPEC_ID}#/${pointer('paths', pathTemplate, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema')}`;
  } else if (status >= 400) {
    ref = `${SPEC_ID}#/components/schemas/ApiError`;
  } else if (status === 304 || (documented && !documented.content)) {
    return body === undefined || body === '' || body === null ? [] : ['expected an empty body'];
  } else {
    return [`status ${status} is not documented for ${method} ${pathTemplate}`];
  }
  return check(ajv, ref, body);
}

/** Validates a value against a named component schema (e.g. an SSE event's data). */
export function validateSchema(name: string, value: unknown): string[] {
  const { ajv } = init();
  return check(ajv, `${SPEC_ID}#/components/schemas/${name}`, value);
}

function check(ajv: Ajv2020, ref: string, value: unknown): string[] {
  const validate = cache.get(ref) ?? ajv.compile({ $ref: ref });
  cache.set(ref, validate);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
