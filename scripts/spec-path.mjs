// Where the Sendmux OpenAPI contract lives. It stays in ../shared (never copied into
// the project); SENDMUX_OPENAPI overrides the path.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function specPath() {
  return process.env.SENDMUX_OPENAPI
    ? resolve(process.env.SENDMUX_OPENAPI)
    : resolve(root, '../shared/sendmux/mailbox-openapi.json');
}

export function specExists() {
  return existsSync(specPath());
}
