// `npm run check:package`: checks the package as users get it (issue 17).
//   1. build, then `npm pack` into a temporary folder;
//   2. publint --strict and @arethetypeswrong/cli on the tarball;
//   3. a consumer project installs the tarball (with typescript, @types/node and,
//      for sendmux-sync/react, @types/react) and type-checks a strict TypeScript
//      file (test/package/consumer/index.ts) whose assertions fail if records,
//      methods or hooks degrade to `any`;
//   4. require('sendmux-sync') in that project fails with the ESM-only message.
// Exits non-zero at the first failing step, saying which.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const work = mkdtempSync(join(tmpdir(), 'sendmux-sync-package-'));

function step(title, file, args, options = {}) {
  console.log(`\n== ${title}`);
  try {
    return execFileSync(file, args, { cwd: root, stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', ...options });
  } catch {
    console.error(`check:package failed at: ${title}`);
    process.exit(1);
  }
}

try {
  step('build', 'npm', ['run', 'build', '--silent']);
  const packed = JSON.parse(step('npm pack', 'npm', ['pack', '--json', '--pack-destination', work], { capture: true }));
  const tarball = join(work, packed[0].filename);
  console.log(`${packed[0].filename}: ${packed[0].entryCount} files, ${Math.round(packed[0].size / 1024)} kB`);

  step('publint --strict', bin('publint'), ['run', tarball, '--strict']);
  // ESM-only by design: require() resolves to a stub that explains that (cjs/esm-only.cjs).
  step('attw (are the types wrong)', bin('attw'), [tarball, '--profile', 'node16']);

  const consumer = join(work, 'consumer');
  cpSync(join(root, 'test', 'package', 'consumer'), consumer, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  const own = (name) => `${name}@${JSON.parse(execFileSync('node', ['-p', `JSON.stringify(require('${name}/package.json').version)`], { cwd: root, encoding: 'utf8' }))}`;
  step('consumer: npm install the tarball', 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, own('typescript'), own('@types/node'), own('@types/react')], { cwd: consumer });
  step('consumer: strict type-check (test/package/consumer/index.ts)', join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', consumer], { cwd: consumer });

  console.log('\n== consumer: require() says the package is ESM-only');
  try {
    execFileSync('node', ['-e', "require('sendmux-sync')"], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    console.error('check:package failed: require(\'sendmux-sync\') did not throw');
    process.exit(1);
  } catch (e) {
    const text = String(e.stderr ?? '');
    if (!text.includes('ESM-only')) {
      console.error(`check:package failed: require() threw without the ESM-only message:\n${text}`);
      process.exit(1);
    }
    console.log('ok: ' + text.split('\n').find((l) => l.includes('ESM-only'))?.trim());
  }
  console.log('\ncheck:package: all checks passed');
} finally {
  rmSync(work, { recursive: true, force: true });
}
