import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { specAvailable, SPEC_PATH } from './helpers/spec.js';

describe.skipIf(!specAvailable)('generated API types', () => {
  it('src/api/schema.ts matches what openapi-typescript generates from the spec', async () => {
    process.env.SENDMUX_OPENAPI ??= SPEC_PATH;
    // @ts-expect-error - plain ESM script without type declarations
    const { generate } = (await import('../scripts/gen-api.mjs')) as { generate: () => Promise<string> };
    const committed = readFileSync(resolve(import.meta.dirname, '../src/api/schema.ts'), 'utf8');
    expect(committed === (await generate()), 'schema.ts drifted from the spec: run npm run gen:api').toBe(true);
  });
});
