// Node module-resolution hook: RxDB 17 pins its own nested Dexie (4.4.2) while the
// app uses Dexie 4.4.7, and Dexie refuses two copies in one process ("Two different
// versions of Dexie loaded in the same app"). Bundlers solve this with dedupe; this
// hook does the same for the Node run, resolving `dexie` imported from inside rxdb
// against the project root. The browser bundle uses vite's `resolve.dedupe`.
const ROOT = new URL('../../package.json', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if ((specifier === 'dexie' || specifier.startsWith('dexie/')) && context.parentURL && context.parentURL.includes('/node_modules/rxdb/')) {
    return next(specifier, { ...context, parentURL: ROOT });
  }
  return next(specifier, context);
}
