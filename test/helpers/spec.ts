// Locating the OpenAPI contract for tests. It lives in ../shared and is never copied
// into the project. Absent outside CI: tests that need it skip with a loud message.
// Absent under CI=true: they fail.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const SPEC_PATH = process.env.SENDMUX_OPENAPI
  ? resolve(process.env.SENDMUX_OPENAPI)
  : resolve(import.meta.dirname, '../../../shared/sendmux/mailbox-openapi.json');

export const specAvailable = existsSync(SPEC_PATH);

if (!specAvailable) {
  const banner = `\n!!! OpenAPI spec not found at ${SPEC_PATH} (set SENDMUX_OPENAPI). Spec-dependent tests are SKIPPED. !!!\n`;
  if (process.env.CI === 'true') throw new Error(`CI=true and the OpenAPI spec is missing: ${SPEC_PATH}`);
  console.warn(banner);
}

/** The parsed spec; throws when absent (callers guard with `specAvailable`). */
export function loadSpec(): OpenApiDocument {
  return JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiDocument;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown> };
}

export interface OpenApiOperation {
  operationId?: string;
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
