// `npm run bench [-- --quick] [-- --only figure,figure]`: see bench/README.md.
//
// The Dexie dedupe hook must be registered before anything imports rxdb, so the
// runner itself is loaded dynamically after it.
import { register } from 'node:module';

register('./lib/dexie-dedupe-hook.mjs', import.meta.url);
const { main } = await import('./main.js');
process.exitCode = await main(process.argv.slice(2));
